// The kill-and-resume cases of issue 15: a `rehearse --lab DIR` run SIGKILLed in each top-level Task
// (or Map) state its mode's forward path enters, then the next `rehearse --lab DIR` on the same lab,
// which must converge. The states are the fail-at cases' (the list the rehearsal checks --fail-at
// against, in the order the mode's walk of the definition enters them), so a state added to the state
// machine gets its kill case without an edit here. When to kill is read from the record the run keeps
// in DIR/rehearsals/ (rehearsal/fleet/attached-runs.ts): the state entered, and for a Map its first
// per-cluster iteration too, so the kill lands inside the phase rather than between two. Pure: no I/O.

import { ChaosMatrixError } from './chaos-errors.js';
import type { ChaosCase } from './chaos-matrix.js';
import { type Definition, mapStates, predictEnd, type RehearsalMode } from './state-graph.js';

/** Intermediate mode rekeys one cluster (--cluster) and is left to the fail-at cases. */
export const KILL_MODES: readonly RehearsalMode[] = ['scheduled', 'emergency'];

/** Where a kill case kills its first run. */
export interface KillPoint {
  /** The top-level state the run's record must show entered. */
  readonly state: string;
  /** A Map: wait until one of its per-cluster iterations has entered a state too (mid-phase). */
  readonly inIteration: boolean;
}

export interface KillCase extends ChaosCase {
  readonly kind: 'kill';
  readonly killAt: KillPoint;
}

export interface KillMatrixInput {
  readonly definition: Definition;
  /** The STATE names `rehearse --fail-at` accepts (failAtStates(...).listed): Task states and Maps. */
  readonly failAtStates: readonly string[];
}

/** `kill/<mode>/<state>` for each state of each mode's forward path; each expects the resumed run SUCCEEDED. */
export function killCases(input: KillMatrixInput): KillCase[] {
  const maps = mapStates(input.definition);
  return KILL_MODES.flatMap((mode) => {
    const forward = predictEnd(input.definition, mode);
    if (forward.result !== 'SUCCEEDED') {
      throw new ChaosMatrixError(`with nothing injected, ${mode} is predicted to end ${forward.result}`);
    }
    const states = [...new Set(forward.path.filter((state) => input.failAtStates.includes(state)))];
    return states.map(
      (state): KillCase => ({
        id: `kill/${mode}/${state}`,
        mode,
        kind: 'kill',
        flags: ['--mode', mode],
        expected: { result: 'SUCCEEDED' },
        killAt: { state, inIteration: maps.has(state) },
      }),
    );
  });
}

export function isKillCase(chaosCase: ChaosCase): chaosCase is KillCase {
  return chaosCase.kind === 'kill' && 'killAt' in chaosCase;
}

/** What --list shows of a kill case beside its flags. */
export function describeKill(killCase: KillCase): string {
  const where = killCase.killAt.inIteration
    ? `once ${killCase.killAt.state} and one of its iterations entered`
    : `once ${killCase.killAt.state} entered`;
  return `--lab DIR ${killCase.flags.join(' ')}: SIGKILL ${where}, then again (--retry-rollback when refused)`;
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
 * of its iterations entered after it (an event whose name is no top-level state of the definition).
 */
export function killPointReached(
  point: KillPoint,
  record: RecordProgress,
  topLevelStates: ReadonlySet<string>,
): boolean {
  if (!record.statesEntered.includes(point.state)) return false;
  if (!point.inIteration) return true;
  const entered = record.events.findLastIndex((event) => event.name === point.state);
  return entered >= 0 && record.events.slice(entered + 1).some((event) => !topLevelStates.has(event.name));
}
