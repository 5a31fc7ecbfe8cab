import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { APPROVAL_URL_OUTPUT } from '../lambdas/contract/approval.js';
import { MeshTrustRotation, type MeshTrustRotationProps } from './mesh-trust-rotation.js';

export interface MeshTrustStackProps extends StackProps {
  /** Everything the rotation of this mesh needs; see MeshTrustRotationProps. */
  readonly rotation: MeshTrustRotationProps;
}

/** One deployable mesh: the MeshTrustRotation construct and the outputs an operator needs. */
export class MeshTrustStack extends Stack {
  readonly rotation: MeshTrustRotation;

  constructor(scope: Construct, id: string, props: MeshTrustStackProps) {
    super(scope, id, props);
    this.rotation = new MeshTrustRotation(this, 'Rotation', props.rotation);
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
    new CfnOutput(this, 'ExpiryCheckRoleArn', {
      description: 'Map this role to Kubernetes group meshtrust-expiry-check in every mesh cluster',
      value: this.rotation.expiryCheckRole.roleArn,
    });
    if (this.rotation.approvalEndpoint !== undefined) {
      new CfnOutput(this, APPROVAL_URL_OUTPUT, {
        description:
          'meshtrust approve/reject sign their answer to this URL (AWS_IAM); the approver recorded is the signer',
        value: this.rotation.approvalEndpoint.url.url,
      });
    }
  }
}
