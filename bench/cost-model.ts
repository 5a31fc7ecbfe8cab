// The cost section's arithmetic, pure: an execution history and the synthesized template in, counts
// and dollars out. Prices come from bench/cost-prices.json (list prices written down by hand with their
// date and source, never fetched); bench/cost-bench.ts runs the rehearsals that give the histories.
import { definitionTasks } from '../rehearsal/definition-tasks.js';
import { childTaskName, distributedMapsOf } from '../rehearsal/distributed-map-definition.js';
import {
  type CfnTemplate,
  referencedLogicalIds,
  resolveDefinition,
} from '../rehearsal/resolve-definition.js';

export type Architecture = 'arm64' | 'x86_64';

interface Price {
  readonly usd: number;
  readonly per: string;
  readonly source: string;
}

export interface CostPrices {
  readonly region: string;
  /** The day the list prices were written down (YYYY-MM-DD). */
  readonly asOf: string;
  readonly note: string;
  readonly stepFunctionsStandardPerTransition: Price;
  readonly lambdaGbSecond: Omit<Price, 'usd'> & { readonly usd: Readonly<Record<Architecture, number>> };
  readonly lambdaRequest: Price;
  readonly secretsManagerSecretMonth: Price;
  readonly kmsKeyMonth: Price;
  readonly kmsSymmetricRequest: Price;
  readonly kmsAsymmetricRequest: Price;
  readonly cloudWatchAlarmMonth: Price;
  readonly cloudWatchDashboardMonth: Price;
  readonly cloudWatchLogsIngestionGb: Price;
  readonly dynamoDbOnDemandWrite: Price;
  readonly dynamoDbOnDemandRead: Price;
  readonly privateCaMonth: Price;
  readonly privateCaCertificate: Price;
}

/** A Lambda function as the template configures it. */
export interface FunctionConfig {
  readonly logicalId: string;
  readonly memoryMb: number;
  readonly architecture: Architecture;
}

/** One event of history.json, as aws-local-stepfunctions gives it (the fields priced here). */
export interface HistoryEvent {
  readonly type: string;
  readonly timestamp: number;
  readonly state?: { readonly name: string; readonly type?: string };
}

export interface FunctionUsage {
  readonly logicalId: string;
  readonly memoryMb: number;
  readonly architecture: Architecture;
  readonly invocations: number;
  /** Sum of the Task states' times from entered to exited or failed: the function's run time. */
  readonly durationMs: number;
  readonly gbSeconds: number;
}

export interface ExecutionUsage {
  /** Billed transitions of a Standard workflow: every state entered, and every retry. */
  readonly stateTransitions: number;
  readonly functions: readonly FunctionUsage[];
  readonly invocations: number;
  readonly gbSeconds: Readonly<Record<Architecture, number>>;
}

/** Each Lambda function of the template with its memory and architecture (the defaults: 128 MB, x86_64). */
export function functionConfigs(template: CfnTemplate): FunctionConfig[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([logicalId, resource]) => {
      const properties = resource.Properties ?? {};
      const architectures = properties.Architectures;
      return {
        logicalId,
        memoryMb: typeof properties.MemorySize === 'number' ? properties.MemorySize : 128,
        architecture:
          Array.isArray(architectures) && architectures[0] === 'arm64' ? 'arm64' : ('x86_64' as Architecture),
      };
    });
}

/** Task state name -> the function it invokes, from the template's state machine definition. */
export function taskFunctions(template: CfnTemplate): Map<string, FunctionConfig> {
  const configs = new Map(functionConfigs(template).map((config) => [config.logicalId, config]));
  const tasks = new Map<string, FunctionConfig>();
  for (const task of definitionTasks(definitionOf(template))) {
    const config = configs.get(task.functionArn.split(':').at(-1) ?? '');
    if (config !== undefined) tasks.set(task.state, config);
  }
  return tasks;
}

/**
 * The rehearsal's stand-in Tasks (`<map>-child`, distributed-map-definition.ts) in the parent's history
 * of a stack with Distributed Maps: the local engine's way of starting a child, not a state AWS runs or
 * bills.
 */
export function standInTasks(template: CfnTemplate): Set<string> {
  return new Set(distributedMapsOf(definitionOf(template)).map(({ map }) => childTaskName(map)));
}

