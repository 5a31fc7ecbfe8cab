import { readFileSync } from 'node:fs';
import aslValidator from 'asl-validator';
import { Match } from 'aws-cdk-lib/assertions';
import {
  CLUSTER_MAP_STATES,
  clusterDoneName,
  clusterTaskName,
  clusterWavesLeftName,
  noWaitName,
  RELEASE_LOCK_STATES,
  RESTART_LOOP_MAP_STATES,
  type RestartLoopMapState,
  TRANSIENT_ERRORS,
  WORKFLOW_STATES,
  waitAsksName,
} from '../../lib/workflow-states.js';
import {
  type Asl,
  type AslState,
  aslOf,
  resourcesOfType,
  type SynthesizedMeshTrustStack,
  synthMeshTrustStack,
} from './synth-mesh-trust-stack.js';

/** The state names of the contract: the first column of the States table of docs/workflow.md. */
function contractStateNames(): string[] {
  const doc = readFileSync(new URL('../../docs/workflow.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## States'), doc.indexOf('## Handler input and output'));
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) =>
      [...(line.split('|')[1] ?? '').matchAll(/`([a-z-]+)`/g)].map((match) => match[1] as string),
    );
}

function successors(state: AslState): string[] {
  return [
    state.Next,
    state.Default,
    ...(state.Choices ?? []).map((choice) => choice.Next),
    ...(state.Catch ?? []).map((c) => c.Next),
  ].filter((next): next is string => next !== undefined);
}

/** States reachable from `from` on the forward path (no Catch edges) without entering any of `stopAt`. */
function reachable(asl: Asl, from: string, stopAt: ReadonlySet<string>): Set<string> {
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (seen.has(name) || stopAt.has(name)) continue;
    seen.add(name);
    queue.push(...forwardSuccessors(asl.States[name] as AslState));
  }
  return seen;
}

function forwardSuccessors(state: AslState): string[] {
  return successors({ ...state, Catch: [] });
}

