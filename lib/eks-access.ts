import { CfnAccessEntry } from 'aws-cdk-lib/aws-eks';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { type ClusterSelection, inStackAccountAndRegion } from './cluster-selection.js';

/** The Kubernetes group deploy/kubernetes/rbac.yaml binds the rotator's permissions to. */
export const ROTATOR_KUBERNETES_GROUP = 'meshtrust-rotator';
/**
 * The group rbac.yaml lets read what a rotation changed, no secret, and port-forward to proxies' Envoy
 * admin port 15000 only (served certificates): the gates verify-trust and verify-workloads.
 */
export const VERIFIER_KUBERNETES_GROUP = 'meshtrust-verifier';
/** The group rbac.yaml lets list istiod's pods and read their /metrics, for the daily expiry check. */
export const EXPIRY_CHECK_KUBERNETES_GROUP = 'meshtrust-expiry-check';

export interface EksAccessProps {
  /**
   * The mesh's clusters: entries are created in those of the stack's account and region; none when
   * clusters are discovered by tag.
   */
  readonly clusters: ClusterSelection;
  /** The IAM role the rotation phases run as. */
  readonly rotatorRole: IRole;
  /** The read-only IAM role the rotation gates run as. */
  readonly verifierRole: IRole;
  /** The IAM role of the daily expiry check. */
  readonly expiryCheckRole: IRole;
}

/**
 * EKS access entries in each explicitly configured cluster: the rotator role to Kubernetes group
 * `meshtrust-rotator`, the verifier role to `meshtrust-verifier`, the expiry check's role to
 * `meshtrust-expiry-check` (no access policy: each group's permissions come from rbac.yaml alone).
 *
 * Clusters in another region or account are outside this stack's reach: their entries are made there
 * (docs/deploy.md, "Clusters in other accounts"). Clusters discovered by tag are not known at deploy
 * time, so the stack cannot create their entries either:
 * create them when a cluster joins the mesh (docs/deploy.md), e.g.
 * `aws eks create-access-entry --cluster-name <c> --principal-arn <RotatorRoleArn> --kubernetes-groups meshtrust-rotator`.
 */
export class EksAccess extends Construct {
  readonly entries: CfnAccessEntry[];

  constructor(scope: Construct, id: string, props: EksAccessProps) {
    super(scope, id);
    // The rotator's entry keeps the id it always had: a new id would make CloudFormation create a second
    // entry for the same principal, which EKS refuses, before deleting the first.
    const mappings = [
      { suffix: '', role: props.rotatorRole, group: ROTATOR_KUBERNETES_GROUP },
      { suffix: '-Verifier', role: props.verifierRole, group: VERIFIER_KUBERNETES_GROUP },
      { suffix: '-ExpiryCheck', role: props.expiryCheckRole, group: EXPIRY_CHECK_KUBERNETES_GROUP },
    ];
    const clusterNames = props.clusters.references
      .filter((reference) => inStackAccountAndRegion(this, reference))
      .map((reference) => reference.name);
    this.entries = clusterNames.flatMap((clusterName) =>
      mappings.map(
        (mapping) =>
          new CfnAccessEntry(this, `${clusterName}${mapping.suffix}`, {
            clusterName,
            principalArn: mapping.role.roleArn,
            kubernetesGroups: [mapping.group],
            type: 'STANDARD',
          }),
      ),
    );
  }
}
