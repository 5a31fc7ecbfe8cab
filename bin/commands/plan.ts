// `meshtrust plan`: the dry run. Reads the fleet the way preflight does (same runtime, same review, same
// planner and invariant checker) and prints each cluster's Istio settings, every write the rotation would
// make, per phase and cluster, with fingerprints, plus every preflight problem (exit 1). Writes nothing.

import type { Command } from 'commander';
import { Option } from 'commander';
import { rootSecretName } from '../../lambdas/adapters/secrets/secret-names.js';
import {
  type ClusterReading,
  type ClusterWorkloads,
  reviewFleetIstio,
  reviewFleetRoot,
  reviewFleetStrategy,
  workloadProblems,
} from '../../lambdas/application/review-fleet.js';
import { reviewFleetHistory } from '../../lambdas/application/review-fleet-history.js';
import { formatSeconds } from '../../lambdas/core/istio/go-values.js';
import {
  type ClusterIstioSettings,
  istioNotes,
  istioRefusals,
} from '../../lambdas/core/istio/istio-settings.js';
import { type ProxyTrustWait, proxyTrustWait } from '../../lambdas/core/istio/proxy-trust-wait.js';
import {
  type ClusterRotationStrategy,
  ROTATION_STRATEGIES,
  type RotationStrategySetting,
} from '../../lambdas/core/istio/rotation-strategy.js';
import { type SoakPlan, soakPlan } from '../../lambdas/core/istio/soak.js';
import type { HistoryEstimate } from '../../lambdas/core/plan/history-estimate.js';
import { ROTATION_MODES, type RotationMode } from '../../lambdas/core/plan/phases.js';
import type { PlanStep, RotationPlan } from '../../lambdas/core/plan/rotation-plan.js';
import { describeUnmanagedPod, unmanagedPodsNote } from '../../lambdas/core/plan/unmanaged-pods.js';
import { planReviewedFleet, resignedClusters } from '../../lambdas/core/rotation/plan-reviewed-fleet.js';
import { addFleetOptions, type FleetOptions, fleetConfig } from '../cli/aws-options.js';
import type { CliContext } from '../cli/cli-context.js';
import { EXIT_CODES, UsageError } from '../cli/cli-errors.js';
import { type FleetReading, readFleet } from '../cli/fleet-reading.js';
import { integerBetween } from '../cli/option-parsers.js';
import type { Terminal } from '../cli/terminal.js';

export interface PlanCommandOptions extends FleetOptions {
  readonly mode: RotationMode;
  readonly cluster?: string;
  readonly json?: boolean;
  /** Overrides ROTATION_STRATEGY (the stack's rotationStrategy) for this plan. */
  readonly rotationStrategy?: RotationStrategySetting;
  /** Overrides RESTART_WAVE_SIZE (the stack's restartWaveSize) for this plan. */
  readonly restartWaveSize?: number;
}

/** What `plan --json` prints. */
export interface PlanReport {
  readonly meshId: string;
  readonly mode: RotationMode;
  readonly currentRoot?: { readonly fingerprint: string; readonly notAfter: string };
  /** The root secret's pending version, when a rotation is running or was left unfinished. */
  readonly pendingRoot?: string;
  readonly clusters: readonly {
    readonly name: string;
    /** A remote cluster (--remote-clusters, REMOTE_CLUSTERS): the primary whose istiod serves it. */
    readonly primary?: string;
    readonly cacertsResourceVersion?: string;
    readonly trustedRoots?: readonly string[];
    readonly intermediate?: string;
    readonly intermediateIssuerRoot?: string;
    readonly namespaces?: number;
    /** What preflight records of the cluster's Istio (absent when the cluster could not be read). */
    readonly istioVersion?: string;
    readonly multiRoot?: ClusterIstioSettings['multiRoot'];
    readonly workloadCertTtlSeconds?: number;
    readonly pcds?: boolean;
    /** A remote: what its proxies' settings were read from (lambdas/core/topology/remote-proxy-settings.ts). */
    readonly readFrom?: readonly string[];
    /** A remote: how it reaches its primary's istiod (lambdas/core/topology/remote-istiod-reach.ts). */
    readonly istiodReach?: string;
    /**
     * How its workloads would move to the new intermediate, and why (absent when its Istio could not
     * be read).
     */
    readonly strategy?: Omit<ClusterRotationStrategy, 'cluster'>;
    /**
     * How many workloads restart-workloads would restart, and the injected pods it cannot (bare pods,
     * Jobs' pods), or why they could not be listed (absent when the cluster could not be read).
     */
    readonly workloads?: ClusterWorkloads;
  }[];
  /** The rotation preflight would start; absent when a problem stops it. */
  readonly plan?: RotationPlan;
  /**
   * Root rotations: how long the state machine waits after verify-trust for every proxy to hold the
   * new root (state await-proxy-trust), and why.
   */
  readonly proxyTrustWait?: ProxyTrustWait;
  /**
   * Scheduled mode: the soak at least as long as the longest workload certificate lifetime (the
   * execution's soakSeconds, the stack's soakHours, may make it longer).
   */
  readonly soakAtLeast?: SoakPlan;
  /**
   * How many events the execution's history records at worst, per state, against Step Functions'
   * limit (lambdas/core/plan/history-estimate.ts); above the safe share it is also a problem.
   */
  readonly historyEvents?: HistoryEstimate;
  /** What preflight notes without refusing: Istio versions that differ, PCDS off, a root expiring soon... */
  readonly notes: readonly string[];
  /** Everything that would make preflight refuse; empty when the rotation may start. */
  readonly problems: readonly string[];
}

