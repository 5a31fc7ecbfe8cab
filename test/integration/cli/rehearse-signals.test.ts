// However `meshtrust rehearse` ends, nothing it started outlives it: killed with SIGKILL, its
// moto_server, function containers and guards go within seconds. Interrupted (SIGINT, SIGTERM), it
// says so, aborts the execution and keeps what it has as a report marked interrupted, exit 128 + the
// signal's number. Model engine, one cluster and one workload: each run takes a few seconds.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROJECT_ROOT } from '../../../lib/handler-entries.js';
import { ensureCloudAssembly } from '../../../rehearsal/cloud-assembly.js';
import type { RehearsalReport } from '../../../rehearsal/rehearsal-report.js';
import { descendantProcesses, isRunning } from '../../support/process-tree.js';
import { type RunningRehearsal, startRehearseCli } from '../../support/rehearse-cli.js';

const STEP_TIMEOUT_MS = 60_000;
let cdkOut: string;
let scratch: string;
const started: RunningRehearsal[] = [];

beforeAll(async () => {
  // The functions run from their bundles, which must sit in the project: cdk.out itself (reused
  // when fresh, else synthesized once for the file).
  cdkOut = (await ensureCloudAssembly({ projectRoot: PROJECT_ROOT })).directory;
  scratch = mkdtempSync(join(tmpdir(), 'meshtrust-rehearse-signals-'));
}, 5 * 60_000);

afterAll(() => {
  // Only if a test failed before its rehearsal ended.
  for (const rehearsal of started) if (isRunning(rehearsal.pid)) process.kill(rehearsal.pid, 'SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * Starts a rehearsal into scratch/NAME, waits for a stderr line matching `when`, notes the processes
 * it has started by then, sends `signal`, and waits for it to end.
 */
async function signalled(name: string, when: RegExp, signal: NodeJS.Signals) {
  const out = join(scratch, name);
  const rehearsal = startRehearseCli({ cdkOut, out, flags: ['--clusters', '1', '--workloads', '1'] });
  started.push(rehearsal);
  await rehearsal.waitForStderr(when, STEP_TIMEOUT_MS);
  const children = descendantProcesses(rehearsal.pid);
  process.kill(rehearsal.pid, signal);
  const { code } = await rehearsal.exit;
  return { out, rehearsal, code, children, commands: children.map((child) => child.command) };
}

/** The pids of `children` still running after up to `ms`. */
async function leftAfter(children: readonly { pid: number }[], ms: number): Promise<number[]> {
  const pids = children.map((child) => child.pid);
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && pids.some(isRunning)) await sleep(100);
  return pids.filter(isRunning);
}

function report(out: string): RehearsalReport {
  return JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RehearsalReport;
}

describe('meshtrust rehearse, killed or interrupted', () => {
  it(
    'leaves no moto_server, function container or guard behind when killed with SIGKILL',
    async () => {
      // Act
      const killed = await signalled('killed', /running rehearsal-/, 'SIGKILL');

      // Assess
      expect(killed.commands).toEqual(
        expect.arrayContaining([
          expect.stringContaining('moto_server'),
          expect.stringContaining('lambda-bootstrap'),
        ]),
      );
      const left = await leftAfter(killed.children, 5000);
      expect(killed.children.filter((child) => left.includes(child.pid))).toEqual([]);
    },
    2 * STEP_TIMEOUT_MS,
  );

  it(
    'on SIGINT mid-execution says so, aborts, keeps a report marked interrupted and exits 130',
    async () => {
      // Act
      const { out, rehearsal, code, children } = await signalled('interrupted', /phase stage-root/, 'SIGINT');

      // Assess
      expect(code).toBe(130);
      expect(rehearsal.stderr()).toContain('SIGINT received: interrupting the rehearsal');
      expect(rehearsal.stderr()).toMatch(/interrupted by SIGINT in phase [a-z-]+: partial report in /);
      expect(rehearsal.stdout()).toContain('NOT OK (interrupted)');
      const partial = report(out);
      expect(partial.interrupted).toEqual(expect.objectContaining({ signal: 'SIGINT' }));
      expect(partial.result).toBe('ABORTED');
      expect(partial.ok).toBe(false);
      expect(partial.phases.map((phase) => phase.name)).toEqual(
        expect.arrayContaining(['preflight', 'stage-root']),
      );
      const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as { type: string }[];
      expect(history.at(-1)?.type).toBe('ExecutionAborted');
      expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('Interrupted by SIGINT');
      expect(await leftAfter(children, 5000)).toEqual([]);
    },
    2 * STEP_TIMEOUT_MS,
  );

  it(
    'on SIGTERM before the execution starts stops what it started, writes no report and exits 143',
    async () => {
      // Act
      const { out, rehearsal, code, children } = await signalled(
        'terminated',
        /warming \d+ function container/,
        'SIGTERM',
      );

      // Assess
      expect(code).toBe(143);
      expect(rehearsal.stderr()).toContain('interrupted by SIGTERM');
      expect(existsSync(join(out, 'report.json'))).toBe(false);
      expect(await leftAfter(children, 5000)).toEqual([]);
    },
    2 * STEP_TIMEOUT_MS,
  );
});
