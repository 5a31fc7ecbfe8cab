// The cost section's arithmetic from a small template and history given here: which function each
// Task state invokes, how many transitions and GB-seconds an execution makes, and what they cost.
import { readFileSync } from 'node:fs';
import {
  type CostPrices,
  executionUsage,
  type FunctionConfig,
  functionConfigs,
  type HistoryEvent,
  priceRotation,
  privateCaCost,
  rotationUsage,
  standInTasks,
  standingCost,
  taskFunctions,
} from '../../../bench/cost-model.js';
import type { CfnTemplate } from '../../../rehearsal/resolve-definition.js';

const PRICES = JSON.parse(
  readFileSync(new URL('../../../bench/cost-prices.json', import.meta.url), 'utf8'),
) as CostPrices;

const DEFINITION = {
  StartAt: 'acquire-lock',
  States: {
    'acquire-lock': {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: '@@LockFn@@' },
      Next: 'distribute-bundle',
    },
    'distribute-bundle': {
      Type: 'Map',
      ItemProcessor: {
        StartAt: 'distribute-bundle-in-cluster',
        States: {
          'distribute-bundle-in-cluster': {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: '@@DistributeFn@@' },
            End: true,
          },
        },
      },
      Next: 'done',
    },
    done: { Type: 'Succeed' },
  },
};

/** A template of the two functions, its state machine's definition `definition`, and a few priced resources. */
function templateWith(definition: object): CfnTemplate {
  return {
    Resources: {
      LockFn: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 512, Architectures: ['arm64'] } },
      DistributeFn: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 1024 } },
      Machine: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: {
          DefinitionString: {
            'Fn::Join': [
              '',
              JSON.stringify(definition)
                .split(/(@@\w+@@)/)
                .map((part) => {
                  const id = /^@@(\w+)@@$/.exec(part)?.[1];
                  return id === undefined ? part : { 'Fn::GetAtt': [id, 'Arn'] };
                }),
            ],
          },
        },
      },
      Key: { Type: 'AWS::KMS::Key' },
      AlarmA: { Type: 'AWS::CloudWatch::Alarm' },
      AlarmB: { Type: 'AWS::CloudWatch::Alarm' },
      Logs: { Type: 'AWS::Logs::LogGroup' },
    },
  };
}

const TEMPLATE = templateWith(DEFINITION);

/** The same state machine with `distribute-bundle` a Distributed Map: one child execution per item. */
const DISTRIBUTED_TEMPLATE = templateWith({
  ...DEFINITION,
  States: {
    ...DEFINITION.States,
    'distribute-bundle': {
      ...DEFINITION.States['distribute-bundle'],
      ItemProcessor: {
        ...DEFINITION.States['distribute-bundle'].ItemProcessor,
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
      },
    },
  },
});

const LOCK: FunctionConfig = { logicalId: 'LockFn', memoryMb: 512, architecture: 'arm64' };
const DISTRIBUTE: FunctionConfig = { logicalId: 'DistributeFn', memoryMb: 1024, architecture: 'x86_64' };

function state(type: string, timestamp: number, name: string): HistoryEvent {
  return { type, timestamp, state: { name } };
}

/**
 * acquire-lock for 1 s, then two Map iterations side by side: one of 4 s, one failing after 0.5 s and
 * retried after a 0.5 s backoff for 1.5 s more (as aws-local-stepfunctions writes a retry).
 */