export function registerPlanCommand(program: Command, context: CliContext): Command {
  const command = program
    .command('plan')
    .description(
      "Dry run: read the fleet (EKS, every cluster's cacerts, bundles, istiod and mesh config, Secrets Manager) as " +
        "preflight does and print each cluster's Istio version, ISTIO_MULTIROOT_MESH, workload certificate TTL and " +
        'PCDS, every write the rotation would make, per phase and cluster, with fingerprints, how many execution ' +
        'history events it records at worst, and every problem that would stop it (exit 1). Writes nothing.',
    )
    .addOption(new Option('--mode <mode>', 'rotation mode').choices([...ROTATION_MODES]).default('scheduled'))
    .option('--cluster <name>', 'the cluster whose intermediate is rekeyed (--mode intermediate only)')
    .option('--json', 'print the report as JSON')
    .addOption(
      new Option(
        '--rotation-strategy <setting>',
        "how workloads move to the new intermediate: auto (per cluster), or forced resign or restart; default ROTATION_STRATEGY, else auto (the stack's rotationStrategy)",
      ).choices(['auto', ...ROTATION_STRATEGIES]),
    )
    .addOption(
      new Option(
        '--restart-wave-size <n>',
        "workloads restarted together, for the execution history estimate; default RESTART_WAVE_SIZE, else 5 (the stack's restartWaveSize)",
      ).argParser(integerBetween(1, 100_000)),
    );
  return addFleetOptions(command)
    .addHelpText(
      'after',
      '\nExamples:\n  source ./my-lab/env && meshtrust plan\n  meshtrust plan --mode intermediate --cluster prod-eu-1 --region eu-west-1 --mesh-id prod\n\n' +
        'Exit codes: 0 the rotation may start, 1 preflight would refuse (problems listed), 2 usage, 3 AWS/cluster access.',
    )
    .action(async (options: PlanCommandOptions) => {
      await runPlan(options, context);
    });
}

async function runPlan(options: PlanCommandOptions, context: CliContext): Promise<void> {
  if (options.mode === 'intermediate' && options.cluster === undefined) {
    throw new UsageError('--mode intermediate rekeys one cluster: name it with --cluster NAME');
  }
  if (options.mode !== 'intermediate' && options.cluster !== undefined) {
    throw new UsageError(
      `--cluster is for --mode intermediate; --mode ${options.mode} rotates the root of every cluster`,
    );
  }
  const config = {
    ...fleetConfig(options, context.env),
    ...(options.rotationStrategy !== undefined && { rotationStrategy: options.rotationStrategy }),
    ...(options.restartWaveSize !== undefined && { restartWaveSize: options.restartWaveSize }),
  };
  const now = new Date();
  const fleet = await readFleet(config, now);
  const report = planReport(fleet, options.mode, now, options.cluster);
  if (report.problems.length > 0) context.exitCode = EXIT_CODES.checkFailed;
  if (options.json) {
    context.terminal.out(JSON.stringify(report, null, 2));
    return;
  }
  printPlan(report, context.terminal);
}

