// The run itself: the definition on aws-local-stepfunctions with every Task overridden by its function's
// own bundle (then the --fail-at failure, if one matches, then a probe round), each execution started in
// moto under its name; with --retry-rollback, a rollback that failed is resumed as an operator would.
// An interrupt aborts the execution running; the run then ends with what it got to.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExecutionAbortedError, StateMachine } from 'aws-local-stepfunctions';
import { LabError } from '../lab/lab-errors.js';
import type { MotoServer } from '../lab/moto-server.js';
import { RESUME_PROMOTION_INPUT_KEY } from '../lambdas/contract/resume-promotion.js';
import { RESUME_ROLLBACK_INPUT_KEY, ROLLBACK_FAILED_ERROR } from '../lambdas/contract/resume-rollback.js';
import { WORKFLOW_STATES } from '../lambdas/contract/workflow-states.js';
import { meshExecutionArn } from '../lambdas/core/rotation/mesh-execution.js';
import { resumedPromotionName, resumePromotionOf } from '../lambdas/core/rotation/resume-promotion.js';
import { resumedRollbackName, resumeRollbackOf } from '../lambdas/core/rotation/resume-rollback.js';
import { runApprovalGate } from './approval-gate-task.js';
import type { ApprovalGates } from './approval-gates.js';
import type { CacertsTimeline } from './cacerts-timeline.js';
import type { DefinitionTask } from './definition-tasks.js';
import { type ChildExecution, emulateDistributedMaps } from './distributed-map-emulation.js';
import type { RecordedExecution } from './execution-history-proxy.js';
import type { createFailureInjector } from './fail-at.js';
import type { ExecutionJournal } from './fleet/attached-runs.js';
import type { RehearsalFleet } from './fleet/rehearsal-fleet.js';
import type { FunctionContainers } from './function-containers.js';
import { forLocalEngine } from './local-engine-definition.js';
import { type MotoAccess, startExecutionInMoto, stopExecutionInMoto } from './moto-state-machine.js';
import { dataLimitError, type PayloadQuota } from './payload-quota.js';
import type { PhaseTracker } from './phase-tracker.js';
import type { RehearsalOptions } from './rehearsal-options.js';
import type { RehearsalResult } from './rehearsal-report.js';
import type { LabStateMachine } from './resolve-assembly.js';
import { ANSWER_APPROVAL_HANDLER } from './template-functions.js';

type Json = Record<string, unknown>;
type FailureInjector = ReturnType<typeof createFailureInjector>;
type TaskHandler = (input: unknown) => Promise<unknown>;

/** Retry intervals of the definition (2 s .. 15 s) shrink to this: istiod here settles in < 1 s. */
const RETRY_INTERVAL_MS = 500;
/** The runner's `$$.Task.Token`, one for the run; each approval gate mints its own (approval-gates.ts). */
const TASK_TOKEN = 'rehearsal-task-token';

/** An interrupt that cut the run short: the signal's reason, when, and in which phase. */
export interface Interrupted {
  readonly signal: string;
  readonly at: string;
  readonly phase: string;
}

export interface RotationRun {
  /** The first execution's id (a resumed rollback's are in the history). */
  readonly executionId: string;
  /** The last execution's result and error. */
  readonly result: RehearsalResult;
  readonly error: { name: string; cause: string } | undefined;
  readonly startedAt: Date;
  readonly endedAt: Date;
  readonly interrupted: Interrupted | undefined;
  /** Every event of every execution, in order, as history.json holds them. */
  readonly history: readonly unknown[];
  /**
   * Every child execution a Distributed Map started, in the order they ended, each with its own events
   * (children.json); none with inline Maps. GetExecutionHistory of the parent returns none of them.
   */
  readonly children: readonly ChildRecord[];
}

/** A Distributed Map's child execution as children.json holds it. */
export interface ChildRecord {
  readonly executionArn: string;
  readonly name: string;
  readonly parentArn: string;
  readonly mapRunArn: string;
  /** The Distributed Map (its label) and the item's index. */
  readonly map: string;
  readonly index: number;
  /** The item's cluster, as the child's input names it. */
  readonly cluster?: string;
  readonly status: string;
  readonly error?: string;
  readonly cause?: string;
  readonly startDate: string;
  readonly stopDate: string;
  /** The child's own events, as history.json holds the parent's. */
  readonly events: readonly unknown[];
}

