// Step Functions as the rehearsal's functions see it. moto stores the rehearsal's executions but runs
// none (aws-local-stepfunctions does): it can only mark them ABORTED, it answers every
// GetExecutionHistory with a fixed sample, and it knows no task token. So the functions reach moto
// through this proxy, which answers for the executions the rehearsal runs, from what the local runner
// recorded, and passes every other request to moto as it came:
// - an execution that has ended: DescribeExecution (its real end) and GetExecutionHistory (its
//   `<Type>StateEntered` events), which a resumed rollback's acquire-lock reads;
// - an execution waiting at an approval gate (approval-gates.ts): DescribeExecution says RUNNING and
//   GetExecutionHistory holds the gate's TaskScheduled event with its task token, which answer-approval
//   reads; SendTaskSuccess/SendTaskFailure with that token answer the gate, any other token is refused
//   as Step Functions refuses it.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { forwardRequest, listenOnLoopback } from '../lab/loopback-proxy.js';
import type { ApprovalGates, GateAnswer, OpenGate } from './approval-gates.js';

/** One execution the rehearsal ran, as DescribeExecution and GetExecutionHistory would tell it. */
export interface RecordedExecution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  /** SUCCEEDED, FAILED, ABORTED (TIMED_OUT is not rehearsed). */
  readonly status: string;
  readonly error?: string;
  readonly cause?: string;
  readonly startDate: Date;
  readonly stopDate: Date;
  /** `<Type>StateEntered` events, oldest first, with the state's name and input (JSON text). */
  readonly events: readonly {
    readonly type: string;
    readonly timestamp: Date;
    readonly stateEnteredEventDetails: { readonly name: string; readonly input: string };
  }[];
}

export interface ExecutionHistoryProxy {
  /** http://127.0.0.1:<port>: what the functions get as AWS_ENDPOINT_URL. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

const DESCRIBE = 'AWSStepFunctions.DescribeExecution';
const HISTORY = 'AWSStepFunctions.GetExecutionHistory';
const SEND_SUCCESS = 'AWSStepFunctions.SendTaskSuccess';
const SEND_FAILURE = 'AWSStepFunctions.SendTaskFailure';
const ANSWERED = new Set([DESCRIBE, HISTORY, SEND_SUCCESS, SEND_FAILURE]);

/** What the rehearsal knows of Step Functions beyond moto. */
export interface StepFunctionsSources {
  readonly recorded: (executionArn: string) => RecordedExecution | undefined;
  /** The gates the run waits at; without them, task responses go to moto (which knows no token). */
  readonly gates?: ApprovalGates;
  /**
   * Called with the gate a SendTaskSuccess/SendTaskFailure answers, before the gate takes the answer;
   * the answer waits until it resolves (gate-answer-hold.ts: a kill point for the chaos runner).
   */
  readonly holdTaskAnswer?: (gate: OpenGate) => Promise<void>;
}

/** An answer in the JSON protocol: 200 with the output, or 400 with an error code and message. */
export interface StepFunctionsAnswer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

export async function startExecutionHistoryProxy(
  options: StepFunctionsSources & {
    /** Where every other request goes: moto_server, or the AWS fault proxy in front of it. */
    readonly target: string;
  },
): Promise<ExecutionHistoryProxy> {
  const target = new URL(options.target);
  const server = createServer((req, res) => {
    const action = String(req.headers['x-amz-target'] ?? '');
    if (!ANSWERED.has(action)) {
      forwardRequest(target, req, res);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', async () => {
      const body = Buffer.concat(chunks);
      const asked = parseBody(body);
      const held = heldGate(action, asked, options);
      if (held !== undefined) await options.holdTaskAnswer?.(held);
      const answer = answerStepFunctions(action, asked, options);
      if (answer === undefined) forwardRequest(target, req, res, body);
      else sendJson(req, res, answer);
    });
  });
  return listenOnLoopback(server);
}

/** The waiting gate a task response answers, when the run holds such answers (holdTaskAnswer). */
function heldGate(
  action: string,
  asked: Readonly<Record<string, unknown>>,
  sources: StepFunctionsSources,
): OpenGate | undefined {
  if (sources.holdTaskAnswer === undefined || (action !== SEND_SUCCESS && action !== SEND_FAILURE)) {
    return undefined;
  }
  return sources.gates?.waitingWith(asked.taskToken);
}

/**
 * The proxy's answer to one Step Functions request (`action` is its X-Amz-Target, `asked` its body),
 * or undefined when moto answers it.
 */
export function answerStepFunctions(
  action: string,
  asked: Readonly<Record<string, unknown>>,
  sources: StepFunctionsSources,
): StepFunctionsAnswer | undefined {
  if (action === SEND_SUCCESS || action === SEND_FAILURE) {
    return sources.gates === undefined ? undefined : taskResponseAnswer(action, asked, sources.gates);
  }
  if (action !== DESCRIBE && action !== HISTORY) return undefined;
  const executionArn = typeof asked.executionArn === 'string' ? asked.executionArn : undefined;
  if (executionArn === undefined) return undefined;
  const ended = sources.recorded(executionArn);
  if (ended !== undefined) {
    return ok(
      action === DESCRIBE
        ? describeAnswer(ended)
        : pageOf(historyEvents(ended), asked.reverseOrder === true, asked.maxResults),
    );
  }
  const gate = sources.gates?.waitingIn(executionArn);
  if (gate === undefined) return undefined;
  const startDate = sources.gates?.startOf(executionArn);
  return ok(
    action === DESCRIBE
      ? waitingDescribeAnswer(gate, startDate)
      : pageOf(waitingHistoryEvents(gate, startDate), asked.reverseOrder === true, asked.maxResults),
  );
}

