// The chaos matrix and its expectations come from the state machine's definition: the states each mode
// runs, where a failure is caught, what Retry absorbs. A small definition of the same shape as the
// synthesized one (lock, preflight, a Choice on the mode, per-cluster Maps, a rollback path, three ends)
// stands in for it, so each rule is seen by changing one thing in it.
import { chaosMatrix, selectCases } from '../../../chaos/chaos-matrix.js';
import { type Definition, predictEnd } from '../../../chaos/state-graph.js';

const RETRY = [{ ErrorEquals: ['TransientError'], IntervalSeconds: 2, MaxAttempts: 6 }];
const toRollback = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'rollback-trust' }];
const toStop = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.stop', Next: 'release-lock-after-stop' }];
const toFailedRollback = [
  {
    ErrorEquals: ['States.ALL'],
    ResultPath: '$.rollbackFailure',
    Next: 'release-lock-after-failed-rollback',
  },
];

function task(next: string, catchers?: unknown[]) {
  return {
    Type: 'Task',
    Resource: 'arn:aws:lambda:::function:Fn',
    Retry: RETRY,
    Next: next,
    Catch: catchers,
  };
}

function map(name: string, next: string, catchers: unknown[]) {
  return {
    Type: 'Map',
    ItemsPath: '$.preflight.clusters',
    ItemProcessor: {
      StartAt: `${name}-in-cluster`,
      States: {
        [`${name}-in-cluster`]: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:::function:Fn',
          Retry: RETRY,
          End: true,
        },
      },
    },
    Next: next,
    Catch: catchers,
  };
}

/** The rotation's shape in miniature: intermediate mode skips stage-root; promote-root stops, not rolls back. */
function definition(): { StartAt: string; States: Record<string, Record<string, unknown>> } {
  return {
    StartAt: 'acquire-lock',
    States: {
      'acquire-lock': task('preflight', toStop),
      preflight: task('mode', toStop),
      mode: {
        Type: 'Choice',
        Choices: [
          { Variable: '$.mode', StringEquals: 'intermediate', Next: 'reissue-intermediate' },
          {
            Or: [
              { Variable: '$.mode', StringEquals: 'scheduled' },
              { Variable: '$.mode', StringEquals: 'emergency' },
            ],
            Next: 'stage-root',
          },
        ],
        Default: 'release-lock-after-stop',
      },
      'stage-root': task('distribute-bundle', toRollback),
      'distribute-bundle': map('distribute-bundle', 'reissue-intermediate', toRollback),
      'reissue-intermediate': map('reissue-intermediate', 'after-reissue', toRollback),
      'after-reissue': {
        Type: 'Choice',
        Choices: [{ Variable: '$.mode', StringEquals: 'intermediate', Next: 'release-lock' }],
        Default: 'promote-root',
      },
      'promote-root': task('release-lock', toStop),
      'release-lock': task('rotation-succeeded', [
        { ErrorEquals: ['States.ALL'], Next: 'rotation-succeeded' },
      ]),
      'rotation-succeeded': { Type: 'Succeed' },
      'rollback-trust': map('rollback-trust', 'rollback-drop-pending', toFailedRollback),
      'rollback-drop-pending': task('release-lock-after-rollback', toFailedRollback),
      'release-lock-after-rollback': task('rotation-rolled-back', [
        { ErrorEquals: ['States.ALL'], Next: 'rotation-rolled-back' },
      ]),
      'rotation-rolled-back': { Type: 'Fail', Error: 'RotationRolledBack' },
      'release-lock-after-failed-rollback': task('rotation-failed', [
        { ErrorEquals: ['States.ALL'], Next: 'rotation-failed' },
      ]),
      'rotation-failed': { Type: 'Fail', Error: 'RollbackFailed' },
      'release-lock-after-stop': task('rotation-stopped', [
        { ErrorEquals: ['States.ALL'], Next: 'rotation-stopped' },
      ]),
      'rotation-stopped': { Type: 'Fail', ErrorPath: '$.stop.Error' },
    },
  };
}

/** What `rehearse --fail-at` accepts for that definition: its Task states and Maps. */
const FAIL_AT_STATES = [
  'acquire-lock',
  'preflight',
  'stage-root',
  'distribute-bundle',
  'reissue-intermediate',
  'promote-root',
  'release-lock',
  'rollback-trust',
  'rollback-drop-pending',
  'release-lock-after-rollback',
  'release-lock-after-failed-rollback',
  'release-lock-after-stop',
];

