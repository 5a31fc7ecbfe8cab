import { ROTATION_MODES, type RotationMode } from '../../lambdas/core/plan/phases.js';
import { planRotation } from '../../lambdas/core/plan/plan-rotation.js';
import type { RotationPlan } from '../../lambdas/core/plan/rotation-plan.js';
import { planPhaseOrder } from '../../lib/workflow-states.js';
import { RESUMED_PROMOTION_STATES, RUN_START } from '../support/workflow-paths.js';
import { fleetOf } from '../unit/core/plan/plan-fixtures.js';
import {
  type Asl,
  type AslChoiceRule,
  type AslState,
  aslOf,
  synthMeshTrustStack,
} from './synth-mesh-trust-stack.js';

// checkPlanInvariants proves that planRotation's order keeps mTLS working. That proof is only about what
// runs if the synthesized state machine walks the plan's phases in the plan's order: this file requires
// it, per mode, with and without approval gates, for the forward path and for the rollback.

/** Evaluates a Choice rule for an execution whose state holds `input` (only the rules our machine uses). */
function matches(rule: AslChoiceRule, input: Record<string, unknown>): boolean {
  if (rule.And !== undefined) return rule.And.every((inner) => matches(inner, input));
  if (rule.Or !== undefined) return rule.Or.some((inner) => matches(inner, input));
  if (rule.Not !== undefined) return !matches(rule.Not, input);
  if (rule.Variable?.startsWith('$.') && rule.StringEquals !== undefined) {
    return input[rule.Variable.slice(2)] === rule.StringEquals;
  }
  // The input defaults set every optional field, so one the walk's input lacks stands for null.
  if (rule.Variable?.startsWith('$.') && typeof rule.IsNull === 'boolean') {
    return ((valueAt(input, rule.Variable) ?? null) === null) === rule.IsNull;
  }
  if (rule.Variable?.startsWith('$.') && typeof rule.IsPresent === 'boolean') {
    return (valueAt(input, rule.Variable) !== undefined) === rule.IsPresent;
  }
  if (rule.Variable?.startsWith('$.') && typeof rule.IsString === 'boolean') {
    return (typeof valueAt(input, rule.Variable) === 'string') === rule.IsString;
  }
  throw new Error(`Choice rule ${JSON.stringify(rule)} is not one this walk evaluates; teach it here`);
}

