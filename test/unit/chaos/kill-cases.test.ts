// The kill cases come from the definition as the fail-at cases do: one per Task, Map or Wait state of
// each mode's forward path (intermediate mode rekeying the fleet's last cluster), never a rollback state
// on its own, one case that also kills the resumed rollback, and the kill point waits for a Map's
// iteration. A small definition of the rotation's shape stands in for the synthesized one.
import { isKillCase, killCases, killPointReached } from '../../../chaos/kill-cases.js';
import type { Definition } from '../../../chaos/state-graph.js';

const toRollback = [{ ErrorEquals: ['States.ALL'], Next: 'rollback-trust' }];

function task(next: string) {
  return { Type: 'Task', Resource: 'arn:aws:lambda:::function:Fn', Next: next, Catch: toRollback };
}

function definition(): Definition {
  return {
    StartAt: 'acquire-lock',
    States: {
      'acquire-lock': task('mode'),
      mode: {
        Type: 'Choice',
        Choices: [{ Variable: '$.mode', StringEquals: 'intermediate', Next: 'distribute-bundle' }],
        Default: 'stage-root',
      },
      'stage-root': task('distribute-bundle'),
      'distribute-bundle': {
        Type: 'Map',
        ItemProcessor: {
          StartAt: 'distribute-bundle-in-cluster',
          States: { 'distribute-bundle-in-cluster': { Type: 'Task', Resource: 'arn:x', End: true } },
        },
        Next: 'soak',
        Catch: toRollback,
      },
      soak: { Type: 'Wait', Seconds: 1, Next: 'release-lock' },
      'release-lock': { Type: 'Task', Resource: 'arn:aws:lambda:::function:Fn', Next: 'done' },
      done: { Type: 'Succeed' },
      'rollback-trust': {
        Type: 'Map',
        ItemProcessor: {
          StartAt: 'rollback-trust-in-cluster',
          States: { 'rollback-trust-in-cluster': { Type: 'Task', Resource: 'arn:x', End: true } },
        },
        Next: 'rollback-restore',
      },
      'rollback-restore': {
        Type: 'Map',
        ItemProcessor: {
          StartAt: 'rollback-restore-in-cluster',
          States: { 'rollback-restore-in-cluster': { Type: 'Task', Resource: 'arn:x', End: true } },
        },
        Next: 'rolled-back',
      },
      'rolled-back': { Type: 'Fail', Error: 'RotationRolledBack' },
    },
  };
}

const FAIL_AT_STATES = [
  'acquire-lock',
  'stage-root',
  'distribute-bundle',
  'release-lock',
  'rollback-trust',
  'rollback-restore',
];
const CLUSTERS = ['lab-1', 'lab-2'];
const INPUT = { definition: definition(), failAtStates: FAIL_AT_STATES, clusters: CLUSTERS };
const TOP_LEVEL = new Set(Object.keys(definition().States ?? {}));

