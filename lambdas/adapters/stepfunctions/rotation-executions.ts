import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  DescribeMapRunCommand,
  type ExecutionListItem,
  type ExecutionStatus,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  type ListExecutionsCommandInput,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { ExecutionAlreadyRunningError } from './stepfunctions-errors.js';

/** An execution as the CLI shows it: no input or output payloads beyond what is asked for. */
export interface ExecutionSummary {
  readonly executionArn: string;
  readonly name: string;
  readonly status: ExecutionStatus | string;
  readonly startDate?: Date;
  readonly stopDate?: Date;
}

export interface ExecutionDetail extends ExecutionSummary {
  /** The execution input (JSON text): mode, cluster, reason, requestedBy. */
  readonly input?: string;
  readonly error?: string;
  readonly cause?: string;
}

/** A Distributed Map's Map Run as DescribeMapRun tells it: its status and how many items are where. */
export interface MapRunDetail {
  readonly mapRunArn: string;
  /** RUNNING, SUCCEEDED, FAILED or ABORTED. */
  readonly status: string;
  readonly itemCounts: {
    readonly pending: number;
    readonly running: number;
    readonly succeeded: number;
    readonly failed: number;
    readonly timedOut: number;
    readonly aborted: number;
    readonly total: number;
  };
}

/** The execution history's events (oldest first); at most this many are read. */
const MAX_HISTORY_EVENTS = 25_000;

/**
 * The operator's side of the rotation state machine: start an execution (refusing while one runs),
 * follow it, list past ones, read its history, and answer an approval gate with its task token.
 */
export class RotationExecutions {
  private readonly client: SFNClient;

  constructor(props: { readonly client: SFNClient }) {
    this.client = props.client;
  }

  /** Starts an execution unless one is RUNNING (ExecutionAlreadyRunningError names it). */
  async start(input: {
    readonly stateMachineArn: string;
    readonly name: string;
    readonly input: Readonly<Record<string, unknown>>;
  }): Promise<{ readonly executionArn: string; readonly startDate?: Date }> {
    const [running] = await this.list(input.stateMachineArn, { status: 'RUNNING', max: 1 });
    if (running !== undefined) {
      throw new ExecutionAlreadyRunningError(
        `execution ${running.name} of the rotation is still running (started ${running.startDate?.toISOString() ?? '?'}); ` +
          'one rotation at a time: follow it with `meshtrust status`, or let it finish or roll back, then start again',
        running.executionArn,
      );
    }
    const started = await this.client.send(
      new StartExecutionCommand({
        stateMachineArn: input.stateMachineArn,
        name: input.name,
        input: JSON.stringify(input.input),
      }),
    );
    return {
      executionArn: started.executionArn as string,
      ...(started.startDate !== undefined && { startDate: started.startDate }),
    };
  }

  async describe(executionArn: string): Promise<ExecutionDetail> {
    const answer: DescribeExecutionCommandOutput = await this.client.send(
      new DescribeExecutionCommand({ executionArn }),
    );
    return {
      executionArn,
      name: answer.name ?? executionArn.split(':').pop() ?? executionArn,
      status: answer.status ?? 'UNKNOWN',
      ...(answer.startDate !== undefined && { startDate: answer.startDate }),
      ...(answer.stopDate !== undefined && { stopDate: answer.stopDate }),
      ...(answer.input !== undefined && { input: answer.input }),
      ...(answer.error !== undefined && { error: answer.error }),
      ...(answer.cause !== undefined && { cause: answer.cause }),
    };
  }

  /**
   * Like describe, but undefined for an execution Step Functions does not know (ExecutionDoesNotExist:
   * never started, or closed more than 90 days ago).
   */
  async describeIfExists(executionArn: string): Promise<ExecutionDetail | undefined> {
    try {
      return await this.describe(executionArn);
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return undefined;
      throw error;
    }
  }

  /** Executions, newest first (as Step Functions lists them), optionally only those with `status`. */
  async list(
    stateMachineArn: string,
    options: { readonly status?: ExecutionStatus; readonly max?: number } = {},
  ): Promise<ExecutionSummary[]> {
    return this.listPages(
      { stateMachineArn, ...(options.status !== undefined && { statusFilter: options.status }) },
      options.max ?? 100,
      100,
    );
  }

  /** A Map Run's status and item counts. */
  async describeMapRun(mapRunArn: string): Promise<MapRunDetail> {
    const answer = await this.client.send(new DescribeMapRunCommand({ mapRunArn }));
    const counts = answer.itemCounts;
    return {
      mapRunArn,
      status: answer.status ?? 'UNKNOWN',
      itemCounts: {
        pending: counts?.pending ?? 0,
        running: counts?.running ?? 0,
        succeeded: counts?.succeeded ?? 0,
        failed: counts?.failed ?? 0,
        timedOut: counts?.timedOut ?? 0,
        aborted: counts?.aborted ?? 0,
        total: counts?.total ?? 0,
      },
    };
  }

  /** Every child execution a Map Run started (ListExecutions by mapRunArn), as Step Functions lists them. */
  async mapRunChildren(mapRunArn: string): Promise<ExecutionSummary[]> {
    return this.listPages({ mapRunArn }, Number.POSITIVE_INFINITY, 1000);
  }

  /** ListExecutions, page after page, until `max` executions or the last page. */
  private async listPages(
    filter: Pick<ListExecutionsCommandInput, 'stateMachineArn' | 'mapRunArn' | 'statusFilter'>,
    max: number,
    pageSize: number,
  ): Promise<ExecutionSummary[]> {
    const found: ExecutionSummary[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListExecutionsCommand({
          ...filter,
          maxResults: Math.min(pageSize, max - found.length),
          ...(nextToken !== undefined && { nextToken }),
        }),
      );
      found.push(...(page.executions ?? []).map(summaryOf));
      nextToken = page.nextToken;
    } while (nextToken !== undefined && found.length < max);
    return found.slice(0, max);
  }

  /** Every history event, oldest first. */
  async history(executionArn: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new GetExecutionHistoryCommand({
          executionArn,
          maxResults: 1000,
          ...(nextToken !== undefined && { nextToken }),
        }),
      );
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken !== undefined && events.length < MAX_HISTORY_EVENTS);
    return events;
  }

  /**
   * The newest `max` history events, newest first: how an execution ended (its last state's input is
   * the state it ended with) without reading a long history from the start.
   */
  async latestHistory(executionArn: string, max = 20): Promise<HistoryEvent[]> {
    const page = await this.client.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: max, reverseOrder: true }),
    );
    return page.events ?? [];
  }

  /** Answers an approval gate: the run goes on. The token is a capability: never log it. */
  async approve(taskToken: string, approval: Readonly<Record<string, unknown>>): Promise<void> {
    await this.client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(approval) }));
  }

  /** Refuses an approval gate: the task fails with `error`, and the run rolls back. */
  async reject(taskToken: string, error: string, cause: string): Promise<void> {
    await this.client.send(new SendTaskFailureCommand({ taskToken, error, cause }));
  }
}

function summaryOf(item: ExecutionListItem): ExecutionSummary {
  return {
    executionArn: item.executionArn as string,
    name: item.name ?? '',
    status: item.status ?? 'UNKNOWN',
    ...(item.startDate !== undefined && { startDate: item.startDate }),
    ...(item.stopDate !== undefined && { stopDate: item.stopDate }),
  };
}