/** preflight's checks and plan, from what was read; pure apart from the reading passed in. */
export function planReport(fleet: FleetReading, mode: RotationMode, now: Date, cluster?: string): PlanReport {
  const { config, stages, currentRoot, readings } = fleet;
  const problems: string[] = [];
  if (currentRoot === undefined) {
    problems.push(
      `No current root CA is stored in ${rootSecretName(config.meshId)}, so there is nothing to rotate from. Import ` +
        "the mesh's existing root into that secret as AWSCURRENT first",
    );
  }
  if (stages.pending !== undefined) {
    problems.push(
      `Another rotation is running or was left unfinished: the root secret has a pending root (version ${stages.pending}). ` +
        'Let it finish (meshtrust status), or roll it back, then plan again',
    );
  }
  if (fleet.clusters.length === 0) {
    problems.push(
      `No EKS cluster belongs to mesh ${config.meshId} (tag ${config.clusterTagKey}=${config.clusterTagValue}, or ` +
        '--clusters). Tag the clusters or list them',
    );
  }
  problems.push(...readings.flatMap((reading) => reading.review.problems));
  const istio = reviewFleetIstio(readings, mode);
  const strategy = reviewFleetStrategy(readings, istio, mode, config.rotationStrategy);
  const withStrategy = { clusters: istio.clusters, findings: [...istio.findings, ...strategy.findings] };
  problems.push(...istioRefusals(withStrategy).map((finding) => finding.reason));
  const rootExpiry =
    currentRoot === undefined
      ? {}
      : reviewFleetRoot({
          readings,
          istio,
          pushReaches: strategy.pushReaches,
          mode,
          root: currentRoot,
          rootSecretName: rootSecretName(config.meshId),
          soakSeconds: soakPlan(0, istio.clusters).seconds,
          config,
          now,
        });
  if (rootExpiry.refusal !== undefined) problems.push(rootExpiry.refusal);
  let plan: RotationPlan | undefined;
  if (problems.length === 0 && currentRoot !== undefined) {
    const planned = planReviewedFleet({
      currentRoot: currentRoot.fingerprint,
      reviews: readings.map((reading) => reading.review),
      mode,
      ...(cluster !== undefined && { cluster }),
      resign: resignedClusters(strategy),
    });
    if (planned.ok) plan = planned.plan;
    else problems.push(planned.problem);
  }
  // The Maps' clusters, as preflight passes them on: the fleet, or the cluster an intermediate rekey works on.
  const history =
    plan === undefined
      ? undefined
      : reviewFleetHistory({
          readings,
          worked: plan.cluster !== undefined ? [plan.cluster] : fleet.clusters.map(({ name }) => name),
          mode,
          config,
        });
  if (history?.refusal !== undefined) problems.push(history.refusal);
  // A rollout wider than its PodDisruptionBudget allows, in the clusters whose workloads move.
  problems.push(
    ...workloadProblems(
      readings.filter(
        (reading) => mode !== 'intermediate' || cluster === undefined || reading.cluster === cluster,
      ),
    ).map(({ problem }) => problem),
  );
  return {
    meshId: config.meshId,
    mode,
    ...(currentRoot !== undefined && {
      currentRoot: { fingerprint: currentRoot.fingerprint, notAfter: currentRoot.notAfter.toISOString() },
    }),
    ...(stages.pending !== undefined && { pendingRoot: stages.pending }),
    clusters: readings.map(({ cluster: name, snapshot, review, workloads, primary }) => ({
      name,
      ...(primary !== undefined && { primary }),
      ...(snapshot !== undefined && { cacertsResourceVersion: snapshot.resourceVersion }),
      ...(review.trustState !== undefined && {
        trustedRoots: review.trustState.trustedRoots,
        intermediate: review.trustState.intermediate,
        intermediateIssuerRoot: review.trustState.intermediateIssuerRoot,
        namespaces: review.trustState.namespaces.length,
      }),
      ...istioFieldsOf(istio.clusters.find((settings) => settings.cluster === name)),
      ...strategyFieldsOf(strategy.strategies.find((chosen) => chosen.cluster === name)),
      ...(workloads !== undefined && { workloads }),
    })),
    ...(plan !== undefined && { plan }),
    ...(plan !== undefined &&
      mode !== 'intermediate' && { proxyTrustWait: proxyTrustWait(istio.clusters, strategy.pushReaches) }),
    ...(plan !== undefined && mode === 'scheduled' && { soakAtLeast: soakPlan(0, istio.clusters) }),
    ...(history !== undefined && { historyEvents: history.estimate }),
    notes: [
      ...istioNotes(withStrategy),
      ...(rootExpiry.note === undefined ? [] : [rootExpiry.note]),
      ...workloadNotes(readings, mode),
      ...(history?.note === undefined ? [] : [history.note]),
    ],
    problems,
  };
}

function istioFieldsOf(settings: ClusterIstioSettings | undefined) {
  if (settings === undefined) return {};
  const { cluster: _cluster, ...fields } = settings;
  return fields;
}

