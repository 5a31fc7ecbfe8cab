// `meshtrust rehearse`: the state machine that would be deployed, run end to end on one machine.
// The synthesized definition runs on aws-local-stepfunctions; each Task runs its function's own
// bundle from cdk.out in a process of its own; AWS is moto_server plus the lab's EKS API; the fleet
// is the lab, whose prober makes real mTLS handshakes all along. The report says what happened.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExecutionAbortedError, StateMachine } from 'aws-local-stepfunctions';
import { type AwsFaultProxy, startAwsFaultProxy } from '../lab/aws-fault-proxy.js';
import type { CacertsSnapshot, SecretData } from '../lab/cacerts-snapshot.js';
import { awsEnvironmentFor, LAB_ACCOUNT_ID } from '../lab/eks/lab-identities.js';
import {
  ISTIO_ENGINE_DEFAULTS,
  type IstioEngineSettings,
} from '../lab/istio-install/istio-engine-settings.js';
import { labClusterNames } from '../lab/lab-cluster-names.js';
import type { LabEngineName } from '../lab/lab-files.js';
import type { LabOptions, RootCertStyle } from '../lab/lab-options.js';
import { killMotoServerNow, type MotoServer, startMotoServer } from '../lab/moto-server.js';
import { seedCaStore } from '../lab/seed-ca-store.js';
import {
  CLUSTER_TAG_VALUE_ENV,
  CLUSTERS_ENV,
  MESH_ID_ENV,
} from '../lambdas/contract/function-environment.js';
import { RESUME_ROLLBACK_INPUT_KEY, ROLLBACK_FAILED_ERROR } from '../lambdas/contract/resume-rollback.js';
import { formatRemoteClusters, REMOTE_CLUSTERS_ENV } from '../lambdas/contract/topology.js';
import { resumedRollbackName, resumeRollbackOf } from '../lambdas/core/rotation/resume-rollback.js';
import { ROLLBACK_STATES } from '../lib/workflow-states.js';
import { privateKeysInCaStore } from './ca-store-keys.js';
import { recordCacertsTimeline } from './cacerts-timeline.js';
import { type CloudAssembly, ensureCloudAssembly, readCloudAssembly } from './cloud-assembly.js';
import { clusterStrategies } from './cluster-strategies.js';
import { type DefinitionTask, definitionTasks } from './definition-tasks.js';
import {
  type CacertsBackupsAtEnd,
  cacertsBackupsAtEnd,
  clusterEndStates,
  type EndState,
  hasPendingRoot,
  rootKeysAtEnd,
} from './end-state.js';
import {
  type ExecutionHistoryProxy,
  type RecordedExecution,
  startExecutionHistoryProxy,
} from './execution-history-proxy.js';
import { checkFailAt, createFailureInjector, type FailAt, failAtStates, formatFailAts } from './fail-at.js';
import { createFaultPlan, type FaultPlan } from './fault-plan.js';
import { checkFault, type Fault } from './fault-spec.js';
import { type AttachedFleet, attachRehearsalFleet } from './fleet/attached-fleet.js';
import type { RehearsalFleet } from './fleet/rehearsal-fleet.js';
import { startRehearsalFleet } from './fleet/start-rehearsal-fleet.js';
import { functionIdentities } from './function-identities.js';
import { createFunctionPool, type FunctionLogLine, type FunctionPool } from './function-pool.js';
import { createMotoKmsKey } from './moto-kms-key.js';
import {
  registerStateMachineInMoto,
  startExecutionInMoto,
  stopExecutionInMoto,
} from './moto-state-machine.js';
import { createTemplateTablesInMoto } from './moto-tables.js';
import { filesWithPrivateKeys, keyFragments } from './private-key-scan.js';
import { polyfillPromiseWithResolvers } from './promise-with-resolvers.js';
import {
  PrivateKeyInReportError,
  RehearsalInterruptedError,
  RehearsalOptionsError,
} from './rehearsal-errors.js';
import {
  type ExpiryCheckAtEnd,
  expectedResult,
  outcomeChecks,
  type PhaseReport,
  type RehearsalMode,
  type RehearsalReport,
  type RehearsalResult,
} from './rehearsal-report.js';
import { type CfnTemplate, referencedLogicalIds, resolveDefinition } from './resolve-definition.js';
import { resolveEnvironment, type TemplateFunction, templateFunctions } from './template-functions.js';
import { workloadMoves } from './workload-moves.js';
import { prepareReportDirectory, writeReportFiles } from './write-report-files.js';

