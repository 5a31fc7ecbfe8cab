// An approval gate of the rehearsal, answered the way production answers it. The gate's Task
// (`.waitForTaskToken`) invokes record-approval and waits; the operator's `meshtrust approve` (here:
// --approve auto, or the terminal with --approve manual) calls the approval endpoint, answer-approval,
// which Lambda invokes with the signer's verified IAM identity; answer-approval reads the waiting gate's
// token from the execution's history, writes the approval record to the lock table and sends the token
// back. Both functions run in their containers from their own bundles; the token's round trip goes
// through execution-history-proxy.ts and approval-gates.ts, and the record lands in moto's DynamoDB,
// where the real step after the gate (reissue-intermediate, retire-root) checks it.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApprovalAnswer } from '../lambdas/contract/approval.js';
import { type ApprovalGates, mintTaskToken } from './approval-gates.js';
import { RehearsalError } from './rehearsal-errors.js';

type Json = Record<string, unknown>;

/** answer-approval refused the operator's answer (not 200): the gate is left unanswered. */
export class ApprovalNotAnsweredError extends RehearsalError {
  readonly statusCode: number;
  constructor(state: string, statusCode: number, reason: string) {
    super(`the approval endpoint did not answer ${state}: ${statusCode} ${reason}`);
    this.name = 'ApprovalNotAnswered';
    this.statusCode = statusCode;
  }
}

export interface ApprovalGateTaskDeps {
  readonly gates: ApprovalGates;
  /** Invokes a function of the template in its container (FunctionPool.invoke). */
  readonly invoke: (logicalId: string, event: unknown) => Promise<unknown>;
  /** answer-approval's logical id; undefined when the stack has no approval endpoint. */
  readonly answerApproval: string | undefined;
  readonly approve: 'auto' | 'manual';
  /**
   * --approve auto: how long after the gate opened (record-approval returned) the operator answers it
   * (--approve-delay); meanwhile the execution waits in the gate, as it does for a slow operator, which
   * is what lets a chaos case kill a run there. @default 0
   */
  readonly answerDelayMs?: number;
  /** Stops the answer delay (the run is interrupted): the gate then ends unanswered. */
  readonly signal?: AbortSignal;
  /** --approve manual: asked for each gate; true approves, false rejects. */
  readonly askApproval?: (state: string) => Promise<boolean>;
  /** Whom the approval endpoint's caller is: the lab's operator identity, an assumed-role session ARN. */
  readonly approver: string;
}

/**
 * Runs one gate Task: `input` is its resolved Parameters (`{ FunctionName, Payload }`), `recordApproval`
 * the function it invokes. Returns the gate's result (what answer-approval sent with SendTaskSuccess)
 * or throws the error SendTaskFailure named (ApprovalRejected), as the Task would end in Step Functions.
 */
export async function runApprovalGate(
  deps: ApprovalGateTaskDeps,
  task: { readonly state: string; readonly resource: string; readonly recordApproval: string },
  input: unknown,
): Promise<unknown> {
  const parameters = (typeof input === 'object' && input !== null ? input : {}) as Json;
  const payload = (
    typeof parameters.Payload === 'object' && parameters.Payload !== null ? parameters.Payload : {}
  ) as Json;
  const executionArn = payload.executionId;
  if (typeof executionArn !== 'string') {
    throw new RehearsalError(`${task.state}: its payload names no executionId; is this an approval gate?`);
  }
  if (deps.answerApproval === undefined) {
    throw new RehearsalError(
      `${task.state} waits for an approval, but the stack has no approval endpoint (answer-approval) to answer it`,
    );
  }
  // Step Functions mints a token per Task; the local runner's `$$.Task.Token` is one string for the
  // whole run, so the gate's own goes where the definition put that one.
  const taskToken = mintTaskToken();
  const scheduled = { ...parameters, Payload: { ...payload, taskToken } };
  const gate = deps.gates.open({
    executionArn,
    state: task.state,
    resource: task.resource,
    parameters: JSON.stringify(scheduled),
    taskToken,
    scheduledAt: new Date(),
  });
  try {
    await deps.invoke(task.recordApproval, scheduled.Payload);
    if (deps.approve === 'auto' && (deps.answerDelayMs ?? 0) > 0) {
      await sleep(deps.answerDelayMs, undefined, deps.signal === undefined ? {} : { signal: deps.signal });
    }
    const approved = deps.approve === 'auto' ? true : ((await deps.askApproval?.(task.state)) ?? false);
    const answer: ApprovalAnswer = {
      execution: executionArn,
      verdict: approved ? 'approve' : 'reject',
      reason: `meshtrust rehearse --approve ${deps.approve}`,
    };
    const response = (await deps.invoke(
      deps.answerApproval,
      functionUrlRequest({ approver: deps.approver, answer, at: new Date() }),
    )) as { statusCode?: unknown; body?: unknown };
    if (response?.statusCode !== 200) {
      throw new ApprovalNotAnsweredError(task.state, Number(response?.statusCode), errorOf(response?.body));
    }
    const answered = gate.answer();
    if (answered === undefined) {
      throw new ApprovalNotAnsweredError(task.state, 200, 'it sent no answer to the waiting gate');
    }
    if (answered.kind === 'success') return JSON.parse(answered.output);
    const failure = new Error(answered.cause ?? '');
    failure.name = answered.error ?? 'States.TaskFailed';
    throw failure;
  } finally {
    gate.close();
  }
}

/**
 * The event Lambda hands a function behind a function URL with AWS_IAM auth (payload format 2.0) for
 * a signed `POST /` of `answer`: Lambda has checked the signature and put the signer's identity in
 * `requestContext.authorizer.iam`, as it does for `meshtrust approve`.
 */
export function functionUrlRequest(input: {
  readonly approver: string;
  readonly answer: ApprovalAnswer;
  readonly at: Date;
}): Json {
  const accountId = input.approver.split(':')[4] ?? '';
  const urlId = 'rehearsal';
  const domainName = `${urlId}.lambda-url.local.on.aws`;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      host: domainName,
      'user-agent': 'meshtrust rehearse',
    },
    requestContext: {
      accountId,
      apiId: urlId,
      authorizer: {
        iam: {
          accountId,
          userArn: input.approver,
          cognitoIdentity: null,
          principalOrgId: null,
        },
      },
      domainName,
      domainPrefix: urlId,
      http: {
        method: 'POST',
        path: '/',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'meshtrust rehearse',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: input.at.toUTCString(),
      timeEpoch: input.at.getTime(),
    },
    body: JSON.stringify(input.answer),
    isBase64Encoded: false,
  };
}

function errorOf(body: unknown): string {
  if (typeof body !== 'string') return '(no body)';
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    return typeof parsed.error === 'string' ? parsed.error : body;
  } catch {
    return body;
  }
}
