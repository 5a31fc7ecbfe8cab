import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { emitAuditEvent } from '../adapters/audit/audit-event.js';
import { type LambdaContext, logger, logInvocation } from '../adapters/audit/logger.js';
import { getStringFromEnv } from '../adapters/environment.js';
import { type ApprovalRecordStore, ApprovalRecords } from '../adapters/lock/approval-records.js';
import { RotationExecutions } from '../adapters/stepfunctions/rotation-executions.js';
import {
  APPROVAL_REJECTED_ERROR,
  APPROVAL_STATE_MACHINE_ARN_ENV,
  APPROVER_VERIFIED_BY,
  type ApprovalResult,
} from '../contract/approval.js';
import { LOCK_TABLE_NAME_ENV } from '../contract/rotation-lock.js';
import { pendingApprovalGate } from '../core/rotation/pending-approval.js';

const REASON_MAX = 512;

/**
 * A Lambda function URL request (payload 2.0) with AWS_IAM auth: Lambda checked the SigV4 signature
 * and `lambda:InvokeFunctionUrl` before invoking, and wrote the signer's identity into
 * `requestContext.authorizer.iam`. Only that identity is read, never one from the body.
 */
const functionUrlEventSchema = z.object({
  requestContext: z.object({
    http: z.object({ method: z.string() }),
    authorizer: z
      .object({ iam: z.object({ userArn: z.string().min(1), accountId: z.string().optional() }).optional() })
      .optional(),
  }),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
});

const answerSchema = z
  .object({
    execution: z.string().min(1).max(2048),
    verdict: z.enum(['approve', 'reject']),
    reason: z.string().max(REASON_MAX).optional(),
  })
  .strict();

/** The executions port this handler uses (RotationExecutions fits; tests give a fake). */
export interface ApprovalExecutions {
  describe(executionArn: string): Promise<{ readonly status: string }>;
  history(executionArn: string): Promise<readonly unknown[]>;
  approve(taskToken: string, approval: Readonly<Record<string, unknown>>): Promise<void>;
  reject(taskToken: string, error: string, cause: string): Promise<void>;
}

