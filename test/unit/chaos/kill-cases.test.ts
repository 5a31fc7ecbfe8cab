// The kill cases come from the definition as the fail-at cases do: one per Task, Map or Wait state of
// each mode's forward path (intermediate mode rekeying the fleet's last cluster), never a rollback state
// on its own, and per mode one case per Task, Map or Wait state of the rollback that also kills the
// resumed rollback there; the kill point waits for a Map's iteration (a Map whose iterations wait: that
// Wait). A small definition of the rotation's shape stands in for the synthesized one.
import {
  isKillCase,
  type KillPoint,
  killCases,
  killPointReached,
  MID_WAIT_MIN_SECONDS,
  midWaitKillDue,
  PCDS_LAB_FLAGS,
  PCDS_WAIT_SECONDS,
  waitEntered,
} from '../../../chaos/kill-cases.js';
import type { Definition } from '../../../chaos/state-graph.js';
import { PCDS_PUSH_SETTLE_SECONDS } from '../../../lambdas/core/istio/proxy-trust-wait.js';

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
      'kill/scheduled/soak/mid-wait',
      'kill/emergency/acquire-lock',
      'kill/emergency/stage-root',
      'kill/emergency/distribute-bundle',
      'kill/emergency/soak',
      'kill/emergency/release-lock',
      ...RESUMED_ROLLBACK_IDS('emergency'),
      'kill/emergency/soak/mid-wait',
      'kill/intermediate/acquire-lock',
      'kill/intermediate/distribute-bundle',
      'kill/intermediate/soak',
      'kill/intermediate/release-lock',
      ...RESUMED_ROLLBACK_IDS('intermediate'),
      'kill/intermediate/soak/mid-wait',
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

/** A Choice on the mode: intermediate mode to `next`, the others to `otherwise`. */
function intermediateTo(next: string, otherwise: string) {
  return {
    Type: 'Choice',
    Choices: [{ Variable: '$.mode', StringEquals: 'intermediate', Next: next }],
    Default: otherwise,
  };
}

/**
 * The rotation's shape with a root retired: soak, then (not in intermediate mode) retire-root, a Map
 * whose failure rolls back, before release-lock; the Waits as synthesized, their lengths read from input.
 */
function definitionWithRetireRoot(): Definition {
  const base = definition();
  const states = { ...base.States };
  states.soak = { Type: 'Wait', SecondsPath: '$.preflight.plan.soak.seconds', Next: 'after-soak' };
  states['after-soak'] = intermediateTo('release-lock', 'retire-root');
  states['retire-root'] = {
    Type: 'Map',
    ItemProcessor: {
      StartAt: 'retire-root-in-cluster',
      States: { 'retire-root-in-cluster': { Type: 'Task', Resource: 'arn:x', End: true } },
    },
    Next: 'release-lock',
    Catch: toRollback,
  };
  return { ...base, States: states };
}

describe('killCases: mid-wait cases', () => {
  const input = {
    ...INPUT,
    definition: definitionWithRetireRoot(),
    failAtStates: [...FAIL_AT_STATES, 'retire-root'],
  };
  const byId = (id: string) => killCases(input).find((killCase) => killCase.id === id);

  it('kills each Wait of the forward path halfway through, its length as the Wait gives it', () => {
    // Act
    const fixed = killCases(INPUT).find((killCase) => killCase.id === 'kill/scheduled/soak/mid-wait');
    const fromInput = byId('kill/scheduled/soak/mid-wait');

    // Assess
    expect(fixed?.killAt).toEqual({ state: 'soak', inIteration: false, midWait: { seconds: 1 } });
    expect(fromInput).toMatchObject({
      flags: ['--mode', 'scheduled'],
      expected: { result: 'SUCCEEDED' },
      killAt: {
        state: 'soak',
        inIteration: false,
        midWait: { secondsPath: '$.preflight.plan.soak.seconds' },
      },
    });
    expect(fromInput?.killedRunFlags).toBeUndefined();
    expect(fromInput?.killResumedRollbackAt).toBeUndefined();
  });

  it("kills a resumed rollback halfway through its Map's wait, the killed run failed in retire-root on the last cluster and killed as its rollback began", () => {
    // Act
    const rollbackWait = byId('kill/scheduled/retire-root:lab-2+rollback-await-proxy-trust/mid-wait');

    // Assess: before rollback-trust's write, so that the cluster's proxies renew on the new root alone.
    expect(rollbackWait).toMatchObject({
      mode: 'scheduled',
      flags: ['--mode', 'scheduled'],
      killedRunFlags: ['--fail-at', 'retire-root:lab-2'],
      expected: { result: 'SUCCEEDED' },
      killAt: { state: 'rollback-trust', inIteration: false },
      killResumedRollbackAt: {
        state: 'rollback-await-proxy-trust',
        inIteration: true,
        iterationState: 'rollback-await-proxy-trust-in-cluster',
        midWait: { secondsPath: '$.proxyTrustWaitSeconds' },
      },
    });
    expect(byId('kill/emergency/retire-root:lab-2+rollback-await-proxy-trust/mid-wait')).toBeDefined();
  });

  it('has no rollback mid-wait case in a mode that retires no root (intermediate): its rollback never waits', () => {
    // Act
    const intermediate = killCases(input).filter(
      (killCase) => killCase.mode === 'intermediate' && killCase.id.endsWith('/mid-wait'),
    );

    // Assess
    expect(intermediate.map((killCase) => killCase.id)).toEqual(['kill/intermediate/soak/mid-wait']);
  });

  it('leaves every other case as it was: mid-wait cases come on top', () => {
    // Act
    const ids = killCases(input).map((killCase) => killCase.id);
    const others = ids.filter((id) => !id.endsWith('/mid-wait'));

    // Assess
    expect(others).toContain('kill/scheduled/soak');
    expect(others).toContain('kill/scheduled/retire-root+rollback-await-proxy-trust');
    expect(
      killCases(input)
        .filter((killCase) => !killCase.id.endsWith('/mid-wait'))
        .every((killCase) => killCase.killedRunFlags === undefined && killCase.killAt.midWait === undefined),
    ).toBe(true);
  });
});

