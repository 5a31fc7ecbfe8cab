import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { APPROVAL_RECORD_KEY_PREFIX } from '../lambdas/contract/approval.js';
import {
  LOCK_ITEM_KEY_PREFIX,
  LOCK_TABLE_PARTITION_KEY,
  LOCK_TABLE_TTL_ATTRIBUTE,
} from '../lambdas/contract/rotation-lock.js';

export interface RotationLockTableProps {
  /** The rotation state machine's name: the lock may ask Step Functions about its executions only. */
  readonly stateMachineName: string;
}

/**
 * The mesh's rotation lock (docs/workflow.md, "The rotation lock"): a DynamoDB table holding one item
 * per mesh whose holder is the execution ARN of the rotation that runs. Every change of the item is a
 * conditional write, DynamoDB's atomic compare-and-set, so two executions can never both hold it.
 *
 * On-demand billing (a handful of writes per rotation), point-in-time recovery (cdk-nag AwsSolutions-DDB3),
 * encryption at rest with DynamoDB's own key: the item holds an execution ARN and a time, nothing secret,
 * and a customer key would give the lock functions a key grant they have no other use for. Destroyed
 * with the stack: a lock outlives nothing it protects. Time to live on `expiresAt`: the approval records
 * answer-approval writes here carry their expiry, so DynamoDB deletes them (the lock item carries none).
 */
export class RotationLockTable extends Construct {
  readonly table: Table;
  /** ARN pattern of every execution of the rotation state machine. */
  readonly executionArnPattern: string;

  constructor(scope: Construct, id: string, props: RotationLockTableProps) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: LOCK_TABLE_PARTITION_KEY, type: AttributeType.STRING },
      timeToLiveAttribute: LOCK_TABLE_TTL_ATTRIBUTE,
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.DEFAULT,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.executionArnPattern = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${props.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /**
   * acquire-lock and release-lock: take, take over and release the lock. (GetItem: a failed condition
   * returns the item as it was, ALL_OLD, which is a read of it.)
   */
  grantTakeAndRelease(grantee: IGrantable): void {
    this.grant(grantee, 'TakeAndReleaseRotationLock', [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
    ]);
  }

  /**
   * answer-approval: write and remove approval records, the items under `approval/` (and only those),
   * which the steps after the approval gates check (docs/security.md, "Approvals answered around the
   * endpoint"). No other role may write them: the lock grants are limited to the lock items.
   */
  grantRecordApprovals(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'RecordApprovals',
        actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [this.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${APPROVAL_RECORD_KEY_PREFIX}*`] },
        },
      }),
    );
  }

  /**
   * The writing phases: confirm their execution holds the lock before writing (a conditional PutItem
   * that takes it only when free or stale), never release it.
   */
  grantHold(grantee: IGrantable): void {
    this.grant(grantee, 'HoldRotationLock', ['dynamodb:GetItem', 'dynamodb:PutItem']);
  }

  /**
   * acquire-lock only: before a resumed rollback takes the lock, it reads the history of the run it
   * resumes (GetExecutionHistory; DescribeExecution comes with every grant here), limited to this state
   * machine's executions (docs/workflow.md, "Resuming a failed rollback").
   */
  grantReadResumedExecutions(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ReadResumedRotationExecutions',
        actions: ['states:GetExecutionHistory'],
        resources: [this.executionArnPattern],
      }),
    );
  }

  private grant(grantee: IGrantable, sid: string, actions: string[]): void {
    // Reads anywhere (the steps after the approval gates read the approval records), writes only to the
    // lock items: the approval records are answer-approval's alone to write.
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: `Read${sid}`,
        actions: ['dynamodb:GetItem'],
        resources: [this.table.tableArn],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        sid,
        actions: actions.filter((action) => action !== 'dynamodb:GetItem'),
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${LOCK_ITEM_KEY_PREFIX}*`] } },
      }),
    );
    // Whether a holder still runs decides a takeover: DescribeExecution of this state machine's runs.
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'DescribeRotationExecutions',
        actions: ['states:DescribeExecution'],
        resources: [this.executionArnPattern],
      }),
    );
  }
}
