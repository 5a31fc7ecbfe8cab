// `meshtrust rehearse`: the state machine that would be deployed, run end to end on one machine.
// The synthesized definition runs on aws-local-stepfunctions; each Task runs its function's own
// bundle from cdk.out in a process of its own; AWS is moto_server plus the lab's EKS API; the fleet
// is the lab, whose prober makes real mTLS handshakes all along. The report says what happened.
// This file is the order of the steps and what each run starts and stops; each step is a module:
// resolve-assembly.ts, start-fleet.ts, function-containers.ts, phase-tracker.ts, run-executions.ts,
// fleet-at-end.ts and build-report.ts, write-report-files.ts, report-key-scan.ts.
import { LAB_ACCOUNT_ID, LAB_OTHER_ACCOUNT_ID } from '../lab/eks/lab-identities.js';
import { labClusterNames } from '../lab/lab-cluster-names.js';
import { startLabLoadMonitor } from '../lab/lab-load.js';
import { killMotoServerNow, type MotoServer } from '../lab/moto-server.js';
import { buildReport } from './build-report.js';
import { recordCacertsTimeline } from './cacerts-timeline.js';
import type { CloudAssembly } from './cloud-assembly.js';
import { clusterAccountReports } from './cluster-accounts.js';
import { rootKeysAtEnd } from './end-state.js';
import { compareExpiryRuns, type ExpiryAnswer } from './expiry-check-runs.js';
import { createFailureInjector } from './fail-at.js';
import { createFaultPlan, type FaultPlan } from './fault-plan.js';
import { formatFault, istioEngineRefusal } from './fault-spec.js';
import { type AttachedFleet, attachRehearsalFleet } from './fleet/attached-fleet.js';
import {
  ATTACHED_TAKEOVER_GRACE_SECONDS,
  attachedRunJournal,
  type DeadRunsFound,
  stopDeadAttachedRuns,
} from './fleet/attached-runs.js';
import type { RehearsalFleet } from './fleet/rehearsal-fleet.js';
import { readFleetAtEnd } from './fleet-at-end.js';
import { type StartedForRun, startFunctionContainers } from './function-containers.js';
import type { FunctionPool } from './function-pool.js';
import { interruption, throwIfInterrupted, withinInterruptedRead } from './interrupts.js';
import { PayloadQuota } from './payload-quota.js';
import { trackPhases } from './phase-tracker.js';
import { polyfillPromiseWithResolvers } from './promise-with-resolvers.js';
import { RehearsalOptionsError } from './rehearsal-errors.js';
import type { RehearsalOptions } from './rehearsal-options.js';
import type { ExpiryCheckAtEnd, RehearsalReport } from './rehearsal-report.js';
import { scanReportForPrivateKeys } from './report-key-scan.js';
import { loadStateMachine, resolveForLab } from './resolve-assembly.js';
import { recoverDeadRun, runRotation, taskOverrides } from './run-executions.js';
import { seedAsAfterFirstRun, startFleetAndMoto } from './start-fleet.js';
import type { TemplateFunction } from './template-functions.js';
import { prepareReportDirectory, writeReportFiles } from './write-report-files.js';

export type { RehearsalOptions, RehearsalProgress } from './rehearsal-options.js';