const CLUSTERS = ['lab-1', 'lab-2'];

function matrix(def: Definition = definition()) {
  return chaosMatrix({ definition: def, failAtStates: FAIL_AT_STATES, clusters: CLUSTERS });
}

function caseById(id: string) {
  const found = matrix().find((chaosCase) => chaosCase.id === id);
  if (found === undefined) throw new Error(`no case ${id}`);
  return found;
}

describe('predictEnd', () => {
  it('follows the Choice on the mode: intermediate never stages a root', () => {
    // Act
    const scheduled = predictEnd(definition(), 'scheduled');
    const intermediate = predictEnd(definition(), 'intermediate');

    // Assess
    expect(scheduled.result).toBe('SUCCEEDED');
    expect(scheduled.path).toContain('stage-root');
    expect(intermediate.result).toBe('SUCCEEDED');
    expect(intermediate.path).not.toContain('stage-root');
  });

  it('rolls back a permanent failure caught towards the rollback path', () => {
    // Act
    const end = predictEnd(definition(), 'scheduled', [{ state: 'distribute-bundle', once: false }]);

    // Assess
    expect(end).toMatchObject({ result: 'ROLLED_BACK', error: 'RotationRolledBack' });
    expect(end.path.slice(-3)).toEqual([
      'rollback-drop-pending',
      'release-lock-after-rollback',
      'rotation-rolled-back',
    ]);
  });

  it("ends a stopped run with the error of the state that stopped it (the Fail's ErrorPath)", () => {
    // Act
    const end = predictEnd(definition(), 'scheduled', [{ state: 'preflight', once: false }]);

    // Assess
    expect(end).toMatchObject({ result: 'FAILED', error: 'RehearsalInjectedFailure' });
  });

  it('lets Retry absorb a one-off failure, but not on a state without Retry', () => {
    // Prepare
    const withoutRetry = definition();
    withoutRetry.States['stage-root'] = { ...withoutRetry.States['stage-root'], Retry: undefined };

    // Act
    const retried = predictEnd(definition(), 'scheduled', [{ state: 'stage-root', once: true }]);
    const notRetried = predictEnd(withoutRetry, 'scheduled', [{ state: 'stage-root', once: true }]);

    // Assess
    expect(retried.result).toBe('SUCCEEDED');
    expect(notRetried.result).toBe('ROLLED_BACK');
  });

  it('counts a Map as retrying when the Task inside it does', () => {
    // Act
    const end = predictEnd(definition(), 'scheduled', [{ state: 'distribute-bundle', once: true }]);

    // Assess
    expect(end.result).toBe('SUCCEEDED');
  });

  it('ends FAILED RollbackFailed when a rollback state fails too', () => {
    // Act
    const end = predictEnd(definition(), 'scheduled', [
      { state: 'reissue-intermediate', once: false },
      { state: 'rollback-trust', once: false },
    ]);

    // Assess
    expect(end).toMatchObject({ result: 'FAILED', error: 'RollbackFailed' });
  });

  it('takes a rotation past the resume Choice: a chaos case never resumes a rollback', () => {
    // Prepare: rotate-or-resume as the stack writes it, between acquire-lock and preflight
    const def = definition();
    def.States['acquire-lock'] = task('rotate-or-resume', toStop);
    def.States['rotate-or-resume'] = {
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Not: { Variable: '$.resumeRollback', IsNull: true } },
            { Variable: '$.resumeRollback.executionArn', IsPresent: true },
            { Variable: '$.mode', IsString: true },
          ],
          Next: 'release-lock-after-stop',
        },
        {
          Or: [
            { Not: { Variable: '$.resumeRollback', IsNull: true } },
            { Not: { Variable: '$.rollbackOf', IsNull: true } },
          ],
          Next: 'release-lock-after-stop',
        },
      ],
      Default: 'preflight',
    };

    // Act
    const end = predictEnd(def, 'scheduled');

    // Assess
    expect(end.result).toBe('SUCCEEDED');
    expect(end.path).toEqual(expect.arrayContaining(['rotate-or-resume', 'preflight', 'stage-root']));
  });

  it('refuses a Choice on anything but the mode rather than guess a branch', () => {
    // Prepare
    const def = definition();
    def.States.mode = {
      Type: 'Choice',
      Choices: [{ Variable: '$.approval', BooleanEquals: true, Next: 'stage-root' }],
      Default: 'stage-root',
    };

    // Act / Assess
    expect(() => predictEnd(def, 'scheduled')).toThrow(/cannot predict from the mode alone/);
  });

  it('refuses a definition that loops', () => {
    // Prepare
    const def = definition();
    def.States['release-lock'] = { ...def.States['release-lock'], Next: 'acquire-lock' };

    // Act / Assess
    expect(() => predictEnd(def, 'scheduled')).toThrow(/more than 500 states/);
  });
});

