// The functions as the rehearsal runs them: each from its own bundle in containers of its own, with the
// template's environment (tokens resolved to the lab's stand-ins) and the lab's endpoints; AWS reached
// through the execution-history proxy (and the AWS fault proxy, with an AWS --fault). Warmed before the
// execution starts: one container per function, and as many as a Map runs at once.

import { setTimeout as sleep } from 'node:timers/promises';
import { type AwsFaultProxy, startAwsFaultProxy } from '../lab/aws-fault-proxy.js';
import { awsEnvironmentFor } from '../lab/eks/lab-identities.js';
import type { MotoServer } from '../lab/moto-server.js';
import { APPROVAL_STATE_MACHINE_ARN_ENV } from '../lambdas/contract/approval.js';
import {
  CLUSTER_TAG_VALUE_ENV,
  CLUSTERS_ENV,
  MESH_ID_ENV,
  ROLLOUT_TIMEOUT_SECONDS_ENV,
} from '../lambdas/contract/function-environment.js';
import { LOCK_TAKEOVER_GRACE_SECONDS_ENV } from '../lambdas/contract/rotation-lock.js';
import { formatRemoteClusters, REMOTE_CLUSTERS_ENV } from '../lambdas/contract/topology.js';
import { ApprovalGates } from './approval-gates.js';
import { discoveryEntries, otherAccountEnvironment } from './cluster-accounts.js';
import { type DefinitionTask, definitionTasks } from './definition-tasks.js';
import {
  type ExecutionHistoryProxy,
  type RecordedExecution,
  startExecutionHistoryProxy,
} from './execution-history-proxy.js';
import type { FaultPlan } from './fault-plan.js';
import type { RehearsalFleet } from './fleet/rehearsal-fleet.js';
import { createFunctionPool, type FunctionLogLine, type FunctionPool } from './function-pool.js';
import { gateAnswerHeldNote, gateAnswerHoldSeconds } from './gate-answer-hold.js';
import { untilInterrupted } from './interrupts.js';
import type { RehearsalOptions } from './rehearsal-options.js';
import type { LabStateMachine } from './resolve-assembly.js';
import { ANSWER_APPROVAL_HANDLER, resolveEnvironment, type TemplateFunction } from './template-functions.js';

type Json = Record<string, unknown>;

/** What a run started that must be stopped whatever happens, handed back as soon as each exists. */
export interface StartedForRun {
  pool?: FunctionPool;
  awsFaultProxy?: AwsFaultProxy;
  eksFaultProxy?: AwsFaultProxy;
  stsFaultProxy?: AwsFaultProxy;
  historyProxy?: ExecutionHistoryProxy;
}

export interface FunctionContainers {
  readonly pool: FunctionPool;
  /** The Task states of the definition. */
  readonly tasks: readonly DefinitionTask[];
  /** The function each Task state's ARN names. */
  readonly byArn: ReadonlyMap<string, TemplateFunction>;
  /** Every log line of every function, in order. */
  readonly functionLogs: readonly FunctionLogLine[];
  /**
   * The executions this rehearsal ran, as Step Functions would describe them once ended: a resumed
   * rollback's acquire-lock reads the run it resumes (execution-history-proxy.ts). Filled by the run.
   */
  readonly recordedExecutions: Map<string, RecordedExecution>;
  /**
   * The approval gates the run waits at, with their task tokens: answer-approval reads and answers
   * them through the execution-history proxy (approval-gate-task.ts). Filled by the gates' Tasks.
   */
  readonly approvalGates: ApprovalGates;
}

/** The functions' ROLLOUT_TIMEOUT_SECONDS in a rehearsal with a rollout held unready (`stuck`). */
export const STUCK_ROLLOUT_TIMEOUT_SECONDS = 10;

