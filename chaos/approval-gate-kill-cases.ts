// The kill cases inside an approval gate (issue 15): `kill/<mode>/approve-reissue` and
// `kill/<mode>/approve-retire`, a `rehearse --lab DIR` run SIGKILLed while its execution waits in a
// gate (a `.waitForTaskToken` Task), then resumed as every kill case is. The stack the chaos runner
// synthesizes has no gates (approval off, the default), so these cases come from a second assembly
// synthesized with approval on (chaos/cdk.out.approval), read the same way: the gates are the Task
// states of the mode's forward path whose Resource waits for a task token, in the order it enters them,
// so a gate added, moved or dropped in lib/ changes the cases without an edit here.
//
// A gate answered at once (`--approve auto`) is passed in a fraction of a second, record-approval and
// answer-approval in a row: the killed run gets `--approve-delay`, so its execution waits in the gate,
// unanswered, well past the runner's 20 ms read of its record. The runs after the kill answer at once.
// Pure: no I/O.
import { ChaosMatrixError } from './chaos-errors.js';
import { type KillCase, type KillMatrixInput, killCases } from './kill-cases.js';
import type { Definition } from './state-graph.js';

/**
 * How long the killed run's operator takes to answer a gate: far more than the record's write and the
 * runner's read (tens of ms), and short enough that a gate the run passes before its kill point (the
 * reissue gate, for a kill in the retire gate) costs little.
 */
export const GATE_ANSWER_DELAY_SECONDS = 20;

export interface GateKillCase extends KillCase {
  /** The gates are in the assembly synthesized with approval on. */
  readonly assembly: 'approval';
  /** The killed run's flags after `flags`: its gates answered GATE_ANSWER_DELAY_SECONDS late. */
  readonly killedRunFlags: readonly string[];
}

/** The top-level Task states that wait for a task token: the approval gates (approve-reissue, approve-retire). */
export function approvalGateStates(definition: Definition): ReadonlySet<string> {
  return new Set(
    Object.entries(definition.States ?? {})
      .filter(
        ([, state]) =>
          state.Type === 'Task' &&
          typeof state.Resource === 'string' &&
          state.Resource.endsWith('.waitForTaskToken'),
      )
      .map(([name]) => name),
  );
}

/** Whether a kill case kills its first run in an approval gate of `definition`. */
function killsInGate(killCase: KillCase, gates: ReadonlySet<string>): boolean {
  return gates.has(killCase.killAt.state) && killCase.killResumedRollbackAt === undefined;
}

/** The killed run's flags with the gates' answer delayed, so the kill lands while its execution waits in one. */
export function delayedGateAnswer(killCase: KillCase): readonly string[] {
  return [...(killCase.killedRunFlags ?? []), '--approve-delay', String(GATE_ANSWER_DELAY_SECONDS)];
}

/**
 * The kill cases of `definition` (killCases) with each case that kills in an approval gate given the
 * delayed answer: for an assembly run as it is (--cdk-out) that has gates, whose gate cases are among
 * its own kill cases.
 */
export function withDelayedGateAnswers(input: KillMatrixInput): KillCase[] {
  const gates = approvalGateStates(input.definition);
  return killCases(input).map((killCase) =>
    killsInGate(killCase, gates) ? { ...killCase, killedRunFlags: delayedGateAnswer(killCase) } : killCase,
  );
}

/**
 * The gate kill cases of the assembly synthesized with approval on (`input.definition` is its
 * definition): for each mode, one case per gate its forward path enters. Throws when that definition
 * has no gate: the approval assembly would then prove nothing.
 */
export function approvalGateKillCases(input: KillMatrixInput): GateKillCase[] {
  const gates = approvalGateStates(input.definition);
  if (gates.size === 0) {
    throw new ChaosMatrixError(
      'the assembly synthesized with approval on has no approval gate (a Task whose Resource ends .waitForTaskToken)',
    );
  }
  return killCases(input)
    .filter((killCase) => killsInGate(killCase, gates))
    .map((killCase) => ({ ...killCase, assembly: 'approval', killedRunFlags: delayedGateAnswer(killCase) }));
}

/** Whether a case runs on the assembly with approval gates. */
export function runsWithGates(chaosCase: object): chaosCase is GateKillCase {
  return 'assembly' in chaosCase && chaosCase.assembly === 'approval';
}
