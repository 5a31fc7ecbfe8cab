// The synthesized state machine as a graph the chaos matrix can walk: which Task states a mode passes
// through, and where a run with given failures must end. Read from the definition itself (Next,
// Default, Choice rules on $.mode, Retry, Catch, Fail's Error), so a state added, moved or re-wired in
// lib/ changes the matrix and its expectations without anyone editing chaos/. Pure: no I/O.
import { PROMOTION_OF_KEY, RESUME_PROMOTION_INPUT_KEY } from '../lambdas/contract/resume-promotion.js';
import { RESUME_ROLLBACK_INPUT_KEY, ROLLBACK_OF_KEY } from '../lambdas/contract/resume-rollback.js';
import { ChaosMatrixError } from './chaos-errors.js';

export type RehearsalMode = 'scheduled' | 'emergency' | 'intermediate';
export type EndResult = 'SUCCEEDED' | 'ROLLED_BACK' | 'FAILED';

/** The Fail state error the rehearsal reports as ROLLED_BACK (rehearsal/run-executions.ts): a rollback that completed. */
export const ROLLED_BACK_ERROR = 'RotationRolledBack';
/** The error name an injected permanent failure carries (rehearsal/fail-at.ts): no Retry matches it. */
export const PERMANENT_ERROR = 'RehearsalInjectedFailure';
/** The error name an injected one-off failure carries: the error every Task is meant to retry. */
export const TRANSIENT_ERROR = 'TransientError';

type Json = Record<string, unknown>;

export interface Definition {
  readonly StartAt?: string;
  readonly States?: Record<string, Json>;
}

/** A failure the rehearsal injects (its `--fail-at`), as the graph sees it. */
export interface InjectedFailure {
  /** A Task state, or a Map (which fails when its per-cluster Task fails). */
  readonly state: string;
  readonly once: boolean;
}

export interface PredictedEnd {
  readonly result: EndResult;
  /** The execution's error: the Fail state's Error, or the error that stopped it. */
  readonly error?: string;
  /** Every state entered, in order (Map iterations apart). */
  readonly path: readonly string[];
}

/** The longest walk the prediction takes before it calls the definition a loop. */
const MAX_STEPS = 500;

/**
 * Walks the definition from StartAt for `mode` as aws-local-stepfunctions would run it, with the given
 * failures injected after each matching Task (or Map) and caught or retried as the definition says.
 * Throws ChaosMatrixError when the walk cannot be predicted (a Choice on anything but $.mode, a loop).
 */
export function predictEnd(
  definition: Definition,
  mode: RehearsalMode,
  failures: readonly InjectedFailure[] = [],
): PredictedEnd {
  const states = definition.States ?? {};
  const path: string[] = [];
  const spent = new Set<InjectedFailure>();
  let lastCaught: string | undefined;
  let name = definition.StartAt;
  while (name !== undefined) {
    if (path.length >= MAX_STEPS) {
      throw new ChaosMatrixError(`the definition runs more than ${MAX_STEPS} states for ${mode}: a loop?`);
    }
    const state = states[name];
    if (state === undefined)
      throw new ChaosMatrixError(`the definition has no state ${JSON.stringify(name)}`);
    path.push(name);
    switch (state.Type) {
      case 'Succeed':
        return { result: 'SUCCEEDED', path };
      case 'Fail': {
        // A Fail with an ErrorPath (rotation-stopped) ends with the error of the state that stopped it.
        const error = typeof state.Error === 'string' ? state.Error : lastCaught;
        return {
          result: error === ROLLED_BACK_ERROR ? 'ROLLED_BACK' : 'FAILED',
          ...(error === undefined ? {} : { error }),
          path,
        };
      }
      case 'Choice':
        name = choose(name, state, mode);
        continue;
      case 'Task':
      case 'Map': {
        const error = injectedError(name, state, failures, spent);
        if (error !== undefined) {
          const target = catchTarget(state, error);
          if (target === undefined) return { result: 'FAILED', error, path };
          lastCaught = error;
          name = target;
          continue;
        }
        break;
      }
      default:
        break;
    }
    if (state.End === true) return { result: 'SUCCEEDED', path };
    name = typeof state.Next === 'string' ? state.Next : undefined;
  }
  throw new ChaosMatrixError(`the definition's walk for ${mode} ended at a state with neither Next nor End`);
}

/** The error the state ends with after the injected failures and its Retry: undefined when it succeeds. */
function injectedError(
  name: string,
  state: Json,
  failures: readonly InjectedFailure[],
  spent: Set<InjectedFailure>,
): string | undefined {
  const failure = failures.find(
    (candidate) => candidate.state === name && !(candidate.once && spent.has(candidate)),
  );
  if (failure === undefined) return undefined;
  if (!failure.once) return PERMANENT_ERROR;
  spent.add(failure);
  // A one-off failure passes when the state (a Map, or the Task inside it) retries it.
  return retries(state, TRANSIENT_ERROR) ? undefined : TRANSIENT_ERROR;
}