export async function startFunctionContainers(input: {
  readonly options: Pick<RehearsalOptions, 'faults' | 'approve' | 'signal' | 'discoverClusters'>;
  readonly functions: readonly TemplateFunction[];
  readonly machine: LabStateMachine;
  readonly lab: RehearsalFleet;
  readonly moto: MotoServer;
  readonly faults: FaultPlan;
  readonly note: (line: string) => void;
  readonly started: StartedForRun;
  /**
   * The rotation lock's takeover grace for these functions instead of the template's (an attached
   * run's: fleet/attached-runs.ts, ATTACHED_TAKEOVER_GRACE_SECONDS says why it may be short).
   */
  readonly lockTakeoverGraceSeconds?: number;
}): Promise<FunctionContainers> {
  const { options, functions, machine, lab, moto, faults, note, started } = input;
  const { arns, pseudo, functionArn, identityOf, definition } = machine;
  const region = lab.region;
  const rotator = lab.identities.rotator;
  // With an AWS fault, the functions reach moto through the fault proxy; the rehearsal's own calls
  // (seeding, the report's reads) go to moto directly.
  if ((options.faults ?? []).some((fault) => fault.target === 'aws')) {
    started.awsFaultProxy = await startAwsFaultProxy({
      target: moto.endpoint,
      fault: () => faults.awsRequest(),
      answerLost: (request) => faults.awsAnswerLost(request),
    });
  }
  // With an EKS API fault, the functions reach the lab's EKS API through a fault proxy of its own; with an
  // STS fault, its STS (the same lab server answers both) through another. One proxy per service, not one
  // for the server: the functions are given each service's endpoint on its own (AWS_ENDPOINT_URL_EKS,
  // _STS), so each proxy sees only its service's requests and answers in its protocol (EKS's REST-JSON,
  // STS's query XML), where one shared proxy would have to tell an STS call from an EKS one by its
  // form body before deciding, and the proxy decides before it reads a body.
  if ((options.faults ?? []).some((fault) => fault.target === 'eks')) {
    started.eksFaultProxy = await startAwsFaultProxy({
      target: lab.eksEndpoint,
      fault: () => faults.eksRequest(),
    });
  }
  if ((options.faults ?? []).some((fault) => fault.target === 'sts')) {
    started.stsFaultProxy = await startAwsFaultProxy({
      target: lab.eksEndpoint,
      // Read per request: a fault scoped to an account answers only AssumeRole for its roles.
      stsFault: (request) => faults.stsRequest(request),
    });
  }
  const stuckRollout = (options.faults ?? []).some(
    (fault) => fault.target === 'kube' && fault.kind === 'stuck',
  );
  const recordedExecutions = new Map<string, RecordedExecution>();
  const approvalGates = new ApprovalGates();
  const holdSeconds = gateAnswerHoldSeconds();
  started.historyProxy = await startExecutionHistoryProxy({
    target: started.awsFaultProxy?.endpoint ?? moto.endpoint,
    recorded: (executionArn) => recordedExecutions.get(executionArn),
    gates: approvalGates,
    ...(holdSeconds === undefined
      ? {}
      : {
          holdTaskAnswer: async (gate) => {
            note(gateAnswerHeldNote(gate.state, holdSeconds));
            // An interrupted run stops holding: the answer goes on to a gate that is closing anyway.
            await sleep(holdSeconds * 1000, undefined, {
              ...(options.signal === undefined ? {} : { signal: options.signal }),
            }).catch(() => undefined);
          },
        }),
  });
  const awsEndpoint = started.historyProxy.endpoint;
  const labEnvironment: Record<string, string> = {
    ...awsEnvironmentFor(rotator, region),
    AWS_ENDPOINT_URL: awsEndpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: awsEndpoint,
    AWS_ENDPOINT_URL_KMS: awsEndpoint,
    AWS_ENDPOINT_URL_EKS: started.eksFaultProxy?.endpoint ?? lab.eksEndpoint,
  };
  const functionLogs: FunctionLogLine[] = [];
  const byArn = new Map(functions.map((fn) => [functionArn(fn), fn]));
  const pool = createFunctionPool({
    functions,
    arnOf: functionArn,
    environment: (fn) => {
      const environment: Record<string, string> = {
        ...resolveEnvironment(fn, { arns, pseudo }),
        ...labEnvironment,
        // Each function runs as its own role, as deployed; the cluster role is reached by sts:AssumeRole.
        ...awsEnvironmentFor(identityOf(fn), region),
        AWS_ENDPOINT_URL_STS: started.stsFaultProxy?.endpoint ?? lab.eksEndpoint,
      };
      // An attached lab's mesh (meshtrust lab --mesh-id, default lab) stands in for the stack's, as
      // its clusters do: the secret names, the cluster tag and the lock are the lab's mesh's.
      if ((environment[MESH_ID_ENV] ?? lab.meshId) !== lab.meshId) {
        environment[MESH_ID_ENV] = lab.meshId;
        if (environment[CLUSTER_TAG_VALUE_ENV] !== undefined) environment[CLUSTER_TAG_VALUE_ENV] = lab.meshId;
      }
      // A stack that lists its clusters by name: the lab's clusters stand in for them.
      if ((environment[CLUSTERS_ENV] ?? '') !== '')
        environment[CLUSTERS_ENV] = lab.clusters.map((c) => c.name).join(',');
      // The lab's remote clusters stand in for the stack's remoteClusters, as its clusters for CLUSTERS.
      const remotes = lab.clusters.flatMap(({ name, primary }) =>
        primary === undefined ? [] : [{ name, primary }],
      );
      if (remotes.length > 0) environment[REMOTE_CLUSTERS_ENV] = formatRemoteClusters(remotes);
      // Clusters of another account (--other-account-clusters): the cluster list and role map of a stack
      // that names them by ARN, or with --discover-clusters of one that discovers each account's by tag,
      // each function told the role of its kind there (cluster-accounts.ts).
      Object.assign(
        environment,
        otherAccountEnvironment(
          lab,
          { handlerName: fn.handlerName, environment },
          { discover: options.discoverClusters === true },
        ),
      );
      // The approval endpoint answers only executions of the rotation state machine. The template builds
      // its ARN from the stack's pseudo parameters (the lab's account); the run's executions are moto's,
      // of the state machine as moto registered it (in moto's account): that is the rotation's here.
      if (environment[APPROVAL_STATE_MACHINE_ARN_ENV] !== undefined) {
        environment[APPROVAL_STATE_MACHINE_ARN_ENV] = machine.motoStateMachineArn;
      }
      if (
        input.lockTakeoverGraceSeconds !== undefined &&
        environment[LOCK_TAKEOVER_GRACE_SECONDS_ENV] !== undefined
      ) {
        environment[LOCK_TAKEOVER_GRACE_SECONDS_ENV] = String(input.lockTakeoverGraceSeconds);
      }
      // A rollout held unready (--fault kube:CLUSTER:stuck) is waited for until the wave's rollout
      // timeout; the stack's (600 s by default) would outlast a rehearsal, so it is cut short here.
      if (stuckRollout && environment[ROLLOUT_TIMEOUT_SECONDS_ENV] !== undefined) {
        environment[ROLLOUT_TIMEOUT_SECONDS_ENV] = String(STUCK_ROLLOUT_TIMEOUT_SECONDS);
      }
      return environment;
    },
    onLog: (line) => functionLogs.push(line),
  });
  started.pool = pool;
  if (options.discoverClusters === true) {
    note(`the functions discover the clusters by tag: CLUSTERS=${discoveryEntries(lab).join(',')}`);
  }
  const tasks = definitionTasks(definition as never);
  if (options.approve === 'manual' && !tasks.some((task) => task.waitsForTaskToken)) {
    note(
      '--approve manual: this stack has no approval gates (synthesized with approval: false); nothing to ask',
    );
  }
  // Warm what the definition invokes (check-expiry runs outside the state machine): one container per
  // function, and as many as a Map runs at once for the per-cluster functions.
  const containers = new Map<string, number>();
  for (const task of tasks) {
    const fn = byArn.get(task.functionArn);
    if (fn === undefined) continue;
    const wanted =
      task.map === undefined ? 1 : Math.min(lab.clusters.length, mapConcurrency(definition, task.map));
    containers.set(fn.logicalId, Math.max(containers.get(fn.logicalId) ?? 0, wanted));
  }
  // With approval gates, the approval endpoint answers each one: warm it too.
  const answerApproval = functions.find((fn) => fn.handlerName === ANSWER_APPROVAL_HANDLER);
  if (answerApproval !== undefined && tasks.some((task) => task.waitsForTaskToken)) {
    containers.set(answerApproval.logicalId, 1);
  }
  const total = [...containers.values()].reduce((sum, count) => sum + count, 0);
  note(`warming ${total} function container(s) for ${containers.size} function(s), each from its own bundle`);
  await untilInterrupted(
    pool.warm([...containers].map(([logicalId, count]) => ({ logicalId, containers: count }))),
    options.signal,
    'while the function containers started',
  );
  return { pool, tasks, byArn, functionLogs, recordedExecutions, approvalGates };
}

function mapConcurrency(definition: Json, name: string): number {
  const value = (definition.States as Record<string, Json> | undefined)?.[name]?.MaxConcurrency;
  return typeof value === 'number' && value > 0 ? value : Number.POSITIVE_INFINITY;
}
