// The kill-and-resume cases of issue 15: a `rehearse --lab DIR` run SIGKILLed in each top-level Task,
// Map or Wait state its mode's forward path enters, then the next `rehearse --lab DIR` on the same lab,
// which must converge. The Task and Map states are the fail-at cases' (the list the rehearsal checks
// --fail-at against), the Wait states (await-proxy-trust, soak) come from the definition's types, all
// in the order the mode's walk of the definition enters them, so a state added to the state machine
// gets its kill case without an edit here. An approval gate is a Task (.waitForTaskToken) and so one
// of the fail-at states when the stack has gates. Intermediate mode rekeys one cluster, the fleet's
// last, as its fail-at cases do. Then, per mode, one case per Task, Map or Wait state of the rollback
// that kills the --retry-rollback run resuming a dead run's rollback inside that state, then resumes
// again; those states too are the walk's, so a rollback state added gets its case.
// When to kill is read from the record the run keeps in DIR/rehearsals/
// (rehearsal/fleet/attached-runs.ts): the state entered, and for a Map its first per-cluster iteration
// too (a Map whose iterations wait: that Wait), so the kill lands inside the phase rather than between
// two. Pure: no I/O.

import { ChaosMatrixError } from './chaos-errors.js';
import type { ChaosCase } from './chaos-matrix.js';
import {
  type Definition,
  mapStates,
  mapWaitStates,
  predictEnd,
  type RehearsalMode,
  waitStates,
} from './state-graph.js';

export const KILL_MODES: readonly RehearsalMode[] = ['scheduled', 'emergency', 'intermediate'];

/** Where a kill case kills its first run. */
export interface KillPoint {
  /** The top-level state the run's record must show entered. */
  readonly state: string;
  /** A Map: wait until one of its per-cluster iterations has entered a state too (mid-phase). */
  readonly inIteration: boolean;
  /**
   * A Map whose iterations hold a Wait (rollback-await-proxy-trust): the iteration state to wait for,
   * that Wait, so the kill lands in the wait and not in the Choice before it.
   */
  readonly iterationState?: string;
}

export interface KillCase extends ChaosCase {
  readonly kind: 'kill';
  readonly killAt: KillPoint;
  /** Intermediate mode: the cluster rekeyed (--cluster); the others must be left as they were. */
  readonly rekeyed?: string;
  /**
   * Also SIGKILL the --retry-rollback run that resumes the killed run's rollback, once its record shows
   * this rollback state entered; then resume again.
   */
  readonly killResumedRollbackAt?: KillPoint;
  /**
   * Flags of the killed run alone, after `flags`: an approval gate case answers its gates late
   * (--approve-delay), so that the kill lands while the execution waits in one.
   */
  readonly killedRunFlags?: readonly string[];
}

export interface KillMatrixInput {
  readonly definition: Definition;
  /** The STATE names `rehearse --fail-at` accepts (failAtStates(...).listed): Task states and Maps. */
  readonly failAtStates: readonly string[];
  /** The lab's clusters: intermediate mode rekeys the last, as the fail-at cases do. */
  readonly clusters: readonly string[];
}

/**
 * `kill/<mode>/<state>` for each Task, Map and Wait state of each mode's forward path, and
 * `kill/<mode>/<state>+<rollback state>` for each Task, Map and Wait state of the resumed rollback;
 * each expects the last run SUCCEEDED.
 */
