import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/**
 * Which EKS clusters belong to the mesh: an explicit list of names, or every cluster carrying a tag.
 * With an explicit list the tag is still passed to the handlers (informational) but IAM and the EKS
 * access entries are scoped to the named clusters.
 */
export interface ClusterSelection {
  /** Explicit cluster names; empty means "discover by tag". */
  readonly names: readonly string[];
  readonly tagKey: string;
  readonly tagValue: string;
}

/**
 * The EKS cluster ARNs the rotator may describe: the named clusters, or every cluster of the account
 * and region when they are discovered by tag (the handlers then filter on the tag; IAM cannot, because
 * a tag condition in IAM would turn their look at other clusters into AccessDenied errors).
 */
export function eksClusterArns(scope: Construct, clusters: ClusterSelection): string[] {
  const names = clusters.names.length > 0 ? clusters.names : ['*'];
  return names.map((name) =>
    Stack.of(scope).formatArn({
      service: 'eks',
      resource: 'cluster',
      resourceName: name,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    }),
  );
}
