// A rotation preflight refused for Step Functions' execution history limit, and the sizes that refusal
// answers for. The worst case preflight counts (lambdas/core/plan/history-estimate.ts) only grows with
// the clusters and with the workloads of a cluster, so a size with at least the clusters and workloads
// of a refused one, in the same mode on the same Maps, is refused too: the bench says so from the
// refusal it measured rather than rehearsing a fleet (100 x 100: ~10 minutes of lab start) only to
// hear preflight refuse it again.
import { mapsOf, type RotationKey, type RotationRunFigures, rotationName } from './rotation-figures.js';

/** The start of the error a rehearsal records when preflight refuses a plan for the history limit. */
const HISTORY_REFUSAL = /^PreconditionFailed: .*execution history limit/s;

function refusedForHistoryLimit(run: RotationRunFigures): boolean {
  return run.result !== 'SUCCEEDED' && HISTORY_REFUSAL.test(run.error ?? '');
}

/** The measured refusal that answers for `key`: its own, or a smaller size's of its mode and Maps. */
export function historyRefusalFor(
  runs: readonly RotationRunFigures[],
  key: RotationKey,
): RotationRunFigures | undefined {
  return runs.find(
    (run) =>
      refusedForHistoryLimit(run) &&
      run.mode === key.mode &&
      mapsOf(run) === mapsOf(key) &&
      run.clusters <= key.clusters &&
      run.workloadsPerCluster <= key.workloadsPerCluster,
  );
}

/** Why `key` is not rehearsed, after `refusal`: what it says, and where the size does run. */
export function historyRefusalReason(refusal: RotationRunFigures): string {
  const remedy =
    mapsOf(refusal) === 'inline'
      ? '; the stack synthesized with Distributed Maps runs it (`--rotation-maps distributed`)'
      : '';
  return (
    `refused: preflight refused ${rotationName(refusal)} for Step Functions' execution history limit ` +
    `(below), and a fleet at least as large records at least as many events${remedy}`
  );
}
