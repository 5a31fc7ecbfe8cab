/**
 * Where each cluster of the mesh is and who reaches it (lambdas/contract/cluster-reference.ts): the
 * cluster list parsed, and per cluster its region and, in another account, the role of that account a
 * function assumes. Pure; the runtime (lambdas/application/runtime.ts) makes the clients from it.
 */
import {
  ACCOUNT_ROLE_SEPARATOR,
  CLUSTER_ACCOUNT_ROLES_ENV,
  type ClusterReference,
  clusterReferencesProblem,
  discoversByTag,
  parseClusterReference,
} from '../../contract/cluster-reference.js';
import { PreconditionFailed } from '../rotation-errors.js';

export type { ClusterReference } from '../../contract/cluster-reference.js';

/** The mesh's own place: the stack's region and, when known, its account. */
export interface HomeLocation {
  readonly region: string;
  /** undefined outside a deployed stack (tests, the CLI without MESH_ACCOUNT_ID). */
  readonly accountId?: string;
}

/** One cluster, resolved: where to describe it and sign its tokens, and as whom. */
export interface ClusterTarget {
  readonly name: string;
  /** The region of its EKS API and of the STS endpoint its tokens are presigned for. */
  readonly region: string;
  /** Its account when it is not the mesh's own; undefined: the mesh's account. */
  readonly accountId?: string;
  /** The role of that other account to assume (from the function's cluster role); undefined in the mesh's account. */
  readonly roleArn?: string;
  /** The entry of the cluster list it comes from, for messages. */
  readonly entry: string;
  /** The entry discovers, by the mesh tag, every cluster of that account and region (its name is `*`). */
  readonly discover?: true;
}

const ROLE_ARN = /^arn:aws(-[a-z]+)*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;

/**
 * Parses the cluster list (CLUSTERS, or the construct's `clusters`). PreconditionFailed naming the
 * entry for one that is neither a name nor a cluster ARN, and for a name listed twice.
 */
export function parseClusterReferences(entries: readonly string[], source = 'CLUSTERS'): ClusterReference[] {
  const problem = clusterReferencesProblem(entries);
  if (problem !== undefined) {
    throw new PreconditionFailed(
      `${source}: ${problem}. Name each cluster by its EKS name (the stack's account and region) or by its ARN.`,
    );
  }
  return entries.map((entry) => parseClusterReference(entry) as ClusterReference);
}

/**
 * Parses CLUSTER_ACCOUNT_ROLES (`<account>=<role ARN>,...`), which the stack writes: each role must be
 * a role ARN of its own account.
 */
export function parseClusterAccountRoles(
  text: string,
  source = CLUSTER_ACCOUNT_ROLES_ENV,
): ReadonlyMap<string, string> {
  const roles = new Map<string, string>();
  for (const pair of text.split(',').map((part) => part.trim())) {
    if (pair === '') continue;
    const at = pair.indexOf(ACCOUNT_ROLE_SEPARATOR);
    const account = pair.slice(0, at);
    const roleArn = pair.slice(at + 1);
    const match = ROLE_ARN.exec(roleArn);
    if (at < 0 || !/^\d{12}$/.test(account) || match === null || match[2] !== account || roles.has(account)) {
      throw new PreconditionFailed(
        `${source}: ${JSON.stringify(pair)} is not <account>${ACCOUNT_ROLE_SEPARATOR}<role ARN of that account>, ` +
          `each account once${source === CLUSTER_ACCOUNT_ROLES_ENV ? '; the meshtrust stack writes it from its clusters' : ''}`,
      );
    }
    roles.set(account, roleArn);
  }
  return roles;
}

/**
 * Where a cluster is and who reaches it. A cluster named by its plain name, or by an ARN of the mesh's
 * own account, is reached as the function's cluster role; one in another account needs that account's
 * role, and a cluster whose account has none is refused (a typo in an account id must not send the
 * rotation to some other account's cluster, nor be ignored).
 */
export function clusterTargetOf(
  reference: ClusterReference,
  home: HomeLocation,
  accountRoles: ReadonlyMap<string, string>,
  entry = reference.name,
): ClusterTarget {
  const region = reference.region ?? home.region;
  const accountId = reference.accountId;
  const otherAccount = accountId !== undefined && accountId !== home.accountId;
  const discover = discoversByTag(reference) ? ({ discover: true } as const) : {};
  if (!otherAccount) return { name: reference.name, region, entry, ...discover };
  const roleArn = accountRoles.get(accountId);
  if (roleArn === undefined) {
    // Without MESH_ACCOUNT_ID (outside a stack) an ARN's account may be the caller's own: then its own
    // credentials reach it, and DescribeCluster says so if the account was wrong.
    if (home.accountId === undefined) return { name: reference.name, region, entry, ...discover };
    throw new PreconditionFailed(
      `${JSON.stringify(entry)} is in account ${accountId}, which is not the mesh's (${home.accountId}) and has no role ` +
        `to assume in ${CLUSTER_ACCOUNT_ROLES_ENV}; check the account id, or list the cluster in the stack's clusters and deploy ` +
        'it again, which grants that account\'s role (docs/deploy.md, "Clusters in other accounts")',
      { cluster: reference.name },
    );
  }
  return { name: reference.name, region, accountId, roleArn, entry, ...discover };
}

/** Every entry of the cluster list resolved (clusterTargetOf), in list order. */
export function clusterTargetsOf(
  entries: readonly string[],
  home: HomeLocation,
  accountRoles: ReadonlyMap<string, string>,
  source?: string,
): ClusterTarget[] {
  return parseClusterReferences(entries, source).map((reference, index) =>
    clusterTargetOf(reference, home, accountRoles, entries[index]),
  );
}
