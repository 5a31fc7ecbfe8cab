// A kill case's verdict: the kill landed, the next run (or the one after it with --retry-rollback)
// converged, the lab's cacerts hold the newest root alone, and the resumed runs' audit shows no secret
// version and no workload restart twice. Each check passing and failing side by side.
import {
  type AnswerHeldKill,
  type AuditLine,
  approvalAnsweredOnceFinding,
  duplicateSecretVersionFinding,
  judgeKillCase,
  type KillCaseFacts,
  killedAnswerHeldFinding,
  killedMidWaitFinding,
  newestRootOnlyFinding,
  parseAuditLines,
  type ResumedReport,
  rekeyedOnSameRootFinding,
  restartedTwiceFinding,
  resumedAfterKilledRollbackFinding,
  rolledBackToStartFinding,
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

describe('judgeKillCase of an intermediate-mode case', () => {
  const REKEY_CASE: KillCase = {
    ...KILL_CASE,
    id: 'kill/intermediate/reissue-intermediate',
    mode: 'intermediate',
    flags: ['--mode', 'intermediate', '--cluster', 'lab-2'],
    killAt: { state: 'reissue-intermediate', inIteration: true },
    rekeyed: 'lab-2',
  };
  const before = { 'lab-1': { roots: [ROOT_B], caCert: 'i1' }, 'lab-2': { roots: [ROOT_B], caCert: 'i2' } };
  const rekeyedReport = succeeded({
    mode: 'intermediate',
    cluster: 'lab-2',
    endState: {
      clusters: [
        { cluster: 'lab-1', asAtStart: true, roots: ['A'], intermediate: 'original' },
        { cluster: 'lab-2', asAtStart: false, roots: ['A'], intermediate: 'new' },
      ],
      pendingRoot: false,
    },
    rootLetters: { A: ROOT_B },
  });

  it('judges the rekey by the lab, not by a newest root the mode never stages', () => {
    // Act
    const verdict = judgeKillCase(
      REKEY_CASE,
      convergedFacts({
        resumes: [
          { retryRollback: false, exitCode: 0, refusedForRetryRollback: false, report: rekeyedReport },
        ],
        cacertsRoots: { 'lab-1': [ROOT_B], 'lab-2': [ROOT_B] },
        cacertsBefore: before,
        cacertsAfter: { ...before, 'lab-2': { roots: [ROOT_B], caCert: 'i2-new' } },
      }),
    );

    // Assess
    expect(verdict.findings.filter((finding) => !finding.ok)).toEqual([]);
    expect(verdict.findings.map((finding) => finding.check)).toContain('cacerts-rekeyed-on-same-root');
    expect(verdict.findings.map((finding) => finding.check)).not.toContain('cacerts-newest-root-only');
  });
});

describe('rekeyedOnSameRootFinding', () => {
  const before = { 'lab-1': { roots: [ROOT_B], caCert: 'i1' }, 'lab-2': { roots: [ROOT_B], caCert: 'i2' } };

  it('passes the rekeyed cluster on a new intermediate, the other untouched, both on the same root', () => {
    // Act
    const finding = rekeyedOnSameRootFinding('lab-2', before, {
      ...before,
      'lab-2': { roots: [ROOT_B], caCert: 'i2-new' },
    });

    // Assess
    expect(finding.ok).toBe(true);
  });

  it('fails a rekeyed cluster still on its old intermediate (the resume did not rekey)', () => {
    // Act
    const finding = rekeyedOnSameRootFinding('lab-2', before, before);

    // Assess
    expect(finding).toMatchObject({ ok: false, detail: expect.stringMatching(/lab-2 \(rekeyed\) still on/) });
  });

  it('fails a cluster that was not to be rekeyed and was', () => {
    // Act
    const finding = rekeyedOnSameRootFinding('lab-2', before, {
      'lab-1': { roots: [ROOT_B], caCert: 'i1-new' },
      'lab-2': { roots: [ROOT_B], caCert: 'i2-new' },
    });

    // Assess
    expect(finding).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/lab-1 \(not rekeyed\) changed/),
    });
  });

  it('fails a cluster whose roots changed', () => {
    // Act
    const finding = rekeyedOnSameRootFinding('lab-2', before, {
      'lab-1': { roots: [ROOT_B, ROOT_C], caCert: 'i1' },
      'lab-2': { roots: [ROOT_B], caCert: 'i2-new' },
    });

    // Assess
    expect(finding).toMatchObject({ ok: false, detail: expect.stringMatching(/^lab-1 trusts/) });
  });

  it('fails when the lab could not be read before the kill', () => {
    // Assess
    expect(rekeyedOnSameRootFinding('lab-2', undefined, before).ok).toBe(false);
  });
});

