// Step Functions as the rehearsal's functions see it. moto stores the rehearsal's executions but runs
// none (aws-local-stepfunctions does): it can only mark them ABORTED, and it answers every
// GetExecutionHistory with a fixed sample. A resumed rollback's acquire-lock reads the run it resumes
// (DescribeExecution, GetExecutionHistory) and refuses unless it ended as the input says, so the
// functions reach moto through this proxy, which answers those two calls for the executions the
// rehearsal ran, from what the local runner recorded, and passes every other request to moto as it came.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { forwardRequest, listenOnLoopback } from '../lab/loopback-proxy.js';

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

const ANSWERED = new Set(['AWSStepFunctions.DescribeExecution', 'AWSStepFunctions.GetExecutionHistory']);

export async function startExecutionHistoryProxy(options: {
  /** Where every other request goes: moto_server, or the AWS fault proxy in front of it. */
  readonly target: string;
  readonly recorded: (executionArn: string) => RecordedExecution | undefined;
}): Promise<ExecutionHistoryProxy> {
  const target = new URL(options.target);
  const server = createServer((req, res) => {
    const action = String(req.headers['x-amz-target'] ?? '');
    if (!ANSWERED.has(action)) {
      forwardRequest(target, req, res);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      const body = Buffer.concat(chunks);
      const asked = parseBody(body);
      const execution =
        typeof asked.executionArn === 'string' ? options.recorded(asked.executionArn) : undefined;
      if (execution === undefined) {
        forwardRequest(target, req, res, body);
        return;
      }
      const answer =
        action === 'AWSStepFunctions.DescribeExecution'
          ? describeAnswer(execution)
          : historyAnswer(execution, asked.reverseOrder === true, asked.maxResults);
      sendJson(req, res, answer);
    });
  });
  return listenOnLoopback(server);
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

/** Every event on one page (no nextToken), newest first when asked, at most maxResults. */
function historyAnswer(
  execution: RecordedExecution,
  reverse: boolean,
  maxResults: unknown,
): Record<string, unknown> {
  const events = execution.events.map((event, index) => ({
    id: index + 1,
    ...(index > 0 && { previousEventId: index }),
    type: event.type,
    timestamp: seconds(event.timestamp),
    stateEnteredEventDetails: event.stateEnteredEventDetails,
  }));
  const ordered = reverse ? events.reverse() : events;
  const max = typeof maxResults === 'number' && maxResults > 0 ? maxResults : ordered.length;
  return { events: ordered.slice(0, max) };
}

function parseBody(body: Buffer): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body.toString('utf8') || '{}');
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function sendJson(req: IncomingMessage, res: ServerResponse, answer: Record<string, unknown>): void {
  const body = JSON.stringify(answer);
  res
    .writeHead(200, {
      'x-amzn-requestid': randomUUID(),
      'content-type': req.headers['content-type'] ?? 'application/x-amz-json-1.0',
      'content-length': Buffer.byteLength(body),
    })
    .end(body);
}