export interface RehearsalOptions {
  readonly projectRoot: string;
  /** A cloud assembly to run as it is. @default <projectRoot>/cdk.out, synthesized again when stale */
  readonly cdkOut?: string;
  readonly clusters: number;
  readonly workloads: number;
  readonly mode: RehearsalMode;
  /** The cluster to rekey (intermediate mode). @default lab-1 */
  readonly cluster?: string;
  /** Steps made to fail (--fail-at, repeatable); the first matching one applies to an invocation. */
  readonly failAt?: readonly FailAt[];
  /**
   * When the run ends in RollbackFailed: stop injecting the --fail-at failures (the operator fixed the
   * cause) and resume its rollback in a new execution from its final state, as `meshtrust retry-rollback`
   * does; the rehearsal's result is then the resumed run's (--retry-rollback).
   */
  readonly retryRollback?: boolean;
  /** Faults of the Kubernetes APIs and of AWS, each set off when its phase begins (--fault, repeatable). */
  readonly faults?: readonly Fault[];
  /** How approval gates (if the stack has them) are answered. */
  readonly approve: 'auto' | 'manual';
  /** Asked for each gate with --approve manual; true approves, false rejects (the run rolls back). */
  readonly askApproval?: (gate: string) => Promise<boolean>;
  readonly outDir: string;
  /**
   * Rotate the lab `meshtrust lab --out DIR` started and keeps running (its moto_server, clusters and
   * prober) instead of starting one: nothing is seeded, the run starts from the lab's state, and the lab
   * keeps running afterwards. The lab decides clusters, workloads, engine and topology.
   */
  readonly labDir?: string;
  /** Leave the lab and moto running; the caller stops them with `stopLab`. */
  readonly keepLab?: boolean;
  /** The lab engine. @default 'model' */
  readonly engine?: LabEngineName;
  /** Istio engine: what the mesh runs with. @default ISTIO_ENGINE_DEFAULTS */
  readonly istio?: IstioEngineSettings;
  /** Istio engine: how long to wait for another istio lab on this machine to end. @default 0 */
  readonly waitForLabMs?: number;
  /** How each cluster's original root-cert.pem is written, on either engine. @default 'canonical' */
  readonly rootCertStyle?: RootCertStyle;
  /** Model engine: lab settings beyond clusters and workloads (tests). */
  readonly lab?: Partial<LabOptions>;
  readonly onProgress?: (state: RehearsalProgress) => void;
  readonly onNote?: (line: string) => void;
  /**
   * Interrupts the run (the CLI aborts it on SIGINT/SIGTERM, with the signal's name as reason). Before
   * the execution starts, runRehearsal rejects with RehearsalInterruptedError once what it started is
   * stopped; after, the execution is aborted and the report, marked `interrupted`, has what the run
   * got to.
   */
  readonly signal?: AbortSignal;
}

export interface RehearsalProgress {
  readonly phase: string;
  readonly clustersDone: number;
  readonly clustersTotal: number;
  readonly handshakes: number;
  readonly failures: number;
}

export interface RehearsalOutcome {
  readonly report: RehearsalReport;
  readonly outDir: string;
  /** With keepLab: the running fleet and moto, and how to stop them. */
  readonly kept?: { readonly fleet: RehearsalFleet; readonly moto: MotoServer; stop(): Promise<void> };
}

/** After an interrupt, how long one read of the fleet for the partial report may take. */
const INTERRUPTED_READ_TIMEOUT_MS = 10_000;
/** Retry intervals of the definition (2 s .. 15 s) shrink to this: istiod here settles in < 1 s. */
const RETRY_INTERVAL_MS = 500;
const TASK_TOKEN = 'rehearsal-task-token';

type Json = Record<string, unknown>;

