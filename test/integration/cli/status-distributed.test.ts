// `meshtrust status` of a stack with Distributed Maps (docs/workflow.md, "Distributed Maps"): the parent's
// history holds each Map Run, not its clusters, and a failed Map's error names no cluster. Step Functions
// is test/support/map-run-stand.ts (moto keeps no Map Run), answering in the API Reference's shapes.

import { SFNClient } from '@aws-sdk/client-sfn';
import { EXIT_CODES } from '../../../bin/cli/cli-errors.js';
import { follow } from '../../../bin/commands/rotate.js';
import type { StatusReport } from '../../../bin/commands/status.js';
import { RotationExecutions } from '../../../lambdas/adapters/stepfunctions/rotation-executions.js';
import { type MapRunStand, type StandExecution, startMapRunStand } from '../../support/map-run-stand.js';
import { type CliRun, runMeshtrustInProcess } from './in-process-cli.js';
import { recordingContext } from './retry-stand.js';

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:meshtrust-mesh-rotation';
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:meshtrust-mesh-rotation';
const FAILED = `${EXECUTION}:emergency-20260310T090000Z`;
const RUNNING = `${EXECUTION}:scheduled-20260311T090000Z`;
const mapRun = (label: string, id: string) =>
  `arn:aws:states:us-east-1:123456789012:mapRun:meshtrust-mesh-rotation/${label}:${id}`;
const REISSUE_RUN = mapRun('reissue-intermediate', 'a1');
const ROLLBACK_RUN = mapRun('rollback-intermediate', 'b2');
const DISTRIBUTE_RUN = mapRun('distribute-bundle', 'c3');
const child = (label: string, name: string) =>
  `arn:aws:states:us-east-1:123456789012:execution:meshtrust-mesh-rotation/${label}:${name}`;

/** A parent's events around one Distributed Map, as Step Functions records them. */
function mapEvents(
  state: string,
  mapRunArn: string,
  outcome: 'MapRunSucceeded' | 'MapRunFailed' | undefined,
) {
  return [
    { type: 'MapStateEntered', stateEnteredEventDetails: { name: state, input: '{}' } },
    { type: 'MapStateStarted', mapStateStartedEventDetails: { length: 3 } },
    { type: 'MapRunStarted', mapRunStartedEventDetails: { mapRunArn } },
    ...(outcome === undefined
      ? []
      : [
          outcome === 'MapRunFailed'
            ? {
                type: 'MapRunFailed',
                mapRunFailedEventDetails: {
                  error: 'States.ExceedToleratedFailureThreshold',
                  cause: 'The specified tolerated failure threshold was exceeded',
                },
              }
            : { type: 'MapRunSucceeded' },
        ]),
  ];
}

function childOf(
  mapRunArn: string,
  label: string,
  cluster: string,
  status: string,
  failure?: { error: string; cause: string },
): StandExecution {
  const name = `${cluster}-${label}`;
  return {
    executionArn: child(label, name),
    name,
    status,
    input: { executionId: FAILED, mode: 'emergency', cluster },
    mapRunArn,
    ...failure,
  };
}

const executions: StandExecution[] = [
  {
    executionArn: FAILED,
    name: 'emergency-20260310T090000Z',
    status: 'FAILED',
    input: { mode: 'emergency', reason: 'key leaked', requestedBy: 'alice' },
    error: 'RotationRolledBack',
    cause: 'States.ExceedToleratedFailureThreshold: The specified tolerated failure threshold was exceeded',
    events: [
      { type: 'ExecutionStarted' },
      ...mapEvents('reissue-intermediate', REISSUE_RUN, 'MapRunFailed'),
      ...mapEvents('rollback-intermediate', ROLLBACK_RUN, 'MapRunSucceeded'),
      { type: 'FailStateEntered', stateEnteredEventDetails: { name: 'rotation-rolled-back', input: '{}' } },
      { type: 'ExecutionFailed' },
    ],
  },
  childOf(REISSUE_RUN, 'reissue-intermediate', 'lab-1', 'SUCCEEDED'),
  childOf(REISSUE_RUN, 'reissue-intermediate', 'lab-2', 'FAILED', {
    error: 'PreconditionFailed',
    cause: JSON.stringify({
      errorType: 'PreconditionFailed',
      errorMessage: 'cluster lab-2: cacerts changed since preflight',
      trace: ['PreconditionFailed: cluster lab-2: cacerts changed since preflight', '    at handler'],
    }),
  }),
  childOf(REISSUE_RUN, 'reissue-intermediate', 'lab-3', 'ABORTED', {
    error: 'States.Aborted',
    cause: 'the Map Run failed',
  }),
  ...['lab-1', 'lab-2', 'lab-3'].map((cluster) =>
    childOf(ROLLBACK_RUN, 'rollback-intermediate', cluster, 'SUCCEEDED'),
  ),
  {
    executionArn: RUNNING,
    name: 'scheduled-20260311T090000Z',
    status: 'RUNNING',
    input: { mode: 'scheduled', reason: 'annual', requestedBy: 'schedule' },
    events: [
      { type: 'ExecutionStarted' },
      { type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'stage-root', input: '{}' } },
      ...mapEvents('distribute-bundle', DISTRIBUTE_RUN, undefined),
    ],
  },
  childOf(DISTRIBUTE_RUN, 'distribute-bundle', 'lab-1', 'SUCCEEDED'),
  childOf(DISTRIBUTE_RUN, 'distribute-bundle', 'lab-2', 'SUCCEEDED'),
  childOf(DISTRIBUTE_RUN, 'distribute-bundle', 'lab-3', 'RUNNING'),
];

