// The CI subset of the chaos matrix: a case of every kind, taken from the matrix by exact id, and refused
// as a whole when the matrix lost one of them (a renamed state must not shrink CI's coverage unseen).
import { CASE_KINDS, type ChaosCase } from '../../../chaos/chaos-matrix.js';
import { CI_CASE_IDS, ciCases } from '../../../chaos/ci-cases.js';

/** A case id's kind: `mode/kind/what`, or `kill/mode/state` for a kill case. */
function kindOf(id: string): string {
  const [first, second] = id.split('/');
  return first === 'kill' ? 'kill' : (second ?? '');
}

function chaosCase(id: string): ChaosCase {
  return {
    id,
    mode: 'intermediate',
    kind: kindOf(id) as ChaosCase['kind'],
    flags: [],
    expected: { result: 'SUCCEEDED' },
  };
}

describe('the CI subset', () => {
  it('holds a case of every kind the matrix has, model engine only', () => {
    // Act
    const kinds = new Set(CI_CASE_IDS.map(kindOf));

    // Assess
    expect([...kinds].sort()).toEqual([...CASE_KINDS].sort());
    expect(CI_CASE_IDS.filter((id) => id.startsWith('istio/'))).toEqual([]);
  });

  it('takes exactly its ids from the matrix, in matrix order, not ids that only contain one', () => {
    // Prepare: every CI id, reversed, and around them ids that contain one of them.
    const matrix = [
      chaosCase('intermediate/baseline-extra'),
      ...[...CI_CASE_IDS].reverse().map(chaosCase),
      chaosCase('istio/intermediate/baseline'),
    ];

    // Act
    const selected = ciCases(matrix).map((selectedCase) => selectedCase.id);

    // Assess
    expect(selected).toEqual([...CI_CASE_IDS].reverse());
  });

  it('is refused, naming the ids, when the matrix lacks one of them', () => {
    // Prepare
    const matrix = CI_CASE_IDS.filter((id) => id !== 'intermediate/fault/aws-lost').map(chaosCase);

    // Act
    const select = () => ciCases(matrix);

    // Assess
    expect(select).toThrow(/does not have: intermediate\/fault\/aws-lost \(chaos\/ci-cases\.ts\)/);
  });
});