function strategyFieldsOf(chosen: ClusterRotationStrategy | undefined) {
  if (chosen === undefined) return {};
  const { cluster: _cluster, ...strategy } = chosen;
  return { strategy };
}

/** The unmanaged pods' note for `mode`, and one per cluster whose workloads could not be listed. */
function workloadNotes(readings: readonly ClusterReading[], mode: RotationMode): string[] {
  const unmanaged = unmanagedPodsNote(
    mode,
    readings.flatMap(({ cluster, workloads }) =>
      workloads !== undefined && 'unmanaged' in workloads
        ? [{ cluster, unmanaged: workloads.unmanaged }]
        : [],
    ),
  );
  const unreadable = readings.flatMap(({ cluster, workloads }) =>
    workloads !== undefined && 'unreadable' in workloads
      ? [
          `could not list the workloads of ${cluster} that restart-workloads would restart (${workloads.unreadable}); ` +
            'apply deploy/kubernetes/rbac.yaml again (meshtrust-viewer may list replicasets)',
        ]
      : workloads !== undefined &&
          'budgetsUnreadable' in workloads &&
          workloads.budgetsUnreadable !== undefined
        ? [
            `could not list the PodDisruptionBudgets of ${cluster} that restart-workloads respects (${workloads.budgetsUnreadable}); ` +
              'apply deploy/kubernetes/rbac.yaml again (meshtrust-viewer may list poddisruptionbudgets)',
          ]
        : [],
  );
  return [...(unmanaged === undefined ? [] : [unmanaged]), ...unreadable];
}

/** `12 workload(s) to restart; 2 pod(s) nothing restarts: tools/debug, batch/x (Job nightly)` */
function describeWorkloads(workloads: ClusterWorkloads): string {
  if ('unreadable' in workloads) return 'workloads could not be listed (see notes)';
  const unmanaged =
    workloads.unmanaged.length === 0
      ? ''
      : `; ${workloads.unmanaged.length} injected pod(s) nothing restarts: ${workloads.unmanaged.map(describeUnmanagedPod).join(', ')}`;
  const blocked = workloads.blockedByBudgets ?? [];
  const held =
    blocked.length === 0
      ? ''
      : `; ${blocked.length} held now by a PodDisruptionBudget allowing no disruption (restart-workloads waits up to ROLLOUT_TIMEOUT_SECONDS): ${blocked.join('; ')}`;
  return `${workloads.restart} workload(s) to restart${unmanaged}${held}`;
}

/**
 * `rotation strategy: resign (proxies re-sign at reissue; only those that do not are restarted)`, then
 * the reasons. Never claims what the state machine does not do.
 */
export function describeStrategy(strategy: Omit<ClusterRotationStrategy, 'cluster'>): string[] {
  const chosen =
    strategy.strategy === 'resign'
      ? 'resign (proxies re-sign at reissue, no restart; a workload whose proxies have not moved by ROLLOUT_TIMEOUT_SECONDS is restarted)'
      : 'restart';
  const by = strategy.chosenBy === 'setting' ? ', forced by the rotation strategy setting' : '';
  return [`rotation strategy: ${chosen}${by}`, ...strategy.reasons.map((reason) => `  - ${reason}`)];
}

/** `istio 1.29, multi-root on, workload certificates 24h, PCDS off` */
function describeIstio(cluster: PlanReport['clusters'][number]): string | undefined {
  if (cluster.multiRoot === undefined) return undefined;
  const ttl =
    cluster.workloadCertTtlSeconds === undefined ? 'unknown' : formatSeconds(cluster.workloadCertTtlSeconds);
  return (
    `istio ${cluster.istioVersion ?? 'version unknown'}, multi-root ${cluster.multiRoot}, ` +
    `workload certificates ${ttl}, PCDS ${cluster.pcds ? 'on' : 'off'}`
  );
}