function retries(state: Json, error: string): boolean {
  const own = matchesAny(state.Retry, error);
  if (own || state.Type !== 'Map') return own;
  const inner = Object.values(processorStates(state));
  return inner.length > 0 && inner.every((task) => task.Type !== 'Task' || matchesAny(task.Retry, error));
}

function catchTarget(state: Json, error: string): string | undefined {
  const catchers = Array.isArray(state.Catch) ? (state.Catch as Json[]) : [];
  const catcher = catchers.find((candidate) => errorMatches(candidate.ErrorEquals, error));
  return typeof catcher?.Next === 'string' ? catcher.Next : undefined;
}

function matchesAny(rules: unknown, error: string): boolean {
  return Array.isArray(rules) && (rules as Json[]).some((rule) => errorMatches(rule.ErrorEquals, error));
}

function errorMatches(errorEquals: unknown, error: string): boolean {
  return Array.isArray(errorEquals) && (errorEquals.includes(error) || errorEquals.includes('States.ALL'));
}

/** A Map's per-cluster states (ItemProcessor, or the older Iterator). */
export function processorStates(map: Json): Record<string, Json> {
  const processor = (map.ItemProcessor ?? map.Iterator ?? {}) as Definition;
  return processor.States ?? {};
}

function choose(name: string, state: Json, mode: RehearsalMode): string {
  const choices = Array.isArray(state.Choices) ? (state.Choices as Json[]) : [];
  const chosen = choices.find((rule) => ruleHolds(name, rule, mode));
  const next = chosen?.Next ?? state.Default;
  if (typeof next !== 'string') {
    throw new ChaosMatrixError(
      `Choice ${JSON.stringify(name)} has no branch for mode ${mode} and no Default`,
    );
  }
  return next;
}

/**
 * The state a chaos case's rotation input `{ mode }` reaches every Choice with: the mode, and the
 * resume fields input-defaults sets to null (a chaos case's first run never resumes a rollback or a promotion).
 */
function knownValue(path: unknown, mode: RehearsalMode): { readonly value: unknown } | undefined {
  if (path === '$.mode') return { value: mode };
  for (const key of [
    RESUME_ROLLBACK_INPUT_KEY,
    ROLLBACK_OF_KEY,
    RESUME_PROMOTION_INPUT_KEY,
    PROMOTION_OF_KEY,
  ]) {
    if (path === `$.${key}`) return { value: null };
    // Below a null nothing is present.
    if (typeof path === 'string' && path.startsWith(`$.${key}.`)) return { value: undefined };
  }
  return undefined;
}

/** A Choice rule over that state; a rule on any other variable can't be predicted. */
function ruleHolds(name: string, rule: Json, mode: RehearsalMode): boolean {
  if (Array.isArray(rule.Or)) return (rule.Or as Json[]).some((inner) => ruleHolds(name, inner, mode));
  if (Array.isArray(rule.And)) return (rule.And as Json[]).every((inner) => ruleHolds(name, inner, mode));
  if (typeof rule.Not === 'object' && rule.Not !== null) return !ruleHolds(name, rule.Not as Json, mode);
  const known = knownValue(rule.Variable, mode);
  if (known !== undefined) {
    if (typeof rule.StringEquals === 'string') return known.value === rule.StringEquals;
    if (typeof rule.IsPresent === 'boolean') return (known.value !== undefined) === rule.IsPresent;
    if (typeof rule.IsNull === 'boolean') return (known.value === null) === rule.IsNull;
    if (typeof rule.IsString === 'boolean') return (typeof known.value === 'string') === rule.IsString;
  }
  throw new ChaosMatrixError(
    `Choice ${JSON.stringify(name)} has a rule the chaos matrix cannot predict from the mode alone: ` +
      JSON.stringify(rule),
  );
}

/** The Map states of the definition (top level, where the rotation's per-cluster steps live). */
export function mapStates(definition: Definition): ReadonlySet<string> {
  return new Set(
    Object.entries(definition.States ?? {})
      .filter(([, state]) => state.Type === 'Map')
      .map(([name]) => name),
  );
}

/** The Wait states of the definition (top level): await-proxy-trust, soak. */
export function waitStates(definition: Definition): ReadonlySet<string> {
  return new Set(
    Object.entries(definition.States ?? {})
      .filter(([, state]) => state.Type === 'Wait')
      .map(([name]) => name),
  );
}

/**
 * The Map states (top level) whose per-cluster iterations hold a Wait, each with that Wait's name:
 * rollback-await-proxy-trust, whose iterations wait out restore-trust's proxyTrustWaitSeconds.
 */
export function mapWaitStates(definition: Definition): ReadonlyMap<string, string> {
  return new Map(
    Object.entries(definition.States ?? {}).flatMap(([name, state]) => {
      if (state.Type !== 'Map') return [];
      const wait = Object.entries(processorStates(state)).find(([, inner]) => inner.Type === 'Wait');
      return wait === undefined ? [] : [[name, wait[0]] as const];
    }),
  );
}
