// The kill cases come from the definition as the fail-at cases do: one per Task, Map or Wait state of
// each mode's forward path (intermediate mode rekeying the fleet's last cluster), never a rollback state
// on its own, and per mode one case per Task, Map or Wait state of the rollback that also kills the
// resumed rollback there; the kill point waits for a Map's iteration (a Map whose iterations wait: that
// Wait). A small definition of the rotation's shape stands in for the synthesized one.
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
        Next: 'rollback-await-proxy-trust',
      },
      // As synthesized: a Map without a Task, each iteration waiting out its cluster's answer.
      'rollback-await-proxy-trust': {
        Type: 'Map',
        ItemProcessor: {
          StartAt: 'rollback-await-proxy-trust-asks',
          States: {
            'rollback-await-proxy-trust-asks': {
              Type: 'Choice',
              Choices: [
                {
                  Variable: '$.proxyTrustWaitSeconds',
                  IsPresent: true,
                  Next: 'rollback-await-proxy-trust-in-cluster',
                },
              ],
              Default: 'rollback-await-proxy-trust-none',
            },
            'rollback-await-proxy-trust-none': { Type: 'Succeed' },
            'rollback-await-proxy-trust-in-cluster': {
              Type: 'Wait',
              SecondsPath: '$.proxyTrustWaitSeconds',
              End: true,
            },
          },
        },
        Next: 'rollback-restore',
      },
      'rollback-restore': {
        Type: 'Map',
        ItemProcessor: {
          StartAt: 'rollback-restore-in-cluster',
          States: { 'rollback-restore-in-cluster': { Type: 'Task', Resource: 'arn:x', End: true } },
        },
        Next: 'rollback-drop-pending',
      },
      'rollback-drop-pending': {
        Type: 'Task',
        Resource: 'arn:aws:lambda:::function:Fn',
        Next: 'release-lock-after-rollback',
      },
      'release-lock-after-rollback': {
        Type: 'Task',
        Resource: 'arn:aws:lambda:::function:Fn',
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
  'rollback-drop-pending',
  'release-lock-after-rollback',
];
const CLUSTERS = ['lab-1', 'lab-2'];
const INPUT = { definition: definition(), failAtStates: FAIL_AT_STATES, clusters: CLUSTERS };
const TOP_LEVEL = new Set(Object.keys(definition().States ?? {}));

/** The resumed-rollback cases of a mode: the first run killed in the latest Map that rolls back, its rollback resume in each state of that rollback. */
function RESUMED_ROLLBACK_IDS(mode: string): string[] {
  return [
    'rollback-trust',
    'rollback-await-proxy-trust',
    'rollback-restore',
    'rollback-drop-pending',
    'release-lock-after-rollback',
  ].map((state) => `kill/${mode}/distribute-bundle+${state}`);
}

/**
 * The Task, Map and Wait states a rollback passes through, read from the definition apart from the code
 * under test: from the Catch's target along Next to the Fail state.
 */