/** Dates as the JSON protocol sends them: epoch seconds. */
const seconds = (date: Date) => date.getTime() / 1000;

function describeAnswer(execution: RecordedExecution): Record<string, unknown> {
  return {
    executionArn: execution.executionArn,
    stateMachineArn: execution.stateMachineArn,
    name: execution.name,
    status: execution.status,
    startDate: seconds(execution.startDate),
    stopDate: seconds(execution.stopDate),
    ...(execution.error !== undefined && { error: execution.error }),
    ...(execution.cause !== undefined && { cause: execution.cause }),
  };
}

/** An ended execution's events as recorded, with ids. */
function historyEvents(execution: RecordedExecution): Record<string, unknown>[] {
  return withIds(
    execution.events.map((event) => ({
      type: event.type,
      timestamp: seconds(event.timestamp),
      stateEnteredEventDetails: event.stateEnteredEventDetails,
    })),
  );
}

/** An execution waiting at a gate, as DescribeExecution tells it: RUNNING. */
function waitingDescribeAnswer(gate: OpenGate, startDate: Date | undefined): Record<string, unknown> {
  return {
    executionArn: gate.executionArn,
    stateMachineArn: stateMachineArnOf(gate.executionArn),
    name: gate.executionArn.split(':').pop(),
    status: 'RUNNING',
    ...(startDate !== undefined && { startDate: seconds(startDate) }),
  };
}

/**
 * The history of an execution waiting at a gate, as Step Functions records a `.waitForTaskToken`
 * Lambda Task: entered, scheduled (the resolved Parameters, token included), started, submitted, and
 * nothing after. The states before the gate are left out: nothing that reads a waiting run's history
 * (answer-approval) looks further back than its last Task.
 */
function waitingHistoryEvents(gate: OpenGate, startDate: Date | undefined): Record<string, unknown>[] {
  const at = seconds(gate.scheduledAt);
  const resource = gate.resource.replace(/^arn:[^:]+:states:::/, '');
  const colon = resource.indexOf(':');
  const task = { resourceType: resource.slice(0, colon), resource: resource.slice(colon + 1) };
  return withIds([
    { type: 'ExecutionStarted', timestamp: seconds(startDate ?? gate.scheduledAt) },
    { type: 'TaskStateEntered', timestamp: at, stateEnteredEventDetails: { name: gate.state } },
    {
      type: 'TaskScheduled',
      timestamp: at,
      taskScheduledEventDetails: {
        ...task,
        region: gate.executionArn.split(':')[3],
        parameters: gate.parameters,
      },
    },
    { type: 'TaskStarted', timestamp: at, taskStartedEventDetails: task },
    { type: 'TaskSubmitted', timestamp: at, taskSubmittedEventDetails: task },
  ]);
}

function withIds(events: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return events.map((event, index) => ({
    id: index + 1,
    ...(index > 0 && { previousEventId: index }),
    ...event,
  }));
}

/** Every event on one page (no nextToken), newest first when asked, at most maxResults. */
function pageOf(
  events: Record<string, unknown>[],
  reverse: boolean,
  maxResults: unknown,
): Record<string, unknown> {
  const ordered = reverse ? events.reverse() : events;
  const max = typeof maxResults === 'number' && maxResults > 0 ? maxResults : ordered.length;
  return { events: ordered.slice(0, max) };
}

/** SendTaskSuccess/SendTaskFailure: the gate answered, or the error Step Functions gives. */
function taskResponseAnswer(
  action: string,
  asked: Readonly<Record<string, unknown>>,
  gates: ApprovalGates,
): StepFunctionsAnswer {
  let answer: GateAnswer;
  if (action === SEND_SUCCESS) {
    const output = asked.output;
    if (typeof output !== 'string' || !isJson(output)) {
      return error('InvalidOutput', 'Invalid Output: the output is not valid JSON');
    }
    answer = { kind: 'success', output };
  } else {
    answer = {
      kind: 'failure',
      ...(typeof asked.error === 'string' && { error: asked.error }),
      ...(typeof asked.cause === 'string' && { cause: asked.cause }),
    };
  }
  // Step Functions' own messages; none repeats the token.
  switch (gates.respond(asked.taskToken, answer)) {
    case 'answered':
      return ok({});
    case 'InvalidToken':
      return error('InvalidToken', "Invalid Token: 'Invalid token'");
    case 'TaskDoesNotExist':
      return error('TaskDoesNotExist', 'Task does not exist');
    case 'TaskTimedOut':
      return error('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
  }
}

function stateMachineArnOf(executionArn: string): string {
  return executionArn.replace(':execution:', ':stateMachine:').replace(/:[^:]*$/, '');
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const ok = (body: Record<string, unknown>): StepFunctionsAnswer => ({ status: 200, body });
const error = (type: string, message: string): StepFunctionsAnswer => ({
  status: 400,
  body: { __type: type, message },
});

function parseBody(body: Buffer): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body.toString('utf8') || '{}');
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function sendJson(req: IncomingMessage, res: ServerResponse, answer: StepFunctionsAnswer): void {
  const body = JSON.stringify(answer.body);
  const type = answer.body.__type;
  res
    .writeHead(answer.status, {
      'x-amzn-requestid': randomUUID(),
      ...(typeof type === 'string' && { 'x-amzn-errortype': type }),
      'content-type': req.headers['content-type'] ?? 'application/x-amz-json-1.0',
      'content-length': Buffer.byteLength(body),
    })
    .end(body);
}