/**
 * Each Task state overridden by its function: invoked in its container (an approval gate answered as
 * --approve says, through the approval endpoint as the lab's operator), then the --fail-at failure if
 * one matches; a phase that passed between two probe rounds gets a round of its own.
 */
export function taskOverrides(input: {
  readonly options: Pick<RehearsalOptions, 'approve' | 'approveDelaySeconds' | 'askApproval' | 'signal'>;
  readonly containers: FunctionContainers;
  readonly tracker: PhaseTracker;
  readonly lab: Pick<RehearsalFleet, 'prober' | 'identities'>;
  readonly injector: FailureInjector;
  /** The run's payload quota, which the executions observe (payload-quota.ts). */
  readonly quota: PayloadQuota;
}): Record<string, TaskHandler> {
  const { options, containers, tracker, lab, injector, quota } = input;
  const { pool, tasks, byArn } = containers;
  const prober = lab.prober;
  const gateDeps = {
    gates: containers.approvalGates,
    invoke: (logicalId: string, event: unknown) => pool.invoke(logicalId, event),
    answerApproval: [...byArn.values()].find((fn) => fn.handlerName === ANSWER_APPROVAL_HANDLER)?.logicalId,
    approve: options.approve,
    ...(options.approveDelaySeconds === undefined
      ? {}
      : { answerDelayMs: options.approveDelaySeconds * 1000 }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.askApproval === undefined ? {} : { askApproval: options.askApproval }),
    // Who `meshtrust approve` runs as in the lab: the identity of its env file (lab-files.ts).
    approver: lab.identities.rotator.arn,
  };
  const handlers: Record<string, TaskHandler> = {};
  for (const task of tasks) {
    const fn = byArn.get(task.functionArn);
    if (fn === undefined) continue;
    const phaseName = task.map ?? task.state;
    handlers[task.state] = async (input) => {
      // A state without a Task (a Wait, a Map of Waits) that passed quicker than one round gets its
      // round here, before the Task after it takes over the label.
      const before = tracker.current();
      if (before !== phaseName && (prober.stats().byPhase[before]?.attempted ?? 0) === 0) {
        await prober.runRound();
      }
      tracker.enter(phaseName);
      try {
        // Step Functions' payload quota (payload-quota.ts): no function starts past a state over it.
        await quota.admit();
        let result: unknown;
        if (task.waitsForTaskToken) {
          result = await runApprovalGate(
            gateDeps,
            { state: task.state, resource: task.resource, recordApproval: fn.logicalId },
            input,
          );
        } else {
          result = await pool.invoke(fn.logicalId, input);
        }
        injector.afterInvocation(task.state, input);
        return result;
      } finally {
        // The automatic rounds cover long phases; a step quicker than one round (or one that fails at
        // once) gets a round of its own, so every phase shows what traffic did during it.
        if ((prober.stats().byPhase[phaseName]?.attempted ?? 0) === 0) await prober.runRound();
      }
    };
  }
  return handlers;
}

/** What every execution a run starts needs: the machine, its Task handlers and where it is recorded. */
interface ExecutionsInput {
  readonly moto: Pick<MotoServer, 'endpoint'>;
  readonly machine: LabStateMachine;
  readonly tasks: readonly DefinitionTask[];
  readonly handlers: Record<string, TaskHandler>;
  /** The quota the handlers admit by (taskOverrides' quota): each execution feeds it its events. */
  readonly quota: PayloadQuota;
  readonly recordedExecutions: Map<string, RecordedExecution>;
  /** The gates the functions answer (approval-gates.ts): told when each execution starts. */
  readonly approvalGates?: ApprovalGates;
  readonly tracker: PhaseTracker;
  readonly note: (line: string) => void;
  /** An attached run's record of each execution in the lab's directory (fleet/attached-runs.ts). */
  readonly journal?: () => ExecutionJournal;
}