export function killCases(input: KillMatrixInput): KillCase[] {
  const { definition } = input;
  const maps = mapStates(definition);
  const waits = waitStates(definition);
  const mapWaits = mapWaitStates(definition);
  const rekeyed = input.clusters.at(-1);
  if (rekeyed === undefined) throw new ChaosMatrixError('the fleet has no cluster');
  const point = (state: string): KillPoint => {
    const iterationState = mapWaits.get(state);
    return {
      state,
      inIteration: maps.has(state),
      ...(iterationState === undefined ? {} : { iterationState }),
    };
  };
  const killable = (state: string) => input.failAtStates.includes(state) || waits.has(state);
  return KILL_MODES.flatMap((mode) => {
    const forward = predictEnd(definition, mode);
    if (forward.result !== 'SUCCEEDED') {
      throw new ChaosMatrixError(`with nothing injected, ${mode} is predicted to end ${forward.result}`);
    }
    const base = {
      mode,
      kind: 'kill' as const,
      flags: mode === 'intermediate' ? ['--mode', mode, '--cluster', rekeyed] : ['--mode', mode],
      expected: { result: 'SUCCEEDED' as const },
      ...(mode === 'intermediate' ? { rekeyed } : {}),
    };
    const cases = unique(forward.path.filter(killable)).map(
      (state): KillCase => ({ ...base, id: `kill/${mode}/${state}`, killAt: point(state) }),
    );
    const resumed = resumedRollbackKills(definition, mode, forward.path, maps);
    if (resumed === undefined) return cases;
    // A Map of the rollback without a Task of its own (rollback-await-proxy-trust) is no fail-at state.
    const rollbackStates = unique(resumed.rollbackPath.filter((state) => killable(state) || maps.has(state)));
    return [
      ...cases,
      ...rollbackStates.map(
        (rollbackState): KillCase => ({
          ...base,
          id: `kill/${mode}/${resumed.killAt}+${rollbackState}`,
          killAt: point(resumed.killAt),
          killResumedRollbackAt: point(rollbackState),
        }),
      ),
    ];
  });
}

function unique(states: readonly string[]): string[] {
  return [...new Set(states)];
}

/**
 * Where the resumed-rollback cases kill: their first run in the latest Map of the forward path whose
 * failure still rolls back (the most to undo), their rollback resume in a state of that rollback: every
 * state the walk enters after the failure, up to the end (the caller keeps the Tasks, Maps and Waits).
 */
function resumedRollbackKills(
  definition: Definition,
  mode: RehearsalMode,
  forwardPath: readonly string[],
  maps: ReadonlySet<string>,
): { readonly killAt: string; readonly rollbackPath: readonly string[] } | undefined {
  for (const state of [...forwardPath].reverse()) {
    if (!maps.has(state)) continue;
    const end = predictEnd(definition, mode, [{ state, once: false }]);
    if (end.result !== 'ROLLED_BACK') continue;
    return { killAt: state, rollbackPath: end.path.slice(end.path.indexOf(state) + 1) };
  }
  return undefined;
}

export function isKillCase(chaosCase: ChaosCase): chaosCase is KillCase {
  return chaosCase.kind === 'kill' && 'killAt' in chaosCase;
}

/** What --list shows of a kill case beside its flags. */
export function describeKill(killCase: KillCase): string {
  const where = (point: KillPoint) =>
    point.iterationState !== undefined
      ? `once ${point.state} and one of its iterations' ${point.iterationState} entered`
      : point.inIteration
        ? `once ${point.state} and one of its iterations entered`
        : `once ${point.state} entered`;
  const resumed = killCase.killResumedRollbackAt;
  return (
    `--lab DIR ${killCase.flags.join(' ')}: SIGKILL ${where(killCase.killAt)}, then again (--retry-rollback when refused)` +
    (resumed === undefined ? '' : `, SIGKILL that rollback ${where(resumed)}, then again`)
  );
}

/** The part of a run's record (DIR/rehearsals/<execution>.json) a kill point is read from. */
export interface RecordProgress {
  /** The top-level states entered, oldest first. */
  readonly statesEntered: readonly string[];
  /** Every StateEntered event, the Map iterations' included, oldest first. */
  readonly events: readonly { readonly name: string }[];
}

/**
 * Whether the record shows the run at the kill point: the state entered and, for a Map, a state of one
 * of its iterations entered after it (an event whose name is no top-level state of the definition; the
 * point's iterationState when it names one).
 */
export function killPointReached(
  point: KillPoint,
  record: RecordProgress,
  topLevelStates: ReadonlySet<string>,
): boolean {
  if (!record.statesEntered.includes(point.state)) return false;
  if (!point.inIteration) return true;
  const entered = record.events.findLastIndex((event) => event.name === point.state);
  const inIteration = (name: string) =>
    point.iterationState === undefined ? !topLevelStates.has(name) : name === point.iterationState;
  return entered >= 0 && record.events.slice(entered + 1).some((event) => inIteration(event.name));
}
