// A chaos case's verdict, from its report.json and what the runner saw of the process. Each check is
// shown passing and failing side by side, on reports shaped as the rehearsal writes them.
import { type JudgedReport, judgeCase, type RunFacts } from '../../../chaos/judge-case.js';

const CLEAN_RUN: RunFacts = { exitCode: 0, timedOut: false, processesLeft: [], filesWithKeys: [] };

function rolledBackReport(overrides: Partial<JudgedReport> = {}): JudgedReport {
  return {
    mode: 'scheduled',
    clusters: ['lab-1', 'lab-2'],
    result: 'ROLLED_BACK',
    ok: true,
    error: { name: 'RotationRolledBack', cause: 'rolled back' },
    totals: { handshakes: { attempted: 120, failed: 0 }, rounds: 10 },
    checks: [
      { name: 'result-as-expected', ok: true, detail: 'expected ROLLED_BACK, got ROLLED_BACK' },
      { name: 'cacerts-byte-identical-to-start', ok: true, detail: 'every cluster' },
    ],
    endState: {
      clusters: [
        { cluster: 'lab-1', asAtStart: true, roots: ['A'], intermediate: 'original' },
        { cluster: 'lab-2', asAtStart: true, roots: ['A'], intermediate: 'original' },
      ],
      pendingRoot: false,
    },
    ...overrides,
  };
}

function succeededReport(overrides: Partial<JudgedReport> = {}): JudgedReport {
  return rolledBackReport({
    result: 'SUCCEEDED',
    endState: {
      clusters: [
        { cluster: 'lab-1', asAtStart: false, roots: ['B'], intermediate: 'new' },
        { cluster: 'lab-2', asAtStart: false, roots: ['B'], intermediate: 'new' },
      ],
      pendingRoot: false,
    },
    ...overrides,
  });
}

const ROLLED_BACK = { mode: 'scheduled', result: 'ROLLED_BACK', error: 'RotationRolledBack' } as const;
const SUCCEEDED = { mode: 'scheduled', result: 'SUCCEEDED' } as const;

function failed(verdict: ReturnType<typeof judgeCase>): string[] {
  return verdict.findings.filter((finding) => !finding.ok).map((finding) => finding.check);
}

