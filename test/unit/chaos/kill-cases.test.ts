// The kill cases come from the definition as the fail-at cases do: one per Task or Map state of each
// mode's forward path, never a rollback state, and the kill point waits for a Map's iteration. A small
// definition of the rotation's shape stands in for the synthesized one.
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
      'rollback-trust': task('rolled-back'),
      'rolled-back': { Type: 'Fail', Error: 'RotationRolledBack' },
    },
  };
}

const FAIL_AT_STATES = ['acquire-lock', 'stage-root', 'distribute-bundle', 'release-lock', 'rollback-trust'];
const TOP_LEVEL = new Set(Object.keys(definition().States ?? {}));

describe('killCases', () => {
  it('kills in every Task and Map state of the forward path, in the order the mode enters them', () => {
    // Act
    const cases = killCases({ definition: definition(), failAtStates: FAIL_AT_STATES });

    // Assess
    expect(cases.map((killCase) => killCase.id)).toEqual([
      'kill/scheduled/acquire-lock',
      'kill/scheduled/stage-root',
      'kill/scheduled/distribute-bundle',
      'kill/scheduled/release-lock',
      'kill/emergency/acquire-lock',
      'kill/emergency/stage-root',
      'kill/emergency/distribute-bundle',
      'kill/emergency/release-lock',
    ]);
  });

  it('expects the resumed run to succeed, with the mode as its only flag', () => {
    // Act
    const [first] = killCases({ definition: definition(), failAtStates: FAIL_AT_STATES });

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
    const map = killCases({ definition: definition(), failAtStates: FAIL_AT_STATES }).find(
      (killCase) => killCase.id === 'kill/scheduled/distribute-bundle',
    );

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