describe('killCases: mid-wait cases with PCDS on', () => {
  /** The rotation's shape with await-proxy-trust after distribute-bundle, as synthesized (intermediate mode skips it). */
  function definitionWithProxyTrustWait(): Definition {
    const base = definitionWithRetireRoot();
    const states = { ...base.States };
    states['distribute-bundle'] = { ...states['distribute-bundle'], Next: 'after-distribute' };
    states['after-distribute'] = intermediateTo('soak', 'await-proxy-trust');
    states['await-proxy-trust'] = {
      Type: 'Wait',
      SecondsPath: '$.preflight.plan.proxyTrustWait.seconds',
      Next: 'soak',
    };
    return { ...base, States: states };
  }
  const input = {
    ...INPUT,
    definition: definitionWithProxyTrustWait(),
    failAtStates: [...FAIL_AT_STATES, 'retire-root'],
  };

  it("kills await-proxy-trust halfway through once more on a lab with PCDS, where its wait is the push's settle time", () => {
    // Act
    const cases = killCases(input).filter((killCase) => killCase.id.includes('/pcds/'));

    // Assess
    expect(cases.map((killCase) => killCase.id)).toEqual([
      'kill/scheduled/await-proxy-trust/pcds/mid-wait',
      'kill/emergency/await-proxy-trust/pcds/mid-wait',
    ]);
    expect(cases[0]).toMatchObject({
      flags: ['--mode', 'scheduled'],
      labFlags: ['--proxy-env', 'PROXY_CONFIG_XDS_AGENT=true'],
      expected: { result: 'SUCCEEDED' },
      killAt: {
        state: 'await-proxy-trust',
        inIteration: false,
        midWait: { secondsPath: '$.preflight.plan.proxyTrustWait.seconds' },
        waitSeconds: PCDS_WAIT_SECONDS,
      },
    });
    // The judge's own figure agrees with the wait the product plans with PCDS (calibration, not reuse).
    expect(PCDS_WAIT_SECONDS).toBe(PCDS_PUSH_SETTLE_SECONDS);
    expect(PCDS_WAIT_SECONDS / 2).toBeGreaterThanOrEqual(MID_WAIT_MIN_SECONDS / 2);
  });

  it('adds no PCDS case for the soak (its length is not PCDS-dependent) or the rollback wait (0 s with PCDS)', () => {
    // Act
    const withLabFlags = killCases(input).filter((killCase) => killCase.labFlags !== undefined);

    // Assess
    expect(withLabFlags.every((killCase) => killCase.killAt.state === 'await-proxy-trust')).toBe(true);
    expect(withLabFlags.every((killCase) => killCase.labFlags === PCDS_LAB_FLAGS)).toBe(true);
    expect(killCases(INPUT).some((killCase) => killCase.labFlags !== undefined)).toBe(false);
  });
});