/**
 * The rotation the options ask for, to its end: the first execution, the resumed rollbacks of
 * --retry-rollback, then (when the run wrote) traffic watched while the mesh settles. Until it returns,
 * an interrupt aborts the execution running and the run ends there.
 */
export async function runRotation(
  input: ExecutionsInput & {
    readonly options: Pick<
      RehearsalOptions,
      'mode' | 'retryRollback' | 'retryPromotion' | 'failAt' | 'signal'
    >;
    readonly targetCluster: string | undefined;
    readonly lab: Pick<RehearsalFleet, 'workloadCertTtlMs' | 'settleMs' | 'region' | 'identities'>;
    readonly timeline: CacertsTimeline;
    readonly injector: FailureInjector;
  },
): Promise<RotationRun> {
  const { options, targetCluster, lab, moto, machine, tasks, handlers, tracker, note } = input;
  const { definition, stateMachineName, motoStateMachineArn } = machine;
  // Unique even for two rehearsals started in the same millisecond against one moto: Step Functions
  // takes a second start with the same name and input as the same execution.
  const startStamp = new Date().toISOString().replace(/[:.]/g, '-');
  const executionName = `rehearsal-${startStamp}-${randomBytes(3).toString('hex')}`;
  const executionInput: Json = {
    mode: options.mode,
    reason: 'meshtrust rehearse',
    requestedBy: 'meshtrust rehearse',
    // The soak is one workload certificate lifetime: the lab's, as a deployment's is its mesh's.
    soakSeconds: Math.ceil(lab.workloadCertTtlMs / 1000),
    ...(targetCluster === undefined ? {} : { cluster: targetCluster }),
  };
  const motoExecution = {
    endpoint: moto.endpoint,
    region: lab.region,
    credentials: lab.identities.rotator.credentials,
    stateMachineArn: motoStateMachineArn,
  };
  const stateMachine = new StateMachine(forLocalEngine(definition) as never, {
    validationOptions: { checkArn: true, checkPaths: true },
  });
  const startedAt = new Date();
  // An interrupt aborts the execution running (its history ends with ExecutionAborted); what the run
  // got to is reported, marked as interrupted.
  let interrupted: Interrupted | undefined;
  let running: { abort(): void } | undefined;
  const interrupt = () => {
    interrupted = {
      signal: String(options.signal?.reason),
      at: new Date().toISOString(),
      phase: tracker.current(),
    };
    running?.abort();
  };
  if (options.signal?.aborted) interrupt();
  else options.signal?.addEventListener('abort', interrupt, { once: true });
  const history: unknown[] = [];
  const children: ChildRecord[] = [];
  const runExecution = createExecutionRunner({
    definition,
    stateMachine,
    stateMachineName,
    motoExecution,
    tasks,
    handlers,
    quota: input.quota,
    recordedExecutions: input.recordedExecutions,
    ...(input.approvalGates === undefined ? {} : { approvalGates: input.approvalGates }),
    tracker,
    history,
    children,
    onStart: (execution) => {
      running = execution;
      if (interrupted !== undefined) execution.abort();
    },
    ...(input.journal === undefined ? {} : { journal: input.journal }),
  });

  note(`running ${executionName} (${options.mode}${targetCluster ? ` ${targetCluster}` : ''})`);
  const first = await runExecution(executionName, executionInput);
  const executionId = first.executionId;
  let { result, error } = first;
  // --retry-rollback: as an operator would, fix the cause (the failures injected so far stop), then
  // meshtrust retry-rollback; a --fail-at that has not fired yet may fail the resumed rollback too, which
  // is then resumed again (each resume fixes at least one failure, so this ends).
  let last = first;
  for (
    let resumes = 0;
    options.retryRollback === true &&
    interrupted === undefined &&
    error?.name === ROLLBACK_FAILED_ERROR &&
    resumes <= (options.failAt ?? []).length;
    resumes += 1
  ) {
    input.injector.fixFired();
    const decision = resumeRollbackOf({
      executionArn: last.executionId,
      status: 'FAILED',
      error: error.name,
      finalState: last.finalState,
    });
    if (!decision.resumable) throw new Error(`--retry-rollback: ${decision.reason}`);
    // Named by the second: a resume ended within the same second as the one before waits for the next.
    let resumedName = resumedRollbackName(executionName, new Date());
    while (resumedName === last.name) {
      await sleep(250);
      resumedName = resumedRollbackName(executionName, new Date());
    }
    note(
      `${last.name} ended in ${ROLLBACK_FAILED_ERROR}: resuming its rollback in ${resumedName}` +
        (decision.resumeRollback.restored ? ' (every cluster restored: from rollback-drop-pending)' : ''),
    );
    last = await runExecution(resumedName, {
      mode: decision.mode,
      reason: 'meshtrust rehearse --retry-rollback',
      requestedBy: 'meshtrust rehearse',
      [RESUME_ROLLBACK_INPUT_KEY]: decision.resumeRollback,
    });
    ({ result, error } = last);
  }
  // --retry-promotion: as an operator would, fix the cause, then meshtrust retry-promotion; a promote-root
  // that fails again is finished again (each finish fixes at least one failure, so this ends).
  for (
    let resumes = 0;
    options.retryPromotion === true &&
    interrupted === undefined &&
    result === 'FAILED' &&
    last.statesEntered.includes(WORKFLOW_STATES.promoteRoot) &&
    resumes <= (options.failAt ?? []).length;
    resumes += 1
  ) {
    input.injector.fixFired();
    const decision = resumePromotionOf({
      executionArn: last.executionId,
      status: 'FAILED',
      ...(error === undefined ? {} : { error: error.name }),
      finalState: last.finalState,
      statesEntered: last.statesEntered,
    });
    if (!decision.resumable) throw new Error(`--retry-promotion: ${decision.reason}`);
    let resumedName = resumedPromotionName(executionName, new Date());
    while (resumedName === last.name) {
      await sleep(250);
      resumedName = resumedPromotionName(executionName, new Date());
    }
    note(
      `${last.name} stopped in promote-root (${error?.name ?? 'no error'}): finishing its promotion in ${resumedName}`,
    );
    last = await runExecution(resumedName, {
      mode: decision.mode,
      reason: 'meshtrust rehearse --retry-promotion',
      requestedBy: 'meshtrust rehearse',
      [RESUME_PROMOTION_INPUT_KEY]: decision.resumePromotion,
    });
    ({ result, error } = last);
  }
  const endedAt = new Date();
  const wrote = input.timeline.entries().some((write) => write.phase !== 'initial');
  if (interrupted === undefined) {
    tracker.enter('final');
    if (lab.settleMs > 0 && wrote) {
      // A real mesh goes on after the last write: istiod loads it a volume sync later and proxies take
      // what it then serves at their next renewal. Traffic is watched until then (or an interrupt).
      note(
        `watching traffic ${Math.round(lab.settleMs / 1000)} s more: istiod loads the last write a volume sync later, proxies renew within a certificate lifetime`,
      );
      await sleep(
        lab.settleMs,
        undefined,
        options.signal === undefined ? {} : { signal: options.signal },
      ).catch(() => undefined);
    }
  }
  // Until here an interrupt cuts the run short (the listener above marks it); from here on the report
  // is made of what there is, and written whole.
  options.signal?.removeEventListener('abort', interrupt);
  return { executionId, result, error, startedAt, endedAt, interrupted, history, children };
}

