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
// And once more per gate with its answer on the way (`kill/<mode>/<gate>/answer-held`): the killed run
// answers at once, but its Step Functions proxy holds the answer (SendTaskSuccess) GATE_ANSWER_HOLD_SECONDS
// after answer-approval wrote its approval record and sent it (rehearsal/gate-answer-hold.ts, an
// environment variable of the killed run alone), and says so; the runner kills it once its output does.
// Pure: no I/O.
import { GATE_ANSWER_HOLD_ENV } from '../rehearsal/gate-answer-hold.js';
import { ChaosMatrixError } from './chaos-errors.js';
import { type KillCase, type KillMatrixInput, killCases } from './kill-cases.js';
import type { Definition } from './state-graph.js';

/**
 * How long the killed run's operator takes to answer a gate: far more than the record's write and the
 * runner's read (tens of ms), and short enough that a gate the run passes before its kill point (the
 * reissue gate, for a kill in the retire gate) costs little.
 */
export const GATE_ANSWER_DELAY_SECONDS = 20;

/**
 * How long the killed run of an answer-held case holds a gate's answer: far more than the runner's
 * reaction to the line that says so (it reads the run's output as it comes).
 */
export const GATE_ANSWER_HOLD_SECONDS = 20;

export interface GateKillCase extends KillCase {
  /** The gates are in the assembly synthesized with approval on. */
  readonly assembly: 'approval';
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
  const cases = killCases(input);
  return [
    ...cases.map((killCase) =>
      killsInGate(killCase, gates) ? { ...killCase, killedRunFlags: delayedGateAnswer(killCase) } : killCase,
    ),
    ...cases.filter((killCase) => killsInGate(killCase, gates)).map(answerHeld),
  ];
}

/**
 * The case killing in the same gate once its answer is on the way (a gate case as killCases makes it,
 * without the delayed answer): answered at once, the answer held
 * after answer-approval wrote its record (GATE_ANSWER_HOLD_ENV), the kill once the run says it holds it.
 */
export function answerHeld(gateCase: KillCase): KillCase {
  return {
    ...gateCase,
    id: `${gateCase.id}/answer-held`,
    killAt: { ...gateCase.killAt, answerHeld: true },
    killedRunEnv: { [GATE_ANSWER_HOLD_ENV]: String(GATE_ANSWER_HOLD_SECONDS) },
  };
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
  const inGates = killCases(input).filter((killCase) => killsInGate(killCase, gates));
  return [
    ...inGates.map(
      (killCase): GateKillCase => ({
        ...killCase,
        assembly: 'approval',
        killedRunFlags: delayedGateAnswer(killCase),
      }),
    ),
    ...inGates.map((killCase): GateKillCase => ({ ...answerHeld(killCase), assembly: 'approval' })),
  ];
}

/** Whether a case runs on the assembly with approval gates. */
export function runsWithGates(chaosCase: object): chaosCase is GateKillCase {
  return 'assembly' in chaosCase && chaosCase.assembly === 'approval';
}