describe('resumedAfterKilledRollbackFinding', () => {
  const refused = { retryRollback: false, exitCode: 3, refusedForRetryRollback: true };
  const killedRollback = {
    retryRollback: true,
    exitCode: null,
    refusedForRetryRollback: false,
    killedAtPoint: true,
  };
  const rotated = { retryRollback: true, exitCode: 0, refusedForRetryRollback: false, report: succeeded() };

  it('passes refused, the rollback killed, refused again, then rolled back and rotated', () => {
    // Act
    const finding = resumedAfterKilledRollbackFinding(
      [refused, killedRollback, refused, rotated],
      'rollback-restore',
    );

    // Assess
    expect(finding.ok).toBe(true);
  });

  it('fails when the --retry-rollback run ended before the kill point in its rollback', () => {
    // Act
    const finding = resumedAfterKilledRollbackFinding(
      [refused, { ...rotated, killedAtPoint: false }],
      'rollback-restore',
    );

    // Assess
    expect(finding).toMatchObject({ ok: false, detail: expect.stringMatching(/^2 run\(s\) after the kill/) });
  });

  it('fails when the run after the killed rollback was not refused, or the last wrote no report', () => {
    // Assess
    expect(
      resumedAfterKilledRollbackFinding([refused, killedRollback, { ...rotated, retryRollback: false }], 'x')
        .ok,
    ).toBe(false);
    expect(
      resumedAfterKilledRollbackFinding(
        [
          refused,
          killedRollback,
          refused,
          { retryRollback: true, exitCode: 4, refusedForRetryRollback: false },
        ],
        'x',
      ).ok,
    ).toBe(false);
  });

  it('passes a rollback killed after it completed (release-lock-after-rollback), then a run that rotated at once', () => {
    // Prepare
    const rotatedAtOnce = { ...rotated, retryRollback: false };

    // Act
    const finding = resumedAfterKilledRollbackFinding(
      [refused, killedRollback, rotatedAtOnce],
      'release-lock-after-rollback',
    );

    // Assess
    expect(finding).toMatchObject({ ok: true, detail: expect.stringContaining('rotated at once') });
  });

  it('fails a rollback killed after it completed when the next run is refused again: it would undo it twice', () => {
    // Act
    const finding = resumedAfterKilledRollbackFinding(
      [refused, killedRollback, refused, rotated],
      'release-lock-after-rollback',
    );

    // Assess
    expect(finding).toMatchObject({
      ok: false,
      detail: expect.stringContaining(
        '(expected refused; SIGKILLed in release-lock-after-rollback, its rollback complete; rotated)',
      ),
    });
  });

  it('fails a rollback killed part-way when the next run rotated at once, without rolling back', () => {
    // Assess
    expect(
      resumedAfterKilledRollbackFinding(
        [refused, killedRollback, { ...rotated, retryRollback: false }],
        'rollback-restore',
      ).ok,
    ).toBe(false);
  });
});

