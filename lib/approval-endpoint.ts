import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type FunctionUrl, FunctionUrlAuthType, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import {
  ANSWER_APPROVAL_TIMEOUT_SECONDS,
  APPROVAL_STATE_MACHINE_ARN_ENV,
} from '../lambdas/contract/approval.js';
import type { ApprovalFunctionEnvKey } from '../lambdas/contract/function-environment.js';
import { LOCK_TABLE_NAME_ENV } from '../lambdas/contract/rotation-lock.js';
import type { RotationAudit } from './audit.js';
import { APPROVAL_HANDLER_ENTRY, DEPS_LOCK_FILE, entryPath, PROJECT_ROOT } from './handler-entries.js';
import { HANDLER_BUNDLING, HANDLER_RUNTIME } from './rotation-functions.js';
import type { RotationLockTable } from './rotation-lock-table.js';

export interface ApprovalEndpointProps {
  readonly meshId: string;
  /** The name of the rotation state machine whose approval gates the endpoint answers. */
  readonly stateMachineName: string;
  readonly audit: RotationAudit;
  /**
   * Where the endpoint records each answer before giving it (items under `approval/`), for the step
   * after the gate to check: a gate answered around the endpoint finds no record and rolls back.
   */
  readonly lockTable: RotationLockTable;
}

/**
 * Where `meshtrust approve` and `reject` answer an approval gate: function `answer-approval` behind a
 * function URL with AWS_IAM auth. Lambda verifies the caller's SigV4 signature and
 * `lambda:InvokeFunctionUrl` and hands the function the caller's IAM identity, which it records as
 * the approver; the caller never holds the gate's task token. Its role reads the mesh's executions,
 * answers their task tokens and writes the approval records (the lock table's `approval/` items, which
 * no other role may write), nothing else.
 */
export class ApprovalEndpoint extends Construct {
  readonly function: NodejsFunction;
  readonly url: FunctionUrl;
  readonly role: Role;
  /** The ARNs of the rotation state machine's executions, which the role may read. */
  readonly executionArnPattern: string;

  constructor(scope: Construct, id: string, props: ApprovalEndpointProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const stateMachineArn = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: props.stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.executionArnPattern = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${props.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `meshtrust ${props.meshId}: answers the rotation's approval gates for a verified caller`,
    });
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ReadRotationExecutions',
        actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
        resources: [this.executionArnPattern],
      }),
    );
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'AnswerRotationTaskTokens',
        // As StateMachine.grantTaskResponse: task responses are authorized on the state machine.
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
        resources: [stateMachineArn],
      }),
    );
    props.lockTable.grantRecordApprovals(this.role);
    const name = 'answer-approval';
    const logGroup = props.audit.newLogGroup(`${name}-log`, `${props.audit.functionLogGroupPrefix}${name}`);
    logGroup.grantWrite(this.role);
    this.function = new NodejsFunction(this, 'Function', {
      functionName: `meshtrust-${props.meshId}-${name}`,
      description: `meshtrust ${props.meshId}: ${name} (meshtrust approve, reject)`,
      entry: entryPath(APPROVAL_HANDLER_ENTRY),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: DEPS_LOCK_FILE,
      runtime: HANDLER_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: 256,
      // Also how old a record of a gate still waiting must be to count as never sent (the contract's).
      timeout: Duration.seconds(ANSWER_APPROVAL_TIMEOUT_SECONDS),
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup,
      // Exactly what answer-approval reads (lambdas/contract/function-environment.ts).
      environment: {
        [APPROVAL_STATE_MACHINE_ARN_ENV]: stateMachineArn,
        [LOCK_TABLE_NAME_ENV]: props.lockTable.table.tableName,
      } satisfies Record<ApprovalFunctionEnvKey, string>,
      bundling: HANDLER_BUNDLING,
    });
    // AWS_IAM: the request must be SigV4-signed by a principal allowed lambda:InvokeFunctionUrl, and
    // Lambda writes that principal into requestContext.authorizer.iam, which the handler records.
    this.url = this.function.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });
  }

  /**
   * Lets a principal answer approval gates: invoke the function through its URL only (a plain Invoke
   * could pass an event with any identity in it, so it is granted only with lambda:InvokedViaFunctionUrl).
   */
  grantApprove(grantee: IGrantable): void {
    this.url.grantInvokeUrl(grantee);
  }
}