export async function runRehearsal(options: RehearsalOptions): Promise<RehearsalOutcome> {
  polyfillPromiseWithResolvers();
  const note = options.onNote ?? (() => undefined);
  if (options.labDir !== undefined) {
    const given = [
      options.keepLab === true && '--keep-lab',
      options.lab !== undefined && 'lab settings',
      options.rootCertStyle !== undefined && options.rootCertStyle !== 'canonical' && '--root-cert-style',
      (options.engine ?? 'model') !== 'model' && '--engine',
      (options.faults ?? []).length > 0 && '--fault',
    ].filter((flag) => flag !== false);
    if (given.length > 0) {
      throw new RehearsalOptionsError(
        '--lab',
        `${given.join(', ')} cannot go with --lab: the running lab decides its fleet and keeps running`,
      );
    }
  }
  // A running lab is found (and refused when it is not one) before anything is created or started.
  const attached = options.labDir === undefined ? undefined : await attachRehearsalFleet(options.labDir);
  // Every name a flag gives is checked before anything starts: the fleet's clusters are known from
  // the options (or the attached lab), the Task states from the synthesized definition.
  const clusterNames = attached?.clusters.map((cluster) => cluster.name) ?? labClusterNames(options.clusters);
  const targetCluster = options.mode === 'intermediate' ? (options.cluster ?? 'lab-1') : undefined;
  if (targetCluster !== undefined && !clusterNames.includes(targetCluster)) {
    throw new RehearsalOptionsError(
      '--cluster',
      `--cluster ${targetCluster} is not in the lab: it has ${clusterNames.join(', ')}`,
    );
  }
  const engine = options.engine ?? 'model';
  if (engine !== 'model' && (options.faults ?? []).length > 0) {
    throw new RehearsalOptionsError('--fault', '--fault is played by the model engine only, for now');
  }

  // The report directory too: one that cannot hold the report is refused now, not after the run.
  const reportDirectory = await prepareReportDirectory(options.outDir).catch(async (error: unknown) => {
    await attached?.stop();
    throw error;
  });
  const { assembly, functions, meshId } = await loadStateMachine(options, clusterNames, note).catch(
    async (error: unknown) => {
      await reportDirectory.discard();
      await attached?.stop();
      throw interruption(options.signal, 'while reading the state machine') ?? error;
    },
  );
  if (attached !== undefined) {
    try {
      throwIfInterrupted(options.signal, 'before the rotation started');
    } catch (error) {
      await attached.stop();
      throw error;
    }
    return rehearseAttached({ options, assembly, functions, attached, note });
  }
  throwIfInterrupted(options.signal, 'before the lab started');

  const faults = createFaultPlan(options.faults ?? []);
  note(
    `starting moto_server and a lab of ${options.clusters} cluster(s) x ${options.workloads} workload(s) (${engine} engine)`,
  );
  const motoStart = startMotoServer();
  const labStart = startRehearsalFleet({
    engine,
    clusters: options.clusters,
    workloads: options.workloads,
    meshId,
    ...(options.lab === undefined ? {} : { lab: options.lab }),
    istio: options.istio ?? ISTIO_ENGINE_DEFAULTS,
    waitForLabMs: options.waitForLabMs ?? 0,
    ...(options.rootCertStyle === undefined ? {} : { rootCertStyle: options.rootCertStyle }),
    ...((options.faults ?? []).some((fault) => fault.target === 'kube')
      ? { kubeApiFault: faults.kubeRequest }
      : {}),
    onProgress: note,
  });
  const [motoResult, labResult] = await Promise.allSettled([motoStart, labStart]);
  if (motoResult.status === 'rejected' || labResult.status === 'rejected') {
    if (motoResult.status === 'fulfilled') await motoResult.value.stop();
    if (labResult.status === 'fulfilled') await labResult.value.stop();
    throw motoResult.status === 'rejected' ? motoResult.reason : (labResult as PromiseRejectedResult).reason;
  }
  const moto = motoResult.value;
  const lab = labResult.value;
  // moto_server runs in its own process group: kill it even when this process exits abruptly.
  const killMoto = () => killMotoServerNow(moto.pid);
  process.once('exit', killMoto);
  const started: {
    pool?: FunctionPool;
    awsFaultProxy?: AwsFaultProxy;
    historyProxy?: ExecutionHistoryProxy;
  } = {};
  let keep = false;
  try {
    throwIfInterrupted(options.signal, 'while the lab started');
    const outcome = await rehearse({
      options,
      assembly,
      functions,
      lab,
      moto,
      targetCluster,
      faults,
      note,
      started,
    });
    keep = options.keepLab === true && outcome.report.interrupted === undefined;
    return {
      ...outcome,
      ...(keep
        ? {
            kept: {
              fleet: lab,
              moto,
              stop: async () => {
                await lab.stop();
                await moto.stop();
              },
            },
          }
        : {}),
    };
  } finally {
    await started.pool?.stop();
    await started.awsFaultProxy?.stop();
    await started.historyProxy?.stop();
    if (!keep) {
      await lab.stop();
      await moto.stop();
      process.removeListener('exit', killMoto);
    }
  }
}

/**
 * A run on a lab that another process serves: its moto_server and fleet are used as they are and left
 * running; only what this run started (function containers, proxies, probe rounds) stops.
 */
async function rehearseAttached(input: {
  readonly options: RehearsalOptions;
  readonly assembly: CloudAssembly;
  readonly functions: readonly TemplateFunction[];
  readonly attached: AttachedFleet;
  readonly note: (line: string) => void;
}): Promise<RehearsalOutcome> {
  const { options, attached, note } = input;
  note(
    `attached to the lab in ${attached.dir}: ${attached.clusters.length} cluster(s), moto_server at ${attached.moto.endpoint}; it keeps running afterwards`,
  );
  const started: RehearseContext['started'] = {};
  try {
    return await rehearse({
      ...input,
      options: { ...options, clusters: attached.clusters.length, workloads: attached.workloadsPerCluster },
      lab: attached,
      // The lab's: never stopped here.
      moto: { ...attached.moto, stop: async () => undefined },
      targetCluster: options.mode === 'intermediate' ? (options.cluster ?? 'lab-1') : undefined,
      faults: createFaultPlan([]),
      started,
    });
  } finally {
    await started.pool?.stop();
    await started.historyProxy?.stop();
    await attached.stop();
  }
}

interface RehearseContext {
  readonly options: RehearsalOptions;
  readonly assembly: CloudAssembly;
  readonly functions: readonly TemplateFunction[];
  readonly lab: RehearsalFleet;
  readonly moto: MotoServer;
  readonly targetCluster: string | undefined;
  readonly faults: FaultPlan;
  readonly note: (line: string) => void;
  /** Where the function pool and the AWS fault proxy are handed back as soon as they exist, so they are stopped whatever happens. */
  readonly started: {
    pool?: FunctionPool;
    awsFaultProxy?: AwsFaultProxy;
    historyProxy?: ExecutionHistoryProxy;
  };
}

