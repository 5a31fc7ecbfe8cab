import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import {
  type ClusterAccountRoleKind,
  type ClusterReference,
  clusterAccountRoleName,
  discoversByTag,
} from '../lambdas/contract/cluster-reference.js';

/**
 * Which EKS clusters belong to the mesh: an explicit list, or every cluster carrying a tag. With an
 * explicit list the tag is still passed to the handlers (informational) but IAM and the EKS access
 * entries are scoped to the named clusters.
 */
export interface ClusterSelection {
  /**
   * The cluster list as given: EKS names (the stack's account and region) or cluster ARNs
   * (lambdas/contract/cluster-reference.ts); empty means "discover by tag".
   */
  readonly entries: readonly string[];
  /** The same list, parsed. */
  readonly references: readonly ClusterReference[];
  /**
   * Per other account, the roles given instead of the naming convention (the construct's
   * `clusterAccountRoles`). @default none: every other account follows the convention
   */
  readonly accountRoles?: ReadonlyMap<string, Readonly<Record<ClusterAccountRoleKind, string>>>;
  readonly tagKey: string;
  readonly tagValue: string;
}

/**
 * Whether a cluster is in the stack's own account (a plain name, or an ARN naming the stack's account).
 * An environment-agnostic stack knows no account: there a cluster ARN counts as another account.
 */
function inStackAccount(scope: Construct, reference: ClusterReference): boolean {
  const { account } = Stack.of(scope);
  return (
    reference.accountId === undefined || (!Token.isUnresolved(account) && reference.accountId === account)
  );
}

/**
 * Whether the stack can create the cluster's EKS access entries: a named cluster of its own account and region
 * (CloudFormation creates resources in the stack's account and region only).
 */
export function inStackAccountAndRegion(scope: Construct, reference: ClusterReference): boolean {
  const { region } = Stack.of(scope);
  return (
    !discoversByTag(reference) &&
    inStackAccount(scope, reference) &&
    (reference.region === undefined || (!Token.isUnresolved(region) && reference.region === region))
  );
}

/**
 * The EKS cluster ARNs the functions may describe as their own roles: the named clusters of the stack's
 * account (in their regions), and every cluster of a region of the account where they are discovered by tag
 * (a `*` entry, or no list at all: the stack's region)
 * (the handlers then filter on the tag; IAM cannot, because a tag condition in IAM would turn their look
 * at other clusters into AccessDenied errors). A cluster of another account is described as that
 * account's role, so it is not here.
 */
export function eksClusterArns(scope: Construct, clusters: ClusterSelection): string[] {
  if (clusters.references.length === 0) return [clusterArn(scope, { name: '*' })];
  // An environment-agnostic stack cannot tell its account from another: it grants the ARN as written,
  // which is its own cluster if the account turns out to be its own at deploy, and nothing otherwise.
  const { account } = Stack.of(scope);
  return clusters.references
    .filter((reference) => inStackAccount(scope, reference) || Token.isUnresolved(account))
    .map((reference) => clusterArn(scope, reference));
}

function clusterArn(scope: Construct, reference: ClusterReference): string {
  return Stack.of(scope).formatArn({
    service: 'eks',
    resource: 'cluster',
    resourceName: reference.name,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    ...(reference.region !== undefined && { region: reference.region }),
    ...(reference.accountId !== undefined && { account: reference.accountId }),
  });
}

/**
 * Per other account of the cluster list, the role of that account the functions reach its clusters as
 * (the one `accountRoles` gives, else the naming convention of clusterAccountRoleName), sorted by account: exactly the ARNs the stack's
 * cluster roles may assume, and what each function is told in CLUSTER_ACCOUNT_ROLES.
 */
export function clusterAccountRoleArns(
  scope: Construct,
  meshId: string,
  clusters: ClusterSelection,
  kind: ClusterAccountRoleKind,
): Map<string, string> {
  const accounts = [
    ...new Set(
      clusters.references
        .filter((reference) => !inStackAccount(scope, reference))
        .map((reference) => reference.accountId as string),
    ),
  ].sort();
  return new Map(
    accounts.map((account) => [
      account,
      clusters.accountRoles?.get(account)?.[kind] ??
        Stack.of(scope).formatArn({
          service: 'iam',
          region: '',
          account,
          resource: 'role',
          resourceName: clusterAccountRoleName(meshId, kind),
        }),
    ]),
  );
}