describe('killCases', () => {
  it("kills in every Task, Map and Wait state of each mode's forward path, in the order the mode enters them", () => {
    // Act
    const cases = killCases(INPUT);

    // Assess
    expect(cases.map((killCase) => killCase.id)).toEqual([
      'kill/scheduled/acquire-lock',
      'kill/scheduled/stage-root',
      'kill/scheduled/distribute-bundle',
      'kill/scheduled/soak',
      'kill/scheduled/release-lock',
      'kill/scheduled/distribute-bundle+rollback-restore',
      'kill/emergency/acquire-lock',
      'kill/emergency/stage-root',
      'kill/emergency/distribute-bundle',
      'kill/emergency/soak',
      'kill/emergency/release-lock',
      'kill/emergency/distribute-bundle+rollback-restore',
      'kill/intermediate/acquire-lock',
      'kill/intermediate/distribute-bundle',
      'kill/intermediate/soak',
      'kill/intermediate/release-lock',
    ]);
  });

  it('kills a Wait state as soon as it is entered', () => {
    // Act
    const wait = killCases(INPUT).find((killCase) => killCase.id === 'kill/scheduled/soak');

    // Assess
    expect(wait?.killAt).toEqual({ state: 'soak', inIteration: false });
  });

  it("rekeys the fleet's last cluster in intermediate mode, and says so to the judge", () => {
    // Act
    const intermediate = killCases(INPUT).filter((killCase) => killCase.mode === 'intermediate');

    // Assess
    expect(intermediate.length).toBeGreaterThan(0);
    for (const killCase of intermediate) {
      expect(killCase.flags).toEqual(['--mode', 'intermediate', '--cluster', 'lab-2']);
      expect(killCase.rekeyed).toBe('lab-2');
    }
    expect(killCases(INPUT).filter((killCase) => killCase.rekeyed !== undefined)).toEqual(intermediate);
  });

  it('kills the resumed rollback in the last Map of the rollback of the latest Map that rolls back', () => {
    // Act
    const resumed = killCases(INPUT).filter((killCase) => killCase.killResumedRollbackAt !== undefined);

    // Assess
    // Assess: scheduled and emergency; intermediate mode's rollback is one cluster's and is not killed.
    expect(resumed).toEqual(
      ['scheduled', 'emergency'].map((mode) =>
        expect.objectContaining({
          id: `kill/${mode}/distribute-bundle+rollback-restore`,
          flags: ['--mode', mode],
          killAt: { state: 'distribute-bundle', inIteration: true },
          killResumedRollbackAt: { state: 'rollback-restore', inIteration: true },
        }),
      ),
    );
  });

  it('has no resumed-rollback case when no Map of the forward path rolls back', () => {
    // Prepare
    const noCatch = definition();
    const states = { ...noCatch.States };
    states['distribute-bundle'] = { ...states['distribute-bundle'], Catch: [] };

    // Act
    const cases = killCases({ ...INPUT, definition: { ...noCatch, States: states } });

    // Assess
    expect(cases.some((killCase) => killCase.killResumedRollbackAt !== undefined)).toBe(false);
  });

  it('refuses a fleet without a cluster', () => {
    // Assess
    expect(() => killCases({ ...INPUT, clusters: [] })).toThrow(/no cluster/);
  });

  it('expects the resumed run to succeed, with the mode as its only flag', () => {
    // Act
    const [first] = killCases(INPUT);

    // Assess
    expect(first).toMatchObject({
      mode: 'scheduled',
      kind: 'kill',
      flags: ['--mode', 'scheduled'],
      expected: { result: 'SUCCEEDED' },
      killAt: { state: 'acquire-lock', inIteration: false },
    });
    expect(first !== undefined && isKillCase(first)).toBe(true);
  });

  it('waits for one of a Map state iterations before it kills', () => {
    // Act
    const map = killCases(INPUT).find((killCase) => killCase.id === 'kill/scheduled/distribute-bundle');

    // Assess
    expect(map?.killAt).toEqual({ state: 'distribute-bundle', inIteration: true });
  });
});

describe('killPointReached', () => {
  const entered = (...names: string[]) => ({
    statesEntered: names.filter((name) => TOP_LEVEL.has(name)),
    events: names.map((name) => ({ name })),
  });

  it('holds once the record shows the Task state entered', () => {
    // Assess
    const point = { state: 'stage-root', inIteration: false };
    expect(killPointReached(point, entered('acquire-lock', 'mode'), TOP_LEVEL)).toBe(false);
    expect(killPointReached(point, entered('acquire-lock', 'mode', 'stage-root'), TOP_LEVEL)).toBe(true);
  });

  it('holds for a Map only once one of its iterations entered a state', () => {
    // Prepare
    const point = { state: 'distribute-bundle', inIteration: true };

    // Assess
    expect(killPointReached(point, entered('stage-root', 'distribute-bundle'), TOP_LEVEL)).toBe(false);
    expect(
      killPointReached(
        point,
        entered('stage-root', 'distribute-bundle', 'distribute-bundle-in-cluster'),
        TOP_LEVEL,
      ),
    ).toBe(true);
  });
});