const HISTORY: HistoryEvent[] = [
  { type: 'ExecutionStarted', timestamp: 0 },
  state('StateEntered', 0, 'acquire-lock'),
  state('StateExited', 1000, 'acquire-lock'),
  state('StateEntered', 1000, 'distribute-bundle'),
  { type: 'MapIterationStarted', timestamp: 1000 },
  state('StateEntered', 1000, 'distribute-bundle-in-cluster'),
  { type: 'MapIterationStarted', timestamp: 1000 },
  state('StateEntered', 1000, 'distribute-bundle-in-cluster'),
  state('StateFailed', 1500, 'distribute-bundle-in-cluster'),
  state('StateRetried', 2000, 'distribute-bundle-in-cluster'),
  state('StateExited', 3500, 'distribute-bundle-in-cluster'),
  state('StateExited', 5000, 'distribute-bundle-in-cluster'),
  state('StateExited', 5000, 'distribute-bundle'),
  state('StateEntered', 5000, 'done'),
  state('StateExited', 5000, 'done'),
  { type: 'ExecutionSucceeded', timestamp: 5000 },
];

describe('functionConfigs and taskFunctions', () => {
  it("reads each function's memory and architecture, with Lambda's defaults where the template is silent", () => {
    // Act
    const configs = functionConfigs(TEMPLATE);

    // Assess
    expect(configs).toEqual([LOCK, DISTRIBUTE]);
  });

  it('maps each Task state, those inside a Map included, to the function it invokes', () => {
    // Act
    const tasks = taskFunctions(TEMPLATE);

    // Assess
    expect(Object.fromEntries(tasks)).toEqual({
      'acquire-lock': LOCK,
      'distribute-bundle-in-cluster': DISTRIBUTE,
    });
  });
});

describe('executionUsage', () => {
  it('counts every state entered and every retry as a transition, and Task time per function', () => {
    // Act
    const usage = executionUsage(HISTORY, taskFunctions(TEMPLATE));

    // Assess: 5 states entered + 1 retry; distribute-bundle ran 0.5 + 1.5 + 4 s at 1 GB (the backoff
    // apart), acquire-lock 1 s at 0.5 GB.
    expect(usage.stateTransitions).toBe(6);
    expect(usage.invocations).toBe(4);
    expect(usage.functions).toEqual([
      { ...DISTRIBUTE, invocations: 3, durationMs: 6000, gbSeconds: 6 },
      { ...LOCK, invocations: 1, durationMs: 1000, gbSeconds: 0.5 },
    ]);
    expect(usage.gbSeconds).toEqual({ arm64: 0.5, x86_64: 6 });
  });

  it('counts a Task that failed up to its failure', () => {
    // Prepare
    const failed = [state('StateEntered', 0, 'acquire-lock'), state('StateFailed', 250, 'acquire-lock')];

    // Act
    const usage = executionUsage(failed, taskFunctions(TEMPLATE));

    // Assess
    expect(usage.functions).toEqual([{ ...LOCK, invocations: 1, durationMs: 250, gbSeconds: 0.125 }]);
  });
});