describe('judgeCase', () => {
  it('passes a rollback that left every cluster as at start with no failed handshake', () => {
    // Act
    const verdict = judgeCase(ROLLED_BACK, rolledBackReport(), CLEAN_RUN);

    // Assess
    expect(failed(verdict)).toEqual([]);
    expect(verdict.passed).toBe(true);
  });

  it('fails a run that ended otherwise than expected, naming both ends', () => {
    // Act
    const verdict = judgeCase(ROLLED_BACK, succeededReport(), CLEAN_RUN);

    // Assess
    expect(verdict.passed).toBe(false);
    expect(verdict.findings.find((finding) => finding.check === 'end-as-expected')?.detail).toBe(
      'expected ROLLED_BACK, got SUCCEEDED',
    );
  });

  it('tells a failed rollback from a stopped run by the error name', () => {
    // Prepare
    const stopped = rolledBackReport({
      result: 'FAILED',
      error: { name: 'RehearsalInjectedFailure', cause: 'preflight fails' },
    });

    // Act
    const verdict = judgeCase(
      { mode: 'scheduled', result: 'FAILED', error: 'RollbackFailed' },
      stopped,
      CLEAN_RUN,
    );

    // Assess
    expect(failed(verdict)).toEqual(['end-as-expected']);
  });

  it('fails on a single failed handshake, and on a run that made none at all', () => {
    // Act
    const oneFailed = judgeCase(
      SUCCEEDED,
      succeededReport({ totals: { handshakes: { attempted: 120, failed: 1 }, rounds: 10 } }),
      CLEAN_RUN,
    );
    const none = judgeCase(
      SUCCEEDED,
      succeededReport({ totals: { handshakes: { attempted: 0, failed: 0 }, rounds: 0 } }),
      CLEAN_RUN,
    );

    // Assess
    expect(failed(oneFailed)).toEqual(['no-failed-handshake']);
    expect(failed(none)).toEqual(['no-failed-handshake']);
  });

  it('says what the failed handshakes were and whether the lab fell behind meanwhile', () => {
    // Prepare: 3 failures, 2 of one kind; a lab that renewed 2 certificates after they expired
    const failure = (phase: string, error: string) => ({
      at: '2026-12-03T15:00:00.000Z',
      phase,
      from: 'lab-1/a',
      to: 'lab-2/b',
      side: 'client',
      error,
    });
    const handshakeFailures = [
      failure('rollback-trust', 'CERT_HAS_EXPIRED: certificate has expired'),
      failure('rollback-trust', 'CERT_HAS_EXPIRED: certificate has expired'),
      failure('after-end', 'ECONNRESET'),
    ];
    const labLoad = (afterExpiry: number) =>
      ({
        eventLoopDelayMs: { p50: 1, p99: 900, max: 8200 },
        renewals: { renewals: 40, totalLateMs: 0, maxLateMs: 0, afterExpiry },
      }) as unknown as JudgedReport['labLoad'];
    const report = (afterExpiry: number) =>
      succeededReport({
        totals: { handshakes: { attempted: 120, failed: 3 }, rounds: 10 },
        handshakeFailures,
        labLoad: labLoad(afterExpiry),
      });
    const detail = (verdict: ReturnType<typeof judgeCase>) =>
      verdict.findings.find((finding) => finding.check === 'no-failed-handshake')?.detail;

    // Act
    const behind = judgeCase(SUCCEEDED, report(2), CLEAN_RUN);
    const keptTime = judgeCase(SUCCEEDED, report(0), CLEAN_RUN);

    // Assess
    expect(detail(behind)).toBe(
      '3 failed of 120; 2 CERT_HAS_EXPIRED in rollback-trust; 1 ECONNRESET in after-end; ' +
        'the lab fell behind: 2 renewal(s) after expiry, event loop delay max 8200 ms',
    );
    expect(detail(keptTime)).toMatch(
      /; the lab kept time \(no renewal after expiry, event loop delay max 8200 ms\)$/,
    );
    expect(failed(behind)).toEqual(['no-failed-handshake']);
  });

  it("fails when one of the rehearsal's own checks failed, or its exit code says the key scan did", () => {
    // Act
    const notIdentical = judgeCase(
      ROLLED_BACK,
      rolledBackReport({
        ok: false,
        checks: [{ name: 'cacerts-byte-identical-to-start', ok: false, detail: 'changed: lab-2' }],
      }),
      { ...CLEAN_RUN, exitCode: 1 },
    );
    const keyScan = judgeCase(ROLLED_BACK, rolledBackReport(), { ...CLEAN_RUN, exitCode: 1 });

    // Assess
    expect(notIdentical.findings.find((finding) => finding.check === 'rehearsal-checks-pass')?.detail).toBe(
      'cacerts-byte-identical-to-start: changed: lab-2',
    );
    expect(failed(keyScan)).toEqual(['rehearsal-checks-pass']);
  });

  it('fails a rollback that says ROLLED_BACK but left a cluster changed or a root pending', () => {
    // Prepare
    const changed = rolledBackReport({
      endState: {
        clusters: [
          { cluster: 'lab-1', asAtStart: true, roots: ['A'], intermediate: 'original' },
          { cluster: 'lab-2', asAtStart: false, roots: ['A', 'B'], intermediate: 'original' },
        ],
        pendingRoot: false,
      },
    });
    const pending = rolledBackReport({
      endState: {
        ...(rolledBackReport().endState as NonNullable<JudgedReport['endState']>),
        pendingRoot: true,
      },
    });

    // Act / Assess
    expect(failed(judgeCase(ROLLED_BACK, changed, CLEAN_RUN))).toEqual(['end-state-consistent']);
    expect(failed(judgeCase(ROLLED_BACK, pending, CLEAN_RUN))).toEqual(['end-state-consistent']);
  });

  it('accepts a stopped run whole on one side, never half-way', () => {
    // Prepare
    const expected = { mode: 'scheduled', result: 'FAILED', error: 'RehearsalInjectedFailure' } as const;
    const error = { name: 'RehearsalInjectedFailure', cause: 'x' };
    const untouched = rolledBackReport({ result: 'FAILED', error });
    const pastPromotion = succeededReport({ result: 'FAILED', error });
    const halfWay = rolledBackReport({
      result: 'FAILED',
      error,
      endState: {
        clusters: [
          { cluster: 'lab-1', asAtStart: false, roots: ['A', 'B'], intermediate: 'original' },
          { cluster: 'lab-2', asAtStart: true, roots: ['A'], intermediate: 'original' },
        ],
        pendingRoot: true,
      },
    });

    // Act / Assess
    expect(failed(judgeCase(expected, untouched, CLEAN_RUN))).toEqual([]);
    expect(failed(judgeCase(expected, pastPromotion, CLEAN_RUN))).toEqual([]);
    expect(failed(judgeCase(expected, halfWay, CLEAN_RUN))).toEqual(['end-state-consistent']);
  });

  it('checks intermediate mode: roots unchanged, only the rekeyed cluster on a new intermediate', () => {
    // Prepare
    const expected = { mode: 'intermediate', result: 'SUCCEEDED' } as const;
    const rekeyed = (lab1: 'original' | 'new') =>
      succeededReport({
        mode: 'intermediate',
        cluster: 'lab-2',
        endState: {
          clusters: [
            { cluster: 'lab-1', asAtStart: lab1 === 'original', roots: ['A'], intermediate: lab1 },
            { cluster: 'lab-2', asAtStart: false, roots: ['A'], intermediate: 'new' },
          ],
          pendingRoot: false,
        },
      });

    // Act / Assess
    expect(failed(judgeCase(expected, rekeyed('original'), CLEAN_RUN))).toEqual([]);
    expect(failed(judgeCase(expected, rekeyed('new'), CLEAN_RUN))).toEqual(['end-state-consistent']);
  });

  it('fails a fault that never fired: it proved nothing', () => {
    // Act
    const verdict = judgeCase(
      SUCCEEDED,
      succeededReport({ faults: [{ spec: 'kube:lab-2:5xx:3@distribute-bundle', fired: 0 } as never] }),
      CLEAN_RUN,
    );

    // Assess
    expect(failed(verdict)).toEqual(['every-fault-fired']);
  });

  it('fails a case that left a process behind, leaked a key or overran, even with a clean report', () => {
    // Act
    const verdict = judgeCase(SUCCEEDED, succeededReport(), {
      exitCode: 143,
      timedOut: true,
      processesLeft: [{ pid: 4242, command: 'python moto_server -H 127.0.0.1 -p 40111' }],
      filesWithKeys: ['logs/stage-root.log'],
    });

    // Assess
    expect(failed(verdict)).toEqual([
      'ended-in-time',
      'no-process-left',
      'no-private-key-in-report',
      'rehearsal-checks-pass',
    ]);
    expect(verdict.findings.find((finding) => finding.check === 'no-process-left')?.detail).toContain(
      '4242 python moto_server',
    );
  });

  it('fails a case with no report, saying how the process ended', () => {
    // Act
    const verdict = judgeCase(SUCCEEDED, undefined, { ...CLEAN_RUN, exitCode: 4 });

    // Assess
    expect(verdict.passed).toBe(false);
    expect(verdict.findings.at(-1)).toEqual({
      check: 'report-written',
      ok: false,
      detail: 'no report.json (exit 4)',
    });
  });
});