describe('rolledBackToStartFinding', () => {
  const before = { 'lab-1': { roots: [ROOT_B], caCert: 'i1' }, 'lab-2': { roots: [ROOT_B], caCert: 'i2' } };
  const startedFrom = (lab2: string) =>
    succeeded({
      initial: [
        { cluster: 'lab-1', roots: [ROOT_B], caCert: 'i1' },
        { cluster: 'lab-2', roots: [ROOT_B], caCert: lab2 },
      ],
    });

  it('passes a last run that found every cluster as before the kill', () => {
    // Assess
    expect(rolledBackToStartFinding(startedFrom('i2'), before).ok).toBe(true);
  });

  it('names a cluster the rollbacks left on another intermediate', () => {
    // Act
    const finding = rolledBackToStartFinding(startedFrom('i2-half-restored'), before);

    // Assess
    expect(finding).toMatchObject({ ok: false, detail: expect.stringMatching(/^lab-2 started on/) });
  });

  it("fails without the last run's report", () => {
    // Assess
    expect(rolledBackToStartFinding(undefined, before).ok).toBe(false);
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

describe('killed-mid-wait', () => {
  const T0 = Date.parse('2026-12-02T07:00:00.000Z');
  const AWAIT: KillCase = {
    ...KILL_CASE,
    id: 'kill/scheduled/await-proxy-trust/mid-wait',
    killAt: {
      state: 'await-proxy-trust',
      inIteration: false,
      midWait: { secondsPath: '$.preflight.plan.proxyTrustWait.seconds' },
    },
  };
  const wait = { state: 'await-proxy-trust', seconds: 15, enteredAt: T0 };

  it('passes a kill halfway through a 15 s wait, the record after it still in the wait', () => {
    // Act
    const finding = killedMidWaitFinding(AWAIT.killAt, 'the killed run', {
      wait,
      killedAt: T0 + 7500,
      stillInWait: true,
    });

    // Assess
    expect(finding).toEqual({
      check: 'killed-mid-wait',
      ok: true,
      detail:
        'the killed run SIGKILLed 7.5 s into a 15 s wait in await-proxy-trust (7.5 s left); its record after the kill shows no later state',
    });
  });

  it('fails a wait of 0 s, a kill after the wait ended, a record that moved on, and no wait seen', () => {
    // Act
    const short = killedMidWaitFinding(AWAIT.killAt, 'the killed run', {
      wait: { ...wait, seconds: 0 },
      killedAt: T0 + 20,
      stillInWait: false,
    });
    const late = killedMidWaitFinding(AWAIT.killAt, 'the killed run', {
      wait,
      killedAt: T0 + 16_000,
      stillInWait: true,
    });
    const moved = killedMidWaitFinding(AWAIT.killAt, 'the killed run', {
      wait,
      killedAt: T0 + 7500,
      stillInWait: false,
    });
    const unseen = killedMidWaitFinding(AWAIT.killAt, 'the killed run', { killedAt: T0, stillInWait: false });

    // Assess
    expect(short).toMatchObject({ ok: false, detail: expect.stringMatching(/the wait was 0 s, under 4 s/) });
    expect(late).toMatchObject({ ok: false, detail: expect.stringMatching(/the kill fell outside it/) });
    expect(moved).toMatchObject({ ok: false, detail: expect.stringMatching(/a later state entered/) });
    expect(unseen).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/no wait of await-proxy-trust/),
    });
  });

  it('judges a mid-wait case by its kill too: a converged case whose kill saw no wait fails on that alone', () => {
    // Prepare
    const killed = convergedFacts().killed;

    // Act
    const midWait = judgeKillCase(AWAIT, {
      ...convergedFacts(),
      killed: { ...killed, midWait: { wait, killedAt: T0 + 7600, stillInWait: true } },
    });
    const noWait = judgeKillCase(AWAIT, convergedFacts());

    // Assess
    expect(midWait.passed).toBe(true);
    expect(midWait.findings.map((finding) => finding.check)).toContain('killed-mid-wait');
    expect(noWait.findings.filter((finding) => !finding.ok).map((finding) => finding.check)).toEqual([
      'killed-mid-wait',
    ]);
    expect(judgeKillCase(KILL_CASE, convergedFacts()).findings.map((finding) => finding.check)).not.toContain(
      'killed-mid-wait',
    );
  });

  it("judges the resumed rollback's kill of a rollback mid-wait case from the killed resume", () => {
    // Prepare
    const rollbackWait: KillCase = {
      ...KILL_CASE,
      id: 'kill/scheduled/retire-root:lab-2+rollback-await-proxy-trust/mid-wait',
      killedRunFlags: ['--fail-at', 'retire-root:lab-2'],
      killAt: { state: 'rollback-trust', inIteration: false },
      killResumedRollbackAt: {
        state: 'rollback-await-proxy-trust',
        inIteration: true,
        iterationState: 'rollback-await-proxy-trust-in-cluster',
        midWait: { secondsPath: '$.proxyTrustWaitSeconds' },
      },
    };
    const inCluster = { state: 'rollback-await-proxy-trust-in-cluster', seconds: 15, enteredAt: T0 };
    const facts = (midWait: KillCaseFacts['resumes'][number]['midWait']): KillCaseFacts =>
      convergedFacts({
        killed: { reachedKillPoint: true, signal: 'SIGKILL', exitCode: null, lastState: 'rollback-trust' },
        resumes: [
          { retryRollback: false, exitCode: 3, refusedForRetryRollback: true },
          {
            retryRollback: true,
            exitCode: null,
            refusedForRetryRollback: false,
            killedAtPoint: true,
            ...(midWait === undefined ? {} : { midWait }),
          },
          { retryRollback: false, exitCode: 3, refusedForRetryRollback: true },
          {
            retryRollback: true,
            exitCode: 0,
            refusedForRetryRollback: false,
            report: succeeded({ initial: [] }),
          },
        ],
      });

    // Act
    const seen = judgeKillCase(
      rollbackWait,
      facts({ wait: inCluster, killedAt: T0 + 8000, stillInWait: true }),
    );
    const unseen = judgeKillCase(rollbackWait, facts(undefined));

    // Assess
    const midWaitFinding = (verdict: typeof seen) =>
      verdict.findings.find((finding) => finding.check === 'killed-mid-wait');
    expect(midWaitFinding(seen)).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/^the --retry-rollback run SIGKILLed 8\.0 s into a 15 s wait/),
    });
    expect(midWaitFinding(unseen)?.ok).toBe(false);
  });
});

