// Step Functions for the CLI's reads of a Distributed Map, which moto does not implement (its
// ListMapRuns answers [] and it keeps no Map Run): a loopback server speaking the JSON protocol
// (X-Amz-Target `AWSStepFunctions.<Action>`, dates as epoch seconds) with the shapes of the Step
// Functions API Reference: DescribeExecution, GetExecutionHistory, DescribeMapRun (`itemCounts`) and
// ListExecutions by `mapRunArn`, which pages a few children at a time with a nextToken, as AWS may.
// It answers what the test gives it and counts each request, so a test can see which children were read.
import { createServer } from 'node:http';
import { listenOnLoopback } from '../../lab/loopback-proxy.js';

export interface StandExecution {
  readonly executionArn: string;
  readonly name: string;
  readonly status: string;
  readonly input: Record<string, unknown>;
  readonly error?: string;
  readonly cause?: string;
  readonly mapRunArn?: string;
  /** History events as GetExecutionHistory returns them (ids and timestamps added). */
  readonly events?: readonly Record<string, unknown>[];
}

export interface StandMapRun {
  readonly mapRunArn: string;
  readonly executionArn: string;
  readonly status: string;
  /** Items not yet started: the children list only started ones. */
  readonly pending: number;
}

export interface MapRunStand {
  readonly endpoint: string;
  /** How many times each action was asked about each ARN: `DescribeExecution <arn>`. */
  readonly asked: Map<string, number>;
  /** Actions answered with AccessDeniedException, as a role without them would be. */
  readonly denied: Set<string>;
  stop(): Promise<void>;
}

const PAGE = 2;
const seconds = (at: Date) => at.getTime() / 1000;

export async function startMapRunStand(
  executions: readonly StandExecution[],
  mapRuns: readonly StandMapRun[],
): Promise<MapRunStand> {
  const asked = new Map<string, number>();
  const denied = new Set<string>();
  const at = new Date('2026-03-10T09:00:00Z');
  const byArn = new Map(executions.map((execution) => [execution.executionArn, execution]));
  const answer = (action: string, body: Record<string, unknown>): [number, Record<string, unknown>] => {
    const arn = String(body.executionArn ?? body.mapRunArn ?? body.stateMachineArn ?? '');
    const key = `${action} ${arn}`;
    asked.set(key, (asked.get(key) ?? 0) + 1);
    if (denied.has(action)) {
      return [
        400,
        { __type: 'AccessDeniedException', message: `not authorized to perform states:${action}` },
      ];
    }
    switch (action) {
      case 'DescribeExecution': {
        const execution = byArn.get(arn);
        if (execution === undefined) {
          return [400, { __type: 'ExecutionDoesNotExist', message: `Execution Does Not Exist: '${arn}'` }];
        }
        return [
          200,
          {
            executionArn: arn,
            stateMachineArn: arn.replace(':execution:', ':stateMachine:').replace(/:[^:]*$/, ''),
            name: execution.name,
            status: execution.status,
            startDate: seconds(at),
            ...(execution.status !== 'RUNNING' && { stopDate: seconds(at) + 60 }),
            input: JSON.stringify(execution.input),
            ...(execution.error !== undefined && { error: execution.error }),
            ...(execution.cause !== undefined && { cause: execution.cause }),
            ...(execution.mapRunArn !== undefined && { mapRunArn: execution.mapRunArn }),
          },
        ];
      }
      case 'GetExecutionHistory': {
        const events = (byArn.get(arn)?.events ?? []).map((event, index) => ({
          id: index + 1,
          ...(index > 0 && { previousEventId: index }),
          timestamp: seconds(at) + index,
          ...event,
        }));
        return [200, { events }];
      }
      case 'DescribeMapRun': {
        const run = mapRuns.find((candidate) => candidate.mapRunArn === arn);
        if (run === undefined) {
          return [400, { __type: 'ResourceNotFound', message: `Resource not found: '${arn}'` }];
        }
        const children = executions.filter((execution) => execution.mapRunArn === arn);
        const count = (status: string) => children.filter((child) => child.status === status).length;
        const counts = {
          pending: run.pending,
          running: count('RUNNING'),
          succeeded: count('SUCCEEDED'),
          failed: count('FAILED'),
          timedOut: count('TIMED_OUT'),
          aborted: count('ABORTED'),
          total: children.length + run.pending,
          resultsWritten: 0,
        };
        return [
          200,
          {
            mapRunArn: arn,
            executionArn: run.executionArn,
            status: run.status,
            startDate: seconds(at),
            maxConcurrency: 4,
            toleratedFailurePercentage: 0,
            toleratedFailureCount: 0,
            itemCounts: counts,
            executionCounts: counts,
          },
        ];
      }
      case 'ListExecutions': {
        if (typeof body.mapRunArn !== 'string')
          return [400, { __type: 'InvalidArn', message: 'stand: mapRunArn only' }];
        const children = executions.filter((execution) => execution.mapRunArn === arn);
        const from = Number(body.nextToken ?? 0);
        const page = children.slice(from, from + PAGE);
        return [
          200,
          {
            executions: page.map((child) => ({
              executionArn: child.executionArn,
              stateMachineArn: child.executionArn
                .replace(':execution:', ':stateMachine:')
                .replace(/:[^:]*$/, ''),
              name: child.name,
              status: child.status,
              startDate: seconds(at),
              mapRunArn: arn,
              itemCount: 1,
            })),
            ...(from + PAGE < children.length && { nextToken: String(from + PAGE) }),
          },
        ];
      }
      default:
        return [400, { __type: 'UnknownOperationException', message: `stand: ${action} is not answered` }];
    }
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      const action = String(req.headers['x-amz-target'] ?? '').replace(/^AWSStepFunctions\./, '');
      const [status, body] = answer(action, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
      const text = JSON.stringify(body);
      res
        .writeHead(status, {
          'content-type': 'application/x-amz-json-1.0',
          'content-length': Buffer.byteLength(text),
          ...(typeof body.__type === 'string' && { 'x-amzn-errortype': body.__type }),
        })
        .end(text);
    });
  });
  const listening = await listenOnLoopback(server);
  return { ...listening, asked, denied };
}
