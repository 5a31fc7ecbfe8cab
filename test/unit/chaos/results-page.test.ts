// docs/reliability-matrix.md says, from chaos/results.json, how much of the matrix has run and how each
// case ended: the counts, the failures with their findings, the cases never run, and every row.
import type { ChaosCase } from '../../../chaos/chaos-matrix.js';
import type { CaseResult, ChaosResults } from '../../../chaos/chaos-results.js';
import { renderResultsPage } from '../../../chaos/results-page.js';
import { TEST_MACHINE } from '../../support/test-machine.js';

const MACHINE = TEST_MACHINE;

function chaosCase(id: string, kind: ChaosCase['kind']): ChaosCase {
  return { id, mode: 'scheduled', kind, flags: [], expected: { result: 'ROLLED_BACK' } };
}

function result(
  chaos: ChaosCase,
  outcome: { passed: boolean; attempted: number; failed: number },
): CaseResult {
  return {
    ...chaos,
    passed: outcome.passed,
    failed: outcome.passed ? [] : ['no-failed-handshake: 7 of 400 failed'],
    outcome: {
      exitCode: outcome.passed ? 0 : 1,
      result: 'ROLLED_BACK',
      handshakes: { attempted: outcome.attempted, failed: outcome.failed },
      byteIdentical: true,
    },
    measuredAt: '2026-12-02T07:00:00.000Z',
    durationMs: 50_000,
    revision: { commit: 'abcdef0123456789', uncommittedChanges: false },
  };
}

const A = chaosCase('scheduled/fail-at/a', 'fail-at');
const B = chaosCase('scheduled/fail-at/b', 'fail-at');
const K = chaosCase('kill/scheduled/c', 'kill');
const GONE = chaosCase('scheduled/fail-at/gone', 'fail-at');

function resultsOf(cases: readonly CaseResult[]): ChaosResults {
  return {
    schema: 1,
    generatedAt: '2026-12-02T08:00:00.000Z',
    settings: { engine: 'model', clusters: 2, workloads: 2 },
    machine: MACHINE,
    matrixCases: 3,
    cases,
  };
}

describe('renderResultsPage', () => {
  it('counts the cases run, passed and failed against the matrix, and their handshakes', () => {
    // Act
    const page = renderResultsPage(
      resultsOf([
        result(A, { passed: true, attempted: 1000, failed: 0 }),
        result(K, { passed: false, attempted: 400, failed: 7 }),
      ]),
      [A, B, K],
    );

    // Assess
    expect(page).toContain('**2 of 3 cases have a result; 1 passed, 1 failed.**');
    expect(page).toContain('Handshakes in those runs: 1,400, 7 failed.');
    expect(page).toContain('| fail-at | 2 | 1 | 1 | 0 | 1 |');
    expect(page).toContain('| kill | 1 | 1 | 0 | 1 | 0 |');
  });

  it('names each failed case with its findings, and each case never run', () => {
    // Act
    const page = renderResultsPage(resultsOf([result(K, { passed: false, attempted: 400, failed: 7 })]), [
      A,
      K,
    ]);

    // Assess
    expect(page).toMatch(
      /## Failed\n\n- `kill\/scheduled\/c` \(2026-12-02 07:00 UTC\):\n {2}- no-failed-handshake: 7 of 400 failed/,
    );
    expect(page).toMatch(
      /## Never run\n\n1 case\(s\) of the matrix have no result yet:\n\n- `scheduled\/fail-at\/a`\n/,
    );
  });

  it("leaves out a result of a case the matrix no longer has, and a row carries the run's date and commit", () => {
    // Act
    const page = renderResultsPage(
      resultsOf([
        result(A, { passed: true, attempted: 1000, failed: 0 }),
        result(GONE, { passed: true, attempted: 10, failed: 0 }),
      ]),
      [A],
    );

    // Assess
    expect(page).not.toContain('gone');
    expect(page).not.toContain('## Never run');
    expect(page).not.toContain('## Failed');
    expect(page).toContain(
      '| `scheduled/fail-at/a` | ROLLED_BACK | ROLLED_BACK | 1,000 | 0 | yes | 2026-12-02 07:00 | abcdef0 | pass |',
    );
  });

  it('counts the istio engine cases apart from the same kind on the model engine', () => {
    // Prepare
    const istioA = chaosCase('istio/scheduled/fail-at/a', 'fail-at');

    // Act
    const page = renderResultsPage(
      resultsOf([
        result(A, { passed: true, attempted: 1000, failed: 0 }),
        result(istioA, { passed: true, attempted: 300, failed: 0 }),
      ]),
      [A, B, istioA],
    );

    // Assess
    expect(page).toContain('| fail-at | 2 | 1 | 1 | 0 | 1 |');
    expect(page).toContain('| fail-at (istio engine) | 1 | 1 | 1 | 0 | 0 |');
    expect(page).toContain('(`istio/` cases: the istio engine)');
  });
});
