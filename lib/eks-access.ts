import { CfnAccessEntry } from 'aws-cdk-lib/aws-eks';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** The Kubernetes group deploy/kubernetes/rbac.yaml binds the rotator's permissions to. */
export const ROTATOR_KUBERNETES_GROUP = 'meshtrust-rotator';

export interface EksAccessProps {
  /** Clusters to create an access entry in; empty when clusters are discovered by tag. */
  readonly clusterNames: readonly string[];
  /** The IAM role the rotation phases run as. */
  readonly rotatorRole: IRole;
}

/**
 * One EKS access entry per explicitly configured cluster, mapping the rotator role to Kubernetes group
 * `meshtrust-rotator` (no access policy: the group's permissions come from rbac.yaml alone).
 *
 * Clusters discovered by tag are not known at deploy time, so the stack cannot create their entries:
 * create one per cluster when it joins the mesh (docs/deploy.md):
 * `aws eks create-access-entry --cluster-name <c> --principal-arn <RotatorRoleArn> --kubernetes-groups meshtrust-rotator`.
 */
export class EksAccess extends Construct {
  readonly entries: CfnAccessEntry[];

  constructor(scope: Construct, id: string, props: EksAccessProps) {
    super(scope, id);
    this.entries = props.clusterNames.map(
      (clusterName) =>
        new CfnAccessEntry(this, clusterName, {
          clusterName,
          principalArn: props.rotatorRole.roleArn,
          kubernetesGroups: [ROTATOR_KUBERNETES_GROUP],
          type: 'STANDARD',
        }),
    );
  }
}