/**
 * What an attached run that died part-way (its process gone) left, dealt with before this run's own
 * rotation: a new execution whose input carries what the dead run's recorded state says. A dead run
 * after its first write is rolled back, as `meshtrust retry-rollback NAME` starts for an ABORTED
 * execution (ends ROLLED_BACK); one stopped in promote-root is finished, as `meshtrust retry-promotion
 * NAME` does (ends SUCCEEDED). Anything else is thrown, and this run rotates nothing.
 */
export async function recoverDeadRun(
  input: ExecutionsInput & {
    readonly deadName: string;
    readonly lab: Pick<RehearsalFleet, 'region' | 'identities'>;
  } & (
      | {
          readonly how: 'rollback';
          readonly decision: { readonly mode: string; readonly resumeRollback: unknown };
        }
      | {
          readonly how: 'promotion';
          readonly decision: { readonly mode: string; readonly resumePromotion: unknown };
        }
    ),
): Promise<{ readonly name: string; readonly history: readonly unknown[] }> {
  const { deadName, lab, moto, machine, note } = input;
  const history: unknown[] = [];
  const runExecution = createExecutionRunner({
    definition: machine.definition,
    stateMachine: new StateMachine(forLocalEngine(machine.definition) as never, {
      validationOptions: { checkArn: true, checkPaths: true },
    }),
    stateMachineName: machine.stateMachineName,
    motoExecution: {
      endpoint: moto.endpoint,
      region: lab.region,
      credentials: lab.identities.rotator.credentials,
      stateMachineArn: machine.motoStateMachineArn,
    },
    tasks: input.tasks,
    handlers: input.handlers,
    quota: input.quota,
    recordedExecutions: input.recordedExecutions,
    ...(input.approvalGates === undefined ? {} : { approvalGates: input.approvalGates }),
    tracker: input.tracker,
    history,
    onStart: () => undefined,
    ...(input.journal === undefined ? {} : { journal: input.journal }),
  });
  if (input.how === 'promotion') {
    const name = resumedPromotionName(deadName, new Date());
    note(
      `finishing the promotion of ${deadName} in ${name}, as \`meshtrust retry-promotion ${deadName}\` would`,
    );
    const ended = await runExecution(name, {
      mode: input.decision.mode,
      reason: 'meshtrust rehearse --lab (a dead run stopped in promote-root)',
      requestedBy: 'meshtrust rehearse',
      [RESUME_PROMOTION_INPUT_KEY]: input.decision.resumePromotion,
    });
    if (ended.result !== 'SUCCEEDED') {
      throw new LabError(
        `the promotion of ${deadName} (${name}) ended ${ended.result}` +
          `${ended.error === undefined ? '' : ` (${ended.error.name}: ${ended.error.cause})`}; nothing more was started`,
      );
    }
    note(`${name} finished ${deadName}: its root is current, the lock released`);
    return { name, history };
  }
  const name = resumedRollbackName(deadName, new Date());
  note(`rolling back ${deadName} in ${name}, as \`meshtrust retry-rollback ${deadName}\` would`);
  const ended = await runExecution(name, {
    mode: input.decision.mode,
    reason: 'meshtrust rehearse --lab --retry-rollback (a dead run left part-way)',
    requestedBy: 'meshtrust rehearse',
    [RESUME_ROLLBACK_INPUT_KEY]: input.decision.resumeRollback,
  });
  if (ended.result !== 'ROLLED_BACK') {
    throw new LabError(
      `the rollback of ${deadName} (${name}) ended ${ended.result}` +
        `${ended.error === undefined ? '' : ` (${ended.error.name}: ${ended.error.cause})`}; nothing more was started`,
    );
  }
  note(`${name} rolled ${deadName} back: every write undone, the lock released`);
  return { name, history };
}

