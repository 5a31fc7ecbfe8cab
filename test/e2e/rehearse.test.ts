// `meshtrust rehearse` end to end: the CLI as an operator runs it (a child process), the real
// synthesized state machine, every function from its own bundle in cdk.out, moto_server and the lab
// fleet. One synth for the whole file (beforeAll); the runs go one after another, because each one
// loads both cores and a starved lab would expire its own workload certificates.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { certificateFingerprint, parseCertificatesPem } from '../../lambdas/core/pki/index.js';
import { PROJECT_ROOT } from '../../lib/handler-entries.js';
import { awsHistoryEvents, type LocalHistoryEvent } from '../../rehearsal/aws-history-events.js';
import { ensureCloudAssembly } from '../../rehearsal/cloud-assembly.js';
import { filesWithPrivateKeys } from '../../rehearsal/private-key-scan.js';
import type { RehearsalReport } from '../../rehearsal/rehearsal-report.js';
import { failedChecks, type Rehearsal, runRehearseCli } from '../support/rehearse-cli.js';
import { stateSizeAgainstEstimate } from '../support/state-size-against-estimate.js';
import { FORWARD_PHASES, RESUMED_PROMOTION_STATES, RUN_START } from '../support/workflow-paths.js';

const RUN_TIMEOUT_MS = 6 * 60_000;
const CLUSTERS = ['lab-1', 'lab-2', 'lab-3'];
const run = promisify(execFile);
let cdkOut: string;
const outputDirs: string[] = [];

afterAll(() => {
  for (const dir of outputDirs) rmSync(dir, { recursive: true, force: true });
});

function rehearse(...flags: string[]): Promise<Rehearsal> {
  return runRehearseCli({ cdkOut, flags, timeoutMs: RUN_TIMEOUT_MS, outputDirs });
}

function publicFile(dir: string, stage: 'initial' | 'final', cluster: string, file: string): string {
  return readFileSync(join(dir, stage, cluster, file), 'utf8');
}

function rootsIn(dir: string, stage: 'initial' | 'final', cluster: string): string[] {
  return parseCertificatesPem(publicFile(dir, stage, cluster, 'root-cert.pem')).map(
    (cert) => cert.fingerprint,
  );
}

function everyFile(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((entry) =>
    statSync(join(dir, entry)).isFile(),
  );
}

/**
 * The run's history.json counted as Step Functions records it (rehearsal/aws-history-events.ts),
 * beside what the real preflight estimated for the run (plan.historyEvents of its output).
 */
function historyAgainstEstimate(dir: string): { real: number; fewest: number; worstCase: number } {
  const history = JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8')) as (LocalHistoryEvent & {
    state?: { output?: { preflight?: { plan?: { historyEvents?: { fewest: number; worstCase: number } } } } };
  })[];
  const preflight = history.find(
    (event) => event.type === 'StateExited' && event.state?.name === 'preflight',
  );
  const estimate = preflight?.state?.output?.preflight?.plan?.historyEvents;
  if (estimate === undefined) throw new Error(`preflight recorded no historyEvents in ${dir}/history.json`);
  return {
    real: awsHistoryEvents(history, new Set(['approve-reissue', 'approve-retire'])).length,
    fewest: estimate.fewest,
    worstCase: estimate.worstCase,
  };
}

/** The states Step Functions retried, from the run's history.json. */
function retriedStates(dir: string): string[] {
  const history = JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8')) as {
    type: string;
    state?: { name: string };
  }[];
  return history.filter((event) => event.type === 'StateRetried').map((event) => event.state?.name ?? '');
}

/** The phases a run must show traffic in, besides `final`. */
function workflowPhases(report: RehearsalReport): string[] {
  return report.phases.map((phase) => phase.name);
}

beforeAll(async () => {
  // One synth (or a fresh cdk.out reused) for every run below; the runs take it as it is (--cdk-out).
  const assembly = await ensureCloudAssembly({
    projectRoot: PROJECT_ROOT,
    onProgress: (line) => process.stderr.write(`rehearse e2e: ${line}\n`),
  });
  cdkOut = assembly.directory;
}, 10 * 60_000);

