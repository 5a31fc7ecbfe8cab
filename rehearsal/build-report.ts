// The report of a run (report.json, and what the CLI prints): what happened, phase by phase, and every
// check of rehearsal-report.ts judged from the facts gathered at the start and at the end.
import type { CacertsSnapshot, SecretData } from '../lab/cacerts-snapshot.js';
import type { ProberStats } from '../lab/istio/mtls-prober.js';
import type { LabLoad } from '../lab/lab-load.js';
import { ROLLBACK_STATES, WORKFLOW_STATES } from '../lib/workflow-states.js';
import type { CacertsTimeline } from './cacerts-timeline.js';
import type { CloudAssembly } from './cloud-assembly.js';
import type { ClusterAccountReport } from './cluster-accounts.js';
import { clusterStrategies } from './cluster-strategies.js';
import { clusterEndStates, type EndState, type RootKeysAtEnd } from './end-state.js';
import { type FailAt, formatFailAts } from './fail-at.js';
import type { FaultReport } from './fault-plan.js';
import type { RehearsalFleet, WorkloadCertificate } from './fleet/rehearsal-fleet.js';
import type { FleetAtEnd } from './fleet-at-end.js';
import type { FunctionPool } from './function-pool.js';
import { type LabWaits, podStartSpans } from './lab-waits.js';
import type { PhaseTracker } from './phase-tracker.js';
import type { RehearsalOptions } from './rehearsal-options.js';
import {
  type ExpiryCheckAtEnd,
  expectedResult,
  type FailedChild,
  faultFailAts,
  outcomeChecks,
  type PhaseReport,
  type RehearsalReport,
} from './rehearsal-report.js';
import type { RotationRun } from './run-executions.js';
import { summarizeInvocationTimes } from './warm-invocation-times.js';
import { workloadMoves } from './workload-moves.js';

type Json = Record<string, unknown>;

export interface ReportFacts {
  readonly options: Pick<
    RehearsalOptions,
    'mode' | 'rootCertStyle' | 'workloads' | 'failAt' | 'faults' | 'retryRollback' | 'retryPromotion'
  >;
  readonly targetCluster: string | undefined;
  readonly lab: Pick<RehearsalFleet, 'meshId' | 'engine' | 'clusters' | 'prober' | 'inProcessLab'>;
  readonly assembly: CloudAssembly;
  readonly run: RotationRun;
  readonly tracker: PhaseTracker;
  readonly timeline: CacertsTimeline;
  /** The prober's counts when the run ended, before the end was read. */
  readonly stats: ProberStats;
  /** The --fault specs and how often each fired, as counted before the expiry check ran. */
  readonly faultReports: FaultReport[];
  readonly pool: Pick<FunctionPool, 'invocations' | 'warmInvocationMs'>;
  readonly initial: readonly CacertsSnapshot[];
  readonly initialSecrets: ReadonlyMap<string, SecretData>;
  readonly workloadsAtStart: readonly WorkloadCertificate[];
  readonly workloads: readonly WorkloadCertificate[];
  readonly rootKeysAtStart: RootKeysAtEnd;
  readonly atEnd: FleetAtEnd;
  readonly expiryCheck: ExpiryCheckAtEnd | undefined;
  /** The in-process lab's load over the run; undefined when the lab ran elsewhere. */
  readonly labLoad?: LabLoad;
  /** Each cluster's account, and the roles assumed in another one (cluster-accounts.ts). */
  readonly accounts?: readonly ClusterAccountReport[];
}