describe('waitEntered and midWaitKillDue', () => {
  const T0 = Date.parse('2026-12-02T07:00:00.000Z');
  const at = (ms: number) => new Date(T0 + ms).toISOString();
  const SOAK: KillPoint = {
    state: 'soak',
    inIteration: false,
    midWait: { secondsPath: '$.preflight.plan.soak.seconds' },
  };
  const ROLLBACK_WAIT: KillPoint = {
    state: 'rollback-await-proxy-trust',
    inIteration: true,
    iterationState: 'rollback-await-proxy-trust-in-cluster',
    midWait: { secondsPath: '$.proxyTrustWaitSeconds' },
  };
  const soakEntered = (seconds: number) => ({
    statesEntered: ['distribute-bundle', 'soak'],
    events: [
      { name: 'distribute-bundle', timestamp: at(-5000), input: '{}' },
      {
        name: 'soak',
        timestamp: at(0),
        input: JSON.stringify({ preflight: { plan: { soak: { seconds } } } }),
      },
    ],
  });

  it("reads the wait's length from its entered event's input and its start from the event's time", () => {
    // Assess
    expect(waitEntered(SOAK, soakEntered(15))).toEqual({ state: 'soak', seconds: 15, enteredAt: T0 });
    expect(waitEntered({ ...SOAK, midWait: { seconds: 8 } }, soakEntered(15))).toEqual({
      state: 'soak',
      seconds: 8,
      enteredAt: T0,
    });
  });

  it('is due halfway through the wait, not as it is entered', () => {
    // Assess
    expect(midWaitKillDue(SOAK, soakEntered(15), TOP_LEVEL, T0 + 20)).toBe(false);
    expect(midWaitKillDue(SOAK, soakEntered(15), TOP_LEVEL, T0 + 7400)).toBe(false);
    expect(midWaitKillDue(SOAK, soakEntered(15), TOP_LEVEL, T0 + 7500)).toBe(true);
  });

  it('is due at once for a wait too short to have a middle, or one the run has left', () => {
    // Prepare
    const left = soakEntered(15);
    const moved = {
      statesEntered: [...left.statesEntered, 'release-lock'],
      events: [...left.events, { name: 'release-lock', timestamp: at(100), input: '{}' }],
    };

    // Assess
    expect(midWaitKillDue(SOAK, soakEntered(MID_WAIT_MIN_SECONDS - 1), TOP_LEVEL, T0 + 20)).toBe(true);
    expect(midWaitKillDue(SOAK, moved, TOP_LEVEL, T0 + 200)).toBe(true);
    expect(midWaitKillDue(SOAK, { statesEntered: ['distribute-bundle'], events: [] }, TOP_LEVEL, T0)).toBe(
      false,
    );
  });

  it("takes a Map's wait from its iterations' Wait, the one ending last, not from a Choice or an earlier Map", () => {
    // Prepare: an earlier run of the Map (before the last entry) waited longer; this one's iterations ask 0 and 12 s.
    const iteration = (ms: number, seconds: number | undefined) => ({
      name:
        seconds === undefined ? 'rollback-await-proxy-trust-none' : 'rollback-await-proxy-trust-in-cluster',
      timestamp: at(ms),
      input: JSON.stringify(
        seconds === undefined ? {} : { cluster: 'lab-2', proxyTrustWaitSeconds: seconds },
      ),
    });
    const record = {
      statesEntered: ['rollback-trust', 'rollback-await-proxy-trust', 'rollback-await-proxy-trust'],
      events: [
        { name: 'rollback-await-proxy-trust', timestamp: at(-60_000), input: '{}' },
        iteration(-59_000, 40),
        { name: 'rollback-await-proxy-trust', timestamp: at(0), input: '{}' },
        { name: 'rollback-await-proxy-trust-asks', timestamp: at(5), input: '{}' },
        iteration(10, undefined),
        iteration(12, 12),
      ],
    };

    // Assess
    expect(waitEntered(ROLLBACK_WAIT, record)).toEqual({
      state: 'rollback-await-proxy-trust-in-cluster',
      seconds: 12,
      enteredAt: T0 + 12,
    });
    expect(midWaitKillDue(ROLLBACK_WAIT, record, TOP_LEVEL, T0 + 5000)).toBe(false);
    expect(midWaitKillDue(ROLLBACK_WAIT, record, TOP_LEVEL, T0 + 6012)).toBe(true);
  });

  it("sees no wait in a Map whose iterations all skipped it (every cluster's answer 0 s)", () => {
    // Prepare
    const record = {
      statesEntered: ['rollback-await-proxy-trust'],
      events: [
        { name: 'rollback-await-proxy-trust', timestamp: at(0), input: '{}' },
        { name: 'rollback-await-proxy-trust-none', timestamp: at(5), input: '{}' },
      ],
    };

    // Assess
    expect(waitEntered(ROLLBACK_WAIT, record)).toBeUndefined();
    expect(midWaitKillDue(ROLLBACK_WAIT, record, TOP_LEVEL, T0 + 60_000)).toBe(false);
  });
});
