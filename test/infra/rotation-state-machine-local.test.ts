import { resumePromotionOf } from '../../lambdas/core/rotation/resume-promotion.js';
import { resumeRollbackOf } from '../../lambdas/core/rotation/resume-rollback.js';
import { CLUSTER_MAP_STATES, clusterTaskName, RELEASE_LOCK_STATES } from '../../lib/workflow-states.js';
import { referencedLogicalIds, resolveDefinition } from '../../rehearsal/resolve-definition.js';
import {
  perClusterStandIn,
  runDefinitionLocally,
  STAND_IN_PLAN,
  STAND_IN_WRITE,
} from '../support/local-state-machine.js';
import { RESUMED_PROMOTION_STATES, RUN_START } from '../support/workflow-paths.js';
import { synthMeshTrustStack } from './synth-mesh-trust-stack.js';

// Runs the synthesized definition with aws-local-stepfunctions (the rehearsal's runner), every Task
// overridden by state name with a recording stand-in, to show the paths the contract promises.

type Json = Record<string, unknown>;
type Handler = (input: Json) => Json | Promise<Json>;

const EXECUTION_ID = 'arn:aws:states:eu-west-1:123456789012:execution:meshtrust-payments-rotation:run-1';
// As preflight returns them: each cluster with the rotation strategy its plan chose.
const CLUSTERS = [
  { name: 'eu-1', strategy: 'resign' },
  { name: 'us-1', strategy: 'restart' },
];

class StandIn extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

interface Run {
  readonly calls: { state: string; input: Json }[];
  readonly entered: string[];
  /** The input of the last top-level state entered: the state the run ended with. */
  readonly finalState?: Json;
  readonly output?: Json;
  readonly error?: { name: string; message: string };
}