describe('the rotation state machine', () => {
  let withApproval: SynthesizedMeshTrustStack;
  let asl: Asl;
  let aslWithoutApproval: Asl;

  beforeAll(() => {
    withApproval = synthMeshTrustStack({ approval: true, maxConcurrency: 3 });
    asl = aslOf(withApproval);
    aslWithoutApproval = aslOf(synthMeshTrustStack({ approval: false }));
  });

  it('has exactly the states docs/workflow.md lists, by name', () => {
    // GIVEN
    const contract = contractStateNames();

    // WHEN
    const names = Object.keys(asl.States);

    // THEN
    expect(contract.length).toBeGreaterThan(20);
    expect([...names].sort()).toEqual([...contract].sort());
  });

  it('names the per-cluster Task inside each Map <map>-in-cluster and only has Maps where the contract says', () => {
    // WHEN
    const maps = Object.entries(asl.States).filter(
      ([name, state]) => state.Type === 'Map' && name !== WORKFLOW_STATES.rollbackAwaitProxyTrust,
    );

    // THEN
    expect(maps.map(([name]) => name).sort()).toEqual([...CLUSTER_MAP_STATES].sort());
    for (const [name, map] of maps) {
      expect(map.ItemsPath).toBe('$.preflight.clusters');
      expect(map.MaxConcurrency).toBe(3);
      const loops = (RESTART_LOOP_MAP_STATES as readonly string[]).includes(name);
      expect(Object.keys(map.ItemProcessor?.States ?? {}).sort()).toEqual(
        (loops
          ? [
              clusterTaskName(name as never),
              clusterWavesLeftName(name as RestartLoopMapState),
              clusterDoneName(name as RestartLoopMapState),
            ]
          : [clusterTaskName(name as never)]
        ).sort(),
      );
    }
  });

  it("waits every verify-restored-trust answer's proxyTrustWaitSeconds at once before rollback-intermediate, and a missing one not at all", () => {
    // WHEN
    const name = WORKFLOW_STATES.rollbackAwaitProxyTrust;
    const map = asl.States[name] as AslState;
    const inside = map.ItemProcessor?.States ?? {};

    // THEN
    expect(asl.States['rollback-trust']?.Next).toBe('rollback-verify-trust');
    expect(asl.States['rollback-verify-trust']?.Next).toBe(name);
    expect(map).toMatchObject({ ItemsPath: '$.rollback.trustVerified', ResultPath: null });
    // Absent or 0: no limit, so the waits run at once and the longest counts.
    expect(map.MaxConcurrency ?? 0).toBe(0);
    expect(map.Next).toBe('rollback-intermediate');
    expect(map.Catch).toEqual([
      {
        ErrorEquals: ['States.ALL'],
        Next: 'release-lock-after-failed-rollback',
        ResultPath: '$.rollbackFailure',
      },
    ]);
    expect(map.ItemProcessor?.StartAt).toBe(waitAsksName(name));
    expect(inside[waitAsksName(name)]).toMatchObject({
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.proxyTrustWaitSeconds', IsPresent: true },
            { Variable: '$.proxyTrustWaitSeconds', IsNumeric: true },
          ],
          Next: clusterTaskName(name),
        },
      ],
      Default: noWaitName(name),
    });
    expect(inside[clusterTaskName(name)]).toEqual({
      Type: 'Wait',
      SecondsPath: '$.proxyTrustWaitSeconds',
      End: true,
    });
    expect(inside[noWaitName(name)]?.Type).toBe('Succeed');
  });

  it('passes every per-cluster Task the execution id, mode, cluster name and both roots', () => {
    // WHEN
    const distribute = asl.States['distribute-bundle'] as AslState;

    // THEN
    expect(distribute.ItemSelector).toEqual({
      'executionId.$': '$.execution.id',
      'mode.$': '$.mode',
      'cluster.$': '$$.Map.Item.Value.name',
      'currentRoot.$': '$.preflight.currentRoot',
      'stagedRoot.$': '$.stagedRoot',
    });
    expect((asl.States['rollback-trust'] as AslState).ItemSelector).toMatchObject({ stage: 'restore-trust' });
    expect((asl.States['rollback-verify-trust'] as AslState).ItemSelector).toMatchObject({
      stage: 'verify-restored-trust',
    });
    expect((asl.States['rollback-restart'] as AslState).ItemSelector).toMatchObject({ purpose: 'rollback' });
  });

  it("hands each gate after a cacerts write the writing Map's answers, which say when it wrote", () => {
    // WHEN
    const selectors = Object.fromEntries(
      ['verify-trust', 'restart-workloads', 'rollback-verify-trust', 'rollback-restart'].map((name) => [
        name,
        (asl.States[name] as AslState).ItemSelector,
      ]),
    );

    // THEN
    expect(selectors['verify-trust']).toMatchObject({ 'writes.$': '$.distributed' });
    expect(selectors['restart-workloads']).toMatchObject({ 'writes.$': '$.reissued' });
    // A rollback's trust gate waits for the root set restore-trust wrote, its restart gate for the
    // intermediate restore-intermediate wrote back.
    expect(selectors['rollback-verify-trust']).toMatchObject({ 'writes.$': '$.rollback.trust' });
    expect(selectors['rollback-restart']).toMatchObject({ 'writes.$': '$.rollback.intermediate' });
  });

  it('invokes each Lambda directly (Resource is the function ARN) with the execution id in the payload', () => {
    // WHEN
    const preflight = asl.States.preflight as AslState;
    const stageRoot = asl.States['stage-root'] as AslState;
    const inner = asl.States['verify-trust']?.ItemProcessor?.States['verify-trust-in-cluster'] as AslState;

    // THEN
    expect(preflight.Resource).toMatch(/^arn:aws:lambda:eu-west-1:123456789012:function:/);
    expect(preflight.Parameters).toEqual({
      'executionId.$': '$.execution.id',
      'mode.$': '$.mode',
      'cluster.$': '$.cluster',
      'soakSeconds.$': '$.soakSeconds',
    });
    expect(stageRoot.Parameters).toEqual({ 'executionId.$': '$.execution.id' });
    expect(inner.Resource).toMatch(/:function:/);
    expect(inner.Parameters).toBeUndefined();
  });

  it('catches every failure from the first write through retire-root into rollback-trust, and none before', () => {
    // GIVEN
    const firstWrites = new Set(['stage-root', 'reissue-intermediate']);
    const work = (name: string) => ['Task', 'Map'].includes((asl.States[name] as AslState).Type);
    // A resumed rollback (resume-rollback) writes only to undo, a resumed promotion (resume-promotion)
    // only promote-root: their own tests are below.
    const reachedFirst = [
      ...reachable(asl, asl.StartAt, new Set([...firstWrites, 'resume-rollback', 'resume-promotion'])),
    ];
    const afterFirstWrite = new Set<string>();
    const queue = [...firstWrites];
    while (queue.length > 0) {
      const name = queue.shift() as string;
      if (afterFirstWrite.has(name) || name === 'promote-root') continue;
      afterFirstWrite.add(name);
      queue.push(...forwardSuccessors(asl.States[name] as AslState));
    }

    // approve-reissue is shared: after stage-root in a root rotation, before the first write in
    // intermediate mode (where rollback then finds nothing touched and every stage is a no-op).
    const shared = reachedFirst.filter((name) => afterFirstWrite.has(name));
    const beforeFirstWrite = reachedFirst.filter((name) => !afterFirstWrite.has(name));

    // THEN
    expect(shared).toEqual(['approve-reissue']);
    expect(beforeFirstWrite.sort()).toEqual(
      [
        'input-defaults',
        'apply-input-defaults',
        'execution-context',
        'acquire-lock',
        'rotate-or-resume',
        'unsupported-input',
        'preflight',
        'mode',
        'unsupported-mode',
        'release-lock-after-stop',
        'rotation-stopped',
      ].sort(),
    );
    // Nothing to roll back yet: a failure stops the run, through the release of the lock.
    for (const name of ['acquire-lock', 'preflight']) {
      expect(asl.States[name]?.Catch).toEqual([
        { ErrorEquals: ['States.ALL'], Next: 'release-lock-after-stop', ResultPath: '$.stop' },
      ]);
    }
    for (const name of [
      'input-defaults',
      'apply-input-defaults',
      'execution-context',
      'rotate-or-resume',
      'unsupported-input',
      'mode',
      'unsupported-mode',
    ]) {
      expect(asl.States[name]?.Catch).toBeUndefined();
    }
    const releases: readonly string[] = RELEASE_LOCK_STATES;
    const caught = [...afterFirstWrite].filter((name) => work(name) && !releases.includes(name));
    expect(caught.sort()).toEqual(
      [
        'stage-root',
        'distribute-bundle',
        'verify-trust',
        'approve-reissue',
        'reissue-intermediate',
        'restart-workloads',
        'verify-workloads',
        'approve-retire',
        'retire-root',
      ].sort(),
    );
    for (const name of caught) {
      expect(asl.States[name]?.Catch).toEqual([
        { ErrorEquals: ['States.ALL'], Next: 'rollback-trust', ResultPath: '$.failure' },
      ]);
    }
  });

  it("resumes a failed rollback after taking the lock: the failed run's state, then straight to rollback-trust or, all restored, rollback-drop-pending", () => {
    // WHEN
    const choice = asl.States['rotate-or-resume'] as AslState;
    const resume = asl.States['resume-rollback'] as AslState;

    // THEN
    // Only an input whose resumeRollback has every field the rollback reads resumes; one that has not,
    // or that sets rollbackOf itself (which would point a rotation's rollback at another run), stops.
    expect(choice).toMatchObject({ Type: 'Choice', Default: 'preflight' });
    expect(choice.Choices).toEqual([
      {
        And: [
          { Not: { Variable: '$.resumeRollback', IsNull: true } },
          { Not: { Variable: '$.resumePromotion', IsNull: true } },
        ],
        Next: 'unsupported-input',
      },
      {
        And: [
          { Not: { Variable: '$.resumeRollback', IsNull: true } },
          ...['executionArn', 'clusters', 'currentRoot', 'stagedRoot', 'failure'].map((field) => ({
            Variable: `$.resumeRollback.${field}`,
            IsPresent: true,
          })),
          { Variable: '$.mode', IsString: true },
        ],
        Next: 'resume-rollback',
      },
      {
        And: [
          { Not: { Variable: '$.resumePromotion', IsNull: true } },
          ...['executionArn', 'clusters', 'stagedRoot'].map((field) => ({
            Variable: `$.resumePromotion.${field}`,
            IsPresent: true,
          })),
          { Variable: '$.rollbackOf', IsNull: true },
          { Variable: '$.promotionOf', IsNull: true },
          { Variable: '$.mode', IsString: true },
        ],
        Next: 'resume-promotion',
      },
      {
        Or: [
          { Not: { Variable: '$.resumeRollback', IsNull: true } },
          { Not: { Variable: '$.rollbackOf', IsNull: true } },
          { Not: { Variable: '$.resumePromotion', IsNull: true } },
          { Not: { Variable: '$.promotionOf', IsNull: true } },
        ],
        Next: 'unsupported-input',
      },
    ]);
    expect(asl.States['unsupported-input']).toMatchObject({
      Type: 'Pass',
      Result: { Error: 'PreconditionFailed' },
      ResultPath: '$.stop',
      Next: 'release-lock-after-stop',
    });
    expect(resume).toMatchObject({
      Type: 'Pass',
      Parameters: {
        'rollbackOf.$': '$.resumeRollback.executionArn',
        preflight: {
          'clusters.$': '$.resumeRollback.clusters',
          'currentRoot.$': '$.resumeRollback.currentRoot',
        },
        'stagedRoot.$': '$.resumeRollback.stagedRoot',
        'failure.$': '$.resumeRollback.failure',
        'mode.$': '$.mode',
        'lock.$': '$.lock',
      },
      Next: 'resume-from',
    });
    // A rollback that had restored every cluster (failed in rollback-drop-pending, its backups perhaps
    // scheduled for deletion) resumes at rollback-drop-pending; any other at rollback-trust.
    expect(asl.States['resume-from']).toEqual({
      Type: 'Choice',
      Comment: expect.any(String),
      Choices: [
        {
          And: [
            { Variable: '$.resumeRollback.restored', IsPresent: true },
            { Variable: '$.resumeRollback.restored', BooleanEquals: true },
          ],
          Next: 'rollback-drop-pending',
        },
      ],
      Default: 'rollback-trust',
    });
    // Every rollback stage finds what it undoes by rollbackOf (null in a rotation: its own writes).
    for (const name of ['rollback-trust', 'rollback-intermediate', 'rollback-restart', 'rollback-restore']) {
      expect((asl.States[name] as AslState).ItemSelector).toMatchObject({
        'executionId.$': '$.execution.id',
        'rollbackOf.$': '$.rollbackOf',
      });
    }
    expect(asl.States['rollback-drop-pending']?.Parameters).toMatchObject({
      'executionId.$': '$.execution.id',
      'rollbackOf.$': '$.rollbackOf',
    });
  });

  it("finishes a run stopped in promote-root after taking the lock: the stopped run's staged root and clusters, then promote-root, release-lock", () => {
    // WHEN
    const resume = asl.States['resume-promotion'] as AslState;
    const promote = asl.States['promote-root'] as AslState;

    // THEN
    // No preflight and nothing forward but promote-root, which promotes the stopped run's staged root
    // and deletes that run's cacerts backups (promotionOf), then the release that ends SUCCEEDED.
    expect(resume).toMatchObject({
      Type: 'Pass',
      Parameters: {
        'promotionOf.$': '$.resumePromotion.executionArn',
        'resumePromotion.$': '$.resumePromotion',
        preflight: { 'clusters.$': '$.resumePromotion.clusters' },
        'stagedRoot.$': '$.resumePromotion.stagedRoot',
        'mode.$': '$.mode',
        'lock.$': '$.lock',
      },
      Next: 'promote-root',
    });
    expect(promote.Parameters).toEqual({
      'executionId.$': '$.execution.id',
      'stagedRoot.$': '$.stagedRoot',
      'clusters.$': '$.preflight.clusters',
      'promotionOf.$': '$.promotionOf',
    });
    expect(promote.Next).toBe('release-lock');
    expect(asl.States['release-lock']?.Next).toBe('rotation-succeeded');
    // acquire-lock checks the claim against the run it names before taking the lock.
    expect(asl.States['acquire-lock']?.Parameters).toMatchObject({
      'resumePromotion.$': '$.resumePromotion',
    });
  });

  it('lets promote-root fail without rollback, and sends a failing rollback stage to rotation-failed', () => {
    // THEN
    expect(asl.States['promote-root']?.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], Next: 'release-lock-after-stop', ResultPath: '$.stop' },
    ]);
    for (const name of [
      'rollback-trust',
      'rollback-intermediate',
      'rollback-restart',
      'rollback-restore',
      'rollback-drop-pending',
    ]) {
      expect(asl.States[name]?.Catch).toEqual([
        {
          ErrorEquals: ['States.ALL'],
          Next: 'release-lock-after-failed-rollback',
          ResultPath: '$.rollbackFailure',
        },
      ]);
    }
    expect(asl.States['rollback-drop-pending']?.Next).toBe('release-lock-after-rollback');
    expect(asl.States['rotation-rolled-back']).toMatchObject({ Type: 'Fail', Error: 'RotationRolledBack' });
    expect(asl.States['rotation-failed']).toMatchObject({ Type: 'Fail', Error: 'RollbackFailed' });
  });

  it("gives the clusters' cacerts backups to delete only to the Tasks after which nothing needs them", () => {
    // GIVEN: the top-level Tasks given preflight's clusters (Maps iterate them, they are not given them)
    const given = Object.entries(asl.States)
      .filter(([, state]) => state.Type === 'Task')
      .filter(
        ([, state]) =>
          (state.Parameters as Record<string, unknown>)?.['clusters.$'] === '$.preflight.clusters',
      )
      .map(([name]) => name)
      .sort();

    // THEN: promote-root (the fleet trusts only the new root), release-lock before rotation-succeeded
    // (an intermediate rekey, which never reaches promote-root: it deletes for mode intermediate only),
    // and the last rollback stage (every cluster restored). Never a release after a failed rollback or
    // a stop, nor a rollback stage before the last: their backups are kept for the operator.
    expect(given).toEqual(['promote-root', 'release-lock', 'rollback-drop-pending']);
    expect(asl.States['release-lock']).toMatchObject({
      Parameters: { 'mode.$': '$.mode', 'clusters.$': '$.preflight.clusters' },
      Next: 'rotation-succeeded',
    });
    expect(asl.States['rollback-drop-pending']).toMatchObject({
      Parameters: { stage: 'drop-pending-root', 'clusters.$': '$.preflight.clusters' },
      Next: 'release-lock-after-rollback',
    });
  });

  it('retries transient errors with backoff on every Task, and VerificationFailed where istiod pushes and loads are awaited', () => {
    // GIVEN
    const tasks: [string, AslState][] = Object.entries(asl.States).flatMap(([name, state]) =>
      state.Type === 'Task'
        ? [[name, state]]
        : Object.entries(state.ItemProcessor?.States ?? {}).filter(([, inner]) => inner.Type === 'Task'),
    );

    // THEN
    // acquire-lock, preflight, stage-root, promote-root, rollback-drop-pending, two approval gates, the
    // releases of the lock, one per Map
    expect(tasks.length).toBe(7 + RELEASE_LOCK_STATES.length + CLUSTER_MAP_STATES.length);
    for (const [, task] of tasks) {
      expect(task.Retry?.[0]).toMatchObject({
        ErrorEquals: [...TRANSIENT_ERRORS],
        BackoffRate: 2,
        MaxAttempts: 6,
      });
    }
    const verificationRetried = tasks
      .filter(([, task]) => task.Retry?.some((retry) => retry.ErrorEquals.includes('VerificationFailed')))
      .map(([name]) => name);
    expect(verificationRetried.sort()).toEqual([
      'restart-workloads-in-cluster',
      'rollback-restart-in-cluster',
      'rollback-verify-trust-in-cluster',
      'verify-trust-in-cluster',
      'verify-workloads-in-cluster',
    ]);
  });

  it("chooses the path by mode and soaks for the plan's soak (soakSeconds its floor) only in scheduled mode", () => {
    // GIVEN
    const mode = asl.States.mode as AslState;
    const after = asl.States['after-workloads'] as AslState;

    // THEN
    expect(mode).toMatchObject({ Type: 'Choice', Default: 'unsupported-mode' });
    expect(mode.Choices).toEqual([
      { Variable: '$.mode', StringEquals: 'intermediate', Next: 'approve-reissue' },
      {
        Or: [
          { Variable: '$.mode', StringEquals: 'scheduled' },
          { Variable: '$.mode', StringEquals: 'emergency' },
        ],
        Next: 'stage-root',
      },
    ]);
    expect(after.Choices).toEqual([
      { Variable: '$.mode', StringEquals: 'intermediate', Next: 'release-lock' },
      { Variable: '$.mode', StringEquals: 'emergency', Next: 'approve-retire' },
    ]);
    expect(after.Default).toBe('soak');
    expect(asl.States.soak).toEqual({
      Type: 'Wait',
      Comment: expect.any(String),
      SecondsPath: '$.preflight.plan.soak.seconds',
      Next: 'approve-retire',
    });
  });

  it('defaults soakSeconds to the stack soak and the optional fields to null before preflight', () => {
    // THEN
    expect(asl.StartAt).toBe('input-defaults');
    expect(asl.States['input-defaults']).toMatchObject({
      Type: 'Pass',
      Result: {
        soakSeconds: 86400,
        mode: null,
        cluster: null,
        reason: null,
        requestedBy: null,
        stagedRoot: null,
        approvals: {},
        rollback: {},
        resumeRollback: null,
        rollbackOf: null,
        resumePromotion: null,
        promotionOf: null,
      },
      ResultPath: '$.inputDefaults',
      Next: 'apply-input-defaults',
    });
    expect(asl.States['apply-input-defaults']).toMatchObject({
      Parameters: {
        'merged.$': 'States.JsonMerge(States.StringToJson(States.JsonToString($.inputDefaults)), $, false)',
      },
      OutputPath: '$.merged',
      Next: 'execution-context',
    });
    expect(asl.States['execution-context']).toEqual({
      Type: 'Pass',
      Comment: expect.any(String),
      Parameters: { 'id.$': '$$.Execution.Id', 'startedAt.$': '$$.Execution.StartTime' },
      ResultPath: '$.execution',
      Next: 'acquire-lock',
    });
  });

  it('reads the context object only in execution-context: every other state reads $.execution', () => {
    // A Distributed Map's child would see its own $$.Execution (docs/workflow.md, "The context object").
    const readers = Object.entries(asl.States)
      .filter(([, state]) => JSON.stringify(state).includes('$$.Execution'))
      .map(([name]) => name);
    const nested = Object.values(asl.States).flatMap((state) =>
      Object.entries(
        (state as { ItemProcessor?: { States: Record<string, unknown> } }).ItemProcessor?.States ?? {},
      ),
    );
    const nestedReaders = nested.filter(([, state]) => JSON.stringify(state).includes('$$.Execution'));

    expect(readers).toEqual(['execution-context']);
    expect(nestedReaders).toEqual([]);
    // The Maps' items carry the run's ARN (and restart-workloads' rollback its start) from the state.
    expect(JSON.stringify(asl)).toContain('"executionId.$":"$.execution.id"');
    expect(JSON.stringify(asl)).toContain('"executionStartedAt.$":"$.execution.startedAt"');
  });

  it('takes the rotation lock before any other Task and releases it on every way into an end state', () => {
    // GIVEN
    const ends = Object.entries(asl.States)
      .filter(([, state]) => state.Type === 'Succeed' || state.Type === 'Fail')
      .map(([name]) => name);
    const edgesInto = (end: string) =>
      Object.entries(asl.States).filter(([, state]) => successors(state).includes(end));
    const releases: readonly string[] = RELEASE_LOCK_STATES;

    // THEN
    // acquire-lock is the first Task: only the Pass states filling the input defaults come before it.
    expect([...reachable(asl, asl.StartAt, new Set(['acquire-lock']))].sort()).toEqual(
      ['apply-input-defaults', 'execution-context', 'input-defaults'].sort(),
    );
    expect(asl.States['acquire-lock']).toMatchObject({
      Type: 'Task',
      // Who asked and why go to its audit event: the execution log holds no execution data.
      Parameters: {
        'executionId.$': '$.execution.id',
        'requestedBy.$': '$.requestedBy',
        'reason.$': '$.reason',
      },
      ResultPath: '$.lock',
      Next: 'rotate-or-resume',
    });
    expect(ends.sort()).toEqual(
      ['rotation-succeeded', 'rotation-rolled-back', 'rotation-failed', 'rotation-stopped'].sort(),
    );
    for (const end of ends) {
      // Every edge into an end (Next or Catch) leaves a release of the lock, and a release that
      // fails still ends the run there.
      const from = edgesInto(end);
      expect(from.length).toBeGreaterThan(0);
      for (const [name, state] of from) {
        expect(releases).toContain(name);
        expect(state).toMatchObject({
          Type: 'Task',
          Parameters: { 'executionId.$': '$.execution.id' },
          ResultPath: '$.lockRelease',
          Next: end,
          Catch: [{ ErrorEquals: ['States.ALL'], Next: end, ResultPath: '$.lockReleaseFailure' }],
        });
      }
    }
    expect(asl.States['rotation-stopped']).toMatchObject({
      Type: 'Fail',
      ErrorPath: '$.stop.Error',
      CausePath: '$.stop.Cause',
    });
    // One function serves every release, another the acquisition.
    const resources = (names: readonly string[]) => new Set(names.map((name) => asl.States[name]?.Resource));
    expect(resources(releases).size).toBe(1);
    expect(resources(releases)).not.toContain(asl.States['acquire-lock']?.Resource);
  });

  it('waits for a task token before reissue and before retire when approval is on, and not when off', () => {
    // GIVEN
    const gate = asl.States['approve-reissue'] as AslState;

    // THEN
    expect(gate).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      ResultPath: '$.approvals.reissue',
      Next: 'reissue-intermediate',
      TimeoutSeconds: 3 * 24 * 3600,
    });
    expect(gate.Parameters).toMatchObject({
      Payload: { 'executionId.$': '$.execution.id', gate: 'reissue', 'taskToken.$': '$$.Task.Token' },
    });
    expect(asl.States['approve-retire']).toMatchObject({
      ResultPath: '$.approvals.retire',
      Next: 'retire-root',
    });
    expect(Object.keys(aslWithoutApproval.States).filter((name) => name.startsWith('approve-'))).toEqual([]);
    expect(aslWithoutApproval.States['verify-trust']?.Next).toBe('await-proxy-trust');
    expect(aslWithoutApproval.States['await-proxy-trust']).toMatchObject({
      Type: 'Wait',
      SecondsPath: '$.preflight.plan.proxyTrustWait.seconds',
      Next: 'reissue-intermediate',
    });
    expect(asl.States['await-proxy-trust']?.Next).toBe('approve-reissue');
    expect(aslWithoutApproval.States.soak?.Next).toBe('retire-root');
  });

  it('bounds the whole execution: soak + 2 days + two approval timeouts', () => {
    // THEN
    expect(asl.TimeoutSeconds).toBe(86400 + 2 * 86400 + 2 * 3 * 86400);
    expect(aslWithoutApproval.TimeoutSeconds).toBe(86400 + 2 * 86400);
  });

  it('is valid Amazon States Language for asl-validator once its ARNs are resolved', () => {
    // WHEN
    const results = [asl, aslWithoutApproval].map((definition) => aslValidator(definition as never));

    // THEN
    for (const result of results) {
      expect(result.errors).toEqual([]);
      expect(result.isValid).toBe(true);
    }
  });

  it('is a JSONPath Standard state machine logging ALL without execution data, encrypted, and traced', () => {
    // THEN
    withApproval.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'meshtrust-payments-rotation',
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
    const definition = JSON.stringify(withApproval.template.toJSON());
    expect(definition).not.toMatch(/JSONata|\\"Assign\\"/);
    const [, logGroup] = resourcesOfType(withApproval.template, 'AWS::Logs::LogGroup').find(([, props]) =>
      String(props.LogGroupName).startsWith('/aws/vendedlogs/states/'),
    ) ?? ['', {}];
    expect(logGroup).toMatchObject({
      LogGroupName: '/aws/vendedlogs/states/meshtrust-payments-rotation',
      KmsKeyId: expect.anything(),
      RetentionInDays: 3653,
    });
  });
});
