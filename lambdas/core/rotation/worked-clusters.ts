import type { RotationPlan } from '../plan/rotation-plan.js';

/**
 * The clusters the state machine's Maps work on (preflight's `clusters`): the whole fleet, or in
 * intermediate mode only the cluster being rekeyed and the remotes its istiod serves. preflight reviews
 * the others too, since the new intermediate must chain to what they trust.
 */
export function workedClusters(
  plan: Pick<RotationPlan, 'cluster' | 'remotes'>,
  fleet: readonly { readonly name: string }[],
): { readonly name: string }[] {
  const rekeyed = plan.cluster;
  if (rekeyed === undefined) return [...fleet];
  return [
    { name: rekeyed },
    ...(plan.remotes ?? []).filter((remote) => remote.primary === rekeyed).map(({ name }) => ({ name })),
  ];
}