export function buildReport(facts: ReportFacts): RehearsalReport {
  const { options, targetCluster, lab, assembly, run, stats, atEnd, initial, workloads } = facts;
  const { executionId, result, error, startedAt, endedAt, interrupted, history } = run;
  const { final } = atEnd;
  const rootA = initial[0]?.rootFingerprints[0] ?? '';
  const staged = history.find(
    (entry) =>
      (entry as Json).type === 'StateExited' &&
      ((entry as Json).state as Json | undefined)?.name === 'stage-root',
  ) as { state: { output?: { stagedRoot?: { fingerprint?: string } } } } | undefined;
  const rootB = staged?.state.output?.stagedRoot?.fingerprint;
  const phaseReports: PhaseReport[] = facts.tracker.phases.map((phase) => ({
    ...phase,
    handshakes: stats.byPhase[phase.name] ?? { attempted: 0, failed: 0 },
  }));
  // With --retry-rollback a rollback made to fail is resumed: the rehearsal must end rolled back.
  // A fault that is no transient one fails the run as a --fail-at would (faultFailAts).
  const failAts = [...(options.failAt ?? []), ...faultFailAts(options.faults ?? [])];
  const expectedFirst = expectedResult(options.mode, failAts);
  // With --retry-promotion a run stopped in promote-root is finished: the rehearsal must end succeeded.
  const expected =
    options.retryRollback === true && expectedFirst === 'FAILED' && rollbackFailAt(options.failAt)
      ? 'ROLLED_BACK'
      : options.retryPromotion === true && expectedFirst === 'FAILED' && promoteRootFailAt(options.failAt)
        ? 'SUCCEEDED'
        : expectedFirst;
  const identicalToStart = Object.fromEntries(
    lab.clusters.map((cluster) => [
      cluster.name,
      sameData(facts.initialSecrets.get(cluster.name), atEnd.finalSecrets.get(cluster.name)),
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
    pendingRoot: atEnd.pendingRoot,
    rootKeys: atEnd.rootKeys,
  };
  if (atEnd.cacertsBackups !== undefined) endState = { ...endState, cacertsBackups: atEnd.cacertsBackups };
  const { faultReports } = facts;
  const moves = workloadMoves(facts.workloadsAtStart, workloads);
  const strategies = clusterStrategies(history, run.children);
  const failedChildren: FailedChild[] = run.children
    .filter((child) => child.status !== 'SUCCEEDED')
    .map((child) => ({
      map: child.map,
      ...(child.cluster === undefined ? {} : { cluster: child.cluster }),
      executionArn: child.executionArn,
      status: child.status,
      ...(child.error === undefined ? {} : { error: child.error }),
      ...(child.cause === undefined ? {} : { cause: child.cause }),
    }));
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
    ...(targetCluster === undefined ? {} : { cluster: targetCluster }),
    result,
    expected,
    phases: phaseReports,
    failedHandshakes: stats.failed,
    rejectedUpdates: atEnd.rejectedUpdates.length,
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
    ...(endState.rootKeys === undefined
      ? {}
      : { rootKeys: endState.rootKeys, rootKeysAtStart: facts.rootKeysAtStart }),
    ...(endState.cacertsBackups === undefined ? {} : { cacertsBackups: endState.cacertsBackups }),
    failAts,
    ...(facts.expiryCheck === undefined ? {} : { expiryCheck: facts.expiryCheck }),
  });
  return {
    schemaVersion: 1,
    mode: options.mode,
    ...(targetCluster === undefined ? {} : { cluster: targetCluster }),
    meshId: lab.meshId,
    engine: lab.engine,
    ...(options.rootCertStyle === undefined || options.rootCertStyle === 'canonical'
      ? {}
      : { rootCertStyle: options.rootCertStyle }),
    clusters: lab.clusters.map((cluster) => cluster.name),
    ...(facts.accounts === undefined ? {} : { accounts: facts.accounts }),
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
    ...(failedChildren.length === 0 ? {} : { failedChildren }),
    ...(options.failAt === undefined || options.failAt.length === 0
      ? {}
      : { failAt: formatFailAts(options.failAt) }),
    ...(options.faults === undefined || options.faults.length === 0 ? {} : { faults: faultReports }),
    assembly: { directory: assembly.directory, stack: assembly.stackName, reused: assembly.reused },
    rootLetters,
    phases: phaseReports,
    totals: { handshakes: { attempted: stats.attempted, failed: stats.failed }, rounds: stats.rounds },
    handshakeFailures: lab.prober
      .failures()
      .slice(0, 200)
      .map((failure) => ({ ...failure, at: failure.at.toISOString() })),
    timeline: facts.timeline.entries(),
    rejectedUpdates: atEnd.rejectedUpdates,
    initial: summaries(initial),
    final: summaries(final),
    endState,
    workloads,
    strategies,
    workloadMoves: moves,
    invocations: facts.pool.invocations(),
    warmInvocations: summarizeInvocationTimes(facts.pool.warmInvocationMs()),
    labEventLoopDelayMs: facts.tracker.eventLoopDelayMs(),
    ...(facts.labLoad === undefined || lab.inProcessLab === undefined
      ? {}
      : { labLoad: { ...facts.labLoad, pace: lab.inProcessLab.pace } }),
    ...labWaitsOf(lab.inProcessLab, startedAt, endedAt),
    checks,
  };
}

function summaries(snapshots: readonly CacertsSnapshot[]) {
  return snapshots.map((snapshot) => ({
    cluster: snapshot.cluster,
    roots: snapshot.rootFingerprints,
    ...(snapshot.caCertFingerprint === undefined ? {} : { caCert: snapshot.caCertFingerprint }),
  }));
}

/** Whether a --fail-at makes a rollback state fail for good (the run then ends in RollbackFailed). */
function rollbackFailAt(failAts: readonly FailAt[] | undefined): boolean {
  const rollback: readonly string[] = ROLLBACK_STATES;
  return (failAts ?? []).some(
    (failAt) => !failAt.once && rollback.includes(failAt.state.replace(/-in-cluster$/, '')),
  );
}

/** Whether a --fail-at makes promote-root fail for good (the run then stops in rotation-stopped). */
function promoteRootFailAt(failAts: readonly FailAt[] | undefined): boolean {
  return (failAts ?? []).some((failAt) => !failAt.once && failAt.state === WORKFLOW_STATES.promoteRoot);
}

/** Byte-identical Secret data (base64 values compared key by key, in memory only). */
function sameData(a: SecretData | undefined, b: SecretData | undefined): boolean {
  const keys = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  return [...keys].every((key) => a?.[key] === b?.[key]);
}

/** The lab's delays and the pods it started between the execution's start and end (lab-waits.ts). */
function labWaitsOf(
  inProcessLab: RehearsalFleet['inProcessLab'],
  startedAt: Date,
  endedAt: Date,
): { labWaits?: LabWaits } {
  if (inProcessLab?.delays === undefined) return {};
  const starts = inProcessLab.podStarts?.() ?? [];
  return {
    labWaits: {
      ...inProcessLab.delays,
      podStarts: podStartSpans(starts, startedAt.getTime(), endedAt.getTime()),
    },
  };
}