describe('killed-mid-wait with PCDS on', () => {
  const T0 = Date.parse('2026-12-02T11:00:00.000Z');
  const PCDS_AWAIT: KillCase = {
    ...KILL_CASE,
    id: 'kill/scheduled/await-proxy-trust/pcds/mid-wait',
    labFlags: ['--proxy-env', 'PROXY_CONFIG_XDS_AGENT=true'],
    killAt: {
      state: 'await-proxy-trust',
      inIteration: false,
      midWait: { secondsPath: '$.preflight.plan.proxyTrustWait.seconds' },
      waitSeconds: 20,
    },
  };

  it("passes a kill halfway through the push's 20 s wait, and fails one in a lab's 15 s renewal wait (PCDS off)", () => {
    // Act
    const pushed = killedMidWaitFinding(PCDS_AWAIT.killAt, 'the killed run', {
      wait: { state: 'await-proxy-trust', seconds: 20, enteredAt: T0 },
      killedAt: T0 + 10_000,
      stillInWait: true,
    });
    const renewal = killedMidWaitFinding(PCDS_AWAIT.killAt, 'the killed run', {
      wait: { state: 'await-proxy-trust', seconds: 15, enteredAt: T0 },
      killedAt: T0 + 7500,
      stillInWait: true,
    });

    // Assess
    expect(pushed).toMatchObject({ ok: true, detail: expect.stringMatching(/10.0 s into a 20 s wait/) });
    expect(renewal).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/the case is about a 20 s wait, this one was 15 s/),
    });
  });
});