function printPlan(report: PlanReport, terminal: Terminal): void {
  const { out, styleOut } = terminal;
  out(styleOut('bold', `mesh ${report.meshId}: ${report.mode} rotation (dry run, nothing written)`));
  if (report.currentRoot !== undefined) {
    out(`current root  ${report.currentRoot.fingerprint} (expires ${report.currentRoot.notAfter})`);
  }
  for (const cluster of report.clusters) {
    const state =
      cluster.intermediate === undefined
        ? 'not fit to rotate (see problems)'
        : `roots {${cluster.trustedRoots?.join(', ')}}, intermediate ${cluster.intermediate} under ${cluster.intermediateIssuerRoot}, ${cluster.namespaces} namespace(s)`;
    const role =
      cluster.primary === undefined ? '' : ` (remote of ${cluster.primary}, no cacerts of its own)`;
    out(`cluster ${cluster.name}${role}  ${state}`);
    const istio = describeIstio(cluster);
    if (istio !== undefined) out(`  ${istio}`);
    if (cluster.readFrom !== undefined)
      out(`  its proxies' settings read from: ${cluster.readFrom.join('; ')}`);
    if (cluster.istiodReach !== undefined) out(`  istiod: ${cluster.istiodReach}`);
    if (cluster.strategy !== undefined) {
      for (const line of describeStrategy(cluster.strategy)) out(`  ${line}`);
    }
    if (cluster.workloads !== undefined) out(`  ${describeWorkloads(cluster.workloads)}`);
  }
  if (report.plan !== undefined) {
    const writes = report.plan.phases
      .flatMap((phase) => phase.steps)
      .filter((s) => s.writes.length > 0).length;
    out('');
    out(
      styleOut(
        'bold',
        `plan: ${report.plan.phases.length} phase(s), ${writes} writing step(s); target root ${report.plan.targetRoot}`,
      ),
    );
    for (const phase of report.plan.phases) {
      out(styleOut('cyan', phase.name));
      for (const step of phase.steps) out(describeStep(step));
    }
    if (report.proxyTrustWait !== undefined) {
      out(
        `after verify-trust, wait ${formatSeconds(report.proxyTrustWait.seconds)} for every proxy to hold the new root ` +
          `(${report.proxyTrustWait.reason})`,
      );
    }
    if (report.soakAtLeast !== undefined) {
      out(
        `soak at least ${formatSeconds(report.soakAtLeast.seconds)}, the longest workload certificate lifetime, ` +
          "or the execution's soakSeconds (the stack's soakHours) if longer",
      );
    }
    if (report.historyEvents !== undefined) out(describeHistoryEvents(report.historyEvents));
  }
  out('');
  if (report.notes.length > 0) {
    out(styleOut('bold', `${report.notes.length} note(s)`));
    for (const note of report.notes) out(`  - ${note}`);
    out('');
  }
  if (report.problems.length === 0) {
    out(styleOut('green', 'no problems: preflight would start this rotation'));
    return;
  }
  out(
    styleOut('red', `${report.problems.length} problem(s): preflight would refuse, nothing would be written`),
  );
  for (const problem of report.problems) out(`  - ${problem}`);
}

/**
 * `execution history: at worst 604 events, within the 20000 preflight allows (80% of Step Functions'
 * 25000); most in restart-workloads 128, rollback-restart 128; at least 159 if every check passes at once`
 */
export function describeHistoryEvents(estimate: HistoryEstimate): string {
  const child = estimate.largestChild;
  if (child !== undefined) {
    // Distributed Maps: the parent's history and each cluster's child execution's, each against the limit.
    const within = (events: number) => (events <= estimate.safeLimit ? 'within' : 'over');
    return (
      `execution history (Distributed Maps): at worst ${estimate.worstCase} events in the rotation's own, ` +
      `${within(estimate.worstCase)} the ${estimate.safeLimit} preflight allows, and ${child.events} in the largest ` +
      `child (one cluster's ${child.state}), ${within(child.events)} it; at least ${estimate.fewest} in the ` +
      "rotation's own if every check passes at once"
    );
  }
  const within = estimate.worstCase <= estimate.safeLimit ? 'within' : 'over';
  const share = Math.round((estimate.safeLimit / estimate.limit) * 100);
  const heaviest = [...estimate.states]
    .sort((a, b) => b.events - a.events)
    .slice(0, 2)
    .map(({ state, events }) => `${state} ${events}`)
    .join(', ');
  return (
    `execution history: at worst ${estimate.worstCase} events, ${within} the ${estimate.safeLimit} preflight allows ` +
    `(${share}% of Step Functions' ${estimate.limit}); most in ${heaviest}; at least ${estimate.fewest} if every ` +
    'check passes at once'
  );
}

function describeStep(step: PlanStep): string {
  const where = step.scope === 'cluster' ? step.cluster : 'fleet';
  const writes = step.writes.length === 0 ? 'reads only' : `writes ${step.writes.join(', ')}`;
  const lines = [`  ${where}: ${step.action} [${writes}]`];
  if (step.scope === 'cluster' && step.writes.includes('cacerts')) {
    lines.push(
      `    after: root-cert {${step.rootsAfter.join(', ')}}; ca-cert ${step.intermediateAfter} under ${step.intermediateIssuerAfter}`,
    );
  }
  return lines.join('\n');
}