/** The template's definition, each function ARN a stand-in that ends in the function's logical id. */
function definitionOf(template: CfnTemplate): Record<string, unknown> {
  const arns = Object.fromEntries(
    referencedLogicalIds(template).map((id) => [id, `arn:aws:lambda:us-east-1:123456789012:function:${id}`]),
  );
  return resolveDefinition(template, { arns });
}

/**
 * A whole rotation's usage: its execution and, on Distributed Maps, every child execution its Map Runs
 * started, each billed as a Standard execution of its own plus one transition for its start ("When you
 * use Map state in Distributed mode, you'll be charged one state transition for each child workflow
 * execution that the Distributed Map state starts": Step Functions Developer Guide, "Transitions");
 * the parent's stand-in Tasks left out.
 */
export function rotationUsage(input: {
  readonly history: readonly HistoryEvent[];
  readonly children: readonly (readonly HistoryEvent[])[];
  readonly tasks: ReadonlyMap<string, FunctionConfig>;
  readonly standIns: ReadonlySet<string>;
}): ExecutionUsage {
  const parent = input.history.filter((event) => !input.standIns.has(event.state?.name ?? ''));
  const usage = executionUsage([...parent, ...input.children.flat()], input.tasks);
  return { ...usage, stateTransitions: usage.stateTransitions + input.children.length };
}

const TASK_ENDS = new Set(['StateExited', 'StateFailed']);

/**
 * State transitions and Lambda time of one execution. Iterations of a Map enter the same state at
 * once, so starts and ends are not paired one by one: the sum of (end - start) over a state is the sum
 * of its ends minus the sum of its starts, however they pair. A start is a StateEntered or a
 * StateRetried (aws-local-stepfunctions writes StateFailed, then StateRetried after the backoff, with
 * no new StateEntered); an end is a StateExited or a StateFailed.
 */
export function executionUsage(
  history: readonly HistoryEvent[],
  tasks: ReadonlyMap<string, FunctionConfig>,
): ExecutionUsage {
  let stateTransitions = 0;
  const perFunction = new Map<string, { config: FunctionConfig; invocations: number; durationMs: number }>();
  const entry = (config: FunctionConfig) => {
    let found = perFunction.get(config.logicalId);
    if (found === undefined) {
      found = { config, invocations: 0, durationMs: 0 };
      perFunction.set(config.logicalId, found);
    }
    return found;
  };
  for (const event of history) {
    const isEntry = event.type === 'StateEntered';
    if (isEntry || event.type === 'StateRetried') stateTransitions += 1;
    const config = event.state === undefined ? undefined : tasks.get(event.state.name);
    if (config === undefined) continue;
    // A retry starts the Task again after the failure and its backoff: a new invocation from then on.
    const isStart = isEntry || event.type === 'StateRetried';
    if (isStart) {
      entry(config).durationMs -= event.timestamp;
      entry(config).invocations += 1;
    } else if (TASK_ENDS.has(event.type)) entry(config).durationMs += event.timestamp;
  }
  const functions = [...perFunction.values()]
    .map(({ config, invocations, durationMs }) => ({
      logicalId: config.logicalId,
      memoryMb: config.memoryMb,
      architecture: config.architecture,
      invocations,
      durationMs,
      gbSeconds: (config.memoryMb / 1024) * (durationMs / 1000),
    }))
    .sort((a, b) => a.logicalId.localeCompare(b.logicalId));
  const gbSeconds = { arm64: 0, x86_64: 0 };
  for (const fn of functions) gbSeconds[fn.architecture] += fn.gbSeconds;
  return {
    stateTransitions,
    functions,
    invocations: functions.reduce((sum, fn) => sum + fn.invocations, 0),
    gbSeconds,
  };
}

export interface RotationCost {
  readonly stateTransitionsUsd: number;
  readonly lambdaDurationUsd: number;
  readonly lambdaRequestsUsd: number;
  readonly logIngestionUsd: number;
  readonly totalUsd: number;
}

/** One execution's price: transitions, Lambda duration and requests, and the log bytes it wrote. */
export function priceRotation(usage: ExecutionUsage, logBytes: number, prices: CostPrices): RotationCost {
  const stateTransitionsUsd = usage.stateTransitions * prices.stepFunctionsStandardPerTransition.usd;
  const lambdaDurationUsd =
    usage.gbSeconds.arm64 * prices.lambdaGbSecond.usd.arm64 +
    usage.gbSeconds.x86_64 * prices.lambdaGbSecond.usd.x86_64;
  const lambdaRequestsUsd = usage.invocations * prices.lambdaRequest.usd;
  const logIngestionUsd = (logBytes / 1e9) * prices.cloudWatchLogsIngestionGb.usd;
  return {
    stateTransitionsUsd,
    lambdaDurationUsd,
    lambdaRequestsUsd,
    logIngestionUsd,
    totalUsd: stateTransitionsUsd + lambdaDurationUsd + lambdaRequestsUsd + logIngestionUsd,
  };
}

