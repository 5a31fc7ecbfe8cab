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
// And the mid-wait cases (`kill/<mode>/<wait>/mid-wait`, `.../retire-root:<cluster>+<map>/mid-wait`): a
// kill at entry lands inside a Wait only if the wait lasts, so these kill halfway through it, reading
// how long it is from the Wait's entered event (its SecondsPath applied to the event's input) and when
// it began from that event's time, and refuse to call a wait shorter than MID_WAIT_MIN_SECONDS one.
// The await-proxy-trust one once more on a lab with PCDS on (`.../await-proxy-trust/pcds/mid-wait`),
// where preflight plans the push's settle time (PCDS_WAIT_SECONDS) instead of a renewal window.

import { WORKFLOW_STATES } from '../lambdas/contract/workflow-states.js';
import { ChaosMatrixError } from './chaos-errors.js';
import type { ChaosCase } from './chaos-matrix.js';
import {
  type Definition,
  mapStates,
  mapWaitStates,
  predictEnd,
  processorStates,
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
  /**
   * Kill inside that Wait (the state itself, or iterationState), halfway through its wait, not as it is
   * entered; the wait's length is read from its entered event.
   */
  readonly midWait?: WaitLength;
  /**
   * A mid-wait point whose wait has one length by design: the case is about that wait (the PCDS push's),
   * and a wait of another length (a lab without PCDS) fails it.
   */
  readonly waitSeconds?: number;
  /**
   * An approval gate (the state): kill once the run's output shows the answer to it held after
   * answer-approval wrote its approval record, before the gate took the token (rehearsal/gate-answer-hold.ts).
   */
  readonly answerHeld?: boolean;
}

/** How a Wait state says its length: a fixed `Seconds`, or a `SecondsPath` into its input. */
export type WaitLength = { readonly seconds: number } | { readonly secondsPath: string };

/**
 * The shortest wait a mid-wait case kills in: halfway through it is then at least 2 s from its entry
 * and from its end, far more than the record's write and the runner's 20 ms read.
 */
export const MID_WAIT_MIN_SECONDS = 4;

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
   * (--approve-delay), so that the kill lands while the execution waits in one; a mid-wait rollback case
   * fails it in retire-root on one cluster (`--fail-at retire-root:<cluster>`), so that its rollback has
   * a root to give back.
   */
  readonly killedRunFlags?: readonly string[];
  /** Environment of the killed run alone (an answer-held gate case: the hold, gate-answer-hold.ts). */
  readonly killedRunEnv?: Readonly<Record<string, string>>;
  /** `meshtrust lab` flags of the case's lab beyond the fleet size (PCDS on); a lab is reused only with the same. */
  readonly labFlags?: readonly string[];
}

/** The lab flags of the PCDS mid-wait cases: proxies with PCDS, as the model engine plays it. */
export const PCDS_LAB_FLAGS: readonly string[] = ['--proxy-env', 'PROXY_CONFIG_XDS_AGENT=true'];

/**
 * The wait the PCDS cases expect preflight to plan at await-proxy-trust: the push's settle time the product
 * documents (docs/workflow.md, "Waiting for the proxies": Istio's PILOT_DEBOUNCE_MAX of 10 s and the
 * agent's write, with room). Stated here on its own, not imported from lambdas/core: the judge does not
 * take the product's rules to judge it, so a change of that wait fails these cases until someone looks.
 */
export const PCDS_WAIT_SECONDS = 20;

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
    // A Map of the rollback without a Task of its own (rollback-await-proxy-trust) is no fail-at state.
    const resumedCases =
      resumed === undefined
        ? []
        : unique(resumed.rollbackPath.filter((state) => killable(state) || maps.has(state))).map(
            (rollbackState): KillCase => ({
              ...base,
              id: `kill/${mode}/${resumed.killAt}+${rollbackState}`,
              killAt: point(resumed.killAt),
              killResumedRollbackAt: point(rollbackState),
            }),
          );
    const midWait = midWaitCases(definition, mode, forward.path, rekeyed).map(
      (where): KillCase => ({ ...base, ...where }),
    );
    return [...cases, ...resumedCases, ...midWait];
  });
}

/** Where a mid-wait case kills, and the killed run's own flags. */
type MidWaitCase = Pick<KillCase, 'id' | 'killAt' | 'killResumedRollbackAt' | 'killedRunFlags' | 'labFlags'>;