interface ExecutionEnd {
  readonly executionId: string;
  readonly name: string;
  readonly result: RehearsalResult;
  readonly error: { name: string; cause: string } | undefined;
  /** The input of the last top-level state entered: the state the execution ended with. */
  readonly finalState: unknown;
  /** The top-level states it entered, oldest first. */
  readonly statesEntered: readonly string[];
}

/** Runs one execution of the definition, started in moto under its name, to its end. */
function createExecutionRunner(input: {
  /** The stack's definition: its Distributed Maps run their items as child executions. */
  readonly definition: Json;
  readonly stateMachine: StateMachine;
  readonly stateMachineName: string;
  readonly motoExecution: MotoAccess & { readonly stateMachineArn: string };
  readonly tasks: readonly DefinitionTask[];
  readonly handlers: Record<string, TaskHandler>;
  readonly quota: PayloadQuota;
  readonly recordedExecutions: Map<string, RecordedExecution>;
  /** The gates the functions answer (approval-gates.ts): told when each execution starts. */
  readonly approvalGates?: ApprovalGates;
  readonly tracker: PhaseTracker;
  readonly history: unknown[];
  /** Where each ended child of a Distributed Map is kept (children.json); dropped when absent. */
  readonly children?: ChildRecord[];
  readonly onStart: (execution: { abort(): void }) => void;
  readonly journal?: () => ExecutionJournal;
}): (name: string, executionInput: Json) => Promise<ExecutionEnd> {
  const { stateMachine, stateMachineName, motoExecution, tasks, handlers, quota, tracker, history } = input;
  const retryIntervalOverrides = Object.fromEntries(tasks.map((task) => [task.state, RETRY_INTERVAL_MS]));
  // A Distributed Map's children, each an execution of its own (distributed-map-emulation.ts): their
  // Tasks run the same functions; each ended child is answered by ARN as Step Functions would.
  const distributed = emulateDistributedMaps({
    definition: input.definition,
    forLocalEngine,
    handlers,
    retryIntervalOverrides,
    taskToken: TASK_TOKEN,
    onChild: (child) => {
      input.recordedExecutions.set(child.executionArn, recordedChild(child));
      input.children?.push(childRecord(child));
    },
  });
  return async (name, executionInput) => {
    // The attached run's record is on disk before moto knows the execution (its ARN follows from the
    // name): a run killed in between leaves a record the next run acts on, never an execution that
    // holds the mesh unseen. StopExecution of one moto never started fails, and is let go.
    const journal = input.journal?.();
    const expectedArn = meshExecutionArn(motoExecution.stateMachineArn, name);
    const journalStarted = (executionArn: string) =>
      journal?.started({
        executionArn,
        stateMachineArn: motoExecution.stateMachineArn,
        name,
        startDate: new Date(),
      });
    if (expectedArn !== undefined) await journalStarted(expectedArn);
    const id = await startExecutionInMoto({ ...motoExecution, name, input: executionInput }).catch(
      async (error: unknown) => {
        await journal?.ended();
        throw error;
      },
    );
    if (id !== expectedArn) await journalStarted(id);
    input.approvalGates?.executionStarted(id, new Date());
    quota.reset();
    const execution = stateMachine.run(executionInput as never, {
      overrides: {
        taskResourceLocalHandlers: { ...handlers, ...distributed.handlers } as never,
        retryIntervalOverrides,
      },
      context: {
        Execution: { Id: id, Name: name, StartTime: new Date().toISOString(), Input: executionInput },
        StateMachine: {
          Id: id.replace(':execution:', ':stateMachine:').replace(`:${name}`, ''),
          Name: stateMachineName,
        },
        Task: { Token: TASK_TOKEN },
      } as never,
    });
    // Stopping the parent stops its Map Runs' children, as Step Functions does.
    input.onStart({
      abort: () => {
        execution.abort();
        distributed.abortChildrenOf(id);
      },
    });
    // Each execution's Maps count their clusters afresh (a resumed rollback runs them again).
    tracker.resetClusterCounts();
    // The input of the last top-level state entered: the state the execution ended with.
    let finalState: unknown;
    const statesEntered: string[] = [];
    const enteredEvents: RecordedExecution['events'][number][] = [];
    const executionStartedAt = new Date();
    const collect = (async () => {
      for await (const event of execution.eventLogs) {
        history.push(historyEntry(event as unknown as Json));
        // Over Step Functions' payload quota: the execution ends here, as on AWS (payload-quota.ts).
        if (quota.observe(event) !== undefined) execution.abort();
        const { type, index } = event as unknown as { type: string; index?: number };
        if (type === 'StateEntered') {
          const entered = (event as unknown as { state: { name: string; type: string; input?: unknown } })
            .state;
          const recorded = stateEnteredEvent(entered, new Date());
          enteredEvents.push(recorded);
          journal?.entered(
            recorded,
            index === undefined ? { name: entered.name, input: entered.input ?? {} } : undefined,
          );
        }
        if (type === 'StateEntered' && index === undefined) {
          const state = (event as unknown as { state: { name: string; type: string; input?: unknown } })
            .state;
          finalState = state.input;
          statesEntered.push(state.name);
          if (['Task', 'Map', 'Wait'].includes(state.type)) tracker.enter(state.name);
        }
        if (type === 'MapIterationSucceeded') {
          const map = (event as unknown as { parentState: { name: string } }).parentState.name;
          tracker.mapIterationDone(map);
        }
      }
    })();

    let ended: RehearsalResult = 'SUCCEEDED';
    let endError: { name: string; cause: string } | undefined;
    try {
      await execution.result;
    } catch (failure) {
      if (failure instanceof ExecutionAbortedError) {
        ended = 'ABORTED';
      } else {
        const cause = (failure as { cause?: unknown }).cause ?? failure;
        const name = cause instanceof Error ? cause.name : 'Error';
        ended = name === 'RotationRolledBack' ? 'ROLLED_BACK' : 'FAILED';
        endError = { name, cause: cause instanceof Error ? cause.message : String(cause) };
      }
    }
    await collect;
    // Aborted for the quota: AWS ends such an execution FAILED with its terminal error.
    const overQuota = quota.exceeded;
    if (overQuota !== undefined) {
      const error = dataLimitError(overQuota);
      ended = 'FAILED';
      endError = { name: error.name, cause: error.message };
    }
    await stopExecutionInMoto({ ...motoExecution, executionArn: id }).catch(() => undefined);
    // Ended here: the next attached run must not take it for a dead one.
    await journal?.ended({ aborted: ended === 'ABORTED' });
    input.recordedExecutions.set(id, {
      executionArn: id,
      stateMachineArn: motoExecution.stateMachineArn,
      name,
      status: ended === 'ROLLED_BACK' ? 'FAILED' : ended,
      ...(endError !== undefined && { error: endError.name, cause: endError.cause }),
      startDate: executionStartedAt,
      stopDate: new Date(),
      events: enteredEvents,
    });
    return { executionId: id, name, result: ended, error: endError, finalState, statesEntered };
  };
}

