// `meshtrust retry-rollback`: refuses an execution that did not end in RollbackFailed, ABORTED or
// TIMED_OUT, or that has nothing to undo (moto's Step Functions keeps executions RUNNING, or ABORTED once
// stopped, and answers every history with a fixed sample); for one that may be resumed (a stand-in of
// the state machine access for its history), starts the resumed rollback named after the rotation with
// the run's clusters, roots and errors in its input, then follows it; a run stopped less than the
// rotation lock's takeover grace ago is refused until then, the grace read from the deployed acquire-lock
// function's configuration (a function deployed to moto here) or, without one, the default.
import { randomUUID } from 'node:crypto';
import {
  CreateStateMachineCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { EXIT_CODES } from '../../../bin/cli/cli-errors.js';
import type { HistoryEventLike } from '../../../bin/cli/execution-history.js';
import { retryRollback } from '../../../bin/commands/retry-rollback.js';
import { LOCK_TAKEOVER_GRACE_SECONDS_ENV } from '../../../lambdas/contract/rotation-lock.js';
import { deployFunctionToMoto } from '../../support/moto-deployed-function.js';
import { motoClientConfig, motoEndpoint } from '../../support/moto-endpoint.js';
import { RUN_START } from '../../support/workflow-paths.js';
import { type CliRun, runMeshtrustInProcess } from './in-process-cli.js';
import {
  recordingContext as context,
  STOPPED as FAILED,
  type FakeStateMachine,
  fakeStateMachine,
  MACHINE,
} from './retry-stand.js';

const ROOT_A = { secretArn: 'arn:root', versionId: 'v-a', fingerprint: 'a'.repeat(64) };
const ROOT_B = { secretArn: 'arn:root', versionId: 'v-b', fingerprint: 'b'.repeat(64) };

let sfn: SFNClient;
const savedEndpoint = process.env.AWS_ENDPOINT_URL;
beforeAll(() => {
  process.env.AWS_ENDPOINT_URL = motoEndpoint();
  sfn = new SFNClient(motoClientConfig());
});
afterAll(() => {
  sfn.destroy();
  if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = savedEndpoint;
});

/** The state a scheduled run ended with in rotation-failed: rollback-restore failed on us-1. */
function failedState(): Record<string, unknown> {
  return {
    mode: 'scheduled',
    reason: 'annual rotation',
    preflight: { clusters: [{ name: 'eu-1' }, { name: 'us-1' }], currentRoot: ROOT_A, plan: {} },
    stagedRoot: ROOT_B,
    failure: { Error: 'VerificationFailed', Cause: 'istiod of us-1 did not load int_B' },
    rollbackFailure: { Error: 'TransientError', Cause: 'EKS endpoint of us-1 unreachable' },
    rollbackOf: null,
    resumeRollback: null,
  };
}

/** The newest history events of that run, newest first, as latestHistory answers. */
function latestEvents(state: Record<string, unknown>): HistoryEventLike[] {
  return [
    { id: 90, type: 'ExecutionFailed' },
    {
      id: 89,
      type: 'FailStateEntered',
      stateEnteredEventDetails: { name: 'rotation-failed', input: JSON.stringify(state) },
    },
    {
      id: 88,
      type: 'TaskStateExited',
      stateExitedEventDetails: { name: 'release-lock-after-failed-rollback' },
    },
  ];
}

/** latestEvents after a Distributed Map's Map Run started (newest first, as latestEvents). */
function withMapRun(mapRunArn: string, state: Record<string, unknown>): HistoryEventLike[] {
  return [
    { id: 91, type: 'MapRunStarted', mapRunStartedEventDetails: { mapRunArn } },
    ...latestEvents(state),
  ];
}

/** The state a scheduled run was in when it was stopped part-way: no Catch ran. */
function midRotationState(): Record<string, unknown> {
  const { failure: _failure, rollbackFailure: _rollbackFailure, ...state } = failedState();
  return state;
}

/** The history of a run stopped in the last of `states` (oldest first, as history() answers). */
function abortedEvents(states: readonly string[], state: Record<string, unknown>): HistoryEventLike[] {
  const events: HistoryEventLike[] = [{ id: 1, type: 'ExecutionStarted' }];
  for (const name of [...RUN_START, ...states]) {
    events.push({
      id: events.length + 1,
      type: 'TaskStateEntered',
      stateEnteredEventDetails: { name, input: JSON.stringify(state) },
    });
  }
  events.push({ id: events.length + 1, type: 'ExecutionAborted' });
  return events;
}

/** A state machine whose `failed` execution ended as given and whose new executions end as `resumedEnds`. */
function fakeAccess(
  failed: { status: string; error?: string; stopDate?: Date; events?: HistoryEventLike[] },
  resumedEnds = 'RotationRolledBack',
): FakeStateMachine {
  return fakeStateMachine({
    stopped: failed,
    resumed: { status: 'FAILED', error: resumedEnds, cause: 'done' },
  });
}

describe('meshtrust retry-rollback', () => {
  it("starts the resumed rollback named after the rotation, with the failed run's state, and follows it to rolled back", async () => {
    // Prepare
    const fake = fakeAccess({
      status: 'FAILED',
      error: 'RollbackFailed',
      events: latestEvents(failedState()),
    });
    const ctx = context();
    // Act
    await retryRollback(
      fake.access,
      'scheduled-20260310T090000Z',
      { wait: true, pollSeconds: 1, reason: 'INC-7' },
      ctx,
    );
    // Assess
    expect(ctx.exitCode).toBe(EXIT_CODES.ok);
    expect(fake.started).toHaveLength(1);
    const [resume] = fake.started;
    expect(resume?.name).toMatch(/^scheduled-20260310T090000Z-rollback-\d{8}T\d{6}Z$/);
    expect(resume?.input).toEqual({
      mode: 'scheduled',
      reason: 'INC-7',
      requestedBy: expect.stringMatching(/^arn:aws:(iam|sts)::\d{12}:/),
      resumeRollback: {
        executionArn: FAILED,
        resumedFrom: FAILED,
        clusters: [{ name: 'eu-1' }, { name: 'us-1' }],
        currentRoot: ROOT_A,
        stagedRoot: ROOT_B,
        failure: { Error: 'VerificationFailed', Cause: 'istiod of us-1 did not load int_B' },
        rollbackFailure: { Error: 'TransientError', Cause: 'EKS endpoint of us-1 unreachable' },
        restored: false,
      },
    });
    expect(ctx.stdout()).toContain(`started ${resume?.name}:`);
    expect(ctx.stdout()).toContain('rolled back: every cluster is back on its original cacerts');
    expect(ctx.stderr()).toContain('resumes the failed rollback of scheduled-20260310T090000Z on eu-1, us-1');
    expect(ctx.stderr()).toContain(
      'its rollback had failed with TransientError: EKS endpoint of us-1 unreachable',
    );
  });

  it("names the cluster whose child failed when the rollback's Distributed Map failed, which its error does not", async () => {
    // Prepare
    const mapRunArn = `${MACHINE.replace(':stateMachine:', ':mapRun:')}/rollback-restore:1f2e`;
    const childArn = (name: string) =>
      `${MACHINE.replace(':stateMachine:', ':execution:')}/rollback-restore:${name}`;
    const state = {
      ...failedState(),
      rollbackFailure: {
        Error: 'States.ExceedToleratedFailureThreshold',
        Cause: 'The specified tolerated failure threshold was exceeded',
      },
    };
    const fake = fakeStateMachine({
      stopped: {
        status: 'FAILED',
        error: 'RollbackFailed',
        events: withMapRun(mapRunArn, state),
      },
      resumed: { status: 'FAILED', error: 'RotationRolledBack', cause: 'done' },
      mapRuns: {
        [mapRunArn]: {
          status: 'FAILED',
          children: [
            { executionArn: childArn('c-1'), status: 'SUCCEEDED', input: { cluster: 'eu-1' } },
            {
              executionArn: childArn('c-2'),
              status: 'FAILED',
              input: { cluster: 'us-1' },
              error: 'TransientError',
              cause: JSON.stringify({
                errorType: 'TransientError',
                errorMessage: 'EKS endpoint of us-1 unreachable',
              }),
            },
          ],
        },
      },
    });
    const ctx = context();
    // Act
    await retryRollback(fake.access, 'scheduled-20260310T090000Z', { wait: false, pollSeconds: 1 }, ctx);
    // Assess
    expect(fake.started).toHaveLength(1);
    expect(ctx.stderr()).toContain(
      'its rollback had failed with States.ExceedToleratedFailureThreshold: The specified tolerated failure threshold was exceeded',
    );
    expect(ctx.stderr()).toContain(
      '  failed in rollback-restore us-1: TransientError: EKS endpoint of us-1 unreachable',
    );
    expect(ctx.stderr()).not.toContain('eu-1 succeeded');
  });

  it('says so, and still resumes, when the Map Runs cannot be read', async () => {
    // Prepare
    const mapRunArn = `${MACHINE.replace(':stateMachine:', ':mapRun:')}/rollback-restore:9a9a`;
    const fake = fakeStateMachine({
      stopped: {
        status: 'FAILED',
        error: 'RollbackFailed',
        events: withMapRun(mapRunArn, failedState()),
      },
      resumed: { status: 'FAILED', error: 'RotationRolledBack', cause: 'done' },
    });
    const ctx = context();
    // Act
    await retryRollback(fake.access, 'scheduled-20260310T090000Z', { wait: false, pollSeconds: 1 }, ctx);
    // Assess
    expect(fake.started).toHaveLength(1);
    expect(ctx.stderr()).toContain(
      `could not read its Distributed Maps' child executions (Resource not found: '${mapRunArn}')`,
    );
  });

  it('resumes a rollback that failed in rollback-drop-pending at that stage: every cluster was restored', async () => {
    // Prepare: rollback-restore had answered ($.rollback.restored), then rollback-drop-pending failed
    const fake = fakeAccess({
      status: 'FAILED',
      error: 'RollbackFailed',
      events: latestEvents({ ...failedState(), rollback: { trust: [], restored: [{}, {}] } }),
    });
    const ctx = context();
    // Act
    await retryRollback(fake.access, FAILED, { wait: false, pollSeconds: 1 }, ctx);
    // Assess
    expect(fake.started[0]?.input).toMatchObject({ resumeRollback: { restored: true } });
    expect(ctx.stderr()).toContain('resumes at rollback-drop-pending and reads no cacerts backup');
  });

  it('exits 1 when the resumed rollback fails again', async () => {
    // Prepare
    const fake = fakeAccess(
      { status: 'FAILED', error: 'RollbackFailed', events: latestEvents(failedState()) },
      'RollbackFailed',
    );
    const ctx = context();
    // Act
    await retryRollback(fake.access, FAILED, { wait: true, pollSeconds: 1 }, ctx);
    // Assess
    expect(ctx.exitCode).toBe(EXIT_CODES.checkFailed);
    expect(ctx.stdout()).not.toContain('rolled back:');
  });

  it('refuses a run that was rolled back, and starts nothing', async () => {
    // Prepare
    const fake = fakeAccess({ status: 'FAILED', error: 'RotationRolledBack' });
    // Act
    const act = retryRollback(fake.access, FAILED, { wait: false, pollSeconds: 1 }, context());
    // Assess
    await expect(act).rejects.toMatchObject({
      exitCode: EXIT_CODES.checkFailed,
      message: expect.stringMatching(/^not resumed: .*its rollback completed/),
    });
    expect(fake.started).toEqual([]);
  });

  it('refuses a RollbackFailed run whose history lacks its final state, naming what is missing', async () => {
    // Prepare
    const fake = fakeAccess({ status: 'FAILED', error: 'RollbackFailed', events: [] });
    // Act
    const act = retryRollback(fake.access, FAILED, { wait: false, pollSeconds: 1 }, context());
    // Assess
    await expect(act).rejects.toMatchObject({ message: expect.stringContaining('final state lacks') });
    expect(fake.started).toEqual([]);
  });

  it('rolls back a run aborted in distribute-bundle from the state it was in, once its functions can no longer write', async () => {
    // Prepare: aborted 16 minutes ago, longer than the longest function timeout (15 min)
    const fake = fakeAccess({
      status: 'ABORTED',
      stopDate: new Date(Date.now() - 16 * 60_000),
      events: abortedEvents(['preflight', 'mode', 'stage-root', 'distribute-bundle'], midRotationState()),
    });
    const ctx = context();
    // Act
    await retryRollback(fake.access, 'scheduled-20260310T090000Z', { wait: false, pollSeconds: 1 }, ctx);
    // Assess
    expect(fake.started).toHaveLength(1);
    expect(fake.started[0]?.input).toMatchObject({
      mode: 'scheduled',
      reason: 'roll back scheduled-20260310T090000Z (ABORTED)',
      resumeRollback: {
        executionArn: FAILED,
        clusters: [{ name: 'eu-1' }, { name: 'us-1' }],
        stagedRoot: ROOT_B,
        failure: { Error: 'ABORTED', Cause: expect.stringContaining('ABORTED in distribute-bundle') },
        rollbackFailure: null,
      },
    });
    expect(ctx.stderr()).toContain('rolls back scheduled-20260310T090000Z (ABORTED) on eu-1, us-1');
  });

  it('refuses a run stopped less than a function timeout ago, saying when it may be resumed, and starts nothing', async () => {
    // Prepare
    const fake = fakeAccess({
      status: 'TIMED_OUT',
      stopDate: new Date(Date.now() - 60_000),
      events: abortedEvents(['preflight', 'mode', 'stage-root', 'distribute-bundle'], midRotationState()),
    });
    const ctx = context();
    // Act: no acquire-lock function in moto, so the default grace
    const act = retryRollback(fake.access, FAILED, { wait: false, pollSeconds: 1 }, ctx);
    // Assess
    await expect(act).rejects.toMatchObject({
      exitCode: EXIT_CODES.checkFailed,
      message: expect.stringMatching(
        /^not resumed yet: .*ended TIMED_OUT .* may still be writing until \d{4}-.*\(takeover grace 900 s, the stack's default\)$/,
      ),
    });
    expect(ctx.stderr()).toContain(
      "could not read the rotation lock's takeover grace from acquire-lock's configuration: there is no function " +
        "arn:aws:lambda:eu-west-1:123456789012:function:meshtrust-payments-acquire-lock; assuming the stack's default, 900 s",
    );
    expect(fake.started).toEqual([]);
  });

  it("refuses a run stopped longer ago than the default but within the deployed acquire-lock's grace, naming it", async () => {
    // Prepare: acquire-lock deployed with a grace of an hour; the run stopped 16 minutes ago
    const remove = await deployFunctionToMoto(
      'meshtrust-payments-acquire-lock',
      { [LOCK_TAKEOVER_GRACE_SECONDS_ENV]: '3600' },
      'eu-west-1',
    );
    try {
      const fake = fakeAccess({
        status: 'ABORTED',
        stopDate: new Date(Date.now() - 16 * 60_000),
        events: abortedEvents(['preflight', 'mode', 'stage-root', 'distribute-bundle'], midRotationState()),
      });
      const ctx = context();
      // Act
      const act = retryRollback(fake.access, FAILED, { wait: false, pollSeconds: 1 }, ctx);
      // Assess
      await expect(act).rejects.toMatchObject({
        exitCode: EXIT_CODES.checkFailed,
        message: expect.stringContaining(
          `(takeover grace 3600 s, ${LOCK_TAKEOVER_GRACE_SECONDS_ENV} of arn:aws:lambda:eu-west-1:123456789012:function:meshtrust-payments-acquire-lock)`,
        ),
      });
      expect(fake.started).toEqual([]);
      expect(ctx.stderr()).not.toContain('assuming');
    } finally {
      await remove();
    }
  }, 30_000);

  it("rolls back a run stopped a minute ago when the deployed acquire-lock's grace has passed", async () => {
    // Prepare: a grace of 30 s, shorter than the default 900 s
    const remove = await deployFunctionToMoto(
      'meshtrust-payments-acquire-lock',
      { [LOCK_TAKEOVER_GRACE_SECONDS_ENV]: '30' },
      'eu-west-1',
    );
    try {
      const fake = fakeAccess({
        status: 'TIMED_OUT',
        stopDate: new Date(Date.now() - 60_000),
        events: abortedEvents(['preflight', 'mode', 'stage-root', 'distribute-bundle'], midRotationState()),
      });
      // Act
      await retryRollback(fake.access, FAILED, { wait: false, pollSeconds: 1 }, context());
      // Assess
      expect(fake.started).toHaveLength(1);
    } finally {
      await remove();
    }
  }, 30_000);

  it('refuses an aborted run that never wrote, and one that reached promote-root', async () => {
    for (const [states, reason] of [
      [['preflight'], /before its first write/],
      [
        ['preflight', 'mode', 'stage-root', 'distribute-bundle', 'retire-root', 'promote-root'],
        /had reached promote-root/,
      ],
    ] as const) {
      // Prepare
      const fake = fakeAccess({
        status: 'ABORTED',
        stopDate: new Date(0),
        events: abortedEvents([...states], midRotationState()),
      });
      // Act
      const act = retryRollback(fake.access, FAILED, { wait: false, pollSeconds: 1 }, context());
      // Assess
      await expect(act).rejects.toMatchObject({
        exitCode: EXIT_CODES.checkFailed,
        message: expect.stringMatching(reason),
      });
      expect(fake.started).toEqual([]);
    }
  });

  it('refuses a run that SUCCEEDED', async () => {
    // Prepare
    const fake = fakeAccess({ status: 'SUCCEEDED' });
    // Act
    const act = retryRollback(fake.access, FAILED, { wait: false, pollSeconds: 1 }, context());
    // Assess
    await expect(act).rejects.toMatchObject({
      exitCode: EXIT_CODES.checkFailed,
      message: expect.stringContaining('SUCCEEDED: there is no rollback'),
    });
    expect(fake.started).toEqual([]);
  });

  it('refuses, through the CLI against moto, an execution that still runs (exit 1)', async () => {
    // Prepare
    const machine = await sfn.send(
      new CreateStateMachineCommand({
        name: `meshtrust-${randomUUID().slice(0, 8)}`,
        roleArn: 'arn:aws:iam::123456789012:role/meshtrust-states',
        definition: JSON.stringify({ StartAt: 'p', States: { p: { Type: 'Pass', End: true } } }),
      }),
    );
    const execution = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: machine.stateMachineArn,
        name: 'scheduled-1',
        input: '{}',
      }),
    );
    // Act
    const result: CliRun = await runMeshtrustInProcess([
      'retry-rollback',
      'scheduled-1',
      '--state-machine-arn',
      machine.stateMachineArn as string,
    ]);
    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.checkFailed);
    expect(result.stderr).toContain('not resumed: scheduled-1 is RUNNING');
    expect(execution.executionArn).toBeDefined();
  });

  it('refuses, through the CLI against moto, an execution stopped before its first write (exit 1)', async () => {
    // Prepare: StopExecution in moto, whose history of the run holds none of the rotation's states
    const machine = await sfn.send(
      new CreateStateMachineCommand({
        name: `meshtrust-${randomUUID().slice(0, 8)}`,
        roleArn: 'arn:aws:iam::123456789012:role/meshtrust-states',
        definition: JSON.stringify({ StartAt: 'p', States: { p: { Type: 'Pass', End: true } } }),
      }),
    );
    const execution = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: machine.stateMachineArn,
        name: 'scheduled-2',
        input: '{}',
      }),
    );
    await sfn.send(new StopExecutionCommand({ executionArn: execution.executionArn }));
    // Act
    const result: CliRun = await runMeshtrustInProcess([
      'retry-rollback',
      'scheduled-2',
      '--state-machine-arn',
      machine.stateMachineArn as string,
    ]);
    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.checkFailed);
    expect(result.stderr).toContain('not resumed: scheduled-2 was ABORTED before its first write');
  });

  it('documents itself in --help', async () => {
    // Act
    const result = await runMeshtrustInProcess(['retry-rollback', '--help']);
    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.ok);
    expect(result.stdout).toContain('Usage: meshtrust retry-rollback [options] <execution>');
    for (const text of [
      'RollbackFailed',
      '--reason <text>',
      '--no-wait',
      '--state-machine-arn <arn>',
      'Exit codes:',
    ]) {
      expect(result.stdout).toContain(text);
    }
    // The description wraps to the terminal's width.
    expect(result.stdout.replace(/\s+/g, ' ')).toContain(
      "read from the deployed acquire-lock function's configuration",
    );
  });
});
