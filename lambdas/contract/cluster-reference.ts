/**
 * How a cluster of the mesh is named, declared once: the stack (lib/, the construct's `clusters` prop)
 * checks its prop with it at synth, the handlers parse CLUSTERS with it at preflight
 * (lambdas/core/topology/cluster-targets.ts), so both refuse the same entries in the same words.
 * Nothing here imports anything.
 *
 * An entry is either a plain EKS cluster name (`eu-prod`: the stack's own account and region) or the
 * cluster's ARN, `arn:<partition>:eks:<region>:<account>:cluster/<name>`, for a cluster in another
 * region and/or another account. The name alone is meshtrust's identity for a cluster (its Map item, its
 * secrets `intermediate/<name>`, its audit events), so names are unique across accounts and regions.
 * The name `*` (alone, or in an ARN) stands for every cluster carrying the mesh tag in that account and
 * region: tag discovery there (DISCOVER_BY_TAG).
 *
 * In another account the cluster phases, the gates and the expiry check each assume a role of that
 * account, named by convention (clusterAccountRoleName): the stack grants `sts:AssumeRole` on exactly
 * those ARNs and tells each function, per account, the one it assumes (CLUSTER_ACCOUNT_ROLES).
 */

/** Environment key: `<account>=<role ARN>` pairs, comma-separated: the role a function assumes in each other account. */
export const CLUSTER_ACCOUNT_ROLES_ENV = 'CLUSTER_ACCOUNT_ROLES';

/** Environment key: the account the stack is deployed in (a cluster ARN naming it is not another account). */
export const MESH_ACCOUNT_ID_ENV = 'MESH_ACCOUNT_ID';

/** Between an account id and its role ARN in CLUSTER_ACCOUNT_ROLES. */
export const ACCOUNT_ROLE_SEPARATOR = '=';

/** One entry of the cluster list, parsed: region and account only when the entry is an ARN. */
export interface ClusterReference {
  /** The EKS cluster name, meshtrust's identity for the cluster. */
  readonly name: string;
  /** The cluster's region; undefined: the stack's. */
  readonly region?: string;
  /** The cluster's account; undefined: the stack's. */
  readonly accountId?: string;
  /** The ARN's partition (`aws`, `aws-cn`, ...); undefined for a plain name. */
  readonly partition?: string;
}

/** Who reaches a cluster in another account, each as a role of that account. */
export type ClusterAccountRoleKind = 'rotator' | 'verifier' | 'expiry-check';

/**
 * The role a cluster of another account is reached as, by convention: `meshtrust-<meshId>-rotator` (the
 * phases that write; group meshtrust-rotator), `-verifier` (the gates), `-expiry-check` (the daily check).
 * docs/deploy.md, "Clusters in other accounts", shows how to create them.
 */
export function clusterAccountRoleName(meshId: string, kind: ClusterAccountRoleKind): string {
  return `meshtrust-${meshId}-${kind}`;
}

/** The name of an entry that discovers, by the mesh tag, every cluster of its account and region. */
export const DISCOVER_BY_TAG = '*';

/** Whether an entry discovers clusters by tag rather than naming one. */
export function discoversByTag(reference: ClusterReference): boolean {
  return reference.name === DISCOVER_BY_TAG;
}

/** An EKS cluster name: 1-100 of A-Z a-z 0-9 _ -, starting with a letter or digit. */
export const EKS_CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const PARTITION = /^aws(-[a-z]+)*$/;

/** Parses one entry of the cluster list; a string says what is wrong with it (naming the entry). */
export function parseClusterReference(entry: string): ClusterReference | string {
  const quoted = JSON.stringify(entry);
  if (!entry.startsWith('arn:')) {
    return EKS_CLUSTER_NAME.test(entry) || entry === DISCOVER_BY_TAG
      ? { name: entry }
      : `${quoted} is neither an EKS cluster name (1-100 of A-Z a-z 0-9 _ -) nor a cluster ARN arn:<partition>:eks:<region>:<account>:cluster/<name>`;
  }
  const parts = entry.split(':');
  const [, partition, service, region, accountId] = parts;
  const resource = parts.slice(5).join(':');
  const shape = 'arn:<partition>:eks:<region>:<account>:cluster/<name>';
  if (parts.length !== 6 || service !== 'eks' || !resource.startsWith('cluster/')) {
    return `${quoted} is not an EKS cluster ARN (${shape})`;
  }
  const name = resource.slice('cluster/'.length);
  if (!PARTITION.test(partition))
    return `${quoted}: partition ${JSON.stringify(partition)} is not aws, aws-cn, aws-us-gov, ...`;
  if (!REGION.test(region)) return `${quoted}: ${JSON.stringify(region)} is not a region like eu-west-1`;
  if (!ACCOUNT_ID.test(accountId))
    return `${quoted}: the account id must be 12 digits, got ${JSON.stringify(accountId)}`;
  if (!EKS_CLUSTER_NAME.test(name) && name !== DISCOVER_BY_TAG) {
    return `${quoted}: ${JSON.stringify(name)} is not an EKS cluster name (1-100 of A-Z a-z 0-9 _ -) nor ${DISCOVER_BY_TAG} (every cluster with the mesh tag there)`;
  }
  return { name, region, accountId, partition };
}

/**
 * What makes a cluster list unusable whatever the accounts hold, or undefined: an entry that does not
 * parse, an entry written twice, or two entries with the same cluster name (in different accounts or
 * regions). Names found by tag are checked when they are found (at preflight).
 */
export function clusterReferencesProblem(entries: readonly string[]): string | undefined {
  const seen = new Map<string, string>();
  for (const [index, entry] of entries.entries()) {
    const reference = parseClusterReference(entry);
    if (typeof reference === 'string') return reference;
    if (discoversByTag(reference)) {
      if (entries.indexOf(entry) !== index) return `${JSON.stringify(entry)} is listed twice`;
      continue;
    }
    const earlier = seen.get(reference.name);
    if (earlier !== undefined) {
      return earlier === entry
        ? `${JSON.stringify(entry)} is listed twice`
        : `${JSON.stringify(earlier)} and ${JSON.stringify(entry)} are both named ${reference.name}; a cluster's name is its identity in the mesh (its secrets, its audit events), so names must be unique across accounts and regions`;
    }
    seen.set(reference.name, entry);
  }
  return undefined;
}

/** How the role map is written in CLUSTER_ACCOUNT_ROLES (the stack formats it, the handlers parse it back). */
export function formatClusterAccountRoles(roles: ReadonlyMap<string, string>): string {
  return [...roles].map(([account, roleArn]) => `${account}${ACCOUNT_ROLE_SEPARATOR}${roleArn}`).join(',');
}