/**
 * The mid-wait cases of a mode. Each top-level Wait of its forward path (await-proxy-trust, soak),
 * killed halfway through. And each Map of the rollback whose iterations wait (rollback-await-proxy-trust),
 * killed halfway through its longest wait in a resumed rollback: that wait is verify-restored-trust's
 * answer, above 0 only when a proxy lacks a root the rollback gives back, which happens only once
 * retire-root took the start's root from a cluster and its proxies renewed on the new root alone. So
 * the killed run fails in retire-root on the fleet's last cluster (its function writes first) and is
 * killed as its rollback begins, before rollback-trust writes; the runs after it come long after those
 * proxies renewed, and the --retry-rollback run is killed in the wait its rollback then asks.
 */
function midWaitCases(
  definition: Definition,
  mode: RehearsalMode,
  forwardPath: readonly string[],
  lastCluster: string,
): MidWaitCase[] {
  const states = definition.States ?? {};
  const forward = unique(forwardPath.filter((state) => states[state]?.Type === 'Wait')).flatMap(
    (state): MidWaitCase[] => {
      const midWait = waitLength(states[state]);
      return midWait === undefined
        ? []
        : [{ id: `kill/${mode}/${state}/mid-wait`, killAt: { state, inIteration: false, midWait } }];
    },
  );
  // With PCDS on, preflight plans await-proxy-trust as the push's settle time, a wait of its own. The
  // soak's length does not depend on PCDS, and a rollback's verify-restored-trust waits for pushed
  // proxies itself, answering no wait: neither has a PCDS case (docs/reliability.md says why).
  const pcds = forward
    .filter((where) => where.killAt.state === WORKFLOW_STATES.awaitProxyTrust)
    .map(
      (where): MidWaitCase => ({
        id: `kill/${mode}/${where.killAt.state}/pcds/mid-wait`,
        killAt: { ...where.killAt, waitSeconds: PCDS_WAIT_SECONDS },
        labFlags: PCDS_LAB_FLAGS,
      }),
    );
  const retireRoot = WORKFLOW_STATES.retireRoot;
  if (!forwardPath.includes(retireRoot)) return [...forward, ...pcds];
  const failed = predictEnd(definition, mode, [{ state: retireRoot, once: false }]);
  if (failed.result !== 'ROLLED_BACK') return [...forward, ...pcds];
  const rollbackPath = failed.path.slice(failed.path.indexOf(retireRoot) + 1);
  const rollbackStart = rollbackPath[0];
  if (rollbackStart === undefined) return [...forward, ...pcds];
  const mapWaits = mapWaitStates(definition);
  const rollback = unique(rollbackPath.filter((state) => mapWaits.has(state))).flatMap(
    (state): MidWaitCase[] => {
      const iterationState = mapWaits.get(state) as string;
      const midWait = waitLength(processorStates(states[state] ?? {})[iterationState]);
      return midWait === undefined
        ? []
        : [
            {
              id: `kill/${mode}/${retireRoot}:${lastCluster}+${state}/mid-wait`,
              killedRunFlags: ['--fail-at', `${retireRoot}:${lastCluster}`],
              // As the rollback is entered: before its first write, not in one of its iterations.
              killAt: { state: rollbackStart, inIteration: false },
              killResumedRollbackAt: { state, inIteration: true, iterationState, midWait },
            },
          ];
    },
  );
  return [...forward, ...rollback, ...pcds];
}

/** A Wait's length as the definition gives it; undefined for a Timestamp wait (none in this definition). */
function waitLength(state: Readonly<Record<string, unknown>> | undefined): WaitLength | undefined {
  if (typeof state?.Seconds === 'number') return { seconds: state.Seconds };
  if (typeof state?.SecondsPath === 'string') return { secondsPath: state.SecondsPath };
  return undefined;
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
  const where = (point: KillPoint): string =>
    point.answerHeld === true
      ? `in ${point.state} once answer-approval wrote its approval record, before the gate took the answer`
      : point.midWait !== undefined
        ? `halfway through the wait of ${point.iterationState ?? point.state} (${point.waitSeconds === undefined ? `at least ${MID_WAIT_MIN_SECONDS}` : point.waitSeconds} s)`
        : point.iterationState !== undefined
          ? `once ${point.state} and one of its iterations' ${point.iterationState} entered`
          : point.inIteration
            ? `once ${point.state} and one of its iterations entered`
            : `once ${point.state} entered`;
  const resumed = killCase.killResumedRollbackAt;
  const killedFlags = [
    ...Object.entries(killCase.killedRunEnv ?? {}).map(([key, value]) => ` (${key}=${value})`),
    ...(killCase.killedRunFlags ?? []).map((flag) => ` ${flag}`),
  ].join('');
  const lab = killCase.labFlags === undefined ? '' : ` (a lab with ${killCase.labFlags.join(' ')})`;
  return (
    `--lab DIR${lab} ${killCase.flags.join(' ')}${killedFlags}: SIGKILL ${where(killCase.killAt)}, then again` +
    `${killedFlags === '' ? '' : ' without them'} (--retry-rollback when refused)` +
    (resumed === undefined ? '' : `, SIGKILL that rollback ${where(resumed)}, then again`)
  );
}