async function rehearse(context: RehearseContext): Promise<Omit<RehearsalOutcome, 'kept'>> {
  const { options, assembly, functions, lab, moto, faults, note } = context;
  const region = lab.region;
  const rotator = lab.identities.rotator;

  // A lab this run started is seeded as after a first run; an attached lab's CA store holds what its
  // own start seeded and every rotation since wrote, and the run starts from there.
  if (lab.rootA !== undefined) {
    note(
      `seeding the CA store (moto): root A and ${lab.clusters.length} intermediate(s), as after a first run`,
    );
    await seedCaStore({
      endpoint: moto.endpoint,
      region,
      credentials: rotator.credentials,
      meshId: lab.meshId,
      root: lab.rootA,
      intermediates: lab.clusters.flatMap((cluster) =>
        cluster.initialIntermediate === undefined
          ? []
          : [{ cluster: cluster.name, material: cluster.initialIntermediate }],
      ),
    });
  }
  // The root keys as the run finds them: the end is judged against this start (an attached lab may
  // hold the keys of earlier rotations).
  const rootKeysAtStart = await rootKeysAtEnd({
    endpoint: moto.endpoint,
    region,
    credentials: rotator.credentials,
    meshId: lab.meshId,
  });

  // Token stand-ins: each KMS key of the template becomes a moto key, each function an ARN of its name.
  const arns: Record<string, string> = {};
  for (const [logicalId, resource] of Object.entries(assembly.template.Resources ?? {})) {
    if (resource.Type === 'AWS::KMS::Key') {
      arns[logicalId] = await createMotoKmsKey(moto.endpoint, region, `rehearsal stand-in for ${logicalId}`);
    }
    // A role's ARN in the lab account (stage-root writes the functions' roles into each root key's policy).
    if (resource.Type === 'AWS::IAM::Role')
      arns[logicalId] = `arn:aws:iam::${LAB_ACCOUNT_ID}:role/${logicalId}`;
  }
  const identityOf = functionIdentities({ lab, functions, template: assembly.template, arns });
  // A lab in another process learns the functions' role sessions (and who may assume the cluster
  // roles) before any function runs, as STS knows the sessions it issued.
  if (lab.shareIdentities !== undefined) {
    for (const fn of functions) identityOf(fn);
    await lab.shareIdentities();
  }
  // Each DynamoDB table of the template (the rotation lock) becomes a moto table made from its properties.
  Object.assign(
    arns,
    await createTemplateTablesInMoto({
      endpoint: moto.endpoint,
      region,
      credentials: rotator.credentials,
      template: assembly.template,
      stackName: assembly.stackName,
    }),
  );
  const functionArn = (fn: TemplateFunction) =>
    `arn:aws:lambda:${region}:${LAB_ACCOUNT_ID}:function:${fn.functionName}`;
  for (const fn of functions) arns[fn.logicalId] = functionArn(fn);
  const pseudo = {
    'AWS::Partition': 'aws',
    'AWS::Region': region,
    'AWS::AccountId': LAB_ACCOUNT_ID,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const missing = referencedLogicalIds(assembly.template).filter((id) => arns[id] === undefined);
  for (const id of missing) arns[id] = `arn:aws:states:${region}:${LAB_ACCOUNT_ID}:stand-in:${id}`;
  const definition = resolveDefinition(assembly.template, { arns, pseudo });
  const stateMachineName = stateMachineNameOf(assembly.template) ?? `meshtrust-${lab.meshId}-rotation`;
  // The rotation lock asks Step Functions whether the execution holding it still runs: the state
  // machine exists in moto, like the deployed one, and so will this run's execution.
  const motoStateMachineArn = await registerStateMachineInMoto({
    endpoint: moto.endpoint,
    region,
    credentials: rotator.credentials,
    name: stateMachineName,
    definition,
  });

  // With an AWS fault, the functions reach moto through the fault proxy; the rehearsal's own calls
  // (seeding, the report's reads) go to moto directly.
  if ((options.faults ?? []).some((fault) => fault.target === 'aws')) {
    context.started.awsFaultProxy = await startAwsFaultProxy({
      target: moto.endpoint,
      fault: () => faults.awsRequest(),
    });
  }
  // The executions this rehearsal ran, as Step Functions would describe them once ended: a resumed
  // rollback's acquire-lock reads the run it resumes (execution-history-proxy.ts).
  const recordedExecutions = new Map<string, RecordedExecution>();
  context.started.historyProxy = await startExecutionHistoryProxy({
    target: context.started.awsFaultProxy?.endpoint ?? moto.endpoint,
    recorded: (executionArn) => recordedExecutions.get(executionArn),
  });
  const awsEndpoint = context.started.historyProxy.endpoint;
  const labEnvironment: Record<string, string> = {
    ...awsEnvironmentFor(rotator, region),
    AWS_ENDPOINT_URL: awsEndpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: awsEndpoint,
    AWS_ENDPOINT_URL_KMS: awsEndpoint,
    AWS_ENDPOINT_URL_EKS: lab.eksEndpoint,
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
        AWS_ENDPOINT_URL_STS: lab.eksEndpoint,
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
      return environment;
    },
    onLog: (line) => functionLogs.push(line),
  });
  context.started.pool = pool;
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
  const total = [...containers.values()].reduce((sum, count) => sum + count, 0);
  note(`warming ${total} function container(s) for ${containers.size} function(s), each from its own bundle`);
  await untilInterrupted(
    pool.warm([...containers].map(([logicalId, count]) => ({ logicalId, containers: count }))),
    options.signal,
    'while the function containers started',
  );
  throwIfInterrupted(options.signal, 'before the execution started');

  // --- observation: phases, cacerts writes, progress
  const prober = lab.prober;
  const phases: { name: string; startedAt: string; endedAt?: string }[] = [];
  const timeline = await recordCacertsTimeline(lab, () => prober.phase);
  const clustersDone = new Map<string, number>();
  let currentPhase = 'initial';
  const progress = () => {
    const stats = prober.stats();
    options.onProgress?.({
      phase: currentPhase,
      clustersDone: clustersDone.get(currentPhase) ?? 0,
      clustersTotal: isMapPhase(definition, currentPhase) ? lab.clusters.length : 0,
      handshakes: stats.attempted,
      failures: stats.failed,
    });
  };
  const enterPhase = (name: string) => {
    if (name === currentPhase) return;
    const now = new Date().toISOString();
    const open = phases[phases.length - 1];
    if (open !== undefined && open.endedAt === undefined) open.endedAt = now;
    phases.push({ name, startedAt: now });
    currentPhase = name;
    prober.setPhase(name);
    faults.enterPhase(name);
    progress();
  };
  // The lab runs in this process: a starved event loop delays certificate renewals, which the report
  // should be able to explain.
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  const ticker = setInterval(progress, 250);
  ticker.unref();

  const initial = await Promise.all(lab.clusters.map((cluster) => lab.snapshotCacerts(cluster.name)));
  const initialSecrets = new Map(
    await Promise.all(
      lab.clusters.map(async (cluster) => [cluster.name, await lab.cacertsData(cluster.name)] as const),
    ),
  );
  // What each workload's proxy holds before the first write, and its pods' UIDs: the start of each
  // workload's move, as the lab itself sees it (the same read as at the end).
  const workloadsAtStart = await lab.workloadCertificates();
  const injector = createFailureInjector(options.failAt ?? []);

  // --- the Task overrides: the function's own bundle, then (maybe) the injected failure, then traffic
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const task of tasks) {
    const fn = byArn.get(task.functionArn);
    if (fn === undefined) continue;
    const phaseName = task.map ?? task.state;
    handlers[task.state] = async (input) => {
      enterPhase(phaseName);
      try {
        let result: unknown;
        if (task.waitsForTaskToken) {
          const { Payload } = input as { Payload?: unknown };
          await pool.invoke(fn.logicalId, Payload);
          result = await answerApprovalGate(task.state, options);
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

  // Unique even for two rehearsals started in the same millisecond against one moto: Step Functions
  // takes a second start with the same name and input as the same execution.
  const startStamp = new Date().toISOString().replace(/[:.]/g, '-');
  const executionName = `rehearsal-${startStamp}-${randomBytes(3).toString('hex')}`;
  const input: Json = {
    mode: options.mode,
    reason: 'meshtrust rehearse',
    requestedBy: 'meshtrust rehearse',
    // The soak is one workload certificate lifetime: the lab's, as a deployment's is its mesh's.
    soakSeconds: Math.ceil(lab.workloadCertTtlMs / 1000),
    ...(context.targetCluster === undefined ? {} : { cluster: context.targetCluster }),
  };
  const motoExecution = {
    endpoint: moto.endpoint,
    region,
    credentials: rotator.credentials,
    stateMachineArn: motoStateMachineArn,
  };
  const machine = new StateMachine(definition as never, {
    validationOptions: { checkArn: true, checkPaths: true },
  });
  const startedAt = new Date();
  // An interrupt aborts the execution running (its history ends with ExecutionAborted); what the run
  // got to is reported below, marked as interrupted.
  let interrupted: { signal: string; at: string; phase: string } | undefined;
  let running: { abort(): void } | undefined;
  const interrupt = () => {
    interrupted = {
      signal: String(options.signal?.reason),
      at: new Date().toISOString(),
      phase: currentPhase,
    };
    running?.abort();
  };
  if (options.signal?.aborted) interrupt();
  else options.signal?.addEventListener('abort', interrupt, { once: true });
  const history: unknown[] = [];

  /** One execution of the definition, started in moto under its name, to its end. */
  const runExecution = async (name: string, executionInput: Json) => {
    const id = await startExecutionInMoto({ ...motoExecution, name, input: executionInput });
    const execution = machine.run(executionInput as never, {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        retryIntervalOverrides: Object.fromEntries(tasks.map((task) => [task.state, RETRY_INTERVAL_MS])),
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
    running = execution;
    if (interrupted !== undefined) execution.abort();
    // Each execution's Maps count their clusters afresh (a resumed rollback runs them again).
    clustersDone.clear();
    // The input of the last top-level state entered: the state the execution ended with.
    let finalState: unknown;
    const enteredEvents: RecordedExecution['events'][number][] = [];
    const executionStartedAt = new Date();
    const collect = (async () => {
      for await (const event of execution.eventLogs) {
        history.push(historyEntry(event as unknown as Json));
        const { type, index } = event as unknown as { type: string; index?: number };
        if (type === 'StateEntered') {
          const entered = (event as unknown as { state: { name: string; type: string; input?: unknown } })
            .state;
          enteredEvents.push({
            type: `${entered.type}StateEntered`,
            timestamp: new Date(),
            stateEnteredEventDetails: { name: entered.name, input: JSON.stringify(entered.input ?? {}) },
          });
        }
        if (type === 'StateEntered' && index === undefined) {
          const state = (event as unknown as { state: { name: string; type: string; input?: unknown } })
            .state;
          finalState = state.input;
          if (['Task', 'Map', 'Wait'].includes(state.type)) enterPhase(state.name);
        }
        if (type === 'MapIterationSucceeded') {
          const map = (event as unknown as { parentState: { name: string } }).parentState.name;
          clustersDone.set(map, (clustersDone.get(map) ?? 0) + 1);
          progress();
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
    await stopExecutionInMoto({ ...motoExecution, executionArn: id }).catch(() => undefined);
    recordedExecutions.set(id, {
      executionArn: id,
      stateMachineArn: motoStateMachineArn,
      name,
      status: ended === 'ROLLED_BACK' ? 'FAILED' : ended,
      ...(endError !== undefined && { error: endError.name, cause: endError.cause }),
      startDate: executionStartedAt,
      stopDate: new Date(),
      events: enteredEvents,
    });
    return { executionId: id, name, result: ended, error: endError, finalState };
  };

  note(
    `running ${executionName} (${options.mode}${context.targetCluster ? ` ${context.targetCluster}` : ''})`,
  );
  const first = await runExecution(executionName, input);
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
    injector.fixFired();
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
  const endedAt = new Date();
  const wrote = timeline.entries().some((write) => write.phase !== 'initial');
  if (interrupted === undefined) {
    enterPhase('final');
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
  if (interrupted === undefined) await prober.runRound();
  else note(`interrupted by ${interrupted.signal} in phase ${interrupted.phase}: writing a partial report`);
  // After an interrupt the fleet may be going already (a terminal's Ctrl-C reaches its processes):
  // what cannot be read in time is left out rather than lost with the rest.
  const read = <T>(what: Promise<T>, fallback: T): Promise<T> =>
    interrupted === undefined ? what : withinInterruptedRead(what, fallback);
  const workloads = await read(lab.workloadCertificates(), []);
  const finalPhase = phases[phases.length - 1];
  if (finalPhase !== undefined) finalPhase.endedAt = new Date().toISOString();
  clearInterval(ticker);
  loopDelay.disable();
  timeline.stop();
  progress();

  // --- the outcome
  const stats = prober.stats();
  const final = await read(Promise.all(lab.clusters.map((cluster) => lab.snapshotCacerts(cluster.name))), []);
  const finalSecrets = new Map(
    await read(
      Promise.all(
        lab.clusters.map(async (cluster) => [cluster.name, await lab.cacertsData(cluster.name)] as const),
      ),
      [],
    ),
  );
  const rootA = initial[0]?.rootFingerprints[0] ?? '';
  const staged = history.find(
    (entry) =>
      (entry as Json).type === 'StateExited' &&
      ((entry as Json).state as Json | undefined)?.name === 'stage-root',
  ) as { state: { output?: { stagedRoot?: { fingerprint?: string } } } } | undefined;
  const rootB = staged?.state.output?.stagedRoot?.fingerprint;
  const summaries = (snapshots: readonly CacertsSnapshot[]) =>
    snapshots.map((snapshot) => ({
      cluster: snapshot.cluster,
      roots: snapshot.rootFingerprints,
      ...(snapshot.caCertFingerprint === undefined ? {} : { caCert: snapshot.caCertFingerprint }),
    }));
  const rejectedUpdates = [...(await read(lab.refusedCacerts(), []))];
  const phaseReports: PhaseReport[] = phases.map((phase) => ({
    ...phase,
    handshakes: stats.byPhase[phase.name] ?? { attempted: 0, failed: 0 },
  }));
  // With --retry-rollback a rollback made to fail is resumed: the rehearsal must end rolled back.
  const expectedFirst = expectedResult(options.mode, options.failAt ?? []);
  const expected =
    options.retryRollback === true && expectedFirst === 'FAILED' && rollbackFailAt(options.failAt)
      ? 'ROLLED_BACK'
      : expectedFirst;
  const identicalToStart = Object.fromEntries(
    lab.clusters.map((cluster) => [
      cluster.name,
      sameData(initialSecrets.get(cluster.name), finalSecrets.get(cluster.name)),
    ]),
  );
  const rootLetters = { A: rootA, ...(rootB === undefined ? {} : { B: rootB }) };
  let endState: EndState = {
    clusters: clusterEndStates({
      initial: summaries(initial),
      final: summaries(final),
      identicalToStart,
      rootLetters,
    }),
    pendingRoot: await read(
      hasPendingRoot({
        endpoint: moto.endpoint,
        region,
        credentials: rotator.credentials,
        meshId: lab.meshId,
      }),
      false,
    ),
    rootKeys: await read(
      rootKeysAtEnd({
        endpoint: moto.endpoint,
        region,
        credentials: rotator.credentials,
        meshId: lab.meshId,
      }),
      { kms: ['unreadable'], importedKeySecret: 'none' },
    ),
  };
  // Left out when an interrupt leaves no time to read them (no check then: the run was ABORTED).
  const cacertsBackups = await read<CacertsBackupsAtEnd | undefined>(
    cacertsBackupsAtEnd({
      endpoint: moto.endpoint,
      region,
      credentials: rotator.credentials,
      meshId: lab.meshId,
      executionId,
    }),
    undefined,
  );
  if (cacertsBackups !== undefined) endState = { ...endState, cacertsBackups };
  const faultReports = faults.report();
  const moves = workloadMoves(workloadsAtStart, workloads);
  const strategies = clusterStrategies(history);
  // An interrupted run reports what it has; it starts nothing more.
  const expiryCheck = interrupted === undefined ? await invokeExpiryCheck(pool, functions) : undefined;
  // A remote cluster holds no cacerts: its pods are served what its primary's cacerts holds.
  const remotes = lab.clusters.flatMap(({ name, primary }) =>
    primary === undefined ? [] : [{ name, primary }],
  );
  const servedBy = (entries: ReturnType<typeof summaries>) =>
    entries.map((entry) => {
      const primary = remotes.find((remote) => remote.name === entry.cluster)?.primary;
      const served = entries.find((other) => other.cluster === primary);
      return served === undefined ? entry : { ...served, cluster: entry.cluster };
    });
  const checks = outcomeChecks({
    mode: options.mode,
    ...(context.targetCluster === undefined ? {} : { cluster: context.targetCluster }),
    result,
    expected,
    phases: phaseReports,
    failedHandshakes: stats.failed,
    rejectedUpdates: rejectedUpdates.length,
    rootA,
    ...(rootB === undefined ? {} : { rootB }),
    initial: servedBy(summaries(initial)),
    final: servedBy(summaries(final)),
    ...(remotes.length > 0 && { remotes: remotes.map(({ name }) => name) }),
    workloads,
    workloadMoves: moves,
    strategies,
    identicalToStart,
    faults: faultReports,
    ...(endState.rootKeys === undefined ? {} : { rootKeys: endState.rootKeys, rootKeysAtStart }),
    ...(endState.cacertsBackups === undefined ? {} : { cacertsBackups: endState.cacertsBackups }),
    failAts: options.failAt ?? [],
    ...(expiryCheck === undefined ? {} : { expiryCheck }),
  });
  const report: RehearsalReport = {
    schemaVersion: 1,
    mode: options.mode,
    ...(context.targetCluster === undefined ? {} : { cluster: context.targetCluster }),
    meshId: lab.meshId,
    engine: lab.engine,
    ...(options.rootCertStyle === undefined || options.rootCertStyle === 'canonical'
      ? {}
      : { rootCertStyle: options.rootCertStyle }),
    clusters: lab.clusters.map((cluster) => cluster.name),
    workloadsPerCluster: options.workloads,
    executionId,
    startedAt: startedAt.toISOString(),
    endedAt: endedAt.toISOString(),
    durationMs: endedAt.getTime() - startedAt.getTime(),
    result,
    expectedResult: expected,
    ok: interrupted === undefined && checks.every((check) => check.ok),
    ...(interrupted === undefined ? {} : { interrupted }),
    ...(error === undefined ? {} : { error }),
    ...(options.failAt === undefined || options.failAt.length === 0
      ? {}
      : { failAt: formatFailAts(options.failAt) }),
    ...(options.faults === undefined || options.faults.length === 0 ? {} : { faults: faultReports }),
    assembly: { directory: assembly.directory, stack: assembly.stackName, reused: assembly.reused },
    rootLetters,
    phases: phaseReports,
    totals: { handshakes: { attempted: stats.attempted, failed: stats.failed }, rounds: stats.rounds },
    handshakeFailures: prober
      .failures()
      .slice(0, 200)
      .map((failure) => ({ ...failure, at: failure.at.toISOString() })),
    timeline: timeline.entries(),
    rejectedUpdates,
    initial: summaries(initial),
    final: summaries(final),
    endState,
    workloads,
    strategies,
    workloadMoves: moves,
    invocations: pool.invocations(),
    labEventLoopDelayMs: {
      max: Math.round(loopDelay.max / 1e6),
      p99: Math.round(loopDelay.percentile(99) / 1e6),
    },
    checks,
  };

  await writeReportFiles(options.outDir, { report, history, functionLogs, initial, final });
  const knownKeys = [
    ...(lab.rootA === undefined ? [] : [lab.rootA.privateKeyPem]),
    ...lab.clusters.flatMap((cluster) =>
      cluster.initialIntermediate === undefined ? [] : [cluster.initialIntermediate.privateKeyPem],
    ),
    ...lab.clusters.map((cluster) => decoded(initialSecrets.get(cluster.name), 'ca-key.pem')),
    ...lab.clusters.map((cluster) => decoded(finalSecrets.get(cluster.name), 'ca-key.pem')),
    ...(await privateKeysInCaStore({
      endpoint: moto.endpoint,
      region,
      credentials: rotator.credentials,
      prefix: `meshtrust/${lab.meshId}/`,
    })),
  ];
  const leaks = await filesWithPrivateKeys(options.outDir, keyFragments(knownKeys));
  if (leaks.length > 0) throw new PrivateKeyInReportError(leaks.map((file) => join(options.outDir, file)));
  return { report, outDir: options.outDir };
}

/** Whether a --fail-at makes a rollback state fail for good (the run then ends in RollbackFailed). */
function rollbackFailAt(failAts: readonly FailAt[] | undefined): boolean {
  const rollback: readonly string[] = ROLLBACK_STATES;
  return (failAts ?? []).some(
    (failAt) => !failAt.once && rollback.includes(failAt.state.replace(/-in-cluster$/, '')),
  );
}

/** The error for an interrupt before the execution started, if `signal` has been aborted. */
function interruption(signal: AbortSignal | undefined, when: string): RehearsalInterruptedError | undefined {
  return signal?.aborted ? new RehearsalInterruptedError(String(signal.reason), when) : undefined;
}

function throwIfInterrupted(signal: AbortSignal | undefined, when: string): void {
  const error = interruption(signal, when);
  if (error !== undefined) throw error;
}

/** `work`, or RehearsalInterruptedError as soon as `signal` aborts (the caller then stops what `work` runs). */
async function untilInterrupted<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  when: string,
): Promise<T> {
  if (signal === undefined) return work;
  throwIfInterrupted(signal, when);
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(interruption(signal, when));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  // The work may still fail after the interrupt won, as what it runs is stopped: nobody waits for it.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** A read of the fleet after an interrupt: its value, or `fallback` if it fails or takes too long. */
async function withinInterruptedRead<T>(read: Promise<T>, fallback: T): Promise<T> {
  const timeout = sleep(INTERRUPTED_READ_TIMEOUT_MS, fallback, { ref: false });
  return Promise.race([read.catch(() => fallback), timeout]);
}

async function answerApprovalGate(state: string, options: RehearsalOptions): Promise<unknown> {
  if (options.approve === 'auto') {
    return {
      approved: true,
      approvedBy: 'meshtrust rehearse (--approve auto)',
      at: new Date().toISOString(),
    };
  }
  const approved = (await options.askApproval?.(state)) ?? false;
  if (!approved) {
    const rejection = new Error(`the operator rejected ${state}`);
    rejection.name = 'ApprovalRejected';
    throw rejection;
  }
  return { approved: true, approvedBy: 'operator (--approve manual)', at: new Date().toISOString() };
}

function meshIdOf(functions: readonly TemplateFunction[]): string {
  const meshId = functions
    .map((fn) => fn.environment[MESH_ID_ENV])
    .find((value) => typeof value === 'string');
  if (typeof meshId !== 'string') {
    throw new RehearsalOptionsError(
      'cdk.out',
      `no function of the stack has ${MESH_ID_ENV}; is this a meshtrust stack?`,
    );
  }
  return meshId;
}

/**
 * The synthesized app, and what the options name in it checked: an assembly named explicitly runs as
 * it is (like `cdk deploy --app cdk.out`); else ./cdk.out, synthesized again when older than its sources.
 */
async function loadStateMachine(
  options: RehearsalOptions,
  clusterNames: readonly string[],
  note: (line: string) => void,
): Promise<{ assembly: CloudAssembly; functions: TemplateFunction[]; meshId: string }> {
  const assembly: CloudAssembly =
    options.cdkOut === undefined
      ? await ensureCloudAssembly({
          projectRoot: options.projectRoot,
          onProgress: note,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        })
      : { ...(await readCloudAssembly(options.cdkOut)), reused: true };
  note(
    `state machine: ${assembly.stackName} from ${assembly.templateFile}${assembly.reused ? ' (reused)' : ''}`,
  );
  const states = failAtStates(taskStatesOf(assembly.template));
  for (const failAt of options.failAt ?? []) checkFailAt(failAt, { states, clusters: clusterNames });
  // A fault starts when its phase begins: a Task state, or a Map (its per-cluster Task is no phase).
  for (const fault of options.faults ?? [])
    checkFault(fault, { phases: states.listed, clusters: clusterNames });
  const functions = templateFunctions(assembly.template, assembly.directory);
  return { assembly, functions, meshId: meshIdOf(functions) };
}

/** The Task states of the definition, read before any resource exists: each ARN a placeholder. */
function taskStatesOf(template: CfnTemplate): DefinitionTask[] {
  const placeholders = Object.fromEntries(
    referencedLogicalIds(template).map((id) => [id, `arn:aws:lambda:::function:${id}`]),
  );
  return definitionTasks(resolveDefinition(template, { arns: placeholders }) as never);
}

function stateMachineNameOf(template: CfnTemplate): string | undefined {
  const machine = Object.values(template.Resources ?? {}).find(
    (resource) => resource.Type === 'AWS::StepFunctions::StateMachine',
  );
  const name = machine?.Properties?.StateMachineName;
  return typeof name === 'string' ? name : undefined;
}

function mapConcurrency(definition: Json, name: string): number {
  const value = (definition.States as Record<string, Json> | undefined)?.[name]?.MaxConcurrency;
  return typeof value === 'number' && value > 0 ? value : Number.POSITIVE_INFINITY;
}

function isMapPhase(definition: Json, name: string): boolean {
  return ((definition.States as Record<string, Json> | undefined)?.[name]?.Type ?? '') === 'Map';
}

/** Byte-identical Secret data (base64 values compared key by key, in memory only). */
function sameData(a: SecretData | undefined, b: SecretData | undefined): boolean {
  const keys = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  return [...keys].every((key) => a?.[key] === b?.[key]);
}

function decoded(data: SecretData | undefined, key: string): string {
  const value = data?.[key];
  return value === undefined ? '' : Buffer.from(value, 'base64').toString('utf8');
}

function historyEntry(event: Json): Json {
  const entry: Json = { ...event, at: new Date(Number(event.timestamp)).toISOString() };
  if (entry.Cause instanceof Error) entry.Cause = `${entry.Cause.name}: ${entry.Cause.message}`;
  return entry;
}

/**
 * The daily expiry check, once, as EventBridge Scheduler would start it: its own bundle, role (group
 * meshtrust-expiry-check, no cluster role) and environment. Undefined when the stack has none.
 */
async function invokeExpiryCheck(
  pool: FunctionPool,
  functions: readonly TemplateFunction[],
): Promise<ExpiryCheckAtEnd | undefined> {
  const fn = functions.find((candidate) => candidate.handlerName === 'check-expiry');
  if (fn === undefined) return undefined;
  try {
    const output = (await pool.invoke(fn.logicalId, {})) as {
      certificates?: unknown;
      days?: unknown;
      first?: unknown;
    };
    return {
      certificates: Number(output.certificates),
      days: Number(output.days),
      first: String(output.first),
    };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