describe('answer-held gate kills', () => {
  const DEAD = 'arn:aws:states:us-east-1:111122223333:execution:rotation:dead';
  const GATE_CASE: KillCase = {
    ...KILL_CASE,
    id: 'kill/scheduled/approve-reissue/answer-held',
    killAt: { state: 'approve-reissue', inIteration: false, answerHeld: true },
    killedRunEnv: { MESHTRUST_REHEARSAL_HOLD_GATE_ANSWER_SECONDS: '20' },
  };
  const held: AnswerHeldKill = {
    executionArn: DEAD,
    stillInGate: true,
    approvalRecords: [{ gate: 'reissue', verdict: 'approve', approvalId: 'approval-dead' }],
  };
  const line = (action: string, executionId: string, gate: string, approvalId?: string): AuditLine => ({
    executionId,
    phase: gate === 'reissue' ? 'reissue-intermediate' : 'retire-root',
    action,
    outcome: 'succeeded',
    detail: { gate, ...(approvalId === undefined ? {} : { approvalId }) },
  });
  /** The resumed rotation's two gates, each asked and granted once. */
  const answered = [
    line('approval-requested', 'run-2', 'reissue'),
    line('approval-granted', 'run-2', 'reissue', 'approval-1'),
    line('approval-requested', 'run-2', 'retire'),
    line('approval-granted', 'run-2', 'retire', 'approval-2'),
  ];

  it('passes a kill with the answer held: the record of the killed execution written, the gate still waiting', () => {
    // Act
    const finding = killedAnswerHeldFinding('approve-reissue', held);

    // Assess
    expect(finding).toMatchObject({ check: 'killed-answer-held', ok: true });
  });

  it('fails a kill before the record was written, one after the gate took the answer, unreadable records and no kill', () => {
    // Act
    const early = killedAnswerHeldFinding('approve-reissue', { ...held, approvalRecords: [] });
    const otherGate = killedAnswerHeldFinding('approve-retire', held);
    const late = killedAnswerHeldFinding('approve-reissue', { ...held, stillInGate: false });
    const unreadable = killedAnswerHeldFinding('approve-reissue', {
      ...held,
      approvalRecords: 'unreadable: x',
    });
    const none = killedAnswerHeldFinding('approve-reissue', undefined);

    // Assess
    expect(early).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/before answer-approval wrote it/),
    });
    expect(otherGate).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/no approval record of gate retire/),
    });
    expect(late).toMatchObject({ ok: false, detail: expect.stringMatching(/had taken the answer/) });
    expect(unreadable).toMatchObject({ ok: false, detail: expect.stringMatching(/unreadable/) });
    expect(none.ok).toBe(false);
  });

  it('passes resumed runs that granted each gate they asked once, with approvals of their own', () => {
    // Act / Assess
    expect(approvalAnsweredOnceFinding(answered, held)).toMatchObject({
      check: 'approval-answered-once',
      ok: true,
    });
  });

  it("fails an approval lost, one granted twice, one granted unasked, one reused, or the killed run's record counted", () => {
    // Act
    const lost = approvalAnsweredOnceFinding(answered.slice(0, 3), held);
    const twice = approvalAnsweredOnceFinding(
      [...answered, line('approval-granted', 'run-2', 'retire', 'approval-3')],
      held,
    );
    const unasked = approvalAnsweredOnceFinding(
      [...answered, line('approval-granted', 'run-3', 'reissue', 'a-4')],
      held,
    );
    const reused = approvalAnsweredOnceFinding(
      [...answered.slice(0, 3), line('approval-granted', 'run-2', 'retire', 'approval-1')],
      held,
    );
    const deadCounted = approvalAnsweredOnceFinding(
      [...answered.slice(0, 3), line('approval-granted', 'run-2', 'retire', 'approval-dead')],
      held,
    );
    const nothingAsked = approvalAnsweredOnceFinding([], held);

    // Assess
    expect(lost).toMatchObject({ ok: false, detail: expect.stringMatching(/run-2 retire: granted 0x/) });
    expect(twice).toMatchObject({ ok: false, detail: expect.stringMatching(/run-2 retire: granted 2x/) });
    expect(unasked).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/run-3 reissue: granted, never asked/),
    });
    expect(reused).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/an approval id granted twice/),
    });
    expect(deadCounted).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/granted on the killed run's approval/),
    });
    expect(nothingAsked).toMatchObject({ ok: false, detail: 'no gate was asked after the kill' });
  });

  it('judges an answer-held case by both: a converged case whose kill saw no held answer fails on that alone', () => {
    // Act
    const verdict = judgeKillCase(GATE_CASE, {
      ...convergedFacts({ audit: [...convergedFacts().audit, ...answered] }),
      killed: {
        reachedKillPoint: true,
        signal: 'SIGKILL',
        exitCode: 137,
        lastState: 'approve-reissue',
        answerHeld: held,
      },
    });
    const unseen = judgeKillCase(
      GATE_CASE,
      convergedFacts({ audit: [...convergedFacts().audit, ...answered] }),
    );

    // Assess
    expect(verdict.passed).toBe(true);
    expect(verdict.findings.map((finding) => finding.check)).toEqual(
      expect.arrayContaining(['killed-answer-held', 'approval-answered-once']),
    );
    expect(unseen.findings.filter((finding) => !finding.ok).map((finding) => finding.check)).toEqual([
      'killed-answer-held',
    ]);
    expect(judgeKillCase(KILL_CASE, convergedFacts()).findings.map((finding) => finding.check)).not.toContain(
      'approval-answered-once',
    );
  });
});