/** The part of a run's record (DIR/rehearsals/<execution>.json) a kill point is read from. */
export interface RecordProgress {
  /** The top-level states entered, oldest first. */
  readonly statesEntered: readonly string[];
  /**
   * Every StateEntered event, the Map iterations' included, oldest first; its time (ISO) and input
   * (JSON text) as the record keeps them.
   */
  readonly events: readonly { readonly name: string; readonly timestamp?: string; readonly input?: string }[];
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

/** A Wait the record shows entered: how long it asks, and since when. */
export interface WaitEntered {
  /** The Wait state: the point's iterationState, or its state. */
  readonly state: string;
  readonly seconds: number;
  /** Its StateEntered event's time, epoch ms. */
  readonly enteredAt: number;
}

/**
 * The wait of a mid-wait kill point, once the record shows it entered after the point's state: its
 * length read as the definition says (a SecondsPath applied to the event's input), its start the
 * event's time. A Map's iterations may each wait: the wait that ends last, as the Map does.
 */
export function waitEntered(point: KillPoint, record: RecordProgress): WaitEntered | undefined {
  const length = point.midWait;
  if (length === undefined) return undefined;
  const name = point.iterationState ?? point.state;
  const from = record.events.findLastIndex((event) => event.name === point.state);
  if (from < 0) return undefined;
  const waits = record.events.slice(point.iterationState === undefined ? from : from + 1).flatMap((event) => {
    if (event.name !== name || event.timestamp === undefined) return [];
    const seconds = 'seconds' in length ? length.seconds : secondsAt(event.input, length.secondsPath);
    const enteredAt = Date.parse(event.timestamp);
    return seconds === undefined || Number.isNaN(enteredAt) ? [] : [{ state: name, seconds, enteredAt }];
  });
  return waits.reduce<WaitEntered | undefined>(
    (latest, wait) =>
      latest === undefined || wait.enteredAt + wait.seconds * 1000 > latest.enteredAt + latest.seconds * 1000
        ? wait
        : latest,
    undefined,
  );
}

/**
 * Whether a mid-wait kill point is due at `nowMs`: its Wait entered and halfway through. A wait shorter
 * than MID_WAIT_MIN_SECONDS, or one the run has left already (a top-level state after the point's), is
 * due at once: it has no middle to wait for, and the verdict says so.
 */
export function midWaitKillDue(
  point: KillPoint,
  record: RecordProgress,
  topLevelStates: ReadonlySet<string>,
  nowMs: number,
): boolean {
  if (!killPointReached(point, record, topLevelStates)) return false;
  const wait = waitEntered(point, record);
  if (wait === undefined) return false;
  if (wait.seconds < MID_WAIT_MIN_SECONDS || !stillInState(point, record)) return true;
  return nowMs >= wait.enteredAt + (wait.seconds * 1000) / 2;
}

/** The record shows no top-level state entered after the point's: the run is still in it. */
export function stillInState(point: KillPoint, record: RecordProgress): boolean {
  return record.statesEntered.at(-1) === point.state;
}

/** `$.a.b` of a state's input (JSON text): a number there, else undefined. Only plain dotted paths. */
function secondsAt(input: string | undefined, path: string): number | undefined {
  if (input === undefined || !/^\$(\.[A-Za-z0-9_-]+)+$/.test(path)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(input);
  } catch {
    return undefined;
  }
  for (const key of path.slice(2).split('.')) {
    value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  }
  return typeof value === 'number' ? value : undefined;
}
