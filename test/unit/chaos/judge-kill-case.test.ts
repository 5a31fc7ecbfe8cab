// A kill case's verdict: the kill landed, the next run (or the one after it with --retry-rollback)
// converged, the lab's cacerts hold the newest root alone, and the resumed runs' audit shows no secret
// version and no workload restart twice. Each check passing and failing side by side.
import {
  type AuditLine,
  duplicateSecretVersionFinding,
  judgeKillCase,
  type KillCaseFacts,
  newestRootOnlyFinding,
  parseAuditLines,
  type ResumedReport,
  restartedTwiceFinding,
} from '../../../chaos/judge-kill-case.js';
import type { KillCase } from '../../../chaos/kill-cases.js';

const KILL_CASE: KillCase = {
  id: 'kill/scheduled/stage-root',
  mode: 'scheduled',
  kind: 'kill',
  flags: ['--mode', 'scheduled'],
  expected: { result: 'SUCCEEDED' },
  killAt: { state: 'stage-root', inIteration: false },
};
const ROOT_C = 'c'.repeat(64);
const ROOT_B = 'b'.repeat(64);

function succeeded(overrides: Partial<ResumedReport> = {}): ResumedReport {
  return {
    mode: 'scheduled',
    clusters: ['lab-1', 'lab-2'],
    result: 'SUCCEEDED',
    ok: true,
    totals: { handshakes: { attempted: 300, failed: 0 }, rounds: 40 },
    checks: [{ name: 'result-as-expected', ok: true, detail: 'expected SUCCEEDED, got SUCCEEDED' }],
    endState: {
      clusters: [
        { cluster: 'lab-1', asAtStart: false, roots: ['B'], intermediate: 'new' },
        { cluster: 'lab-2', asAtStart: false, roots: ['B'], intermediate: 'new' },
      ],
      pendingRoot: false,
    },
    rootLetters: { A: ROOT_B, B: ROOT_C },
    ...overrides,
  };
}

function stageRoot(executionId: string, versionId: string, outcome = 'succeeded'): AuditLine {
  return { executionId, phase: 'stage-root', action: 'stage-root-secret', outcome, detail: { versionId } };
}

function restart(restartId: string, restarted: number, cluster = 'lab-1'): AuditLine {
  return {
    executionId: 'run-1',
    phase: 'restart-workloads',
    action: 'restart-workloads',
    cluster,
    outcome: restarted > 0 ? 'succeeded' : 'unchanged',
    detail: { restartId, workloads: 2, restarted },
  };
}

/** A case killed in stage-root, refused once, then rolled back and rotated with --retry-rollback. */
function convergedFacts(overrides: Partial<KillCaseFacts> = {}): KillCaseFacts {
  return {
    killed: { reachedKillPoint: true, signal: 'SIGKILL', exitCode: 137, lastState: 'stage-root' },
    resumes: [
      { retryRollback: false, exitCode: 3, refusedForRetryRollback: true },
      { retryRollback: true, exitCode: 0, refusedForRetryRollback: false, report: succeeded() },
    ],
    run: { exitCode: 0, timedOut: false, processesLeft: [], filesWithKeys: [] },
    cacertsRoots: { 'lab-1': [ROOT_C], 'lab-2': [ROOT_C] },
    audit: [stageRoot('run-2', 'v-2'), restart('r-1', 2), restart('r-1', 0, 'lab-2')],
    recordsLeft: [],
    ...overrides,
  };
}

function failedChecks(facts: KillCaseFacts): string[] {
  return judgeKillCase(KILL_CASE, facts)
    .findings.filter((finding) => !finding.ok)
    .map((finding) => finding.check);
}