export interface StandingItem {
  readonly item: string;
  readonly count: number;
  readonly unitUsd: number;
  readonly monthlyUsd: number;
  /** Where the count comes from. */
  readonly from: string;
}

export interface StandingCost {
  readonly clusters: number;
  readonly items: readonly StandingItem[];
  readonly monthlyUsd: number;
  /**
   * Cacerts backups a run whose rollback failed leaves for the operator (one secret per cluster), per
   * month; every other run schedules its own for deletion (docs/workflow.md, "When the cacerts backups
   * are deleted").
   */
  readonly addedPerRotationMonthlyUsd: number;
}

function countOf(template: CfnTemplate, type: string): number {
  return Object.values(template.Resources ?? {}).filter((resource) => resource.Type === type).length;
}

/**
 * What a deployed mesh of `clusters` holds every month: the template's alarms, dashboard and KMS keys,
 * and what the design keeps at rest in Secrets Manager and KMS (the root secret, one intermediate
 * secret per cluster, the live root's KMS key). Log groups, the lock table, the SNS topic and the
 * schedules cost by use only (ingestion, requests), not by existing; their use is in the rotation price.
 */
export function standingCost(template: CfnTemplate, clusters: number, prices: CostPrices): StandingCost {
  const item = (name: string, count: number, unitUsd: number, from: string): StandingItem => ({
    item: name,
    count,
    unitUsd,
    monthlyUsd: count * unitUsd,
    from,
  });
  const items = [
    item(
      'Secrets Manager secrets',
      1 + clusters,
      prices.secretsManagerSecretMonth.usd,
      `design: the root secret and one intermediate secret per cluster (${clusters})`,
    ),
    item(
      'KMS keys (stack)',
      countOf(template, 'AWS::KMS::Key'),
      prices.kmsKeyMonth.usd,
      'template: AWS::KMS::Key (CA store key, audit key)',
    ),
    item(
      'KMS key (live root, asymmetric)',
      1,
      prices.kmsKeyMonth.usd,
      'design: one root key at rest; a retired root key is scheduled for deletion',
    ),
    item(
      'CloudWatch alarms',
      countOf(template, 'AWS::CloudWatch::Alarm'),
      prices.cloudWatchAlarmMonth.usd,
      'template: AWS::CloudWatch::Alarm',
    ),
    item(
      'CloudWatch dashboard',
      countOf(template, 'AWS::CloudWatch::Dashboard'),
      prices.cloudWatchDashboardMonth.usd,
      'template: AWS::CloudWatch::Dashboard (free if among the first 3 of the account)',
    ),
    item(
      'CloudWatch log groups',
      countOf(template, 'AWS::Logs::LogGroup'),
      0,
      'template: AWS::Logs::LogGroup; ingestion is priced per rotation, storage not counted',
    ),
    item(
      'DynamoDB lock table (on demand)',
      countOf(template, 'AWS::DynamoDB::Table'),
      0,
      'template: AWS::DynamoDB::Table, PAY_PER_REQUEST; one item, requests only',
    ),
  ];
  return {
    clusters,
    items,
    monthlyUsd: items.reduce((sum, entry) => sum + entry.monthlyUsd, 0),
    addedPerRotationMonthlyUsd: clusters * prices.secretsManagerSecretMonth.usd,
  };
}

export interface PrivateCaCost {
  readonly cas: number;
  readonly monthlyUsd: number;
  /** The subordinate CA certificates a rotation issues. */
  readonly perRotationUsd: number;
}

/** AWS Private CA in general-purpose mode: a root and one subordinate CA per cluster. */
export function privateCaCost(subordinates: number, prices: CostPrices): PrivateCaCost {
  const cas = 1 + subordinates;
  return {
    cas,
    monthlyUsd: cas * prices.privateCaMonth.usd,
    perRotationUsd: subordinates * prices.privateCaCertificate.usd,
  };
}