describe('chaosMatrix', () => {
  it("takes each mode's fault points from the states it runs, in order, and nothing from the rollback path", () => {
    // Act
    const ids = matrix()
      .filter((chaosCase) => chaosCase.kind === 'fail-at')
      .map((chaosCase) => chaosCase.id);

    // Assess
    expect(ids.filter((id) => id.startsWith('scheduled/'))).toEqual([
      'scheduled/fail-at/acquire-lock',
      'scheduled/fail-at/preflight',
      'scheduled/fail-at/stage-root',
      'scheduled/fail-at/distribute-bundle',
      'scheduled/fail-at/distribute-bundle:lab-2',
      'scheduled/fail-at/reissue-intermediate',
      'scheduled/fail-at/reissue-intermediate:lab-2',
      'scheduled/fail-at/promote-root',
      'scheduled/fail-at/release-lock',
    ]);
    // Intermediate mode's Maps run over --cluster alone: no per-cluster repeat, and no stage-root.
    expect(ids.filter((id) => id.startsWith('intermediate/'))).toEqual([
      'intermediate/fail-at/acquire-lock',
      'intermediate/fail-at/preflight',
      'intermediate/fail-at/reissue-intermediate',
      'intermediate/fail-at/release-lock',
    ]);
  });

  it('follows the definition: a state added to the path becomes a fault point with its own expectation', () => {
    // Prepare
    const def = definition();
    def.States['distribute-bundle'] = { ...def.States['distribute-bundle'], Next: 'verify-trust' };
    def.States['verify-trust'] = map('verify-trust', 'reissue-intermediate', toRollback);

    // Act
    const cases = chaosMatrix({
      definition: def,
      failAtStates: [...FAIL_AT_STATES, 'verify-trust'],
      clusters: CLUSTERS,
    });

    // Assess
    expect(cases.find((chaosCase) => chaosCase.id === 'emergency/fail-at/verify-trust:lab-2')).toMatchObject({
      flags: ['--mode', 'emergency', '--fail-at', 'verify-trust:lab-2'],
      expected: { result: 'ROLLED_BACK' },
    });
  });

  it('expects a stop before the first write, a rollback after it, and a stop past promote-root', () => {
    // Assess
    expect(caseById('scheduled/fail-at/preflight').expected).toEqual({
      result: 'FAILED',
      error: 'RehearsalInjectedFailure',
    });
    expect(caseById('scheduled/fail-at/stage-root').expected).toEqual({
      result: 'ROLLED_BACK',
      error: 'RotationRolledBack',
    });
    expect(caseById('scheduled/fail-at/promote-root').expected.result).toBe('FAILED');
    expect(caseById('scheduled/fail-at/release-lock').expected.result).toBe('SUCCEEDED');
    expect(caseById('scheduled/transient/promote-root:once').expected.result).toBe('SUCCEEDED');
  });

  it('puts Kubernetes faults on the first Map after the first write and AWS faults on the first write', () => {
    // Assess
    expect(caseById('scheduled/fault/kube-conflict').flags).toEqual([
      '--mode',
      'scheduled',
      '--fault',
      'kube:lab-2:conflict:2@distribute-bundle',
    ]);
    expect(caseById('scheduled/fault/aws-throttle').flags).toContain('aws:throttle:3@stage-root');
    expect(caseById('scheduled/fault/aws-lost')).toMatchObject({
      flags: ['--mode', 'scheduled', '--fault', 'aws:lost:4@stage-root'],
      expected: { result: 'SUCCEEDED' },
    });
    expect(caseById('intermediate/fault/aws-lost').flags).toContain('aws:lost:4@reissue-intermediate');
    expect(caseById('scheduled/fault/eks-throttle')).toMatchObject({
      flags: ['--mode', 'scheduled', '--fault', 'eks:throttle:3@distribute-bundle'],
      expected: { result: 'SUCCEEDED' },
    });
    // A late answer is waited for: AWS on the first write, EKS on the first Map, as their throttling
    expect(caseById('scheduled/fault/aws-slow')).toMatchObject({
      flags: ['--mode', 'scheduled', '--fault', 'aws:slow:3000:3@stage-root'],
      expected: { result: 'SUCCEEDED' },
    });
    expect(caseById('intermediate/fault/eks-slow')).toMatchObject({
      flags: [
        '--mode',
        'intermediate',
        '--cluster',
        'lab-2',
        '--fault',
        'eks:slow:3000:3@reissue-intermediate',
      ],
      expected: { result: 'SUCCEEDED' },
    });
    expect(caseById('scheduled/fault/sts-throttle')).toMatchObject({
      flags: ['--mode', 'scheduled', '--fault', 'sts:throttle:3@distribute-bundle'],
      expected: { result: 'SUCCEEDED' },
    });
    expect(caseById('intermediate/fault/sts-5xx')).toMatchObject({
      flags: ['--mode', 'intermediate', '--cluster', 'lab-2', '--fault', 'sts:5xx:3@reissue-intermediate'],
      expected: { result: 'SUCCEEDED' },
    });
    // STS answering late, like EKS: the AssumeRole before each cluster's connection waits for it.
    expect(caseById('emergency/fault/sts-slow')).toMatchObject({
      flags: ['--mode', 'emergency', '--fault', 'sts:slow:3000:3@distribute-bundle'],
      expected: { result: 'SUCCEEDED' },
    });
    // A write istiod ignores is not absorbed: the gates after it fail the run, which rolls back.
    expect(caseById('scheduled/fault/kube-istiod-drop')).toMatchObject({
      flags: ['--mode', 'scheduled', '--fault', 'kube:lab-2:istiod-drop:1@distribute-bundle'],
      expected: { result: 'ROLLED_BACK', error: 'RotationRolledBack' },
    });
    expect(caseById('intermediate/fault/kube-down').flags).toEqual([
      '--mode',
      'intermediate',
      '--cluster',
      'lab-2',
      '--fault',
      'kube:lab-2:down:5@reissue-intermediate',
    ]);
  });

  it("fails the last cluster's step on the first Map that writes while the first cluster's is slowed past it", () => {
    // Assess: expected as that Map's failure is; intermediate mode's Maps run over one cluster: no sibling
    const late = matrix().filter((chaosCase) => chaosCase.id.endsWith('/fault/late-sibling'));
    expect(late.map((chaosCase) => [chaosCase.id, chaosCase.flags.slice(2), chaosCase.expected])).toEqual([
      [
        'scheduled/fault/late-sibling',
        ['--fail-at', 'distribute-bundle:lab-2', '--fault', 'kube:lab-1:slow:5000:3@distribute-bundle'],
        caseById('scheduled/fail-at/distribute-bundle:lab-2').expected,
      ],
      [
        'emergency/fault/late-sibling',
        ['--fail-at', 'distribute-bundle:lab-2', '--fault', 'kube:lab-1:slow:5000:3@distribute-bundle'],
        caseById('emergency/fail-at/distribute-bundle:lab-2').expected,
      ],
    ]);
    expect(caseById('scheduled/fault/late-sibling').expected.result).toBe('ROLLED_BACK');
    // One cluster: no sibling to be late
    expect(
      chaosMatrix({ definition: definition(), failAtStates: FAIL_AT_STATES, clusters: ['lab-1'] }).some(
        (chaosCase) => chaosCase.id.endsWith('/late-sibling'),
      ),
    ).toBe(false);
  });

  it('holds a rollout unready on the restart Map, expecting the rollback its failure leads to, only where one runs', () => {
    // Prepare
    const def = definition();
    def.States['reissue-intermediate'] = { ...def.States['reissue-intermediate'], Next: 'restart-workloads' };
    def.States['restart-workloads'] = map('restart-workloads', 'after-reissue', toRollback);

    // Act
    const cases = chaosMatrix({
      definition: def,
      failAtStates: [...FAIL_AT_STATES, 'restart-workloads'],
      clusters: CLUSTERS,
    });
    const stuck = cases.filter((chaosCase) => chaosCase.id.endsWith('/fault/kube-stuck'));

    // Assess
    expect(stuck.map((chaosCase) => [chaosCase.id, chaosCase.flags.slice(-2), chaosCase.expected])).toEqual([
      [
        'scheduled/fault/kube-stuck',
        ['--fault', 'kube:lab-2:stuck:1:deployment@restart-workloads'],
        { result: 'ROLLED_BACK', error: 'RotationRolledBack' },
      ],
      [
        'emergency/fault/kube-stuck',
        ['--fault', 'kube:lab-2:stuck:1:deployment@restart-workloads'],
        { result: 'ROLLED_BACK', error: 'RotationRolledBack' },
      ],
      [
        'intermediate/fault/kube-stuck',
        ['--fault', 'kube:lab-2:stuck:1:deployment@restart-workloads'],
        { result: 'ROLLED_BACK', error: 'RotationRolledBack' },
      ],
    ]);
    // Without a restart Map (the miniature above), there is no rollout to hold.
    expect(matrix().some((chaosCase) => chaosCase.id.endsWith('/fault/kube-stuck'))).toBe(false);
  });

  it('fails the rollback of the latest failure that rolls back, at each rollback state, permanent and once', () => {
    // Act
    const rollback = matrix().filter((chaosCase) => chaosCase.id.startsWith('scheduled/rollback/'));

    // Assess
    expect(
      rollback.map((chaosCase) => [chaosCase.id, chaosCase.expected.result, chaosCase.expected.error]),
    ).toEqual([
      ['scheduled/rollback/reissue-intermediate:lab-2+rollback-trust', 'FAILED', 'RollbackFailed'],
      [
        'scheduled/rollback/reissue-intermediate:lab-2+rollback-trust:once',
        'ROLLED_BACK',
        'RotationRolledBack',
      ],
      ['scheduled/rollback/reissue-intermediate:lab-2+rollback-drop-pending', 'FAILED', 'RollbackFailed'],
      [
        'scheduled/rollback/reissue-intermediate:lab-2+rollback-drop-pending:once',
        'ROLLED_BACK',
        'RotationRolledBack',
      ],
      // A failed release is caught: the run ends as it would have.
      [
        'scheduled/rollback/reissue-intermediate:lab-2+release-lock-after-rollback',
        'ROLLED_BACK',
        'RotationRolledBack',
      ],
      [
        'scheduled/rollback/reissue-intermediate:lab-2+release-lock-after-rollback:once',
        'ROLLED_BACK',
        'RotationRolledBack',
      ],
    ]);
    expect(rollback[0]?.flags).toEqual([
      '--mode',
      'scheduled',
      '--fail-at',
      'reissue-intermediate:lab-2',
      '--fail-at',
      'rollback-trust',
    ]);
  });

  it('refuses a definition where no Map rolls back: there would be nowhere to fault', () => {
    // Prepare
    const def = definition();
    for (const name of ['distribute-bundle', 'reissue-intermediate']) {
      def.States[name] = { ...def.States[name], Catch: toStop };
    }

    // Act / Assess
    expect(() => matrix(def)).toThrow(/no Map state of scheduled rolls back/);
  });
});

describe('selectCases', () => {
  it('matches * across slashes and a plain pattern anywhere in the id', () => {
    // Prepare
    const cases = matrix();

    // Act
    const faults = selectCases(cases, ['*/fault/kube-*']);
    const promote = selectCases(cases, ['promote-root']);

    // Assess
    expect(faults).toHaveLength(15);
    expect(faults.every((chaosCase) => chaosCase.kind === 'fault')).toBe(true);
    expect(promote.map((chaosCase) => chaosCase.id)).toEqual([
      'scheduled/fail-at/promote-root',
      'scheduled/transient/promote-root:once',
      'emergency/fail-at/promote-root',
      'emergency/transient/promote-root:once',
    ]);
    expect(selectCases(cases, ['no-such-state'])).toEqual([]);
  });
});
