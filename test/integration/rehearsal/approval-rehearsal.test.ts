// A rehearsal of a stack synthesized with approval on (cdk context approval=true) answers each gate
// through the approval endpoint, as `meshtrust approve` does: answer-approval runs in its container
// from its own bundle, is called as Lambda calls it behind its function URL with the lab operator's
// verified identity, finds the waiting gate and its token in the execution's history (the rehearsal's
// execution-history proxy), writes the approval record to moto's lock table and answers the gate; the
// real reissue-intermediate and retire-root then find that record. Before, the rehearsal answered the
// gates itself, with no record, and every such run rolled back with ApprovalBypassed. Model engine,
// 2 clusters x 2 workloads, emergency mode (both gates, no soak); the assembly is synthesized once
// into cdk.out.approval (1-2 minutes when stale).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../lib/handler-entries.js';
import { ensureCloudAssembly } from '../../../rehearsal/cloud-assembly.js';
import { failedChecks, type Rehearsal, runRehearseCli } from '../../support/rehearse-cli.js';

const RUN_TIMEOUT_MS = 5 * 60_000;
/** A case: its run and the reading of its report. */
const CASE_TIMEOUT_MS = RUN_TIMEOUT_MS + 30_000;
/** The lab's operator: the identity of its env file, who `meshtrust approve` runs as there. */
const LAB_OPERATOR = /^arn:aws:sts::000000000000:assumed-role\/meshtrust-rotator\/[^/]+$/;
/** A task token as the rehearsal's gates mint them (rehearsal/approval-gates.ts): never written out. */
const TASK_TOKEN = /AQ[A-Za-z0-9_-]{160}/;

interface AuditEvent {
  readonly phase: string;
  readonly action: string;
  readonly actor?: string;
  readonly outcome: string;
  readonly executionId: string;
  readonly detail?: Record<string, unknown>;
}

let cdkOut: string;
const outputDirs: string[] = [];

beforeAll(async () => {
  // The bundles must sit in the project (they resolve @aws-sdk from its node_modules).
  const assembly = await ensureCloudAssembly({
    projectRoot: PROJECT_ROOT,
    directory: join(PROJECT_ROOT, 'cdk.out.approval'),
    context: { approval: 'true' },
  });
  cdkOut = assembly.directory;
}, 10 * 60_000);

afterAll(() => {
  for (const dir of outputDirs) rmSync(dir, { recursive: true, force: true });
});

function auditOf(run: Rehearsal): AuditEvent[] {
  return readFileSync(join(run.dir, 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditEvent);
}

/** The JSON log lines of one handler (logs/<handler>.log: `<time> <stream> <line>`), parsed. */
function logOf(run: Rehearsal, handler: string): Record<string, unknown>[] {
  return readFileSync(join(run.dir, 'logs', `${handler}.log`), 'utf8')
    .trim()
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line.split(' ').slice(2).join(' ')) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** Every file the run wrote, read as text. */
function everyFileText(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8'))
    .join('\n');
}

describe('a rehearsal with approval gates, answered through the approval endpoint', () => {
  it(
    '--approve auto: both gates approved by the lab operator, recorded and checked, SUCCEEDED',
    async () => {
      // Act
      const run = await runRehearseCli({
        cdkOut,
        flags: ['--clusters', '2', '--workloads', '2', '--mode', 'emergency', '--approve', 'auto'],
        timeoutMs: RUN_TIMEOUT_MS,
        outputDirs,
      });

      // Assess
      expect(failedChecks(run.report)).toEqual([]);
      expect(run.report.error).toBeUndefined();
      expect(run.report.result).toBe('SUCCEEDED');
      expect(run.exitCode).toBe(0);
      expect(run.report.totals.handshakes.attempted).toBeGreaterThan(0);
      expect(run.report.totals.handshakes.failed).toBe(0);
      expect(run.report.phases.map((phase) => phase.name)).toEqual(
        expect.arrayContaining(['approve-reissue', 'approve-retire']),
      );
      // answer-approval, in its container, answered each gate for the lab operator after recording it.
      const audit = auditOf(run);
      const granted = audit.filter((event) => event.action === 'approval-granted');
      expect(granted).toEqual([
        expect.objectContaining({
          phase: 'reissue-intermediate',
          outcome: 'succeeded',
          detail: expect.objectContaining({ gate: 'reissue' }),
        }),
        expect.objectContaining({
          phase: 'retire-root',
          outcome: 'succeeded',
          detail: expect.objectContaining({ gate: 'retire' }),
        }),
      ]);
      for (const event of granted) {
        expect(event.actor).toMatch(LAB_OPERATOR);
        expect(event.executionId).toBe(run.report.executionId);
        expect(event.detail?.verifiedBy).toBe('lambda-function-url-aws-iam');
      }
      expect(audit.filter((event) => event.action === 'approval-bypassed')).toEqual([]);
      // The real steps after the gates read those records from moto's lock table: one check per cluster.
      const approvalIds = granted.map((event) => event.detail?.approvalId);
      for (const [handler, approvalId] of [
        ['reissue-intermediate', approvalIds[0]],
        ['retire-root', approvalIds[1]],
      ] as const) {
        const checked = logOf(run, handler).filter(
          (line) => line.message === 'approval checked against its record',
        );
        expect(checked.map((line) => line.approvalId)).toEqual([approvalId, approvalId]);
      }
      // The gates' tokens went from the proxy to answer-approval and back, and nowhere else.
      expect(`${run.stdout}\n${run.stderr}\n${everyFileText(run.dir)}`).not.toMatch(TASK_TOKEN);
    },
    CASE_TIMEOUT_MS,
  );

  it(
    '--approve manual without a terminal: rejected through the endpoint, ApprovalRejected rolls back',
    async () => {
      // Act
      const run = await runRehearseCli({
        cdkOut,
        flags: ['--clusters', '2', '--workloads', '2', '--mode', 'emergency', '--approve', 'manual'],
        timeoutMs: RUN_TIMEOUT_MS,
        outputDirs,
      });

      // Assess
      expect(run.report.result).toBe('ROLLED_BACK');
      expect(run.report.totals.handshakes.failed).toBe(0);
      expect(run.stderr).toContain('approve-reissue: --approve manual needs a terminal to ask on; rejecting');
      const audit = auditOf(run);
      expect(audit.filter((event) => event.action === 'approval-rejected')).toEqual([
        expect.objectContaining({
          phase: 'reissue-intermediate',
          actor: expect.stringMatching(LAB_OPERATOR),
        }),
      ]);
      expect(readFileSync(join(run.dir, 'history.json'), 'utf8')).toContain('ApprovalRejected');
      expect(
        audit.filter(
          (event) =>
            event.phase === 'reissue-intermediate' &&
            event.action !== 'approval-rejected' &&
            event.action !== 'approval-requested',
        ),
      ).toEqual([]);
    },
    CASE_TIMEOUT_MS,
  );
});