describe('the rotation state machine on the local runner', () => {
  let definition: Json;
  /** The same stack with `distributedMaps`: each per-cluster Map a Distributed Map. */
  let distributedDefinition: Json;

  beforeAll(() => {
    const definitionOf = (rotation: Parameters<typeof synthMeshTrustStack>[0]) => {
      const template = synthMeshTrustStack(rotation).template.toJSON();
      const arns = Object.fromEntries(
        referencedLogicalIds(template).map((id) => [
          id,
          `arn:aws:lambda:eu-west-1:123456789012:function:${id}`,
        ]),
      );
      return resolveDefinition(template, { arns });
    };
    definition = definitionOf({ approval: true });
    distributedDefinition = definitionOf({ approval: true, distributedMaps: true });
  });

  async function run(
    input: Json,
    failures: Record<string, Handler> = {},
    executionId = EXECUTION_ID,
    /** A Task state whose first call stops the execution (StopExecution: ABORTED, no Catch runs). */
    abortAt?: string,
    on: Json = definition,
  ): Promise<Run> {
    let abort: (() => void) | undefined;
    const calls: { state: string; input: Json }[] = [];
    const record =
      (state: string, result: Handler): Handler =>
      async (taskInput) => {
        calls.push({ state, input: taskInput });
        if (state === abortAt) {
          abort?.();
          // The invocation the stopped run waited for answers after the stop, which ignores it.
          return new Promise<Json>((resolve) => setTimeout(() => resolve({}), 5));
        }
        return (failures[state] ?? result)(taskInput);
      };
    const handlers: Record<string, Handler> = {
      'acquire-lock': record('acquire-lock', (i) => ({
        lockId: 'rotation/payments',
        holder: i.executionId,
        acquiredAt: '2026-03-10T09:00:00.000Z',
        how: 'taken',
      })),
      preflight: record('preflight', (i) => ({
        clusters: CLUSTERS,
        currentRoot: { secretArn: 'arn:root', versionId: 'v-a', fingerprint: 'aa' },
        plan: {
          ...STAND_IN_PLAN,
          proxyTrustWait: { seconds: 41, reason: 'lab-1: PCDS off' },
          soak: { seconds: Number(i.soakSeconds), reason: 'the floor' },
          notes: ['lab-1: PCDS off'],
          strategies: [{ cluster: 'eu-1', strategy: 'resign', reasons: ['PCDS on'] }],
        },
      })),
      'stage-root': record('stage-root', () => ({
        secretArn: 'arn:root',
        versionId: 'v-b',
        fingerprint: 'bb',
      })),
      'approve-reissue': record('approve-reissue', () => ({ approvedBy: 'alice' })),
      'approve-retire': record('approve-retire', () => ({ approvedBy: 'bob' })),
      'promote-root': record('promote-root', () => ({ currentVersionId: 'v-b' })),
      'rollback-drop-pending': record('rollback-drop-pending', (i) => ({ stage: i.stage, changed: true })),
    };
    for (const map of CLUSTER_MAP_STATES)
      handlers[clusterTaskName(map)] = record(clusterTaskName(map), perClusterStandIn(map));
    for (const release of RELEASE_LOCK_STATES)
      handlers[release] = record(release, () => ({ lockId: 'rotation/payments', released: true }));

    const run = await runDefinitionLocally({
      definition: on,
      input,
      handlers,
      executionId,
      taskToken: 'local-task-token',
      waitTimeOverrides: { soak: 0, 'await-proxy-trust': 0 },
      onStart: (execution) => {
        abort = () => execution.abort();
      },
    });
    return { calls, ...run };
  }

  /** The calls the run made to one state, in order. */
  const callsOf = (result: Run, state: string) => result.calls.filter((call) => call.state === state);

  /** Root ids as the real handlers give them (fingerprints are 64 hex digits), and no waits. */
  const hex = (c: string) => c.repeat(64);
  const rootsAsReal: Record<string, Handler> = {
    preflight: () => ({
      clusters: CLUSTERS,
      currentRoot: { secretArn: 'arn:root', versionId: 'v-a', fingerprint: hex('a') },
      plan: STAND_IN_PLAN,
    }),
    'stage-root': () => ({ secretArn: 'arn:root', versionId: 'v-b', fingerprint: hex('b') }),
  };
  /** A rotation that fails at verify-trust, so that its rollback runs. */
  const failsAtVerifyTrust: Record<string, Handler> = {
    ...rootsAsReal,
    'verify-trust-in-cluster': () => {
      throw new StandIn('VerificationFailed', 'istiod of us-1 did not publish A+B');
    },
  };
  const RESUMED_ID = `${EXECUTION_ID}-rollback-20260310T110000Z`;

  /** A scheduled run that fails at verify-trust, whose rollback then fails in `state` with `error`. */
  const rollbackFailingIn = (state: string, error: string, message: string) =>
    run(
      { mode: 'scheduled', reason: 'annual rotation', requestedBy: 'alice' },
      {
        ...failsAtVerifyTrust,
        [state]: () => {
          throw new StandIn(error, message);
        },
      },
    );

  /**
   * What retry-rollback does with a run that ended without rolling back (FAILED in the rollback, or
   * ABORTED): decides from its history how to resume, and runs the new execution with that state.
   */
  async function resumeRollbackAfter(ended: Run, status: 'FAILED' | 'ABORTED', reason: string) {
    const decision = resumeRollbackOf({
      executionArn: EXECUTION_ID,
      status,
      finalState: ended.finalState,
      ...(status === 'FAILED' ? { error: ended.error?.name as string } : { statesEntered: ended.entered }),
    });
    if (!decision.resumable) throw new Error(decision.reason);
    const resumed = await run(
      { mode: decision.mode, reason, requestedBy: 'bob', resumeRollback: decision.resumeRollback },
      {},
      RESUMED_ID,
    );
    return { resumeRollback: decision.resumeRollback, resumed };
  }

  it('runs a scheduled rotation through every phase, soaking the default 24 h', async () => {
    // WHEN
    const result = await run({ mode: 'scheduled', reason: 'annual rotation', requestedBy: 'schedule' });

    // THEN
    expect(result.error).toBeUndefined();
    expect(result.entered).toEqual([
      ...RUN_START,
      'preflight',
      'mode',
      'stage-root',
      'distribute-bundle',
      'verify-trust',
      'await-proxy-trust',
      'approve-reissue',
      'reissue-intermediate',
      'restart-workloads',
      'verify-workloads',
      'after-workloads',
      'soak',
      'approve-retire',
      'retire-root',
      'promote-root',
      'release-lock',
      'rotation-succeeded',
    ]);
    expect(result.output).toMatchObject({ soakSeconds: 86400, reason: 'annual rotation' });
    // Who asked and why reach acquire-lock's audit event (the execution log keeps no input).
    expect(result.calls[0]).toEqual({
      state: 'acquire-lock',
      input: {
        executionId: EXECUTION_ID,
        requestedBy: 'schedule',
        reason: 'annual rotation',
        resumeRollback: null,
        resumePromotion: null,
      },
    });
    expect(result.calls[1]).toEqual({
      state: 'preflight',
      input: { executionId: EXECUTION_ID, mode: 'scheduled', cluster: null, soakSeconds: 86400 },
    });
    const distribute = callsOf(result, 'distribute-bundle-in-cluster');
    expect(distribute.map((call) => call.input)).toEqual(
      CLUSTERS.map(({ name }) => ({
        executionId: EXECUTION_ID,
        mode: 'scheduled',
        cluster: name,
        currentRoot: { secretArn: 'arn:root', versionId: 'v-a', fingerprint: 'aa' },
        stagedRoot: { secretArn: 'arn:root', versionId: 'v-b', fingerprint: 'bb' },
      })),
    );
    // The state keeps of each Map's answers only what a later state reads (contract/map-answers.ts):
    // the stand-ins' `done: true` is dropped everywhere, and the Maps no later state reads name clusters.
    const names = CLUSTERS.map(({ name }) => ({ cluster: name }));
    for (const key of ['trustVerified', 'restarted', 'workloadsVerified', 'retired']) {
      expect(result.output?.[key]).toEqual(names);
    }
    expect(result.output?.distributed).toEqual(names.map((name) => ({ ...name, ...STAND_IN_WRITE })));
    // Of preflight's answer, the clusters, the current root, the two waits and the estimate
    // (contract/preflight-answer.ts): the plan's notes and strategies stay in the history.
    expect(result.output?.preflight).toEqual({
      clusters: CLUSTERS,
      currentRoot: { secretArn: 'arn:root', versionId: 'v-a', fingerprint: 'aa' },
      plan: {
        proxyTrustWait: { seconds: 41, reason: 'lab-1: PCDS off' },
        soak: { seconds: 86400, reason: 'the floor' },
        historyEvents: STAND_IN_PLAN.historyEvents,
      },
    });
    // reissue-intermediate and restart-workloads get their cluster's strategy, from the cluster's item.
    for (const state of ['reissue-intermediate-in-cluster', 'restart-workloads-in-cluster']) {
      const calls = callsOf(result, state);
      expect(calls.map((call) => [call.input.cluster, call.input.strategy])).toEqual([
        ['eu-1', 'resign'],
        ['us-1', 'restart'],
      ]);
    }
    const gates = callsOf(result, 'verify-workloads-in-cluster');
    expect(gates.map((call) => call.input.strategy)).toEqual([undefined, undefined]);
  });

  it('skips the soak in emergency mode', async () => {
    // WHEN
    const result = await run({
      mode: 'emergency',
      reason: 'key leaked',
      requestedBy: 'alice',
      soakSeconds: 5,
    });

    // THEN
    expect(result.error).toBeUndefined();
    expect(result.entered).not.toContain('soak');
    expect(result.entered.slice(-5)).toEqual([
      'approve-retire',
      'retire-root',
      'promote-root',
      'release-lock',
      'rotation-succeeded',
    ]);
  });

  it('rekeys one cluster in intermediate mode without a new root', async () => {
    // WHEN
    const result = await run({
      mode: 'intermediate',
      cluster: 'eu-1',
      reason: 'rekey',
      requestedBy: 'alice',
    });

    // THEN
    expect(result.error).toBeUndefined();
    expect(result.entered).not.toContain('stage-root');
    expect(result.entered).not.toContain('retire-root');
    expect(result.entered.slice(-2)).toEqual(['release-lock', 'rotation-succeeded']);
    expect(result.calls[1]?.input).toEqual({
      executionId: EXECUTION_ID,
      mode: 'intermediate',
      cluster: 'eu-1',
      soakSeconds: 86400,
    });
    const reissue = result.calls.find((call) => call.state === 'reissue-intermediate-in-cluster');
    expect(reissue?.input).toMatchObject({ stagedRoot: null, mode: 'intermediate' });
  });

  it('rolls back in reverse order when a step after the first write fails, and fails as rolled back', async () => {
    // WHEN
    const result = await run(
      { mode: 'scheduled', reason: 'test', requestedBy: 'test' },
      {
        'reissue-intermediate-in-cluster': () => {
          throw new StandIn('PreconditionFailed', 'istiod kept the old CA');
        },
      },
    );

    // THEN
    expect(result.error?.name).toBe('RotationRolledBack');
    expect(result.entered.slice(-9)).toEqual([
      'rollback-trust',
      'rollback-verify-trust',
      'rollback-await-proxy-trust',
      'rollback-intermediate',
      'rollback-restart',
      'rollback-restore',
      'rollback-drop-pending',
      'release-lock-after-rollback',
      'rotation-rolled-back',
    ]);
    const stages = result.calls
      .filter((call) => call.state.startsWith('rollback-'))
      .map((call) => call.input.stage ?? call.input.purpose);
    expect([...new Set(stages)]).toEqual([
      'restore-trust',
      'verify-restored-trust',
      'restore-intermediate',
      'rollback',
      'restore-original',
      'drop-pending-root',
    ]);
    // The gates after the rollback's writes get the writing Map's answers, every cluster's, as far as the
    // state keeps them (the stand-in also answers done: true, which it drops): verify-restored-trust
    // restore-trust's, rollback-restart's istiod gate restore-intermediate's. They say when each wrote.
    const everyAnswer = [
      { cluster: 'eu-1', ...STAND_IN_WRITE },
      { cluster: 'us-1', ...STAND_IN_WRITE },
    ];
    const inputOf = (state: string) => result.calls.find((call) => call.state === state)?.input;
    expect(inputOf('rollback-verify-trust-in-cluster')).toMatchObject({ stage: 'verify-restored-trust' });
    expect(inputOf('rollback-verify-trust-in-cluster')?.writes).toEqual(everyAnswer);
    expect(inputOf('rollback-restart-in-cluster')).toMatchObject({
      purpose: 'rollback',
      writes: everyAnswer,
    });
  });

  it('fails without rollback when preflight refuses, with its error, after releasing the lock', async () => {
    // WHEN
    const result = await run(
      { mode: 'scheduled', reason: 'test', requestedBy: 'test' },
      {
        preflight: () => {
          throw new StandIn('PreconditionFailed', 'cluster eu-1 unreachable');
        },
      },
    );

    // THEN
    expect(result.error?.name).toBe('PreconditionFailed');
    expect(result.error?.message).toContain('cluster eu-1 unreachable');
    expect(result.entered.some((name) => name.startsWith('rollback-'))).toBe(false);
    expect(result.entered.slice(-3)).toEqual(['preflight', 'release-lock-after-stop', 'rotation-stopped']);
  });

  it('stops a run refused the lock before preflight, with RotationLocked naming the holder', async () => {
    // GIVEN another execution holds the lock
    const holder = 'arn:aws:states:eu-west-1:123456789012:execution:meshtrust-payments-rotation:run-0';

    // WHEN
    const result = await run(
      { mode: 'emergency', reason: 'test', requestedBy: 'test' },
      {
        'acquire-lock': () => {
          throw new StandIn('RotationLocked', `the rotation lock is held by execution run-0 (${holder})`);
        },
      },
    );

    // THEN nothing ran but the refused acquisition and the (conditional, here idle) release
    expect(result.error).toEqual({
      name: 'RotationLocked',
      message: expect.stringContaining(holder),
    });
    expect(result.calls.map((call) => call.state)).toEqual(['acquire-lock', 'release-lock-after-stop']);
    expect(result.calls[1]?.input).toEqual({ executionId: EXECUTION_ID });
  });

  it('releases the lock after a failed rollback and still fails as RollbackFailed', async () => {
    // WHEN
    const result = await run(
      { mode: 'scheduled', reason: 'test', requestedBy: 'test' },
      {
        'verify-trust-in-cluster': () => {
          throw new StandIn('PreconditionFailed', 'istiod dropped the bundle');
        },
        'rollback-restore-in-cluster': () => {
          throw new StandIn('PreconditionFailed', 'cacerts changed by hand');
        },
      },
    );

    // THEN
    expect(result.error?.name).toBe('RollbackFailed');
    expect(result.entered.slice(-3)).toEqual([
      'rollback-restore',
      'release-lock-after-failed-rollback',
      'rotation-failed',
    ]);
  });

  it("resumes a rollback that failed in a new execution, from the failed run's final state, undoing its writes", async () => {
    // GIVEN a scheduled run whose rollback failed at rollback-restore (ids as the real handlers give them)
    const failed = await rollbackFailingIn(
      'rollback-restore-in-cluster',
      'TransientError',
      'EKS endpoint unreachable',
    );
    expect(failed.error?.name).toBe('RollbackFailed');

    // WHEN the new execution runs with the failed run's state in its input
    const { resumeRollback, resumed } = await resumeRollbackAfter(failed, 'FAILED', 'retry');

    // THEN it takes the lock as itself, skips everything forward and walks the whole rollback back
    expect(resumed.error?.name).toBe('RotationRolledBack');
    expect(resumed.entered).toEqual([
      ...RUN_START,
      'resume-rollback',
      'resume-from',
      'rollback-trust',
      'rollback-verify-trust',
      'rollback-await-proxy-trust',
      'rollback-intermediate',
      'rollback-restart',
      'rollback-restore',
      'rollback-drop-pending',
      'release-lock-after-rollback',
      'rotation-rolled-back',
    ]);
    // acquire-lock is given the claim, to check it against the failed run before taking the lock.
    expect(resumed.calls[0]).toMatchObject({
      state: 'acquire-lock',
      input: { executionId: RESUMED_ID, resumeRollback },
    });
    // Every rollback call is the resumed execution's, undoing the failed one's writes, per cluster.
    const rollbackCalls = resumed.calls.filter((call) => call.state.startsWith('rollback-'));
    expect(rollbackCalls).toHaveLength(CLUSTERS.length * 5 + 1);
    for (const call of rollbackCalls) {
      expect(call.input).toMatchObject({ executionId: RESUMED_ID, rollbackOf: EXECUTION_ID });
    }
    // rollback-restart is told when this execution started: a restart with the failed run's restart id
    // from before then is the failed run's, and a wave of it still rolling out gets a fresh timeout.
    const restartCall = rollbackCalls.find((call) => call.state === 'rollback-restart-in-cluster');
    expect(restartCall?.input).toMatchObject({
      purpose: 'rollback',
      executionStartedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
    });
    expect(rollbackCalls.find((call) => call.state === 'rollback-trust-in-cluster')?.input).toEqual({
      executionId: RESUMED_ID,
      mode: 'scheduled',
      cluster: 'eu-1',
      currentRoot: { secretArn: 'arn:root', versionId: 'v-a', fingerprint: hex('a') },
      stagedRoot: { secretArn: 'arn:root', versionId: 'v-b', fingerprint: hex('b') },
      stage: 'restore-trust',
      rollbackOf: EXECUTION_ID,
    });
    // The record of why it all began is kept.
    expect(resumed.finalState).toMatchObject({
      failure: { Error: 'VerificationFailed' },
      resumeRollback: { resumedFrom: EXECUTION_ID, rollbackFailure: { Error: 'TransientError' } },
    });
  });

  it('rolls back a run aborted part-way (no Catch ran) in a new execution, from the state it was in', async () => {
    // GIVEN a scheduled run stopped while distribute-bundle wrote its first cluster
    const aborted = await run(
      { mode: 'scheduled', reason: 'annual rotation', requestedBy: 'alice' },
      rootsAsReal,
      EXECUTION_ID,
      'distribute-bundle-in-cluster',
    );
    expect(aborted.error?.name).toBe('ExecutionAbortedError');
    expect(aborted.calls.some((call) => call.state.startsWith('rollback'))).toBe(false);

    // WHEN the new execution runs with that state in its input
    const { resumed } = await resumeRollbackAfter(aborted, 'ABORTED', 'roll back');

    // THEN the whole rollback runs from rollback-trust, undoing the aborted run's writes
    expect(resumed.error?.name).toBe('RotationRolledBack');
    expect(resumed.entered.slice(RUN_START.length, RUN_START.length + 3)).toEqual([
      'resume-rollback',
      'resume-from',
      'rollback-trust',
    ]);
    expect(resumed.calls.find((call) => call.state === 'rollback-trust-in-cluster')?.input).toMatchObject({
      executionId: RESUMED_ID,
      rollbackOf: EXECUTION_ID,
      stagedRoot: { versionId: 'v-b' },
    });
    expect(resumed.finalState).toMatchObject({
      failure: { Error: 'ABORTED', Cause: expect.stringContaining('ABORTED in distribute-bundle') },
    });
  });

  it('resumes a rollback that failed in rollback-drop-pending at that stage, reading no backup again', async () => {
    // GIVEN a run whose rollback restored every cluster, then failed dropping the pending root
    const failed = await rollbackFailingIn(
      'rollback-drop-pending',
      'PreconditionFailed',
      'KMS key policy refuses ScheduleKeyDeletion',
    );
    expect(failed.error?.name).toBe('RollbackFailed');

    // WHEN
    const { resumeRollback, resumed } = await resumeRollbackAfter(failed, 'FAILED', 'retry');

    // THEN no restore stage runs (their backups may be scheduled for deletion): only the last one
    expect(resumeRollback.restored).toBe(true);
    expect(resumed.error?.name).toBe('RotationRolledBack');
    expect(resumed.entered.slice(RUN_START.length)).toEqual([
      'resume-rollback',
      'resume-from',
      'rollback-drop-pending',
      'release-lock-after-rollback',
      'rotation-rolled-back',
    ]);
    expect(resumed.calls.filter((call) => call.state.startsWith('rollback-'))).toEqual([
      {
        state: 'rollback-drop-pending',
        input: {
          executionId: RESUMED_ID,
          stage: 'drop-pending-root',
          clusters: CLUSTERS.map(({ name }) => ({ name })),
          rollbackOf: EXECUTION_ID,
        },
      },
    ]);
  });

  it('stops a resumed rollback that acquire-lock finds does not match the run it names, before any write', async () => {
    // GIVEN a resumeRollback naming a run whose history says otherwise
    const resumeRollback = {
      executionArn: EXECUTION_ID,
      resumedFrom: EXECUTION_ID,
      clusters: CLUSTERS.map(({ name }) => ({ name })),
      currentRoot: { secretArn: 'arn:root', versionId: 'v-a', fingerprint: 'a'.repeat(64) },
      stagedRoot: null,
      failure: null,
      rollbackFailure: null,
      restored: false,
    };

    // WHEN
    const result = await run(
      { mode: 'scheduled', resumeRollback },
      {
        'acquire-lock': () => {
          throw new StandIn(
            'PreconditionFailed',
            'not resumed: run-1 SUCCEEDED: there is no rollback to resume.',
          );
        },
      },
      `${EXECUTION_ID}-rollback-20260310T110000Z`,
    );

    // THEN
    expect(result.error).toEqual({
      name: 'PreconditionFailed',
      message: expect.stringContaining('SUCCEEDED'),
    });
    expect(result.calls.map((call) => call.state)).toEqual(['acquire-lock', 'release-lock-after-stop']);
    expect(result.calls[0]?.input).toMatchObject({ resumeRollback });
  });

  it('gives a rotation rollbackOf null, so its rollback undoes its own writes', async () => {
    // WHEN
    const result = await run(
      { mode: 'emergency', reason: 'test', requestedBy: 'test' },
      {
        'distribute-bundle-in-cluster': () => {
          throw new StandIn('PreconditionFailed', 'no');
        },
      },
    );

    // THEN
    expect(result.error?.name).toBe('RotationRolledBack');
    const rollbackCalls = result.calls.filter((call) => call.state.startsWith('rollback-'));
    expect(rollbackCalls.length).toBeGreaterThan(0);
    for (const call of rollbackCalls) {
      expect(call.input).toMatchObject({ executionId: EXECUTION_ID, rollbackOf: null });
    }
  });

  it('stops before any write an input that sets rollbackOf or a resumeRollback lacking a field', async () => {
    for (const input of [
      { mode: 'scheduled', rollbackOf: 'arn:aws:states:eu-west-1:123456789012:execution:m:other' },
      { mode: 'scheduled', resumeRollback: { executionArn: 'arn:x', clusters: CLUSTERS } },
    ]) {
      // WHEN
      const result = await run(input);

      // THEN
      expect(result.error?.name).toBe('PreconditionFailed');
      expect(result.entered.slice(-3)).toEqual([
        'unsupported-input',
        'release-lock-after-stop',
        'rotation-stopped',
      ]);
      expect(result.calls.map((call) => call.state)).toEqual(['acquire-lock', 'release-lock-after-stop']);
    }
  });

  it("releases the lock when promote-root fails, and fails with promote-root's error, not rolled back", async () => {
    // WHEN
    const result = await run(
      { mode: 'emergency', reason: 'test', requestedBy: 'test' },
      {
        'promote-root': () => {
          throw new StandIn('TransientError', 'Secrets Manager still throttling');
        },
      },
    );

    // THEN
    expect(result.error).toEqual({ name: 'TransientError', message: expect.stringContaining('throttling') });
    expect(result.entered.some((name) => name.startsWith('rollback-'))).toBe(false);
    expect(result.entered.slice(-3)).toEqual(['promote-root', 'release-lock-after-stop', 'rotation-stopped']);
  });

  it.each([
    ['FAILED', undefined],
    ['ABORTED', 'promote-root'],
  ] as const)(
    'finishes a run that stopped in promote-root (%s) in a new execution: promote-root alone, then the release, SUCCEEDED',
    async (status, abortAt) => {
      // GIVEN an emergency run whose promote-root fails for good (or is stopped there), after retire-root
      const stopped = await run(
        { mode: 'emergency', reason: 'key compromise', requestedBy: 'alice' },
        {
          ...rootsAsReal,
          'promote-root': () => {
            throw new StandIn('PreconditionFailed', 'the root secret is being changed by another request');
          },
        },
        EXECUTION_ID,
        abortAt,
      );
      expect(stopped.entered).toContain('retire-root');

      // WHEN meshtrust retry-promotion reads it and starts the new execution
      const decision = resumePromotionOf({
        executionArn: EXECUTION_ID,
        status,
        ...(status === 'FAILED' && { error: stopped.error?.name as string }),
        finalState: stopped.finalState,
        statesEntered: stopped.entered,
      });
      if (!decision.resumable) throw new Error(decision.reason);
      const resumedId = `${EXECUTION_ID}-promote-20260310T110000Z`;
      const resumed = await run(
        {
          mode: decision.mode,
          reason: 'finish',
          requestedBy: 'bob',
          resumePromotion: decision.resumePromotion,
        },
        {},
        resumedId,
      );

      // THEN it takes the lock (checking the claim first), promotes the stopped run's staged root and
      // deletes that run's backups, writes nothing else, releases the lock and succeeds
      expect(resumed.error).toBeUndefined();
      expect(resumed.entered).toEqual(RESUMED_PROMOTION_STATES);
      expect(resumed.calls.map((call) => call.state)).toEqual([
        'acquire-lock',
        'promote-root',
        'release-lock',
      ]);
      expect(resumed.calls[0]?.input).toMatchObject({
        executionId: resumedId,
        resumePromotion: decision.resumePromotion,
      });
      expect(resumed.calls[1]?.input).toEqual({
        executionId: resumedId,
        stagedRoot: { secretArn: 'arn:root', versionId: 'v-b', fingerprint: hex('b') },
        clusters: CLUSTERS.map(({ name }) => ({ name })),
        promotionOf: EXECUTION_ID,
      });
      expect(resumed.calls[2]?.input).toMatchObject({ executionId: resumedId, mode: 'emergency' });
    },
  );

  it('stops an input that sets promotionOf itself, before preflight and without writing', async () => {
    // WHEN
    const result = await run({
      mode: 'scheduled',
      reason: 'test',
      requestedBy: 'x',
      promotionOf: EXECUTION_ID,
    });

    // THEN
    expect(result.error?.name).toBe('PreconditionFailed');
    expect(result.calls.map((call) => call.state)).toEqual(['acquire-lock', 'release-lock-after-stop']);
  });

  it('ends a run as it would have when releasing the lock fails', async () => {
    // WHEN
    const result = await run(
      { mode: 'scheduled', reason: 'test', requestedBy: 'test' },
      {
        'release-lock': () => {
          throw new StandIn('AccessDeniedException', 'not allowed to dynamodb:DeleteItem');
        },
      },
    );

    // THEN
    expect(result.error).toBeUndefined();
    expect(result.entered.slice(-2)).toEqual(['release-lock', 'rotation-succeeded']);
    expect(result.output).toMatchObject({
      lockReleaseFailure: { Error: 'AccessDeniedException' },
    });
  });

  it('loops restart-workloads per cluster until it answers done, handing each invocation the answer before', async () => {
    // GIVEN eu-1 needs three invocations (done: false twice), us-1 one
    const answers: Record<string, Json[]> = {
      'eu-1': [
        { done: false, waves: 2, resumeAfter: { namespace: 'shop', kind: 'Deployment', name: 'b' } },
        { done: false, waves: 4, waveStartedAt: '2026-12-01T03:14:00.000Z' },
        { done: true, waves: 5 },
      ],
      'us-1': [{ done: true, waves: 1 }],
    };

    // WHEN
    const result = await run(
      { mode: 'scheduled', reason: 'test', requestedBy: 'test' },
      {
        'restart-workloads-in-cluster': (input) => {
          const next = answers[input.cluster as string]?.shift();
          if (next === undefined) throw new StandIn('PreconditionFailed', 'invoked once too often');
          return { cluster: input.cluster, ...next };
        },
      },
    );

    // THEN
    expect(result.error).toBeUndefined();
    const restarts = callsOf(result, 'restart-workloads-in-cluster');
    const eu = restarts.filter((call) => call.input.cluster === 'eu-1').map((call) => call.input);
    expect(eu).toHaveLength(3);
    expect(restarts.filter((call) => call.input.cluster === 'us-1')).toHaveLength(1);
    // The first invocation gets the Map item; each later one the item and the answer before it.
    expect(eu[0]).toEqual({
      executionId: EXECUTION_ID,
      mode: 'scheduled',
      cluster: 'eu-1',
      currentRoot: { secretArn: 'arn:root', versionId: 'v-a', fingerprint: 'aa' },
      stagedRoot: { secretArn: 'arn:root', versionId: 'v-b', fingerprint: 'bb' },
      purpose: 'rotation',
      // The cluster's strategy from its item of preflight's clusters.
      strategy: 'resign',
      // reissue-intermediate's answers, every cluster's, for the istiod gate: what the state keeps of them.
      writes: ['eu-1', 'us-1'].map((cluster) => ({ cluster, ...STAND_IN_WRITE })),
    });
    expect(eu[1]).toEqual({
      ...eu[0],
      progress: {
        cluster: 'eu-1',
        done: false,
        waves: 2,
        resumeAfter: { namespace: 'shop', kind: 'Deployment', name: 'b' },
      },
    });
    expect(eu[2]?.progress).toEqual({
      cluster: 'eu-1',
      done: false,
      waves: 4,
      waveStartedAt: '2026-12-01T03:14:00.000Z',
    });
    // The Map's result names each cluster (its last answer is in the history), and the run goes on.
    expect(result.output?.restarted).toEqual([{ cluster: 'eu-1' }, { cluster: 'us-1' }]);
    expect(result.entered).toContain('verify-workloads');
    expect(result.entered.some((name) => name.startsWith('rollback-'))).toBe(false);
  });

  it('loops the rollback restart the same way', async () => {
    // GIVEN
    let rollbackRestarts = 0;

    // WHEN
    const result = await run(
      { mode: 'scheduled', reason: 'test', requestedBy: 'test' },
      {
        'verify-workloads-in-cluster': () => {
          throw new StandIn('PreconditionFailed', 'a pod is older than its restart');
        },
        'rollback-restart-in-cluster': (input) => {
          rollbackRestarts += 1;
          return { cluster: input.cluster, done: input.progress !== undefined };
        },
      },
    );

    // THEN each cluster restarts over two invocations, then the rollback goes on
    expect(result.error?.name).toBe('RotationRolledBack');
    expect(rollbackRestarts).toBe(4);
    expect(result.entered.slice(-4)).toEqual([
      'rollback-restore',
      'rollback-drop-pending',
      'release-lock-after-rollback',
      'rotation-rolled-back',
    ]);
  });

  it.each(['States.Timeout', 'Sandbox.Timedout', 'Lambda.Unknown'])(
    'retries a restart-workloads invocation that ended in %s instead of rolling back',
    async (error) => {
      // GIVEN the first invocation for eu-1 is stopped by Lambda
      let stopped = 0;

      // WHEN
      const result = await run(
        { mode: 'emergency', reason: 'test', requestedBy: 'test' },
        {
          'restart-workloads-in-cluster': (input) => {
            if (input.cluster === 'eu-1' && stopped === 0) {
              stopped += 1;
              throw new StandIn(error, 'Task timed out after 900.00 seconds');
            }
            return { cluster: input.cluster, done: true };
          },
        },
      );

      // THEN
      expect(result.error).toBeUndefined();
      expect(stopped).toBe(1);
      expect(callsOf(result, 'restart-workloads-in-cluster')).toHaveLength(3);
      expect(result.entered.some((name) => name.startsWith('rollback-'))).toBe(false);
      expect(result.entered.at(-1)).toBe('rotation-succeeded');
    },
  );

  it('still rolls back a restart-workloads that Lambda stops every time', async () => {
    // WHEN
    const result = await run(
      { mode: 'emergency', reason: 'test', requestedBy: 'test' },
      {
        'restart-workloads-in-cluster': () => {
          throw new StandIn('States.Timeout', 'Task timed out after 900.00 seconds');
        },
      },
    );

    // THEN the first try and 3 retries per cluster, then rollback
    expect(result.error?.name).toBe('RotationRolledBack');
    const restarts = callsOf(result, 'restart-workloads-in-cluster');
    expect(restarts.filter((call) => call.input.cluster === 'eu-1')).toHaveLength(4);
  });

  it('rolls back a timeout of a step that is not resumable', async () => {
    // WHEN
    const result = await run(
      { mode: 'emergency', reason: 'test', requestedBy: 'test' },
      {
        'distribute-bundle-in-cluster': () => {
          throw new StandIn('States.Timeout', 'Task timed out after 300.00 seconds');
        },
      },
    );

    // THEN
    expect(result.error?.name).toBe('RotationRolledBack');
    expect(callsOf(result, 'distribute-bundle-in-cluster')).toHaveLength(2);
  });

  it('retries a verification gate that istiod has not caught up with yet', async () => {
    // GIVEN
    let attempts = 0;

    // WHEN
    const result = await run(
      { mode: 'emergency', reason: 'test', requestedBy: 'test' },
      {
        'verify-trust-in-cluster': (input) => {
          attempts += 1;
          if (attempts <= 2) throw new StandIn('VerificationFailed', 'bundle not yet in every namespace');
          return { cluster: input.cluster };
        },
      },
    );

    // THEN
    expect(result.error).toBeUndefined();
    expect(attempts).toBe(4);
    expect(result.entered).toContain('rotation-succeeded');
  });

  describe('with Distributed Maps (distributedMaps: each cluster a child execution)', () => {
    /** A run's calls in a fixed order: Map items may run in any order, inline or as children. */
    const sortedCalls = (result: Run) =>
      result.calls.map((call) => JSON.stringify(call)).sort((a, b) => a.localeCompare(b));

    it('runs a scheduled rotation as the inline Maps do: the same states, calls and final state', async () => {
      // GIVEN
      const input = { mode: 'scheduled', reason: 'annual rotation', requestedBy: 'schedule' };

      // WHEN
      const inline = await run(input);
      const distributed = await run(input, {}, EXECUTION_ID, undefined, distributedDefinition);

      // THEN every per-cluster Task got, in its child, the input it gets inline (the parent's execution
      // id, not the child's), and the parent kept the same answers
      expect(distributed.error).toBeUndefined();
      expect(distributed.entered).toEqual(inline.entered);
      expect(sortedCalls(distributed)).toEqual(sortedCalls(inline));
      // (each run's own start time aside)
      const withoutStart = (result: Run) => ({ ...result.output, execution: { id: EXECUTION_ID } });
      expect(withoutStart(distributed)).toEqual(withoutStart(inline));
      expect(callsOf(distributed, 'retire-root-in-cluster').map((call) => call.input.executionId)).toEqual([
        EXECUTION_ID,
        EXECUTION_ID,
      ]);
    });

    it("rolls back a child's failure, caught on the Map as States.ExceedToleratedFailureThreshold", async () => {
      // GIVEN us-1's reissue fails for good (no Retry takes PreconditionFailed)
      const failures: Record<string, Handler> = {
        'reissue-intermediate-in-cluster': (input) => {
          if (input.cluster === 'us-1') throw new StandIn('PreconditionFailed', 'istiod kept the old CA');
          return perClusterStandIn('reissue-intermediate')(input);
        },
      };
      const input = { mode: 'scheduled', reason: 'test', requestedBy: 'test' };

      // WHEN
      const inline = await run(input, failures);
      const distributed = await run(input, failures, EXECUTION_ID, undefined, distributedDefinition);

      // THEN both roll back the same way; the Map Run's error names neither the child nor its error
      // (docs/workflow.md, "Errors"), where the inline Map passes the child's own error on
      expect(distributed.error?.name).toBe('RotationRolledBack');
      expect(distributed.entered).toEqual(inline.entered);
      expect(distributed.entered.slice(-9, -7)).toEqual(['rollback-trust', 'rollback-verify-trust']);
      expect(inline.finalState?.failure).toMatchObject({ Error: 'PreconditionFailed' });
      expect(distributed.finalState?.failure).toEqual({
        Error: 'States.ExceedToleratedFailureThreshold',
        Cause: 'The specified tolerated failure threshold was exceeded',
      });
      // every cluster is restored, the one whose child failed too
      expect(
        callsOf(distributed, 'rollback-restore-in-cluster')
          .map((call) => call.input.cluster)
          .sort(),
      ).toEqual(['eu-1', 'us-1']);
    });
  });
});