describe('meshtrust rehearse', () => {
  let scheduled: Rehearsal;

  beforeAll(async () => {
    scheduled = await rehearse('--clusters', '3', '--workloads', '10', '--mode', 'scheduled', '--json');
  }, RUN_TIMEOUT_MS);

  it('rotates 3 clusters on schedule with zero failed handshakes and traffic in every phase', () => {
    // Assess
    const { report } = scheduled;
    expect(failedChecks(report)).toEqual([]);
    expect(scheduled.exitCode).toBe(0);
    expect(report.result).toBe('SUCCEEDED');
    expect(report.engine).toEqual({ name: 'model', istio: '1.29' });
    expect(report.totals.handshakes.failed).toBe(0);
    expect(report.handshakeFailures).toEqual([]);
    expect(workflowPhases(report)).toEqual(['acquire-lock', ...FORWARD_PHASES, 'release-lock', 'final']);
    for (const phase of report.phases)
      expect({ [phase.name]: phase.handshakes.attempted > 0 }).toEqual({ [phase.name]: true });
    expect(report.checks.every((check) => check.ok)).toBe(true);
    // PCDS off, as Istio ships: preflight picks restart, and every workload moved by a restart.
    expect(report.strategies.map((entry) => entry.strategy)).toEqual(['restart', 'restart', 'restart']);
    expect(report.workloadMoves.length).toBeGreaterThanOrEqual(30);
    expect(report.workloadMoves.filter((move) => !move.restarted)).toEqual([]);
    expect(report.checks.map((check) => check.name)).toContain('workloads-moved-to-new-intermediate');
    const summary = JSON.parse(scheduled.stdout) as { ok: boolean; result: string };
    expect(summary).toMatchObject({ ok: true, result: 'SUCCEEDED' });
  });

  it("times every handler's warm invocations (its containers warmed ahead), for the bench", () => {
    // Assess: each handler invoked has warm times, no more than its invocations, in order; check-expiry
    // runs twice at the end in a container started for it: the first run cold, the second warm
    const { invocations, warmInvocations } = scheduled.report;
    expect(invocations['check-expiry']).toBe(2);
    expect(warmInvocations['check-expiry']?.count).toBe(1);
    expect(Object.keys(warmInvocations).sort()).toEqual(Object.keys(invocations).sort());
    for (const [handler, times] of Object.entries(warmInvocations)) {
      expect({ handler, count: times.count }).toEqual({ handler, count: expect.any(Number) });
      expect(times.count).toBeGreaterThan(0);
      expect(times.count).toBeLessThanOrEqual(invocations[handler] ?? 0);
      expect(times.medianMs).toBeGreaterThan(0);
      expect(times.p90Ms).toBeGreaterThanOrEqual(times.medianMs);
      expect(times.maxMs).toBeGreaterThanOrEqual(times.p90Ms);
    }
  });

  it("reports how the lab's renewals kept time, in report.json and the --json summary", () => {
    // Assess: the run outlasts several certificate lifetimes, so the lab renewed, none past expiry
    const renewals = scheduled.report.labLoad?.renewals;
    expect(renewals?.renewals).toBeGreaterThan(0);
    expect(renewals?.afterExpiry).toBe(0);
    expect(renewals?.leastMarginMs).toBeGreaterThan(0);
    const summary = JSON.parse(scheduled.stdout) as { labLoad?: { renewals?: unknown } };
    expect(summary.labLoad?.renewals).toEqual(renewals);
  });

  it('ends with every cluster trusting the new root only, its intermediate signed by it', () => {
    // Assess
    const { dir, report } = scheduled;
    const rootA = report.rootLetters.A;
    const rootB = report.rootLetters.B;
    expect(rootB).toBeDefined();
    expect(rootB).not.toBe(rootA);
    for (const cluster of CLUSTERS) {
      expect(rootsIn(dir, 'initial', cluster)).toEqual([rootA]);
      expect(rootsIn(dir, 'final', cluster)).toEqual([rootB]);
      const chain = parseCertificatesPem(publicFile(dir, 'final', cluster, 'cert-chain.pem'));
      expect(chain.at(-1)?.fingerprint).toBe(rootB);
      expect(certificateFingerprint(publicFile(dir, 'final', cluster, 'ca-cert.pem'))).not.toBe(
        certificateFingerprint(publicFile(dir, 'initial', cluster, 'ca-cert.pem')),
      );
    }
    // The timeline walks A -> A+B -> B in every cluster, never dropping A before B is trusted.
    for (const cluster of CLUSTERS) {
      const rootSets = report.timeline
        .filter((write) => write.cluster === cluster)
        .map((write) => [...write.roots].sort().join('+'));
      expect(rootSets[0]).toBe(rootA);
      expect(rootSets).toContain([rootA, rootB].sort().join('+'));
      expect(rootSets.at(-1)).toBe(rootB);
    }
  });

  it('writes the report files with public parts only, and the functions audit lines', () => {
    // Assess
    const { dir } = scheduled;
    const files = everyFile(dir);
    expect(files).toEqual(
      expect.arrayContaining([
        'report.json',
        'report.html',
        'history.json',
        'audit.jsonl',
        ...CLUSTERS.flatMap((cluster) =>
          ['initial', 'final'].flatMap((stage) =>
            ['ca-cert.pem', 'cert-chain.pem', 'root-cert.pem'].map((file) => join(stage, cluster, file)),
          ),
        ),
      ]),
    );
    expect(files.filter((file) => file.endsWith('ca-key.pem'))).toEqual([]);
    const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            audit: boolean;
            phase: string;
            cluster?: string;
            executionId: string;
            outcome: string;
          },
      );
    expect(
      audit.every((event) => event.audit === true && event.executionId === scheduled.report.executionId),
    ).toBe(true);
    // The run took the mesh's rotation lock first and released it last (the table made from the template).
    const lockEvents = audit.filter((event) => event.phase.endsWith('-lock'));
    expect(lockEvents.map((event) => [event.phase, event.outcome])).toEqual([
      ['acquire-lock', 'succeeded'],
      ['release-lock', 'succeeded'],
    ]);
    const distributed = audit
      .filter((event) => event.phase === 'distribute-bundle')
      .map((event) => event.cluster);
    expect([...new Set(distributed)].sort()).toEqual(CLUSTERS);
    const history = JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8')) as { type: string }[];
    expect(history.at(-1)?.type).toBe('ExecutionSucceeded');
  });

  it("stays within preflight's execution history estimate, as Step Functions would count its history", () => {
    // Act
    const { real, fewest, worstCase } = historyAgainstEstimate(scheduled.dir);

    // Assess: at least the success path at first look, at most the worst case, which is not absurd.
    expect(real).toBeGreaterThanOrEqual(fewest);
    expect(real).toBeLessThanOrEqual(worstCase);
    expect(worstCase).toBeLessThanOrEqual(5 * real);
  });

  it('leaves no private key in any report file nor in anything the functions logged', async () => {
    // Act
    const leaks = await filesWithPrivateKeys(scheduled.dir, []);
    const everything = everyFile(scheduled.dir)
      .map((file) => readFileSync(join(scheduled.dir, file), 'utf8'))
      .join('\n');

    // Assess
    expect(leaks).toEqual([]);
    expect(everything).not.toContain('PRIVATE KEY');
    expect(`${scheduled.stdout}${scheduled.stderr}`).not.toContain('PRIVATE KEY');
    expect(everyFile(scheduled.dir).filter((file) => file.startsWith('logs/')).length).toBeGreaterThan(0);
  });

  it("prints no library warning between its progress lines: they are in the report's logs", () => {
    // Assess
    expect(scheduled.stderr).not.toMatch(/Warning|AWS SDK/);
    if (Number(process.versions.node.split('.')[0]) < 22) {
      const warnings = readFileSync(join(scheduled.dir, 'logs', 'rehearsal-warnings.log'), 'utf8');
      expect(warnings).toContain('NodeVersionSupportWarning');
    }
  });

  it('renders report.html in headless Chromium with a timeline row per cluster', async () => {
    // Prepare
    const profile = mkdtempSync(join(tmpdir(), 'meshtrust-chromium-'));
    const screenshot = join(profile, 'report.png');
    const url = `file://${join(scheduled.dir, 'report.html')}`;
    const chromium = (...extra: string[]) =>
      run(
        'chromium',
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
          `--user-data-dir=${profile}`,
          ...extra,
          url,
        ],
        { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      );

    // Act
    const { stdout: dom } = await chromium('--dump-dom');
    await chromium('--window-size=1200,1000', `--screenshot=${screenshot}`);

    // Assess
    const rows = [...dom.matchAll(/class="cluster-label">([^<]+)</g)].map((match) => match[1]);
    expect(rows).toEqual(CLUSTERS);
    expect(dom).toContain('<svg');
    expect(dom).toContain('trusts A+B');
    expect(dom).toContain('signed by B');
    const png = readFileSync(screenshot);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.length).toBeGreaterThan(20_000);
  }, 120_000);

  it(
    'rotates in emergency mode without a soak',
    async () => {
      // Act
      const { exitCode, report, dir } = await rehearse('--mode', 'emergency', '--workloads', '4', '--json');

      // Assess
      expect(failedChecks(report)).toEqual([]);
      expect(exitCode).toBe(0);
      expect(report.result).toBe('SUCCEEDED');
      expect(report.totals.handshakes.failed).toBe(0);
      expect(workflowPhases(report)).not.toContain('soak');
      expect(report.phases.every((phase) => phase.handshakes.attempted > 0)).toBe(true);
      for (const cluster of CLUSTERS) expect(rootsIn(dir, 'final', cluster)).toEqual([report.rootLetters.B]);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'rekeys one cluster in intermediate mode and leaves the root alone',
    async () => {
      // Act
      const { exitCode, report, dir } = await rehearse(
        '--workloads',
        '4',
        '--mode',
        'intermediate',
        '--cluster',
        'lab-2',
        '--json',
      );

      // Assess
      expect(failedChecks(report)).toEqual([]);
      expect(exitCode).toBe(0);
      expect(report.result).toBe('SUCCEEDED');
      expect(report.totals.handshakes.failed).toBe(0);
      expect(workflowPhases(report)).toEqual([
        'acquire-lock',
        'preflight',
        'reissue-intermediate',
        'restart-workloads',
        'verify-workloads',
        'release-lock',
        'final',
      ]);
      expect(report.phases.every((phase) => phase.handshakes.attempted > 0)).toBe(true);
      for (const cluster of CLUSTERS) {
        expect(rootsIn(dir, 'final', cluster)).toEqual(rootsIn(dir, 'initial', cluster));
        const before = publicFile(dir, 'initial', cluster, 'ca-cert.pem');
        const after = publicFile(dir, 'final', cluster, 'ca-cert.pem');
        expect({ cluster, rekeyed: before !== after }).toEqual({ cluster, rekeyed: cluster === 'lab-2' });
      }
      // lab-2's backup (its old intermediate's key) is scheduled for deletion once the rekey succeeded.
      expect(report.endState?.cacertsBackups).toEqual({ kept: 0, deleting: 1 });
      expect(report.checks.find((check) => check.name === 'cacerts-backups-deleted')?.ok).toBe(true);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'rolls back a failure after the first write to cacerts byte-identical to the start, through a one-off failure of its own',
    async () => {
      // Act: lab-2 fails for good after its reissue; then lab-1's rollback-trust fails once (Retry takes it).
      const { exitCode, report, dir } = await rehearse(
        '--workloads',
        '4',
        '--fail-at',
        'reissue-intermediate:lab-2',
        '--fail-at',
        'rollback-trust:lab-1:once',
        '--json',
      );

      // Assess
      expect(failedChecks(report)).toEqual([]);
      expect(report.result).toBe('ROLLED_BACK');
      expect(report.expectedResult).toBe('ROLLED_BACK');
      expect(exitCode).toBe(0);
      expect(report.error?.name).toBe('RotationRolledBack');
      expect(report.totals.handshakes.failed).toBe(0);
      expect(workflowPhases(report)).toEqual(
        expect.arrayContaining([
          'rollback-trust',
          'rollback-intermediate',
          'rollback-restart',
          'rollback-restore',
        ]),
      );
      expect(workflowPhases(report).slice(-2)).toEqual(['release-lock-after-rollback', 'final']);
      for (const cluster of CLUSTERS) {
        for (const file of ['ca-cert.pem', 'cert-chain.pem', 'root-cert.pem']) {
          expect(publicFile(dir, 'final', cluster, file)).toBe(publicFile(dir, 'initial', cluster, file));
        }
      }
      // ca-key.pem is compared in memory only, never written: the report carries the verdict.
      expect(report.checks.find((check) => check.name === 'cacerts-byte-identical-to-start')?.ok).toBe(true);
      // The rollback's events too stay within preflight's worst case.
      const history = historyAgainstEstimate(dir);
      expect(history.real).toBeGreaterThan(history.fewest);
      expect(history.real).toBeLessThanOrEqual(history.worstCase);
      // And its largest state within preflight's bound on the state's size (state-size-estimate.ts).
      const size = stateSizeAgainstEstimate(dir);
      expect(size.largest).toBeLessThanOrEqual(size.atWorst);
      // The rollback's one-off failure was retried by Step Functions, and the rollback went on.
      expect(retriedStates(dir)).toEqual(['rollback-trust-in-cluster']);
      expect(report.endState).toMatchObject({ pendingRoot: false });
      expect(report.endState?.clusters.every((cluster) => cluster.asAtStart)).toBe(true);
      // The failure came after lab-2's new intermediate was written, so there was something to undo.
      expect(
        report.timeline.some((write) => write.cluster === 'lab-2' && write.phase === 'reissue-intermediate'),
      ).toBe(true);
      // Every cluster restored: the backups distribute-bundle made are scheduled for deletion.
      expect(report.endState?.cacertsBackups).toEqual({ kept: 0, deleting: CLUSTERS.length });
      expect(report.checks.find((check) => check.name === 'cacerts-backups-deleted')?.ok).toBe(true);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'fails the rollback itself when one of its steps fails for good: RollbackFailed, and where each cluster stands',
    async () => {
      // Act: lab-2 fails after its reissue; then lab-1's restore-original fails after its write.
      const { exitCode, report } = await rehearse(
        '--workloads',
        '4',
        '--fail-at',
        'reissue-intermediate:lab-2',
        '--fail-at',
        'rollback-restore:lab-1',
        '--json',
      );

      // Assess
      expect(failedChecks(report)).toEqual([]);
      expect(exitCode).toBe(0);
      expect(report.result).toBe('FAILED');
      expect(report.expectedResult).toBe('FAILED');
      expect(report.error?.name).toBe('RollbackFailed');
      expect(report.totals.handshakes.failed).toBe(0);
      // The rollback stopped before drop-pending: root B is still staged, and the report says so.
      expect(report.endState?.pendingRoot).toBe(true);
      expect(report.endState?.clusters.map((cluster) => cluster.cluster)).toEqual(CLUSTERS);
      for (const cluster of report.endState?.clusters ?? []) {
        expect(cluster.roots[0]).toBe('A');
        expect(cluster.asAtStart).toBe(cluster.roots.length === 1 && cluster.intermediate === 'original');
      }
      // The operator restores from the backups: none is deleted.
      expect(report.endState?.cacertsBackups).toEqual({ kept: CLUSTERS.length, deleting: 0 });
      expect(report.checks.find((check) => check.name === 'cacerts-backups-kept')?.ok).toBe(true);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'resumes a rollback that failed for good in a new execution (--retry-rollback), twice: the fleet ends as it started',
    async () => {
      // Act: as above, the rollback fails at lab-1's restore-original and the run ends RollbackFailed;
      // then that failure stops (the cause is fixed) and the rollback is resumed from the run's final
      // state. The resume restores every cluster and fails in rollback-drop-pending, after it scheduled
      // the backups for deletion; resumed again, it starts there, reading no backup.
      const { exitCode, report, dir } = await rehearse(
        '--clusters',
        '2',
        '--workloads',
        '3',
        '--fail-at',
        'reissue-intermediate:lab-2',
        '--fail-at',
        'rollback-restore:lab-1',
        '--fail-at',
        'rollback-drop-pending',
        '--retry-rollback',
        '--json',
      );

      // Assess
      expect(failedChecks(report)).toEqual([]);
      expect(exitCode).toBe(0);
      expect(report.expectedResult).toBe('ROLLED_BACK');
      expect(report.result).toBe('ROLLED_BACK');
      expect(report.error?.name).toBe('RotationRolledBack');
      expect(report.totals.handshakes.failed).toBe(0);
      // Three executions: the rotation ended in rotation-failed; the first resume (its acquire-lock
      // checked the rotation's history) went straight to the whole rollback and ended in rotation-failed
      // at rollback-drop-pending; the second went from resume-from to rollback-drop-pending alone.
      const history = JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8')) as {
        type: string;
        index?: number;
        state?: { name: string };
      }[];
      const entered = history
        .filter((event) => event.type === 'StateEntered' && event.index === undefined)
        .map((event) => event.state?.name);
      const resumedAt = entered.indexOf('resume-rollback');
      const resumedAgainAt = entered.lastIndexOf('resume-rollback');
      expect(entered.slice(0, resumedAt)).toContain('rotation-failed');
      expect(entered.slice(resumedAt - RUN_START.length, resumedAt)).toEqual(RUN_START);
      expect(entered.slice(resumedAt, resumedAgainAt)).toEqual(
        expect.arrayContaining([
          'rollback-trust',
          'rollback-restore',
          'rollback-drop-pending',
          'rotation-failed',
        ]),
      );
      expect(entered.slice(resumedAt)).not.toContain('preflight');
      expect(entered.slice(resumedAgainAt)).toEqual([
        'resume-rollback',
        'resume-from',
        'rollback-drop-pending',
        'release-lock-after-rollback',
        'rotation-rolled-back',
      ]);
      // Back where it started: both clusters byte for byte, on root A and their original intermediates,
      // root B no longer pending.
      expect(report.endState).toMatchObject({ pendingRoot: false });
      expect(report.endState?.clusters).toEqual([
        { cluster: 'lab-1', asAtStart: true, roots: ['A'], intermediate: 'original' },
        { cluster: 'lab-2', asAtStart: true, roots: ['A'], intermediate: 'original' },
      ]);
      expect(report.checks.find((check) => check.name === 'cacerts-byte-identical-to-start')?.ok).toBe(true);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'finishes a run whose promote-root failed for good in a new execution (--retry-promotion): SUCCEEDED, B current, nothing restarted again',
    async () => {
      // Act: promote-root fails after every cluster trusts only B; the run stops in rotation-stopped
      // (nothing rolled back). Then the failure stops (the cause is fixed) and the promotion is finished
      // from the run's final state, as meshtrust retry-promotion does.
      const { exitCode, report, dir } = await rehearse(
        '--clusters',
        '2',
        '--workloads',
        '3',
        '--fail-at',
        'promote-root',
        '--retry-promotion',
        '--json',
      );

      // Assess
      expect(failedChecks(report)).toEqual([]);
      expect(exitCode).toBe(0);
      expect(report.expectedResult).toBe('SUCCEEDED');
      expect(report.result).toBe('SUCCEEDED');
      expect(report.totals.handshakes.failed).toBe(0);
      // Two executions: the rotation stopped after promote-root; the second took the lock (its
      // acquire-lock checked the rotation's history) and ran promote-root alone, then the release.
      const history = JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8')) as {
        type: string;
        index?: number;
        state?: { name: string };
      }[];
      const entered = history
        .filter((event) => event.type === 'StateEntered' && event.index === undefined)
        .map((event) => event.state?.name);
      const resumedAt = entered.indexOf('resume-promotion');
      // The resumed run's own start precedes resume-promotion; before it, the stopped run's end.
      const resumedStart = resumedAt - RUN_START.length;
      expect(entered.slice(resumedStart - 3, resumedStart)).toEqual([
        'promote-root',
        'release-lock-after-stop',
        'rotation-stopped',
      ]);
      expect(entered.slice(resumedStart)).toEqual(RESUMED_PROMOTION_STATES);
      // Every cluster on B alone, B current (no root pending), A's key retired, the rotation's backups
      // deleting; A is B's previous version in the resumed promote-root's audit event.
      expect(report.endState).toMatchObject({ pendingRoot: false, cacertsBackups: { kept: 0, deleting: 2 } });
      expect(report.endState?.clusters.map((cluster) => cluster.roots)).toEqual([['B'], ['B']]);
      const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map(
          (line) =>
            JSON.parse(line) as {
              executionId: string;
              phase: string;
              action: string;
              outcome: string;
              detail?: Record<string, unknown>;
            },
        );
      const resumed = (event: { executionId: string }) => event.executionId.includes('-promote-');
      const promoted = audit.filter((event) => event.action === 'promote-root-secret');
      expect(promoted.map((event) => [resumed(event), event.outcome])).toEqual([
        [false, 'succeeded'],
        [true, 'unchanged'],
      ]);
      expect(promoted[1]?.detail).toMatchObject({
        currentVersionId: promoted[0]?.detail?.currentVersionId,
        previousVersionId: promoted[0]?.detail?.previousVersionId,
      });
      // The resume wrote nothing else: no cacerts, no restart, and it released the lock it took.
      expect(audit.filter(resumed).map((event) => `${event.phase}/${event.action}`)).toEqual([
        'acquire-lock/acquire-rotation-lock',
        'promote-root/promote-root-secret',
        'promote-root/retire-root-key',
        'promote-root/delete-cacerts-backup',
        'promote-root/delete-cacerts-backup',
        'release-lock/release-rotation-lock',
      ]);
    },
    RUN_TIMEOUT_MS,
  );
});

describe('meshtrust rehearse --fault', () => {
  // One run plays every kind of fault a rotation must ride out, each in its own phase, so the suite
  // proves them all in one rehearsal; `npm run chaos` plays each kind alone after every state.
  it(
    'absorbs a one-off step failure, 503s and a 5 s outage of cluster APIs, 409 Conflicts and AWS throttling: SUCCEEDED, 0 failed handshakes',
    async () => {
      // Act
      const faults = {
        throttle: 'aws:throttle:3@stage-root',
        burst: 'kube:lab-2:5xx:3@distribute-bundle',
        conflict: 'kube:lab-1:conflict:2@reissue-intermediate',
        down: 'kube:lab-2:down:5@restart-workloads',
      };
      const { exitCode, report, dir } = await rehearse(
        '--workloads',
        '4',
        '--fail-at',
        'distribute-bundle:lab-1:once',
        ...Object.values(faults).flatMap((spec) => ['--fault', spec]),
        '--json',
      );

      // Assess: a run the faults did not break, every fault fired.
      expect(failedChecks(report)).toEqual([]);
      expect(exitCode).toBe(0);
      expect(report.result).toBe('SUCCEEDED');
      expect(report.totals.handshakes.failed).toBe(0);
      expect(report.checks.find((check) => check.name === 'every-fault-fired')?.ok).toBe(true);
      const fired = Object.fromEntries((report.faults ?? []).map((fault) => [fault.spec, fault.fired]));
      expect(fired[faults.down]).toBeGreaterThan(0);
      expect(fired).toEqual({
        [faults.throttle]: 3,
        [faults.burst]: 3,
        [faults.conflict]: 2,
        [faults.down]: fired[faults.down],
      });
      // The adapters' own retries took the 503s and the throttling (client-node calls, the SDK's
      // backoff), and a 409 by reading cacerts again; Step Functions' Retry took the one-off failure
      // and the outage (the step failed as TransientError): those two states alone were retried.
      expect(new Set(retriedStates(dir))).toEqual(
        new Set(['distribute-bundle-in-cluster', 'restart-workloads-in-cluster']),
      );
      expect(retriedStates(dir).filter((state) => state === 'distribute-bundle-in-cluster')).toHaveLength(1);
      expect(report.invocations['distribute-bundle']).toBe(CLUSTERS.length + 1);
      // The write a 409 refused went through in the end, once: lab-1's new intermediate is in the timeline.
      const reissued = report.timeline.filter(
        (write) => write.cluster === 'lab-1' && write.phase === 'reissue-intermediate',
      );
      expect(reissued).toHaveLength(1);
      for (const cluster of CLUSTERS) expect(rootsIn(dir, 'final', cluster)).toEqual([report.rootLetters.B]);
    },
    RUN_TIMEOUT_MS,
  );
});

describe('meshtrust rehearse --topology primary-remote', () => {
  /**
   * A rehearsal of lab-2 as a remote of lab-1 (model engine, 2 workloads each; the functions given
   * REMOTE_CLUSTERS=lab-2=lab-1), asserted to have succeeded with every check and 0 failed handshakes.
   */
  async function rehearsedPrimaryRemote(...flags: string[]): Promise<RehearsalReport> {
    const { exitCode, report } = await rehearse(
      '--clusters',
      '2',
      '--workloads',
      '2',
      '--topology',
      'primary-remote',
      ...flags,
      '--json',
    );
    expect(failedChecks(report)).toEqual([]);
    expect(exitCode).toBe(0);
    expect(report.result).toBe('SUCCEEDED');
    expect(report.totals.handshakes.failed).toBe(0);
    return report;
  }
  const movesIn = (report: RehearsalReport, cluster: string) =>
    report.workloadMoves.filter((move) => move.cluster === cluster);

  it(
    'rotates a remote without writing it: its workloads move to its primary intermediate, 0 failed handshakes',
    async () => {
      // Act
      const report = await rehearsedPrimaryRemote('--mode', 'emergency');

      // Assess: the remote's workloads were restarted, each onto the intermediate its primary ends with.
      const remoteMoves = movesIn(report, 'lab-2');
      expect(remoteMoves.length).toBeGreaterThan(0);
      expect(remoteMoves.every((move) => move.restarted)).toBe(true);
      const issuersAtEnd = (moves: typeof remoteMoves) =>
        [...new Set(moves.flatMap((move) => move.end.map((pod) => pod.issuer)))].sort();
      expect(issuersAtEnd(remoteMoves)).toEqual(issuersAtEnd(movesIn(report, 'lab-1')));
      expect(issuersAtEnd(remoteMoves)).toHaveLength(1);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'moves a remote whose proxies have PCDS by resign with its primary: nothing restarted, 0 failed handshakes',
    async () => {
      // Act: PCDS in the mesh's proxy metadata, so every proxy of both clusters takes the push
      const report = await rehearsedPrimaryRemote('--proxy-env', 'PROXY_CONFIG_XDS_AGENT=true');

      // Assess: both planned resign; every proxy of each re-signed, none restarted
      expect(
        report.strategies.map((entry) => [entry.cluster, entry.strategy, entry.restartWorkloads?.restarted]),
      ).toEqual([
        ['lab-1', 'resign', 0],
        ['lab-2', 'resign', 0],
      ]);
      for (const entry of report.strategies) {
        expect(entry.restartWorkloads?.resign?.moved).toBe(entry.restartWorkloads?.resign?.pods);
      }
      const remoteMoves = movesIn(report, 'lab-2');
      expect(remoteMoves.length).toBeGreaterThan(0);
      expect(remoteMoves.some((move) => move.restarted)).toBe(false);
    },
    RUN_TIMEOUT_MS,
  );
});