export interface FunctionUrlResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * answer-approval, behind a function URL with AWS_IAM auth: `meshtrust approve`/`reject` sign a request
 * `{ execution, verdict, reason? }`, and this function finds the gate the execution waits at (its task
 * token from the execution history), answers it, and records as approver the IAM identity Lambda
 * verified, in the gate's result (`approvedBy`) and in an audit event (`actor`). The caller never
 * holds the token and cannot name the approver. Before answering, it writes an approval record (who,
 * when, execution, gate, verdict, a random `approvalId`) to the lock table, which only its role may
 * write under `approval/`, and sends the `approvalId` in the result: the step after the gate goes on
 * only when the result names that record, so a gate answered around this endpoint (a direct
 * SendTaskSuccess) rolls the run back. 200 answered; 400 a bad request; 403 no verified identity, or an
 * execution of another state machine; 409 the execution waits at no gate, or its gate was answered.
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
  deps: {
    readonly executions: ApprovalExecutions;
    readonly records: ApprovalRecordStore;
    readonly stateMachineArn: string;
    readonly now?: () => Date;
    /** @default randomUUID */
    readonly newApprovalId?: () => string;
  },
): Promise<FunctionUrlResponse> {
  const request = functionUrlEventSchema.safeParse(event);
  if (!request.success) return respond(400, { error: 'not a function URL request' });
  const approver = request.data.requestContext.authorizer?.iam?.userArn;
  if (approver === undefined) {
    // Without AWS_IAM auth there is no identity Lambda verified: refuse rather than record a claim.
    return respond(403, { error: 'no IAM identity: call the approval URL with a SigV4-signed request' });
  }
  if (request.data.requestContext.http.method !== 'POST') return respond(405, { error: 'POST only' });
  const answer = answerSchema.safeParse(parseBody(request.data.body, request.data.isBase64Encoded));
  if (!answer.success) {
    const problems = answer.error.issues.map(
      (issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`,
    );
    return respond(400, { error: `invalid answer (${problems.join('; ')})` });
  }
  const { verdict, reason } = answer.data;
  const executionArn = executionArnOf(deps.stateMachineArn, answer.data.execution);
  if (executionArn === undefined) {
    return respond(403, { error: "the execution is not one of this mesh's rotation state machine" });
  }

  const described = await deps.executions.describe(executionArn);
  const pending =
    described.status === 'RUNNING'
      ? pendingApprovalGate((await deps.executions.history(executionArn)) as never)
      : undefined;
  if (pending === undefined) {
    return respond(409, {
      error: `execution ${executionArn} (${described.status}) waits at no approval gate`,
    });
  }
  const at = (deps.now ?? (() => new Date()))().toISOString();
  const approvalId = (deps.newApprovalId ?? randomUUID)();
  const approval: ApprovalResult = {
    approvedBy: approver,
    approvedAt: at,
    verifiedBy: APPROVER_VERIFIED_BY,
    approvalId,
    ...(reason !== undefined && { reason }),
  };
  const record = {
    executionArn,
    gate: pending.gate,
    verdict,
    approvedBy: approver,
    approvedAt: at,
    verifiedBy: APPROVER_VERIFIED_BY,
    approvalId,
  } as const;
  // The record first: the step after the gate must find it as soon as the run resumes.
  if (!(await deps.records.put(record))) {
    return respond(409, {
      error: `gate ${pending.gate} of execution ${executionArn} was answered already through the approval endpoint`,
    });
  }
  try {
    if (verdict === 'approve') {
      await deps.executions.approve(pending.taskToken, { ...approval });
    } else {
      await deps.executions.reject(
        pending.taskToken,
        APPROVAL_REJECTED_ERROR,
        `rejected by ${approver} at ${at}: ${reason ?? ''}`,
      );
    }
  } catch (error) {
    // Step Functions took no answer (the gate timed out, or was answered another way): the record
    // stands for nothing, and must not keep a later answer through the endpoint out.
    await deps.records.remove(record);
    throw error;
  }
  emitAuditEvent({
    phase: pending.gate === 'reissue' ? 'reissue-intermediate' : 'retire-root',
    action: verdict === 'approve' ? 'approval-granted' : 'approval-rejected',
    executionId: executionArn,
    actor: approver,
    outcome: 'succeeded',
    detail: {
      gate: pending.gate,
      verifiedBy: APPROVER_VERIFIED_BY,
      approvalId,
      ...(reason !== undefined && { reason }),
    },
  });
  logger.info('approval gate answered', { executionArn, gate: pending.gate, verdict });
  return respond(200, { execution: executionArn, gate: pending.gate, verdict, ...approval });
}

/** The execution's ARN when it names (by ARN or by name) an execution of `stateMachineArn`. */
function executionArnOf(stateMachineArn: string, execution: string): string | undefined {
  const match = /^arn:([^:]+):states:([^:]+):([^:]+):stateMachine:([^:]+)$/.exec(stateMachineArn);
  if (match === null) return undefined;
  const [, partition, region, account, name] = match;
  const prefix = `arn:${partition}:states:${region}:${account}:execution:${name}:`;
  if (execution.startsWith('arn:')) {
    return execution.startsWith(prefix) &&
      execution.length > prefix.length &&
      !execution.slice(prefix.length).includes(':')
      ? execution
      : undefined;
  }
  return /^[A-Za-z0-9_.-]{1,80}$/.test(execution) ? `${prefix}${execution}` : undefined;
}

function parseBody(body: string | undefined, base64: boolean | undefined): unknown {
  if (body === undefined) return undefined;
  try {
    return JSON.parse(base64 === true ? Buffer.from(body, 'base64').toString('utf8') : body);
  } catch {
    return undefined;
  }
}

function respond(statusCode: number, body: Readonly<Record<string, unknown>>): FunctionUrlResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
