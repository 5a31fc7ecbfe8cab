import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { type LambdaContext, logInvocation } from '../adapters/audit/logger.js';
import { getStringFromEnv } from '../adapters/environment.js';
import { ApprovalRecords } from '../adapters/lock/approval-records.js';
import { RotationExecutions } from '../adapters/stepfunctions/rotation-executions.js';
import { type ApprovalGateDeps, answerApprovalGate } from '../application/answer-approval-gate.js';
import { APPROVAL_STATE_MACHINE_ARN_ENV } from '../contract/approval.js';
import { LOCK_TABLE_NAME_ENV } from '../contract/rotation-lock.js';
import { meshExecutionArn } from '../core/rotation/mesh-execution.js';
import { type FunctionUrlResponse, parseApprovalRequest, respond } from './approval-request.js';

export type { ApprovalExecutions } from '../application/answer-approval-gate.js';
export type { FunctionUrlResponse } from './approval-request.js';

/**
 * answer-approval, behind a function URL with AWS_IAM auth: `meshtrust approve`/`reject` sign a request
 * `{ execution, verdict, reason? }`; this function answers the gate the execution waits at, with the IAM
 * identity Lambda verified as approver, never a name or token the caller sends, after writing the
 * approval record the step after the gate checks (application/answer-approval-gate.ts). 200 answered;
 * 400 a bad request; 403 no verified identity, or an execution of another state machine; 409 the
 * execution waits at no gate, or its gate was answered.
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<FunctionUrlResponse> {
  logInvocation(context);
  // The stack sets it; without it no execution could be checked as this mesh's, so fail naming it.
  const stateMachineArn = getStringFromEnv({ key: APPROVAL_STATE_MACHINE_ARN_ENV });
  // Without the table no approval could be recorded, and the step after the gate would refuse it.
  const tableName = getStringFromEnv({ key: LOCK_TABLE_NAME_ENV });
  const sfn = new SFNClient({});
  const dynamodb = new DynamoDBClient({});
  try {
    return await answerApproval(event, {
      executions: new RotationExecutions({ client: sfn }),
      records: new ApprovalRecords({ client: dynamodb, tableName }),
      stateMachineArn,
    });
  } finally {
    sfn.destroy();
    dynamodb.destroy();
  }
}

export async function answerApproval(
  event: unknown,
  deps: ApprovalGateDeps & { readonly stateMachineArn: string },
): Promise<FunctionUrlResponse> {
  const request = parseApprovalRequest(event);
  if (!request.ok) return request.response;
  const { approver, answer } = request;
  const { verdict, reason } = answer;
  const executionArn = meshExecutionArn(deps.stateMachineArn, answer.execution);
  if (executionArn === undefined) {
    return respond(403, { error: "the execution is not one of this mesh's rotation state machine" });
  }
  const gate = await answerApprovalGate(deps, { executionArn, approver, verdict, reason });
  if (!gate.answered) return respond(409, { error: gate.conflict });
  return respond(200, { execution: executionArn, gate: gate.gate, verdict, ...gate.result });
}
