import { keptOf } from '../contract/kept-paths.js';
import { PREFLIGHT_KEPT_PATHS } from '../contract/preflight-answer.js';
import { istioNotes, istioRefusals } from '../core/istio/istio-settings.js';
import type { RotationStrategy } from '../core/istio/rotation-strategy.js';
import { soakPlan, soakTooLong } from '../core/istio/soak.js';
import { describeCertificate } from '../core/pki/certificate-info.js';
import { stateSizeProblem, utf8Bytes } from '../core/plan/state-size-estimate.js';
import { planReviewedFleet, resignedClusters } from '../core/rotation/plan-reviewed-fleet.js';
import { type PlanSummary, summarisePlan } from '../core/rotation/plan-summary.js';
import {
  type PreflightRefusal,
  type StartProblem,
  startRefusal,
} from '../core/rotation/preflight-refusals.js';
import { workedClusters } from '../core/rotation/worked-clusters.js';
import type { PreflightReading } from './preflight-reading.js';
import { reviewFleetIstio, reviewFleetRoot, reviewFleetStrategy, workloadProblems } from './review-fleet.js';
import { reviewFleetHistory } from './review-fleet-history.js';
import { type SecretVersion, secretVersionOf } from './root-ca.js';
import type { RotationRuntime } from './runtime.js';

/** What preflight passes on when the rotation may start. */
export interface PreflightOutput {
  /**
   * The clusters the Maps work on, each with its rotation strategy (reissue-intermediate reads it from
   * its Map item): the plan's choice, or `restart` for a cluster the plan has none for.
   */
  readonly clusters: { readonly name: string; readonly strategy: RotationStrategy }[];
  readonly currentRoot: SecretVersion;
  /** With its history estimate always: the state keeps it (contract/preflight-answer.ts). */
  readonly plan: PlanSummary & Required<Pick<PlanSummary, 'historyEvents'>>;
}

export type PreflightVerdict =
  | { readonly ok: true; readonly output: PreflightOutput }
  | { readonly ok: false; readonly refusal: PreflightRefusal };

/**
 * What preflight makes of what it read (readForPreflight): refused at the first rule that finds a
 * problem (lambdas/core/rotation/preflight-refusals.ts), else the clusters, the current root and the
 * plan. Reads nothing; every judgement is the one `meshtrust plan` makes too (review-fleet.ts).
 */
export function judgeForPreflight(
  reading: PreflightReading,
  input: { readonly soakSeconds?: number | null; readonly cluster?: string | null },
  runtime: Pick<RotationRuntime, 'config' | 'store'>,
): PreflightVerdict {
  const { mode, currentRoot, readings, now } = reading;
  const { config, store } = runtime;
  const reviews = readings.map((reading) => reading.review);
  // istiod and the mesh config: without ISTIO_MULTIROOT_MESH a root rotation's writes would be dropped.
  const istio = reviewFleetIstio(readings, mode);
  // How workloads would move to the new intermediate; a forced resign a cluster cannot do is refused.
  const strategy = reviewFleetStrategy(readings, istio, mode, config.rotationStrategy);
  const refusals = istioRefusals({
    clusters: istio.clusters,
    findings: [...istio.findings, ...strategy.findings],
  });
  // Scheduled mode soaks at least the longest workload certificate lifetime.
  const floor = input.soakSeconds ?? 0;
  const soak = soakPlan(floor, istio.clusters);
  // A root about to expire: what the mode leans on it for decides between a refusal and a note.
  const rootExpiry = reviewFleetRoot({
    readings,
    istio,
    pushReaches: strategy.pushReaches,
    mode,
    root: describeCertificate(currentRoot.material.certificatePem, { file: store.rootSecretName }),
    rootSecretName: store.rootSecretName,
    soakSeconds: soak.seconds,
    config,
    now,
  });
  const fleetRefusal = startRefusal([
    ...reviews.flatMap(({ cluster, problems }) => problems.map((problem) => ({ problem, cluster }))),
    ...refusals.map(({ reason, cluster }) => ({
      problem: reason,
      ...(cluster !== undefined && { cluster }),
    })),
    ...problemOf(rootExpiry.refusal),
  ]);
  if (fleetRefusal !== undefined) return { ok: false, refusal: fleetRefusal };
  const soakRefusal = startRefusal(problemOf(mode === 'scheduled' ? soakTooLong(floor, soak) : undefined));
  if (soakRefusal !== undefined) return { ok: false, refusal: soakRefusal };

  const planned = planReviewedFleet({
    currentRoot: currentRoot.ref.fingerprint,
    reviews,
    mode,
    ...(input.cluster ? { cluster: input.cluster } : {}),
    resign: resignedClusters(strategy),
  });
  if (!planned.ok) return { ok: false, refusal: { reason: planned.problem } };
  const worked = workedClusters(
    planned.plan,
    readings.map(({ cluster }) => ({ name: cluster })),
  );
  // A workload whose own rollout takes down more pods at once than its PodDisruptionBudget ever allows:
  // restart-workloads would wait for an allowance that never comes, after the writes (rollout-width.ts).
  const budgetRefusal = startRefusal(
    workloadProblems(readings.filter((reading) => worked.some(({ name }) => name === reading.cluster))),
  );
  if (budgetRefusal !== undefined) return { ok: false, refusal: budgetRefusal };
  // Every state of every cluster records into this one execution's history, which fails at Step
  // Functions' limit wherever the run is then, after writes: a plan that could reach it stops here.
  const history = reviewFleetHistory({ readings, worked: worked.map(({ name }) => name), mode, config });
  const historyRefusal = startRefusal(problemOf(history.refusal));
  if (historyRefusal !== undefined) return { ok: false, refusal: historyRefusal };

  const notes = [
    ...istioNotes({ clusters: [], findings: strategy.findings }),
    ...(rootExpiry.note === undefined ? [] : [rootExpiry.note]),
    ...(history.note === undefined ? [] : [history.note]),
  ];
  const { states: _perState, ...historyEvents } = history.estimate;
  const output: PreflightOutput = {
    clusters: worked.map(({ name }) => ({
      name,
      strategy: strategy.strategies.find((chosen) => chosen.cluster === name)?.strategy ?? 'restart',
    })),
    currentRoot: secretVersionOf(currentRoot),
    plan: { ...summarisePlan(planned.plan, istio, soak, notes, strategy), historyEvents },
  };
  // Every Map's answers stay in the one state, which Step Functions caps at 256 KiB past every Catch:
  // a plan whose rollback could pass it stops here too (state-size-estimate.ts). Of preflight's own
  // answer, the state keeps only part.
  const sizeRefusal = startRefusal(
    problemOf(
      stateSizeProblem({
        clusters: worked.map(({ name }) => name),
        preflightBytes: utf8Bytes(JSON.stringify(keptOf(output, PREFLIGHT_KEPT_PATHS))),
      }),
    ),
  );
  if (sizeRefusal !== undefined) return { ok: false, refusal: sizeRefusal };
  return { ok: true, output };
}

/** A problem of the fleet as a whole (no cluster), when there is one. */
function problemOf(problem: string | undefined): StartProblem[] {
  return problem === undefined ? [] : [{ problem }];
}
