// The definition as aws-local-stepfunctions must be given it to run as Step Functions does. Two fields
// that Step Functions reads one way the local engine reads another, each rewritten to what Step
// Functions means by it; nothing else changes (the definition registered in moto stays the stack's):
// - `"ResultPath": "$"`: in Step Functions the result replaces the state's input, as when ResultPath is
//   left out. The local engine writes the result into a field named `$` of the input instead, so a
//   per-cluster Task's answer reached its Map's result (`$.distributed`, `$.rollback.trust`, ...) as
//   `{ ...item, $: answer }`, and what reads those answers found nothing (rollback-await-proxy-trust,
//   whose Choice reads each answer's proxyTrustWaitSeconds, never waited). Left out here.
// - A Task without TimeoutSeconds: Step Functions waits for it as long as it runs (99999999 s; a Lambda
//   ends at its own timeout, which the rehearsal's function pool enforces), the local engine fails it
//   `States.Timeout` after 60 s. A gate waiting VERIFY_TIMEOUT_SECONDS (60 by default) then timed out
//   instead of answering. Given the longest timeout Node's timers can hold here.
// - A Distributed Map (ItemProcessor mode DISTRIBUTED): Step Functions runs its items as child executions
//   of their own; the local engine would run them inline, in the parent's context. Its ItemProcessor
//   becomes one stand-in Task per item that the runner overrides with a child execution of the original
//   (distributed-map-definition.ts, distributed-map-emulation.ts).
// Pure.

import { isDistributedMap, localDistributedMap } from './distributed-map-definition.js';

type Json = Record<string, unknown>;

/** The longest a Node timer can wait (2^31 - 1 ms), in whole seconds: Step Functions' "as long as it runs". */
export const LOCAL_TASK_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * The definition with every state (those inside Maps and Parallels too) read as Step Functions reads it.
 * The states are new objects; what they hold (Parameters, Retry, ...) is the definition's.
 */
export function forLocalEngine(definition: Json): Json {
  return { ...definition, States: mapStates(definition.States as Record<string, Json> | undefined) };
}

function mapStates(states: Record<string, Json> | undefined): Record<string, Json> | undefined {
  if (states === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(states).map(([name, state]) => [
      name,
      forLocalState(isDistributedMap(state) ? localDistributedMap(name, state) : state),
    ]),
  );
}

function forLocalState(input: Json): Json {
  const state: Json = { ...input };
  if (state.ResultPath === '$') delete state.ResultPath;
  if (state.Type === 'Task' && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
    state.TimeoutSeconds = LOCAL_TASK_TIMEOUT_SECONDS;
  }
  for (const key of ['ItemProcessor', 'Iterator'] as const) {
    const processor = state[key] as Json | undefined;
    if (processor !== undefined) state[key] = forLocalEngine(processor);
  }
  if (Array.isArray(state.Branches)) state.Branches = (state.Branches as Json[]).map(forLocalEngine);
  return state;
}