/** The value at a `$.a.b` path of `input`, undefined where the path does not exist. */
function valueAt(input: Record<string, unknown>, path: string): unknown {
  let value: unknown = input;
  for (const key of path.slice(2).split('.')) {
    value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

/**
 * The states a run goes through from `from` when every state succeeds (Next, Choice and Default edges;
 * no Catch, no Map iterations), up to and including the end state.
 */
function successPath(asl: Asl, from: string, input: Record<string, unknown>): string[] {
  const path: string[] = [];
  let name: string | undefined = from;
  while (name !== undefined) {
    if (path.includes(name)) throw new Error(`the path loops back to ${name}: ${path.join(' -> ')}`);
    const state: AslState | undefined = asl.States[name];
    if (state === undefined) throw new Error(`${path.join(' -> ')} leads to ${name}, which is not a state`);
    path.push(name);
    if (state.Type === 'Choice') {
      name = state.Choices?.find((rule) => matches(rule, input))?.Next ?? state.Default;
    } else {
      name = state.Next;
    }
  }
  return path;
}

/**
 * The run of each mode in the synthesized definition: the forward path when every state succeeds, and
 * the distinct paths a failure of any forward state takes (its Catch target, then success from there).
 */
function runsOf(asl: Asl, mode: RotationMode): { forward: string[]; onFailure: string[][] } {
  const forward = successPath(asl, asl.StartAt, { mode });
  const onFailure = new Map<string, string[]>();
  for (const name of forward) {
    for (const caught of asl.States[name]?.Catch ?? []) {
      const path = successPath(asl, caught.Next, { mode });
      onFailure.set(path.join(' -> '), path);
    }
  }
  return { forward, onFailure: [...onFailure.values()] };
}

/** A plan of the mode over a two-cluster fleet (the order does not depend on the fleet's size). */
function planOf(mode: RotationMode): RotationPlan {
  return planRotation({
    fleet: fleetOf('east', 'west'),
    mode,
    ...(mode === 'intermediate' && { cluster: 'west' }),
  });
}

describe.each([
  ['with approval gates', true],
  ['without approval gates', false],
])('the synthesized state machine %s runs the plan of planRotation', (_label, approval) => {
  let asl: Asl;

  beforeAll(() => {
    asl = aslOf(synthMeshTrustStack({ approval }));
  });

  it.each(ROTATION_MODES)('walks the phases of the %s plan forward, in its order', (mode) => {
    // GIVEN
    const plan = planOf(mode);

    // WHEN
    const { forward } = runsOf(asl, mode);

    // THEN
    expect(forward[forward.length - 1]).toBe('rotation-succeeded');
    expect(planPhaseOrder(forward)).toEqual(plan.phases.map((phase) => phase.name));
  });

  it.each(ROTATION_MODES)(
    'walks a failed %s run back through the rollback stages of the plan, in order',
    (mode) => {
      // GIVEN
      const plan = planOf(mode);

      // WHEN
      const { onFailure } = runsOf(asl, mode);
      const rollbacks = onFailure
        .map((path) => ({ path, phases: planPhaseOrder(path) }))
        .filter(({ phases }) => phases.length > 0);

      // THEN
      // Every failure that leads anywhere but a stop (before the first write, or promote-root) takes
      // the one rollback path, and that path ends rolled back.
      expect(rollbacks.map(({ phases }) => phases)).toEqual([plan.rollback.map((stage) => stage.name)]);
      expect(rollbacks[0]?.path.at(-1)).toBe('rotation-rolled-back');
    },
  );

  it.each(ROTATION_MODES)(
    'resumes a failed %s rollback (meshtrust retry-rollback) through the same rollback stages, and nothing forward',
    (mode) => {
      // GIVEN
      const plan = planOf(mode);
      const resumeRollback = {
        executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:meshtrust-payments-rotation:run-1',
        clusters: [{ name: 'east' }, { name: 'west' }],
        currentRoot: {},
        stagedRoot: null,
        failure: null,
      };

      // WHEN
      const path = successPath(asl, asl.StartAt, { mode, resumeRollback });

      // THEN
      expect(path.slice(0, RUN_START.length + 1)).toEqual([...RUN_START, 'resume-rollback']);
      expect(planPhaseOrder(path)).toEqual(plan.rollback.map((stage) => stage.name));
      expect(path.at(-1)).toBe('rotation-rolled-back');
    },
  );

  it.each(['scheduled', 'emergency'] as const)(
    'finishes a %s run stopped in promote-root (meshtrust retry-promotion) with the last phase of the plan alone',
    (mode) => {
      // GIVEN
      const plan = planOf(mode);
      const resumePromotion = {
        executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:meshtrust-payments-rotation:run-1',
        clusters: [{ name: 'east' }, { name: 'west' }],
        stagedRoot: {},
      };

      // WHEN
      const path = successPath(asl, asl.StartAt, { mode, resumePromotion });

      // THEN
      // retire-root's fleet step (promote-root) and nothing before it: every cluster trusts only the
      // staged root already, so nothing forward and no rollback runs.
      expect(path).toEqual(RESUMED_PROMOTION_STATES);
      expect(planPhaseOrder(path)).toEqual([plan.phases.at(-1)?.name]);
    },
  );

  it('stops an input that claims both a resumed rollback and a resumed promotion, before anything', () => {
    // WHEN
    const path = successPath(asl, asl.StartAt, {
      mode: 'scheduled',
      resumeRollback: { executionArn: 'a', clusters: [], currentRoot: {}, stagedRoot: null, failure: null },
      resumePromotion: { executionArn: 'a', clusters: [], stagedRoot: {} },
    });

    // THEN
    expect(path.slice(RUN_START.length - 1)).toEqual([
      'rotate-or-resume',
      'unsupported-input',
      'release-lock-after-stop',
      'rotation-stopped',
    ]);
  });
});

describe('planPhaseOrder', () => {
  it('counts consecutive states of one phase once and leaves out states without a phase', () => {
    // WHEN
    const order = planPhaseOrder(['acquire-lock', 'verify-trust', 'await-proxy-trust', 'approve-reissue']);

    // THEN
    expect(order).toEqual(['verify-trust']);
  });

  it('names a phase twice when its states ran apart, so a split phase cannot pass for the plan', () => {
    // WHEN
    const order = planPhaseOrder(['verify-trust', 'distribute-bundle', 'await-proxy-trust']);

    // THEN
    expect(order).toEqual(['verify-trust', 'distribute-bundle', 'verify-trust']);
  });

  it('refuses a state name the state machine does not have', () => {
    // WHEN
    const act = () => planPhaseOrder(['preflight', 'stage-root-2']);

    // THEN
    expect(act).toThrow(/state stage-root-2 is not a state of the rotation state machine/);
  });
});
