// chaos/results.json builds up over runs of parts of the matrix: a run replaces its own cases, keeps the
// others' earlier results (each with its date), and never mixes results taken on another fleet size.
import type { ChaosCase } from '../../../chaos/chaos-matrix.js';
import {
  type CaseResult,
  caseResult,
  mergeResults,
  parseResults,
  renderSummary,
  serializeResults,
} from '../../../chaos/chaos-results.js';
import { TEST_MACHINE } from '../../support/test-machine.js';

const MACHINE = TEST_MACHINE;
const SETTINGS = { engine: 'model', clusters: 2, workloads: 2 } as const;

function chaosCase(id: string): ChaosCase {
  return { id, mode: 'scheduled', kind: 'fail-at', flags: [], expected: { result: 'ROLLED_BACK' } };
}

function result(id: string, measuredAt: string, passed = true): CaseResult {
  return {
    ...chaosCase(id),
    passed,
    failed: passed ? [] : ['end-as-expected: expected ROLLED_BACK, got SUCCEEDED'],
    outcome: { exitCode: passed ? 0 : 1, result: 'ROLLED_BACK' },
    measuredAt,
    durationMs: 40_000,
  };
}

const MATRIX = ['scheduled/fail-at/a', 'scheduled/fail-at/b', 'scheduled/fail-at/c'].map(chaosCase);

describe('mergeResults', () => {
  it("replaces this run's cases, keeps the others', and orders them as the matrix", () => {
    // Prepare
    const previous = mergeResults({
      previous: undefined,
      run: [result('scheduled/fail-at/c', 'day 1'), result('scheduled/fail-at/a', 'day 1')],
      matrix: MATRIX,
      settings: SETTINGS,
      machine: MACHINE,
      generatedAt: 'day 1',
    });

    // Act
    const merged = mergeResults({
      previous: parseResults(serializeResults(previous)),
      run: [result('scheduled/fail-at/a', 'day 2', false)],
      matrix: MATRIX,
      settings: SETTINGS,
      machine: MACHINE,
      generatedAt: 'day 2',
    });

    // Assess
    expect(merged.cases.map((entry) => [entry.id, entry.measuredAt, entry.passed])).toEqual([
      ['scheduled/fail-at/a', 'day 2', false],
      ['scheduled/fail-at/c', 'day 1', true],
    ]);
    expect(merged.matrixCases).toBe(3);
  });

  it('drops earlier results taken on another fleet size, and cases the matrix no longer has', () => {
    // Prepare
    const previous = mergeResults({
      previous: undefined,
      run: [result('scheduled/fail-at/b', 'day 1'), result('scheduled/fail-at/gone', 'day 1')],
      matrix: [...MATRIX, chaosCase('scheduled/fail-at/gone')],
      settings: SETTINGS,
      machine: MACHINE,
      generatedAt: 'day 1',
    });

    // Act
    const sameFleet = mergeResults({
      previous,
      run: [],
      matrix: MATRIX,
      settings: SETTINGS,
      machine: MACHINE,
      generatedAt: 'day 2',
    });
    const otherFleet = mergeResults({
      previous,
      run: [],
      matrix: MATRIX,
      settings: { ...SETTINGS, clusters: 3 },
      machine: MACHINE,
      generatedAt: 'day 2',
    });

    // Assess
    expect(sameFleet.cases.map((entry) => entry.id)).toEqual(['scheduled/fail-at/b']);
    expect(otherFleet.cases).toEqual([]);
  });

  it('reads no earlier results from a file of another schema or not JSON', () => {
    // Assess
    expect(parseResults('{"schema": 0, "cases": []}')).toBeUndefined();
    expect(parseResults('not json')).toBeUndefined();
    expect(parseResults(undefined)).toBeUndefined();
  });
});

describe('caseResult of a mid-wait kill case', () => {
  const KILLED = 'the killed run SIGKILLed 7.5 s into a 15 s wait in await-proxy-trust (7.5 s left)';
  const run = (ok: boolean) => ({
    verdict: {
      passed: ok,
      findings: [
        { check: 'killed-at-point', ok: true, detail: 'SIGKILLed in await-proxy-trust' },
        { check: 'killed-mid-wait', ok, detail: KILLED },
      ],
    },
    facts: { exitCode: 0, timedOut: false, processesLeft: [], filesWithKeys: [] },
    durationMs: 90_000,
  });
  const midWaitCase: ChaosCase = {
    id: 'kill/scheduled/await-proxy-trust/mid-wait',
    mode: 'scheduled',
    kind: 'kill',
    flags: ['--mode', 'scheduled'],
    expected: { result: 'SUCCEEDED' },
  };

  it('keeps where the kill landed in the wait when the case passed, and prints it', () => {
    // Act
    const result = caseResult(midWaitCase, run(true), '2026-12-02T07:00:00.000Z', undefined);

    // Assess
    expect(result.killedMidWait).toEqual([KILLED]);
    expect(result.failed).toEqual([]);
    expect(renderSummary([result], 1)).toContain(`kill/scheduled/await-proxy-trust/mid-wait: ${KILLED}`);
  });

  it('has no such field for a case without a mid-wait kill', () => {
    // Act
    const result = caseResult(
      chaosCase('scheduled/fail-at/a'),
      { ...run(true), verdict: { passed: true, findings: [] } },
      '2026-12-02T07:00:00.000Z',
      undefined,
    );

    // Assess
    expect(result).not.toHaveProperty('killedMidWait');
  });
});
