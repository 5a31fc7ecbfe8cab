import { CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import { SecurityGroup, Subnet, Vpc } from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { APPROVAL_URL_OUTPUT } from '../lambdas/contract/approval.js';
import { MeshTrustRotation, type MeshTrustRotationProps } from './mesh-trust-rotation.js';

export interface MeshTrustStackProps extends StackProps {
  /** Everything the rotation of this mesh needs; see MeshTrustRotationProps. */
  readonly rotation: MeshTrustRotationProps;
  /**
   * The VPC to run the functions in, by ids (what cdk.json context can say; the construct takes the
   * objects as `rotation.vpc`, `vpcSubnets`, `securityGroups`).
   * @default none
   */
  readonly network?: FunctionNetworkIds;
}

/** A VPC by ids: the subnets to run in, and optionally the security groups to use. */
export interface FunctionNetworkIds {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  /** @default one group the stack makes, HTTPS out only */
  readonly securityGroupIds?: readonly string[];
}

/** One deployable mesh: the MeshTrustRotation construct and the outputs an operator needs. */
export class MeshTrustStack extends Stack {
  readonly rotation: MeshTrustRotation;

  constructor(scope: Construct, id: string, props: MeshTrustStackProps) {
    super(scope, id, props);
    this.rotation = new MeshTrustRotation(this, 'Rotation', {
      ...props.rotation,
      ...(props.network !== undefined && this.networkOf(props.network)),
    });
    new CfnOutput(this, 'StateMachineArn', {
      description: 'Start emergency or intermediate rekeys here (StartExecution)',
      value: this.rotation.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'CaKeyArn', {
      description: 'KMS key of the CA secrets meshtrust/<meshId>/*',
      value: this.rotation.caKey.keyArn,
    });
    new CfnOutput(this, 'AuditLogGroupName', {
      description: 'Execution log of every rotation (phase logs: /aws/lambda/meshtrust-<meshId>-<phase>)',
      value: this.rotation.auditLogGroup.logGroupName,
    });
    new CfnOutput(this, 'LockTableName', {
      description: 'The rotation lock (item lockId = rotation/<meshId>): who holds it, for docs/runbook.md',
      value: this.rotation.lockTable.tableName,
    });
    new CfnOutput(this, 'RotatorRoleArn', {
      description: 'Map this role to Kubernetes group meshtrust-rotator in every mesh cluster',
      value: this.rotation.rotatorRole.roleArn,
    });
    new CfnOutput(this, 'VerifierRoleArn', {
      description: 'Map this role to Kubernetes group meshtrust-verifier in every mesh cluster',
      value: this.rotation.verifierRole.roleArn,
    });
    new CfnOutput(this, 'ExpiryCheckRoleArn', {
      description: 'Map this role to Kubernetes group meshtrust-expiry-check in every mesh cluster',
      value: this.rotation.expiryCheckRole.roleArn,
    });
    // The group the stack made (none when the operator named their own).
    const [securityGroup] = this.rotation.functionSecurityGroups;
    if (securityGroup !== undefined && (props.network?.securityGroupIds ?? []).length === 0) {
      new CfnOutput(this, 'FunctionsSecurityGroupId', {
        description: "Allow HTTPS (443) from this group in each cluster's security group",
        value: securityGroup.securityGroupId,
      });
    }
    if (this.rotation.approvalEndpoint !== undefined) {
      new CfnOutput(this, APPROVAL_URL_OUTPUT, {
        description:
          'meshtrust approve/reject sign their answer to this URL (AWS_IAM); the approver recorded is the signer',
        value: this.rotation.approvalEndpoint.url.url,
      });
    }
  }

  /** The VPC, subnets and security groups of `ids` as constructs (imported: the stack creates none of them). */
  private networkOf(
    ids: FunctionNetworkIds,
  ): Pick<MeshTrustRotationProps, 'vpc' | 'vpcSubnets' | 'securityGroups'> {
    return {
      // The subnets are named, so the VPC's own zones are never used; CDK wants at least one.
      vpc: Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: ids.vpcId,
        availabilityZones: [Fn.select(0, Fn.getAzs())],
      }),
      vpcSubnets: { subnets: ids.subnetIds.map((subnetId) => Subnet.fromSubnetId(this, subnetId, subnetId)) },
      ...(ids.securityGroupIds !== undefined &&
        ids.securityGroupIds.length > 0 && {
          securityGroups: ids.securityGroupIds.map((groupId) =>
            SecurityGroup.fromSecurityGroupId(this, groupId, groupId),
          ),
        }),
    };
  }
}