describe('standInTasks and rotationUsage', () => {
  it("names the rehearsal's stand-in Task of each Distributed Map, and none of an inline one", () => {
    // Act
    const distributed = standInTasks(DISTRIBUTED_TEMPLATE);
    const inline = standInTasks(TEMPLATE);

    // Assess
    expect([...distributed]).toEqual(['distribute-bundle-child']);
    expect([...inline]).toEqual([]);
  });

  it("prices the parent without its stand-in Tasks and every child execution's states and functions", () => {
    // Prepare: the parent runs acquire-lock and the Map, whose two items the rehearsal starts through
    // its stand-in Task; each child runs distribute-bundle-in-cluster, one of them retried once.
    const parent: HistoryEvent[] = [
      { type: 'ExecutionStarted', timestamp: 0 },
      state('StateEntered', 0, 'acquire-lock'),
      state('StateExited', 1000, 'acquire-lock'),
      state('StateEntered', 1000, 'distribute-bundle'),
      state('StateEntered', 1000, 'distribute-bundle-child'),
      state('StateEntered', 1000, 'distribute-bundle-child'),
      state('StateExited', 4000, 'distribute-bundle-child'),
      state('StateExited', 5000, 'distribute-bundle-child'),
      state('StateExited', 5000, 'distribute-bundle'),
      state('StateEntered', 5000, 'done'),
      { type: 'ExecutionSucceeded', timestamp: 5000 },
    ];
    const children: HistoryEvent[][] = [
      [
        { type: 'ExecutionStarted', timestamp: 1000 },
        state('StateEntered', 1000, 'distribute-bundle-in-cluster'),
        state('StateExited', 4000, 'distribute-bundle-in-cluster'),
        { type: 'ExecutionSucceeded', timestamp: 4000 },
      ],
      [
        { type: 'ExecutionStarted', timestamp: 1000 },
        state('StateEntered', 1000, 'distribute-bundle-in-cluster'),
        state('StateFailed', 1500, 'distribute-bundle-in-cluster'),
        state('StateRetried', 2000, 'distribute-bundle-in-cluster'),
        state('StateExited', 5000, 'distribute-bundle-in-cluster'),
        { type: 'ExecutionSucceeded', timestamp: 5000 },
      ],
    ];

    // Act
    const usage = rotationUsage({
      history: parent,
      children,
      tasks: taskFunctions(DISTRIBUTED_TEMPLATE),
      standIns: standInTasks(DISTRIBUTED_TEMPLATE),
    });

    // Assess: the parent's acquire-lock, Map and done (its two stand-ins not counted), one for each
    // child's start, the children's three entries and one retry; distribute-bundle ran 3 + 0.5 + 3 s at
    // 1 GB, acquire-lock 1 s.
    expect(usage.stateTransitions).toBe(3 + 2 + 3);
    expect(usage.functions).toEqual([
      { ...DISTRIBUTE, invocations: 3, durationMs: 6500, gbSeconds: 6.5 },
      { ...LOCK, invocations: 1, durationMs: 1000, gbSeconds: 0.5 },
    ]);
  });
});

describe('priceRotation', () => {
  it('prices transitions, GB-seconds at each architecture, requests and log ingestion', () => {
    // Prepare
    const usage = executionUsage(HISTORY, taskFunctions(TEMPLATE));

    // Act
    const cost = priceRotation(usage, 2_000_000, PRICES);

    // Assess
    expect(cost.stateTransitionsUsd).toBeCloseTo(6 * 0.000025, 12);
    expect(cost.lambdaDurationUsd).toBeCloseTo(0.5 * 0.0000133334 + 6 * 0.0000166667, 12);
    expect(cost.lambdaRequestsUsd).toBeCloseTo(4 * 0.0000002, 12);
    expect(cost.logIngestionUsd).toBeCloseTo(0.002 * 0.5, 12);
    expect(cost.totalUsd).toBeCloseTo(
      cost.stateTransitionsUsd + cost.lambdaDurationUsd + cost.lambdaRequestsUsd + cost.logIngestionUsd,
      12,
    );
  });
});

describe('standingCost', () => {
  it("counts the template's keys and alarms and the design's secrets and root key for the clusters", () => {
    // Act
    const standing = standingCost(TEMPLATE, 10, PRICES);

    // Assess
    const counts = Object.fromEntries(standing.items.map((item) => [item.item, item.count]));
    expect(counts).toMatchObject({
      'Secrets Manager secrets': 11,
      'KMS keys (stack)': 1,
      'KMS key (live root, asymmetric)': 1,
      'CloudWatch alarms': 2,
      'CloudWatch dashboard': 0,
      'CloudWatch log groups': 1,
    });
    expect(standing.monthlyUsd).toBeCloseTo(11 * 0.4 + 2 * 1 + 2 * 0.1, 10);
    expect(standing.addedPerRotationMonthlyUsd).toBeCloseTo(4, 10);
  });
});

describe('privateCaCost', () => {
  it('prices a root and one subordinate CA per cluster every month, and the subordinate certificates', () => {
    // Act
    const cost = privateCaCost(10, PRICES);

    // Assess
    expect(cost).toEqual({ cas: 11, monthlyUsd: 4400, perRotationUsd: 7.5 });
  });
});
