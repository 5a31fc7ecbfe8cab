// The fixed subset of the chaos matrix CI runs (`npm run chaos -- --ci`, and npm test through
// test/integration/chaos/run-chaos.test.ts): a case of each kind, each a whole rehearsal on the model
// engine, chosen among the quickest of chaos/results.json (intermediate mode rekeys one cluster) while
// still reaching what the kind is about: a rollback byte-identical, a retry absorbed, a fault of the
// Kubernetes API and one of AWS, a failure inside the rollback, a kill in the resumed rollback. About 5
// minutes on 2 cores; the whole matrix is `npm run chaos`.
import type { ChaosCase } from './chaos-matrix.js';

export const CI_CASE_IDS: readonly string[] = [
  'intermediate/baseline',
  'intermediate/fail-at/verify-workloads',
  'intermediate/transient/reissue-intermediate:once',
  'intermediate/fault/kube-conflict',
  'intermediate/fault/aws-lost',
  'intermediate/rollback/verify-workloads+rollback-trust',
  'kill/intermediate/verify-workloads+release-lock-after-rollback',
];

/** The CI subset out of the matrix, in matrix order; an id the matrix no longer has is an error, not a gap. */
export function ciCases(matrix: readonly ChaosCase[]): ChaosCase[] {
  const ids = new Set(matrix.map((chaosCase) => chaosCase.id));
  const missing = CI_CASE_IDS.filter((id) => !ids.has(id));
  if (missing.length > 0) {
    throw new Error(
      `the CI subset names case(s) the matrix does not have: ${missing.join(', ')} (chaos/ci-cases.ts)`,
    );
  }
  return matrix.filter((chaosCase) => CI_CASE_IDS.includes(chaosCase.id));
}
