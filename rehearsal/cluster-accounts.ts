// Clusters of another account in a rehearsal (issue 13, `rehearse --other-account-clusters N`): the model
// lab places its last N clusters in its second account (lab/start-lab.ts), and the functions get the
// cluster list and role map a stack deployed with those clusters gives them (lib/rotation-functions.ts):
// CLUSTERS names each of them by its ARN, CLUSTER_ACCOUNT_ROLES names, per function, the role of its
// kind in that account by the stack's convention, as the lab's CLUSTERS stand in for a stack's named
// clusters. The report says which account each cluster is in and which roles were assumed there.
// A cluster of the lab's second region (`--other-region-clusters`) is named by its ARN the same way.
// With `rehearse --discover-clusters`, CLUSTERS holds instead the entries of a stack that discovers its
// clusters by tag in each account (`*`, `arn:aws:eks:<region>:<account>:cluster/*`): the functions then
// find the clusters of each account themselves, as that account's role.
import { LAB_ACCOUNT_ID, type LabIdentities } from '../lab/eks/lab-identities.js';
import {
  CLUSTER_ACCOUNT_ROLES_ENV,
  type ClusterAccountRoleKind,
  clusterAccountRoleName,
  DISCOVER_BY_TAG,
  formatClusterAccountRoles,
  MESH_ACCOUNT_ID_ENV,
} from '../lambdas/contract/cluster-reference.js';
import { CLUSTER_ROLE_ARN_ENV, CLUSTERS_ENV } from '../lambdas/contract/function-environment.js';
import type { RehearsalFleet } from './fleet/rehearsal-fleet.js';

/** The clusters of one account in a run, and the roles of that account the functions assumed. */
export interface ClusterAccountReport {
  readonly account: string;
  /** True for the stack's own account (the lab's, where moto holds the CA store). */
  readonly stack: boolean;
  readonly clusters: readonly string[];
  /**
   * Another account: each role of it assumed through the lab's STS during the run, with the session
   * names it was assumed under (`meshtrust-<phase>`). Absent for the stack's account.
   */
  readonly assumedRoles?: readonly { readonly role: string; readonly sessions: readonly string[] }[];
}

type Fleet = Pick<RehearsalFleet, 'clusters' | 'meshId' | 'identities' | 'region'>;

/** A cluster's account: the one of its ARN, else the lab's own. */
function accountOf(cluster: Fleet['clusters'][number]): string {
  return cluster.arn?.split(':')[4] ?? LAB_ACCOUNT_ID;
}

/** A cluster's region: the one of its ARN, else the lab's own. */
function regionOf(cluster: Fleet['clusters'][number], lab: Pick<Fleet, 'region'>): string {
  return cluster.arn?.split(':')[3] ?? lab.region;
}

/** Whether a cluster is in the stack's account and region, where a stack names it by its name alone. */
function atHome(cluster: Fleet['clusters'][number], lab: Pick<Fleet, 'region'>): boolean {
  return accountOf(cluster) === LAB_ACCOUNT_ID && regionOf(cluster, lab) === lab.region;
}

/**
 * The cluster entries of a stack that discovers the fleet by tag: `*` for the stack's account and region,
 * and `arn:aws:eks:<region>:<account>:cluster/*` for each other account and region of the fleet.
 */
export function discoveryEntries(lab: Pick<Fleet, 'clusters' | 'region'>): string[] {
  const elsewhere = lab.clusters
    .filter((cluster) => !atHome(cluster, lab))
    .map(
      (cluster) => `arn:aws:eks:${regionOf(cluster, lab)}:${accountOf(cluster)}:cluster/${DISCOVER_BY_TAG}`,
    );
  return [DISCOVER_BY_TAG, ...[...new Set(elsewhere)].sort()];
}

/**
 * The environment a stack listing the fleet's clusters (by ARN for those of another account or region)
 * gives one function, or with `discover` a stack listing a `*` entry per account and region of the fleet
 * (discoveryEntries); undefined when every cluster is in the stack's account and region and nothing is
 * discovered (the template's own CLUSTERS then stands). The function's kind is the one of the stack's cluster role it names in
 * CLUSTER_ROLE_ARN (rehearsal/function-identities.ts maps those onto the lab's rotator and verifier), or
 * check-expiry's.
 */
export function otherAccountEnvironment(
  lab: Fleet,
  fn: { readonly handlerName: string; readonly environment: Readonly<Record<string, string>> },
  options: { readonly discover?: boolean } = {},
): Record<string, string> | undefined {
  if (lab.clusters.every((cluster) => atHome(cluster, lab))) {
    return options.discover === true ? { [CLUSTERS_ENV]: discoveryEntries(lab).join(',') } : undefined;
  }
  const clusterRole = fn.environment[CLUSTER_ROLE_ARN_ENV];
  const kind: ClusterAccountRoleKind | undefined =
    clusterRole === lab.identities.rotator.principalArn
      ? 'rotator'
      : clusterRole === lab.identities.verifier.principalArn
        ? 'verifier'
        : fn.handlerName === 'check-expiry'
          ? 'expiry-check'
          : undefined;
  const otherAccounts = [...new Set(lab.clusters.map(accountOf))].filter((a) => a !== LAB_ACCOUNT_ID).sort();
  const roles = new Map(
    kind === undefined
      ? []
      : otherAccounts.map((account) => [
          account,
          `arn:aws:iam::${account}:role/${clusterAccountRoleName(lab.meshId, kind)}`,
        ]),
  );
  return {
    [CLUSTERS_ENV]:
      options.discover === true
        ? discoveryEntries(lab).join(',')
        : lab.clusters
            .map((cluster) => (atHome(cluster, lab) ? cluster.name : (cluster.arn as string)))
            .join(','),
    [CLUSTER_ACCOUNT_ROLES_ENV]: formatClusterAccountRoles(roles),
    [MESH_ACCOUNT_ID_ENV]: fn.environment[MESH_ACCOUNT_ID_ENV] || LAB_ACCOUNT_ID,
  };
}

/** Each account of the fleet with its clusters, the stack's first; for another, the roles assumed there. */
export function clusterAccountReports(lab: Fleet): ClusterAccountReport[] {
  const accounts = [...new Set([LAB_ACCOUNT_ID, ...lab.clusters.map(accountOf)])];
  return accounts.flatMap((account): ClusterAccountReport[] => {
    const clusters = lab.clusters.filter((cluster) => accountOf(cluster) === account).map((c) => c.name);
    if (clusters.length === 0) return [];
    if (account === LAB_ACCOUNT_ID) return [{ account, stack: true, clusters }];
    return [{ account, stack: false, clusters, assumedRoles: assumedRoles(lab.identities, account) }];
  });
}

/** The sessions the lab's STS issued for roles of `account` (lab-sts.ts names them `session of <role>`). */
function assumedRoles(identities: LabIdentities, account: string) {
  const byRole = new Map<string, Set<string>>();
  for (const identity of identities.all) {
    if (!identity.name.startsWith('session of ') || !identity.principalArn.includes(`::${account}:role/`))
      continue;
    const sessions = byRole.get(identity.principalArn) ?? new Set<string>();
    sessions.add(identity.arn.split('/').at(-1) ?? '');
    byRole.set(identity.principalArn, sessions);
  }
  return [...byRole]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([role, sessions]) => ({ role, sessions: [...sessions].sort() }));
}
