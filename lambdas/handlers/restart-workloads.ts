import { connectEksCluster } from '../adapters/kube/eks-cluster-connector.js';
import { findInjected } from '../adapters/kube/injected-workloads.js';
import { connectRotationLock } from '../adapters/lock/connect-rotation-lock.js';
import { auditStateChange } from '../application/audit-state-change.js';
import type { ResignSummary } from '../application/await-resign.js';
import { intermediateSwitchedBy } from '../application/intermediate-switched.js';
import { waitForIstiodOnCacerts } from '../application/istiod-loaded.js';
import { resignProgress } from '../application/resign-progress.js';
import { restartInWaves } from '../application/restart-in-waves.js';
import type { RotationRuntime } from '../application/runtime.js';
import { RESTART_INVOCATION_RESERVE_MS } from '../contract/function-timeouts.js';
import { workloadsToRestart } from '../core/rotation/resign-fallback.js';
import {
  notSwitchedAnswer,
  type RestartAnswer,
  restartAnswer,
  restartAuditOf,
  restartCursorOf,
} from '../core/rotation/restart-answer.js';
import { restartScopeOf } from '../core/rotation/restart-scope.js';
import { parseInput } from './handler-input.js';
import { type InvocationContext, invocationDeadlineOf } from './invocation-deadline.js';
import { type RestartWorkloadsEvent, restartWorkloadsInputSchema } from './restart-workloads-input.js';
import { runHandler } from './run-handler.js';

export type { InvocationContext } from './invocation-deadline.js';
export type { RestartWorkloadsInput } from './restart-workloads-input.js';
export type RestartWorkloadsOutput = RestartAnswer<ResignSummary>;

const PHASE = 'restart-workloads';
/** Kept at the end of every invocation for the last rollout poll, the audit event and the answer. */
export const INVOCATION_RESERVE_MS = RESTART_INVOCATION_RESERVE_MS;

/**
 * restart-workloads, per cluster (docs/handlers.md): once every istiod replica signs with the
 * intermediate in cacerts, `rollout restart` of every injected workload in waves (emergency: one),
 * each held to its PodDisruptionBudgets and awaited; `resign`: only the workloads whose proxies did not
 * re-sign by themselves. The restart id on each pod template keeps a re-run from restarting twice; a
 * rollback restarts only where this execution switched the intermediate. Waves left at the invocation's
 * deadline: `done: false` and a cursor, which the state machine hands back as `progress`.
 */
export async function handler(event: unknown, context?: InvocationContext): Promise<RestartWorkloadsOutput> {
  const deadline = invocationDeadlineOf(context, INVOCATION_RESERVE_MS);
  const input = parseInput(restartWorkloadsInputSchema, event, PHASE);
  const { executionId, cluster } = input;
  return runHandler(
    {
      phase: PHASE,
      executionId,
      cluster,
      writes: true,
      lambdaContext: context,
      connectCluster: connectEksCluster,
      connectLock: connectRotationLock,
    },
    (runtime) => restartWorkloads(input, runtime, deadline),
  );
}

async function restartWorkloads(
  input: RestartWorkloadsEvent,
  runtime: RotationRuntime,
  deadline: number,
): Promise<RestartWorkloadsOutput> {
  const { executionId, cluster, purpose, mode, progress } = input;
  const scope = restartScopeOf(input);
  if (purpose === 'rollback' && !(await intermediateSwitchedBy(runtime, scope.rotation, cluster))) {
    return notSwitchedAnswer(input, scope, progress);
  }
  const client = await runtime.clusterClient(cluster);
  // No pod may come back before istiod signs with the intermediate now in cacerts. An invocation that
  // goes on from a cursor follows one that passed this gate.
  if (progress === undefined) {
    await waitForIstiodOnCacerts(runtime, client, {
      phase: scope.auditPhase,
      run: purpose,
      writes: input.writes,
    });
  }
  const found = await findInjected(client);
  const { strategy, restartId } = scope;
  const resign = await resignProgress(runtime, client, found, { executionId, strategy, progress, deadline });
  const workloads = workloadsToRestart(found.workloads, resign.fallback);
  const cursor = restartCursorOf(progress);
  const outcome = await restartInWaves(runtime, client, workloads, {
    cursor,
    mode,
    restartId,
    deadline,
    listed: found.listed,
    ...(input.executionStartedAt !== undefined && {
      executionStartedAt: Date.parse(input.executionStartedAt),
    }),
  });
  const invocation = { request: input, scope, progress, found, ...resign, workloads, outcome };
  const audit = restartAuditOf(invocation);
  auditStateChange({ phase: scope.auditPhase, action: PHASE, cluster, executionId, ...audit });
  return restartAnswer(invocation);
}