let stand: MapRunStand;
beforeAll(async () => {
  stand = await startMapRunStand(executions, [
    { mapRunArn: REISSUE_RUN, executionArn: FAILED, status: 'FAILED', pending: 0 },
    { mapRunArn: ROLLBACK_RUN, executionArn: FAILED, status: 'SUCCEEDED', pending: 0 },
    { mapRunArn: DISTRIBUTE_RUN, executionArn: RUNNING, status: 'RUNNING', pending: 2 },
  ]);
});
afterAll(() => stand?.stop());
beforeEach(() => {
  stand.asked.clear();
  stand.denied.clear();
});

function meshtrust(...args: string[]): Promise<CliRun> {
  return runMeshtrustInProcess([...args, '--state-machine-arn', MACHINE, '--region', 'us-east-1']);
}

const savedEndpoint = process.env.AWS_ENDPOINT_URL;
beforeEach(() => {
  // The SDK's clients read the process environment (applyAwsOptions).
  process.env.AWS_ENDPOINT_URL = stand.endpoint;
});
afterEach(() => {
  if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = savedEndpoint;
});

describe('meshtrust status with Distributed Maps', () => {
  it('names the cluster that failed and its error, which the Map error does not', async () => {
    // Prepare, Act
    const { exitCode, stdout } = await meshtrust('status', 'emergency-20260310T090000Z');
    // Assess
    expect(exitCode).toBe(EXIT_CODES.ok);
    expect(stdout).toContain('  reissue-intermediate: 1 succeeded, lab-2 failed, lab-3 aborted');
    expect(stdout).toContain('  rollback-intermediate: 3 succeeded');
    expect(stdout).toContain(
      '  failed in reissue-intermediate lab-2: PreconditionFailed: cluster lab-2: cacerts changed since preflight',
    );
    expect(stdout).toContain('  aborted in reissue-intermediate lab-3: States.Aborted: the Map Run failed');
    expect(stdout).not.toContain('trace');
  });

  it('describes only the children that did not succeed, reading every page of the Map Run', async () => {
    // Prepare, Act
    const { exitCode } = await meshtrust('status', 'emergency-20260310T090000Z');
    // Assess
    expect(exitCode).toBe(EXIT_CODES.ok);
    expect(stand.asked.get(`ListExecutions ${REISSUE_RUN}`)).toBe(2);
    expect(
      stand.asked.get(`DescribeExecution ${child('reissue-intermediate', 'lab-2-reissue-intermediate')}`),
    ).toBe(1);
    expect(
      stand.asked.get(`DescribeExecution ${child('reissue-intermediate', 'lab-1-reissue-intermediate')}`),
    ).toBeUndefined();
    const describedRollbackChildren = [...stand.asked.keys()].filter(
      (key) => key.startsWith('DescribeExecution') && key.includes('rollback-intermediate:'),
    );
    expect(describedRollbackChildren).toEqual([]);
  });

  it('reports the Map Runs and failed children as JSON', async () => {
    // Prepare, Act
    const { exitCode, stdout } = await meshtrust('status', 'emergency-20260310T090000Z', '--json');
    // Assess
    const report = JSON.parse(stdout) as StatusReport;
    expect(exitCode).toBe(EXIT_CODES.ok);
    expect(report.maps.map((map) => [map.state, map.mapRun?.status, map.mapRun?.counts.succeeded])).toEqual([
      ['reissue-intermediate', 'FAILED', 1],
      ['rollback-intermediate', 'SUCCEEDED', 3],
    ]);
    expect(report.failedChildren).toEqual([
      {
        state: 'reissue-intermediate',
        cluster: 'lab-2',
        executionArn: child('reissue-intermediate', 'lab-2-reissue-intermediate'),
        status: 'failed',
        error: 'PreconditionFailed',
        cause: 'cluster lab-2: cacerts changed since preflight',
      },
      {
        state: 'reissue-intermediate',
        cluster: 'lab-3',
        executionArn: child('reissue-intermediate', 'lab-3-reissue-intermediate'),
        status: 'aborted',
        error: 'States.Aborted',
        cause: 'the Map Run failed',
      },
    ]);
  });

  it('shows a running Map Run: what succeeded, which cluster runs, how many wait', async () => {
    // Prepare, Act
    const { exitCode, stdout } = await meshtrust('status', 'scheduled-20260311T090000Z');
    // Assess
    expect(exitCode).toBe(EXIT_CODES.ok);
    expect(stdout).toContain('phase     distribute-bundle');
    expect(stdout).toContain('  distribute-bundle: 2 succeeded, lab-3 running, 2 pending');
    expect(stdout).not.toContain('failed in');
  });

  it('says exit 3, naming the action, when the role may not read Map Runs', async () => {
    // Prepare
    stand.denied.add('DescribeMapRun');
    // Act
    const { exitCode, stderr } = await meshtrust('status', 'emergency-20260310T090000Z');
    // Assess
    expect(exitCode).toBe(EXIT_CODES.environment);
    expect(stderr).toContain('DescribeMapRun');
  });

  it("rotate's follow names the failed child under the run's error when the run it follows fails", async () => {
    // Prepare
    const client = new SFNClient({ region: 'us-east-1', endpoint: stand.endpoint });
    const access = {
      region: 'us-east-1',
      stateMachineArn: MACHINE,
      executions: new RotationExecutions({ client }),
      close: () => client.destroy(),
    };
    const ctx = recordingContext();
    // Act
    const status = await follow(access, FAILED, 'emergency-20260310T090000Z', 1, ctx).finally(access.close);
    // Assess
    expect(status).toBe('FAILED');
    expect(ctx.stdout()).toContain('emergency-20260310T090000Z: FAILED');
    expect(ctx.stdout()).toContain(
      '  failed in reissue-intermediate lab-2: PreconditionFailed: cluster lab-2: cacerts changed since preflight',
    );
  });
});