/** A child execution as the history proxy answers it: its top-level states entered, with their input. */
function recordedChild(child: ChildExecution): RecordedExecution {
  return {
    executionArn: child.executionArn,
    stateMachineArn: child.stateMachineArn,
    name: child.name,
    status: child.status,
    ...(child.error === undefined ? {} : { error: child.error }),
    ...(child.cause === undefined ? {} : { cause: child.cause }),
    startDate: child.startDate,
    stopDate: child.stopDate,
    events: (child.events as Json[]).flatMap((event) => {
      const state = event.state as { name: string; type: string; input?: unknown } | undefined;
      if (event.type !== 'StateEntered' || event.index !== undefined || state === undefined) return [];
      return [stateEnteredEvent(state, new Date(Number(event.timestamp)))];
    }),
  };
}

function childRecord(child: ChildExecution): ChildRecord {
  const withCluster = (child.events as Json[]).find(
    (event) => typeof (event.input as Json | undefined)?.cluster === 'string',
  );
  const cluster = (withCluster?.input as Json | undefined)?.cluster as string | undefined;
  return {
    executionArn: child.executionArn,
    name: child.name,
    parentArn: child.parentArn,
    mapRunArn: child.mapRunArn,
    map: child.map,
    index: child.index,
    ...(cluster === undefined ? {} : { cluster }),
    status: child.status,
    ...(child.error === undefined ? {} : { error: child.error }),
    ...(child.cause === undefined ? {} : { cause: child.cause }),
    startDate: child.startDate.toISOString(),
    stopDate: child.stopDate.toISOString(),
    events: (child.events as Json[]).map(historyEntry),
  };
}

/** A local StateEntered as the history proxy and the journal record it: `<Type>StateEntered`, its input as JSON. */
function stateEnteredEvent(
  state: { readonly name: string; readonly type: string; readonly input?: unknown },
  timestamp: Date,
): RecordedExecution['events'][number] {
  return {
    type: `${state.type}StateEntered`,
    timestamp,
    stateEnteredEventDetails: { name: state.name, input: JSON.stringify(state.input ?? {}) },
  };
}

function historyEntry(event: Json): Json {
  const entry: Json = { ...event, at: new Date(Number(event.timestamp)).toISOString() };
  if (entry.Cause instanceof Error) entry.Cause = `${entry.Cause.name}: ${entry.Cause.message}`;
  return entry;
}
