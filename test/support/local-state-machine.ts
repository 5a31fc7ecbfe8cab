// The synthesized definition run by aws-local-stepfunctions with stand-in (or real) handlers per Task,
// for the tests that drive the state machine itself: which top-level states it entered, in order, what
// it ended with, and the error a failed or aborted run ended on. The definition is read as Step Functions
// reads it, as the rehearsal gives it to the library (rehearsal/local-engine-definition.ts), a Distributed
// Map's items as child executions of their own (rehearsal/distributed-map-emulation.ts).
import { StateMachine } from 'aws-local-stepfunctions';
import { emulateDistributedMaps } from '../../rehearsal/distributed-map-emulation.js';
import { forLocalEngine } from '../../rehearsal/local-engine-definition.js';
import { polyfillPromiseWithResolvers } from '../../rehearsal/promise-with-resolvers.js';

type Json = Record<string, unknown>;

export interface LocalRun {
  /** The top-level states entered, in order (Map iterations left out). */
  readonly entered: string[];
  readonly output?: Json;
  /** The input of the last top-level state entered. */
  readonly finalState?: Json;
  /** The error the run ended on (its cause, as the Catch saw it). */
  readonly error?: { readonly name: string; readonly message: string };
}

export async function runDefinitionLocally(options: {
  readonly definition: unknown;
  readonly input: Json;
  /** Task state name to its handler, as aws-local-stepfunctions' taskResourceLocalHandlers. */
  readonly handlers: Readonly<Record<string, unknown>>;
  readonly executionId: string;
  /** The local runner has no task tokens; a fixed one stands in for the approval gates. */
  readonly taskToken: string;
  readonly waitTimeOverrides?: Record<string, number>;
  /** Called with the running execution, e.g. to keep a way to abort it. */
  readonly onStart?: (execution: { abort(): void }) => void;
}): Promise<LocalRun> {
  const { handlers } = options;
  // aws-local-stepfunctions calls Promise.withResolvers (Node >= 22); the rehearsal polyfills it too.
  polyfillPromiseWithResolvers();
  const machine = new StateMachine(forLocalEngine(options.definition as Json) as never, {
    validationOptions: { checkArn: true, checkPaths: true },
  });
  const retryIntervalOverrides = Object.fromEntries(Object.keys(handlers).map((name) => [name, 0]));
  // A Distributed Map's items run as child executions, as in the rehearsal (distributed-map-emulation.ts).
  const distributed = emulateDistributedMaps({
    definition: options.definition as Json,
    forLocalEngine,
    handlers: handlers as Record<string, (input: unknown) => Promise<unknown>>,
    retryIntervalOverrides,
    ...(options.waitTimeOverrides === undefined ? {} : { waitTimeOverrides: options.waitTimeOverrides }),
    taskToken: options.taskToken,
  });
  const execution = machine.run(options.input as never, {
    overrides: {
      taskResourceLocalHandlers: { ...handlers, ...distributed.handlers } as never,
      ...(options.waitTimeOverrides === undefined ? {} : { waitTimeOverrides: options.waitTimeOverrides }),
      retryIntervalOverrides,
    },
    context: {
      Execution: { Id: options.executionId, StartTime: new Date().toISOString() },
      Task: { Token: options.taskToken },
    } as never,
  });
  options.onStart?.({
    abort: () => {
      execution.abort();
      distributed.abortChildrenOf(options.executionId);
    },
  });
  const entered: string[] = [];
  let finalState: Json | undefined;
  const collect = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered' && event.index === undefined) {
        entered.push(event.state.name);
        finalState = event.state.input as Json;
      }
    }
  })();
  try {
    const output = (await execution.result) as Json;
    await collect;
    return { entered, output, ...(finalState && { finalState }) };
  } catch (error) {
    await collect;
    const cause = (error as { cause?: Error }).cause ?? (error as Error);
    return {
      entered,
      ...(finalState && { finalState }),
      error: { name: cause.name, message: cause.message },
    };
  }
}

/** The Maps whose answers are the `writes` of the gate after them (lambdas/contract/map-answers.ts). */
const CACERTS_WRITING_MAPS: readonly string[] = [
  'distribute-bundle',
  'reissue-intermediate',
  'rollback-trust',
  'rollback-intermediate',
];

/** What a cacerts-writing stand-in answers of its write: written, at a fixed time. */
export const STAND_IN_WRITE = {
  skipped: false,
  changed: true,
  cacertsWrittenBy: '2026-03-10T09:01:00.000Z',
} as const;

/**
 * A per-cluster Task's stand-in for `map`: it answers `done: true` and, as the real handler does, every
 * field the Map keeps in the state (a field a ResultSelector picks that an answer lacks fails the run
 * States.Runtime, past every Catch, on AWS and on the local runner alike).
 */
export function perClusterStandIn(map: string): (input: Json) => Promise<Json> {
  return async (input) => ({
    cluster: input.cluster,
    done: true,
    ...(CACERTS_WRITING_MAPS.includes(map) && STAND_IN_WRITE),
    ...(map === 'rollback-verify-trust' && { proxyTrustWaitSeconds: 0 }),
  });
}

/**
 * A preflight stand-in's plan with no wait: every part the state keeps of it (contract/
 * preflight-answer.ts), for the same reason as perClusterStandIn.
 */
export const STAND_IN_PLAN = {
  proxyTrustWait: { seconds: 0, reason: 'stand-in' },
  soak: { seconds: 0, reason: 'stand-in' },
  historyEvents: {
    worstCase: 1,
    fewest: 1,
    limit: 25_000,
    safeLimit: 20_000,
    mostRestartWaves: 1,
    uncounted: [],
  },
} as const;
