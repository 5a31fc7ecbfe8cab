// A hook for the chaos runner's kill cases (issue 15), read by the rehearsal alone: with
// MESHTRUST_REHEARSAL_HOLD_GATE_ANSWER_SECONDS set, the Step Functions proxy (execution-history-proxy.ts)
// holds each SendTaskSuccess/SendTaskFailure that answers a waiting approval gate that many seconds
// before the gate takes it, and says so in one line. answer-approval writes its approval record before
// it sends the token (lambdas/application/answer-approval-gate.ts), so from that line until the hold ends
// the run is in the window where the record is written and Step Functions has not taken the answer: a
// SIGKILL then lands there every time, which a kill read from the run's record (StateEntered events
// only) cannot do. Not a rehearse option: an operator has no use for it, and nothing but a test sets it.
import { RehearsalOptionsError } from './rehearsal-errors.js';

export const GATE_ANSWER_HOLD_ENV = 'MESHTRUST_REHEARSAL_HOLD_GATE_ANSWER_SECONDS';

/** An hour, as --approve-delay: a typo can't hold a run for days. */
const MAX_HOLD_SECONDS = 3600;

/**
 * The hold the environment asks for, in seconds; undefined when the variable is unset or empty. Refused
 * (naming the variable) when it is not a whole number of seconds from 1 to an hour.
 */
export function gateAnswerHoldSeconds(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = env[GATE_ANSWER_HOLD_ENV];
  if (value === undefined || value === '') return undefined;
  const seconds = Number(value);
  if (!/^\d+$/.test(value) || seconds < 1 || seconds > MAX_HOLD_SECONDS) {
    throw new RehearsalOptionsError(
      GATE_ANSWER_HOLD_ENV,
      `${GATE_ANSWER_HOLD_ENV}=${value}: not a whole number of seconds from 1 to ${MAX_HOLD_SECONDS}`,
    );
  }
  return seconds;
}

/** The line the rehearsal notes as it starts holding the answer to `gate` (the gate's Task state). */
export function gateAnswerHeldNote(gate: string, seconds: number): string {
  return `${gateAnswerHeldMarker(gate)} ${seconds} s before the gate takes it (${GATE_ANSWER_HOLD_ENV})`;
}

/** Whether a run's output shows the answer to `gate` held: its approval record written, the token not yet taken. */
export function gateAnswerHeldIn(output: string, gate: string): boolean {
  return output.includes(gateAnswerHeldMarker(gate));
}

function gateAnswerHeldMarker(gate: string): string {
  return `${gate}: approval record written, its answer held`;
}
