import { type ClusterIstioSettings, type IstioSettingsReview, istioNotes } from '../istio/istio-settings.js';
import { type ProxyTrustWait, proxyTrustWait } from '../istio/proxy-trust-wait.js';
import type { ClusterRotationStrategy, FleetStrategyReview } from '../istio/rotation-strategy.js';
import type { SoakPlan } from '../istio/soak.js';
import type { HistoryEstimate } from '../plan/history-estimate.js';
import type { RotationPlan } from '../plan/rotation-plan.js';

/** A plan small enough for a Step Functions payload: the decisions, not every step. */
export interface PlanSummary {
  readonly mode: RotationPlan['mode'];
  readonly currentRoot: string;
  readonly targetRoot: string;
  readonly clusters: readonly string[];
  readonly cluster?: string;
  /** The remote clusters and the primary serving each; absent when every cluster is a primary. */
  readonly remotes?: RotationPlan['remotes'];
  readonly restart: RotationPlan['restart'];
  /** Phase names in order, with how many steps each has. */
  readonly phases: readonly { readonly name: string; readonly steps: number }[];
  /** Per cluster: Istio version, ISTIO_MULTIROOT_MESH, workload certificate TTL, PCDS (lambdas/core/istio). */
  readonly istio: readonly ClusterIstioSettings[];
  /** What preflight noticed without refusing (versions that differ, PCDS off, a root expiring soon...). */
  readonly notes: readonly string[];
  /**
   * How long the state machine waits (state await-proxy-trust) after verify-trust before the first
   * workload certificate from a new intermediate: until every proxy holds the new root too.
   */
  readonly proxyTrustWait: ProxyTrustWait;
  /** Scheduled mode: how long the state machine soaks before retire-root (state soak), and why. */
  readonly soak: SoakPlan;
  /**
   * Per cluster: how its workloads would move to the new intermediate (resign or restart) and why
   * (lambdas/core/istio/rotation-strategy.ts). reissue-intermediate writes A+B+B for `resign`, and
   * restart-workloads waits for its proxies to re-sign, restarting only the workloads that did not.
   */
  readonly strategies: readonly ClusterRotationStrategy[];
  /**
   * How many events the execution's history records at worst, and the limit preflight held it to
   * (lambdas/core/plan/history-estimate.ts); the per-state figures are left out to keep the payload small.
   */
  readonly historyEvents?: Omit<HistoryEstimate, 'states'>;
}

/** `notes`: what else preflight noticed without refusing (e.g. the current root expiring soon). */
export function summarisePlan(
  plan: RotationPlan,
  istio: IstioSettingsReview,
  soak: SoakPlan,
  notes: readonly string[] = [],
  strategy: Pick<FleetStrategyReview, 'strategies' | 'pushReaches'> = { strategies: [], pushReaches: [] },
): PlanSummary {
  return {
    mode: plan.mode,
    currentRoot: plan.currentRoot,
    targetRoot: plan.targetRoot,
    clusters: [...plan.clusters],
    ...(plan.cluster !== undefined && { cluster: plan.cluster }),
    ...(plan.remotes !== undefined && { remotes: plan.remotes.map((remote) => ({ ...remote })) }),
    restart: plan.restart,
    phases: plan.phases.map((phase) => ({ name: phase.name, steps: phase.steps.length })),
    istio: [...istio.clusters],
    notes: [...istioNotes(istio), ...notes],
    proxyTrustWait: proxyTrustWait(istio.clusters, strategy.pushReaches),
    soak,
    strategies: [...strategy.strategies],
  };
}