export interface RehearsalOutcome {
  readonly report: RehearsalReport;
  readonly outDir: string;
  /** With keepLab: the running fleet and moto, and how to stop them. */
  readonly kept?: { readonly fleet: RehearsalFleet; readonly moto: MotoServer; stop(): Promise<void> };
}

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
  const clusterNames =
    attached?.clusters.map((cluster) => cluster.name) ??
    labClusterNames(options.clusters, options.lab?.clusterNamePrefix);
  const targetCluster = options.mode === 'intermediate' ? (options.cluster ?? clusterNames[0]) : undefined;
  if (targetCluster !== undefined && !clusterNames.includes(targetCluster)) {
    throw new RehearsalOptionsError(
      '--cluster',
      `--cluster ${targetCluster} is not in the lab: it has ${clusterNames.join(', ')}`,
    );
  }
  if ((options.engine ?? 'model') === 'istio') {
    for (const fault of options.faults ?? []) {
      const refusal = istioEngineRefusal(fault);
      if (refusal !== undefined)
        throw new RehearsalOptionsError('--fault', `--fault ${formatFault(fault)}: ${refusal}`);
    }
  }

  // The report directory too: one that cannot hold the report is refused now, not after the run.
  const reportDirectory = await prepareReportDirectory(options.outDir).catch(async (error: unknown) => {
    await attached?.stop();
    throw error;
  });
  // The accounts the fleet's clusters are in: the lab's, and its second with --other-account-clusters.
  const accounts = [
    LAB_ACCOUNT_ID,
    ...((options.lab?.otherAccountClusters ?? 0) > 0 ? [LAB_OTHER_ACCOUNT_ID] : []),
  ];
  const { assembly, functions, meshId } = await loadStateMachine(
    options,
    { clusterNames, accounts },
    note,
  ).catch(async (error: unknown) => {
    await reportDirectory.discard();
    await attached?.stop();
    throw interruption(options.signal, 'while reading the state machine') ?? error;
  });
  if (attached !== undefined) {
    try {
      throwIfInterrupted(options.signal, 'before the rotation started');
    } catch (error) {
      await attached.stop();
      throw error;
    }
    return rehearseAttached({ options, assembly, functions, attached, targetCluster, note });
  }
  throwIfInterrupted(options.signal, 'before the lab started');

  const faults = createFaultPlan(options.faults ?? []);
  const { moto, lab } = await startFleetAndMoto({ options, meshId, faults, note });
  // moto_server runs in its own process group: kill it even when this process exits abruptly.
  const killMoto = () => killMotoServerNow(moto.pid);
  process.once('exit', killMoto);
  const started: StartedForRun = {};
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
    await started.eksFaultProxy?.stop();
    await started.stsFaultProxy?.stop();
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
  /** The cluster intermediate mode rekeys (--cluster, or the lab's first). */
  readonly targetCluster: string | undefined;
  readonly note: (line: string) => void;
}): Promise<RehearsalOutcome> {
  const { options, attached, targetCluster, note } = input;
  note(
    `attached to the lab in ${attached.dir}: ${attached.clusters.length} cluster(s), moto_server at ${attached.moto.endpoint}; it keeps running afterwards`,
  );
  const started: StartedForRun = {};
  try {
    // A run killed before (SIGKILL, a crash) left its execution RUNNING in the lab's moto, holding the
    // lock: stopped here, so that the lock's takeover rule applies to it (fleet/attached-runs.ts).
    const deadRuns = await stopDeadAttachedRuns({
      dir: attached.dir,
      moto: {
        endpoint: attached.moto.endpoint,
        region: attached.region,
        credentials: attached.identities.rotator.credentials,
      },
      retryRollback: options.retryRollback === true,
      note,
    });
    return await rehearse({
      ...input,
      options: { ...options, clusters: attached.clusters.length, workloads: attached.workloadsPerCluster },
      lab: attached,
      // The lab's: never stopped here.
      moto: { ...attached.moto, stop: async () => undefined },
      targetCluster,
      faults: createFaultPlan([]),
      started,
      attachedRuns: { dir: attached.dir, deadRuns },
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
  /** Where the function pool and the proxies are handed back as soon as they exist, so they are stopped whatever happens. */
  readonly started: StartedForRun;
  /** An attached run: where it records its executions, and the dead runs it found there. */
  readonly attachedRuns?: { readonly dir: string; readonly deadRuns: DeadRunsFound };
}

async function rehearse(context: RehearseContext): Promise<Omit<RehearsalOutcome, 'kept'>> {
  const { options, assembly, functions, lab, moto, faults, note } = context;
  await seedAsAfterFirstRun(lab, moto, note);
  // The root keys as the run finds them: the end is judged against this start (an attached lab may
  // hold the keys of earlier rotations).
  const rootKeysAtStart = await rootKeysAtEnd({
    endpoint: moto.endpoint,
    region: lab.region,
    credentials: lab.identities.rotator.credentials,
    meshId: lab.meshId,
  });
  const machine = await resolveForLab({ assembly, functions, lab, moto });
  const containers = await startFunctionContainers({
    options,
    functions,
    machine,
    lab,
    moto,
    faults,
    note,
    started: context.started,
    ...(context.attachedRuns !== undefined && { lockTakeoverGraceSeconds: ATTACHED_TAKEOVER_GRACE_SECONDS }),
  });
  throwIfInterrupted(options.signal, 'before the execution started');
  const journal =
    context.attachedRuns === undefined ? undefined : attachedRunJournal(context.attachedRuns.dir);
  const deadRuns = context.attachedRuns?.deadRuns;
  for (const execution of deadRuns?.recorded ?? []) {
    containers.recordedExecutions.set(execution.executionArn, execution);
  }
  const recovery = deadRuns?.rollBack ?? deadRuns?.promote;
  if (recovery !== undefined) {
    // Before this run's own start is read: the rotation then starts from the state the rollback (or the
    // promotion) left.
    const recoveryTracker = trackPhases({ lab, definition: machine.definition, faults });
    const recoveryQuota = new PayloadQuota();
    try {
      await recoverDeadRun({
        ...recovery,
        lab,
        moto,
        machine,
        tasks: containers.tasks,
        handlers: taskOverrides({
          options,
          containers,
          tracker: recoveryTracker,
          lab,
          injector: createFailureInjector([]),
          quota: recoveryQuota,
        }),
        quota: recoveryQuota,
        recordedExecutions: containers.recordedExecutions,
        approvalGates: containers.approvalGates,
        tracker: recoveryTracker,
        note,
        ...(journal === undefined ? {} : { journal }),
      });
    } finally {
      recoveryTracker.stop();
    }
  }
  await deadRuns?.forget();

  // --- observation: phases, cacerts writes, progress, and the fleet as the run finds it
  const prober = lab.prober;
  const timeline = await recordCacertsTimeline(lab, () => prober.phase);
  const tracker = trackPhases({
    lab,
    definition: machine.definition,
    faults,
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });
  // The model lab shares this process: its load over the run tells whether it kept up.
  const inProcessLab = lab.inProcessLab;
  const loadMonitor =
    inProcessLab === undefined
      ? undefined
      : startLabLoadMonitor({
          signed: () => inProcessLab.signedCertificates(),
          renewals: () => inProcessLab.renewalTimeliness(),
          handshakes: () => prober.stats().attempted,
        });
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

  // --- the run: every Task overridden by its function's own bundle, then (maybe) the injected failure
  // Step Functions' payload quota, which the local engine does not enforce (payload-quota.ts).
  const quota = new PayloadQuota();
  const handlers = taskOverrides({ options, containers, tracker, lab, injector, quota });
  const run = await runRotation({
    options,
    targetCluster: context.targetCluster,
    lab,
    moto,
    machine,
    tasks: containers.tasks,
    handlers,
    quota,
    recordedExecutions: containers.recordedExecutions,
    approvalGates: containers.approvalGates,
    tracker,
    timeline,
    injector,
    note,
    ...(journal === undefined ? {} : { journal }),
  });
  const { interrupted } = run;
  if (interrupted === undefined) await prober.runRound();
  else note(`interrupted by ${interrupted.signal} in phase ${interrupted.phase}: writing a partial report`);
  // After an interrupt the fleet may be going already (a terminal's Ctrl-C reaches its processes):
  // what cannot be read in time is left out rather than lost with the rest.
  const read = <T>(what: Promise<T>, fallback: T): Promise<T> =>
    interrupted === undefined ? what : withinInterruptedRead(what, fallback);
  const workloads = await read(lab.workloadCertificates(), []);
  tracker.stop();
  timeline.stop();
  tracker.progress();
  const labLoad = loadMonitor?.stop();

  // --- the outcome
  const stats = prober.stats();
  const atEnd = await readFleetAtEnd({ lab, moto, executionId: run.executionId, read });
  const faultReports = faults.report();
  // An interrupted run reports what it has; it starts nothing more.
  const expiryCheck =
    interrupted === undefined ? await invokeExpiryCheck(containers.pool, functions) : undefined;
  const report = buildReport({
    options,
    targetCluster: context.targetCluster,
    lab,
    assembly,
    run,
    tracker,
    timeline,
    stats,
    faultReports,
    pool: containers.pool,
    initial,
    initialSecrets,
    workloadsAtStart,
    workloads,
    rootKeysAtStart,
    atEnd,
    expiryCheck,
    ...(labLoad === undefined ? {} : { labLoad }),
    accounts: clusterAccountReports(lab),
  });

  const { history, children } = run;
  const { functionLogs } = containers;
  const { final } = atEnd;
  await writeReportFiles(options.outDir, { report, history, children, functionLogs, initial, final });
  await scanReportForPrivateKeys({
    outDir: options.outDir,
    lab,
    moto,
    initialSecrets,
    finalSecrets: atEnd.finalSecrets,
  });
  return { report, outDir: options.outDir };
}

/**
 * The daily expiry check as EventBridge Scheduler would start it: its own bundle, role (group
 * meshtrust-expiry-check, no cluster role) and environment. Run twice, the second time in the container
 * the first warmed, as Lambda may serve the next day's run: it must answer the same, since nothing may
 * outlive a run (a cached token or certificate list would go stale between days). Undefined when the
 * stack has none.
 */
async function invokeExpiryCheck(
  pool: FunctionPool,
  functions: readonly TemplateFunction[],
): Promise<ExpiryCheckAtEnd | undefined> {
  const fn = functions.find((candidate) => candidate.handlerName === 'check-expiry');
  if (fn === undefined) return undefined;
  const run = async (): Promise<ExpiryAnswer> => {
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
  };
  try {
    return compareExpiryRuns(await run(), await run());
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