function rollbackStatesOf(of: Definition): string[] {
  const states = of.States ?? {};
  const found: string[] = [];
  let name: unknown = 'rollback-trust';
  while (typeof name === 'string') {
    const state = states[name];
    if (state === undefined) break;
    if (['Task', 'Map', 'Wait'].includes(String(state.Type))) found.push(name);
    name = state.Next;
  }
  return found;
}

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
      ...RESUMED_ROLLBACK_IDS('scheduled'),
      'kill/emergency/acquire-lock',
      'kill/emergency/stage-root',
      'kill/emergency/distribute-bundle',
      'kill/emergency/soak',
      'kill/emergency/release-lock',
      ...RESUMED_ROLLBACK_IDS('emergency'),
      'kill/intermediate/acquire-lock',
      'kill/intermediate/distribute-bundle',
      'kill/intermediate/soak',
      'kill/intermediate/release-lock',
      ...RESUMED_ROLLBACK_IDS('intermediate'),
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

  it('kills the resumed rollback in every Task, Map and Wait state of that rollback, in every mode', () => {
    // Act
    const resumed = killCases(INPUT).filter((killCase) => killCase.killResumedRollbackAt !== undefined);

    // Assess: the first run killed in the latest Map that rolls back, then its resume in each state.
    expect(rollbackStatesOf(definition())).toHaveLength(5);
    for (const mode of ['scheduled', 'emergency', 'intermediate']) {
      const ofMode = resumed.filter((killCase) => killCase.mode === mode);
      expect(ofMode.map((killCase) => killCase.killResumedRollbackAt?.state)).toEqual(
        rollbackStatesOf(definition()),
      );
      for (const killCase of ofMode) {
        expect(killCase.killAt).toEqual({ state: 'distribute-bundle', inIteration: true });
        expect(killCase.expected).toEqual({ result: 'SUCCEEDED' });
      }
    }
    expect(resumed.filter((killCase) => killCase.mode === 'intermediate')[0]).toMatchObject({
      flags: ['--mode', 'intermediate', '--cluster', 'lab-2'],
      rekeyed: 'lab-2',
    });
  });

  it('kills a rollback Map in one of its iterations, a rollback Task as soon as it is entered', () => {
    // Act
    const at = (id: string) => killCases(INPUT).find((killCase) => killCase.id === id)?.killResumedRollbackAt;

    // Assess
    expect(at('kill/emergency/distribute-bundle+rollback-restore')).toEqual({
      state: 'rollback-restore',
      inIteration: true,
    });
    expect(at('kill/emergency/distribute-bundle+rollback-drop-pending')).toEqual({
      state: 'rollback-drop-pending',
      inIteration: false,
    });
  });

  it('kills a Map whose iterations wait in that Wait, not in the Choice before it', () => {
    // Act
    const wait = killCases(INPUT).find(
      (killCase) => killCase.id === 'kill/intermediate/distribute-bundle+rollback-await-proxy-trust',
    );

    // Assess
    expect(wait?.killResumedRollbackAt).toEqual({
      state: 'rollback-await-proxy-trust',
      inIteration: true,
      iterationState: 'rollback-await-proxy-trust-in-cluster',
    });
  });

  it('gives a state added to the rollback its case, without a list to edit', () => {
    // Prepare: rollback-verify between rollback-restore and rollback-drop-pending.
    const added = definition();
    const states = { ...added.States };
    states['rollback-restore'] = { ...states['rollback-restore'], Next: 'rollback-verify' };
    states['rollback-verify'] = {
      Type: 'Task',
      Resource: 'arn:aws:lambda:::function:Fn',
      Next: 'rollback-drop-pending',
    };

    // Act
    const cases = killCases({
      ...INPUT,
      definition: { ...added, States: states },
      failAtStates: [...FAIL_AT_STATES, 'rollback-verify'],
    });

    // Assess
    expect(cases.map((killCase) => killCase.id)).toEqual(
      expect.arrayContaining(
        ['scheduled', 'emergency', 'intermediate'].map(
          (mode) => `kill/${mode}/distribute-bundle+rollback-verify`,
        ),
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

  it('holds for a Map whose iterations wait only once an iteration entered that Wait', () => {
    // Prepare
    const point = {
      state: 'rollback-await-proxy-trust',
      inIteration: true,
      iterationState: 'rollback-await-proxy-trust-in-cluster',
    };

    // Assess
    expect(
      killPointReached(
        point,
        entered('rollback-trust', 'rollback-await-proxy-trust', 'rollback-await-proxy-trust-asks'),
        TOP_LEVEL,
      ),
    ).toBe(false);
    expect(
      killPointReached(
        point,
        entered(
          'rollback-trust',
          'rollback-await-proxy-trust',
          'rollback-await-proxy-trust-asks',
          'rollback-await-proxy-trust-in-cluster',
        ),
        TOP_LEVEL,
      ),
    ).toBe(true);
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