describe('judgeKillCase', () => {
  it('passes a run killed after its first write, refused, then rolled back and rotated', () => {
    // Act
    const verdict = judgeKillCase(KILL_CASE, convergedFacts());

    // Assess
    expect(verdict.findings.filter((finding) => !finding.ok)).toEqual([]);
    expect(verdict.passed).toBe(true);
  });

  it('passes a run the next one rotated over at once (killed before its first write)', () => {
    // Act
    const failed = failedChecks(
      convergedFacts({
        resumes: [{ retryRollback: false, exitCode: 0, refusedForRetryRollback: false, report: succeeded() }],
      }),
    );

    // Assess
    expect(failed).toEqual([]);
  });

  it('fails a case whose run ended by itself before the kill point', () => {
    // Act
    const failed = failedChecks(
      convergedFacts({
        killed: { reachedKillPoint: false, signal: null, exitCode: 1, lastState: 'preflight' },
      }),
    );

    // Assess
    expect(failed).toEqual(['killed-at-point']);
  });

  it('fails a resume that did not end SUCCEEDED, and counts the handshakes of every run after the kill', () => {
    // Prepare
    const rolledBack = succeeded({
      result: 'ROLLED_BACK',
      ok: false,
      totals: { handshakes: { attempted: 100, failed: 2 }, rounds: 10 },
    });

    // Act
    const verdict = judgeKillCase(
      KILL_CASE,
      convergedFacts({
        resumes: [{ retryRollback: false, exitCode: 1, refusedForRetryRollback: false, report: rolledBack }],
      }),
    );

    // Assess
    const handshakes = verdict.findings.find((finding) => finding.check === 'no-failed-handshake');
    expect(handshakes).toEqual({
      check: 'no-failed-handshake',
      ok: false,
      detail: '2 failed of 100 (1 report(s) after the kill)',
    });
    expect(verdict.findings.find((finding) => finding.check === 'end-as-expected')?.ok).toBe(false);
  });

  it('fails a resume that needed more than one retry, or was refused without naming --retry-rollback', () => {
    // Act
    const failed = failedChecks(
      convergedFacts({
        resumes: [
          { retryRollback: false, exitCode: 3, refusedForRetryRollback: false },
          { retryRollback: true, exitCode: 0, refusedForRetryRollback: false, report: succeeded() },
        ],
      }),
    );

    // Assess
    expect(failed).toEqual(['resumed-as-documented']);
  });

  it('fails a lab that still records a dead run', () => {
    // Act
    const failed = failedChecks(convergedFacts({ recordsLeft: ['rotation-1.json'] }));

    // Assess
    expect(failed).toEqual(['dead-run-cleared']);
  });
});

describe('newestRootOnlyFinding', () => {
  it('passes every cluster on the root the last run staged, alone', () => {
    // Act
    const finding = newestRootOnlyFinding(succeeded(), { 'lab-1': [ROOT_C], 'lab-2': [ROOT_C] });

    // Assess
    expect(finding.ok).toBe(true);
  });

  it('names a cluster still trusting the previous root beside the newest', () => {
    // Act
    const finding = newestRootOnlyFinding(succeeded(), { 'lab-1': [ROOT_C], 'lab-2': [ROOT_B, ROOT_C] });

    // Assess
    expect(finding).toEqual({
      check: 'cacerts-newest-root-only',
      ok: false,
      detail: 'lab-2 holds bbbbbbbbbbbb+cccccccccccc (newest cccccccccccc)',
    });
  });

  it('fails when the lab could not be read', () => {
    // Assess
    expect(newestRootOnlyFinding(succeeded(), undefined).ok).toBe(false);
  });
});

describe('duplicateSecretVersionFinding', () => {
  it('passes one version per step and execution, a re-run finding it made (unchanged)', () => {
    // Act
    const finding = duplicateSecretVersionFinding([
      stageRoot('run-1', 'v-1'),
      stageRoot('run-1', 'v-1', 'unchanged'),
      stageRoot('run-2', 'v-2'),
    ]);

    // Assess
    expect(finding.ok).toBe(true);
  });

  it('fails a version written twice', () => {
    // Act
    const finding = duplicateSecretVersionFinding([stageRoot('run-1', 'v-1'), stageRoot('run-1', 'v-1')]);

    // Assess
    expect(finding).toMatchObject({ ok: false, detail: 'versionId v-1 written 2x' });
  });

  it('fails one execution writing two versions for the same step', () => {
    // Act
    const finding = duplicateSecretVersionFinding([stageRoot('run-1', 'v-1'), stageRoot('run-1', 'v-9')]);

    // Assess
    expect(finding).toMatchObject({
      ok: false,
      detail: 'run-1 stage-root/stage-root-secret versionId: 2 versions',
    });
  });
});

describe('restartedTwiceFinding', () => {
  it('passes restarts spread over invocations that add up to the workloads', () => {
    // Assess
    expect(restartedTwiceFinding([restart('r-1', 1), restart('r-1', 1), restart('r-2', 2, 'lab-2')]).ok).toBe(
      true,
    );
  });

  it('fails a restart id that restarted more than its workloads on one cluster', () => {
    // Act
    const finding = restartedTwiceFinding([restart('r-1', 2), restart('r-1', 1)]);

    // Assess
    expect(finding).toMatchObject({ ok: false, detail: 'restart r-1 lab-1: 3 restarts of 2 workload(s)' });
  });
});

describe('parseAuditLines', () => {
  it('keeps the lines that are audit events and skips the rest', () => {
    // Prepare
    const text = [
      JSON.stringify({ audit: true, ...stageRoot('run-1', 'v-1') }),
      'not json',
      JSON.stringify({ message: 'something else' }),
      '',
    ].join('\n');

    // Act
    const lines = parseAuditLines(text);

    // Assess
    expect(lines.map((line) => line.action)).toEqual(['stage-root-secret']);
  });
});
