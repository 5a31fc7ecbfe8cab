import { z } from 'zod';
import { emitAuditEvent } from '../adapters/audit/audit-event.js';
import { clientRequestTokenFor } from '../adapters/secrets/client-request-token.js';
import {
  reviewFleet,
  reviewFleetIstio,
  reviewFleetRoot,
  reviewFleetStrategy,
  workloadProblems,
} from '../application/review-fleet.js';
import { reviewFleetHistory } from '../application/review-fleet-history.js';
import { secretVersionOf } from '../application/root-ca.js';
import type { HandlerRuntime } from '../application/runtime.js';
import { istioNotes, istioRefusals } from '../core/istio/istio-settings.js';
import type { RotationStrategy } from '../core/istio/rotation-strategy.js';
import { soakPlan, soakTooLong } from '../core/istio/soak.js';
import { describeCertificate } from '../core/pki/certificate-info.js';
import { planReviewedFleet } from '../core/rotation/plan-reviewed-fleet.js';
import { type PlanSummary, summarisePlan } from '../core/rotation/plan-summary.js';
import { PreconditionFailed } from '../core/rotation-errors.js';
import { executionIdSchema, modeSchema, parseInput, type SecretVersion } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

const PHASE = 'preflight';

const inputSchema = z.object({
  executionId: executionIdSchema,
  mode: modeSchema.nullable().optional(),
  cluster: z.string().min(1).nullable().optional(),
  /** The execution's soakSeconds: the soak's floor (scheduled mode). */
  soakSeconds: z.number().int().nonnegative().nullable().optional(),
});
export type PreflightInput = z.infer<typeof inputSchema>;

export interface PreflightOutput {
  /**
   * The clusters the Maps work on, each with its rotation strategy (reissue-intermediate reads it from
   * its Map item): the plan's choice, or `restart` for a cluster the plan has none for.
   */
  readonly clusters: { readonly name: string; readonly strategy: RotationStrategy }[];
  readonly currentRoot: SecretVersion;
  readonly plan: PlanSummary;
}

/**
 * preflight: reads every cluster and the CA store and refuses, before anything is written, when the
 * fleet is not fit to rotate; otherwise returns the clusters, the current root and the plan.
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<PreflightOutput> {
  const input = parseInput(inputSchema, event, PHASE);
  return runHandler({ phase: PHASE, executionId: input.executionId, lambdaContext: context }, (runtime) =>
    preflight(input, runtime),
  );
}

async function preflight(input: PreflightInput, runtime: HandlerRuntime): Promise<PreflightOutput> {
  const { executionId } = input;
  const refuse = (message: string, cluster?: string): never => {
    emitAuditEvent({
      phase: PHASE,
      action: 'check-fleet',
      executionId,
      outcome: 'refused',
      ...(cluster !== undefined && { cluster }),
    });
    throw new PreconditionFailed(message, { phase: PHASE, ...(cluster !== undefined && { cluster }) });
  };
  if (input.mode === null || input.mode === undefined) {
    return refuse(
      'The execution input has no mode; start it with mode scheduled, emergency or intermediate.',
    );
  }
  const mode = input.mode;
  const { store, config } = runtime;

  const stages = await store.describeRoot();
  if (stages.current === undefined) {
    return refuse(
      `No current root CA is stored in ${store.rootSecretName}, so there is nothing to rotate from. Import the mesh's ` +
        'existing root with meshtrust import-root (its certificate, with or without its key; the rehearsal seeds the ' +
        'lab root), then start again.',
    );
  }
  // No rival runs: acquire-lock, the state before this one, holds the mesh's rotation lock. A pending
  // root of another execution is a run left unfinished (aborted, or its rollback failed), which the
  // lock does not show once it was released or taken over.
  const ownToken = clientRequestTokenFor(executionId, 'root');
  if (stages.pending !== undefined && stages.pending !== ownToken) {
    return refuse(
      `Another rotation is running or was left unfinished: ${store.rootSecretName} has a pending root (version ` +
        `${stages.pending}). Let it finish, or roll it back (rollback drops AWSPENDING), then start again.`,
    );
  }
  const currentRoot = await store.readCurrentRoot();
  if (mode === 'intermediate' && currentRoot.material.key.kind === 'offline') {
    return refuse(
      `Intermediate mode signs the new intermediates with the current root, whose key was imported offline ` +
        `(meshtrust import-root without a key), so meshtrust cannot sign with it. Run a scheduled rotation, which ` +
        'moves the mesh to a root whose key is in KMS, or import the root again with its key.',
    );
  }
  const clusters = await runtime.fleet();
  if (clusters.length === 0) {
    return refuse(
      `No EKS cluster belongs to mesh ${config.meshId} (tag ${config.clusterTagKey}=${config.clusterTagValue}, or CLUSTERS). ` +
        'Tag the clusters or list them.',
    );
  }

  const now = new Date();
  const readings = await reviewFleet(runtime, clusters, currentRoot.ref.fingerprint, now);
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
  const problems = [
    ...reviews.flatMap((review) => review.problems),
    ...refusals.map((found) => found.reason),
    ...(rootExpiry.refusal === undefined ? [] : [rootExpiry.refusal]),
  ];
  if (problems.length > 0) {
    const failing = new Set([
      ...reviews.filter((review) => review.problems.length > 0).map((review) => review.cluster),
      ...refusals.map((found) => found.cluster),
    ]);
    return refuse(
      `preflight refused to start the rotation; nothing was written. ${problems.join('. ')}.`,
      failing.size === 1 ? [...failing][0] : undefined,
    );
  }

  const tooLong = mode === 'scheduled' ? soakTooLong(floor, soak) : undefined;
  if (tooLong !== undefined)
    return refuse(`preflight refused to start the rotation; nothing was written. ${tooLong}.`);

  const planned = planReviewedFleet({
    currentRoot: currentRoot.ref.fingerprint,
    reviews,
    mode,
    ...(input.cluster ? { cluster: input.cluster } : {}),
  });
  if (!planned.ok) return refuse(planned.problem);
  // The Maps work on these: the whole fleet, or in intermediate mode only the cluster being rekeyed and
  // the remotes its istiod serves (the others were reviewed above, since its new intermediate must chain
  // to what they trust).
  const rekeyed = planned.plan.cluster;
  const worked =
    rekeyed === undefined
      ? clusters
      : [
          { name: rekeyed },
          ...(planned.plan.remotes ?? [])
            .filter((remote) => remote.primary === rekeyed)
            .map(({ name }) => ({ name })),
        ];
  // Every state of every cluster records into this one execution's history, which fails at Step
  // Functions' limit wherever the run is then, after writes: a plan that could reach it stops here.
  // A workload whose own rollout takes down more pods at once than its PodDisruptionBudget ever allows:
  // restart-workloads would wait for an allowance that never comes, after the writes (rollout-width.ts).
  const overBudget = workloadProblems(
    readings.filter((reading) => worked.some(({ name }) => name === reading.cluster)),
  );
  if (overBudget.length > 0) {
    const failing = new Set(overBudget.map(({ cluster }) => cluster));
    return refuse(
      `preflight refused to start the rotation; nothing was written. ${overBudget.map(({ problem }) => problem).join('. ')}.`,
      failing.size === 1 ? [...failing][0] : undefined,
    );
  }
  const history = reviewFleetHistory({ readings, worked: worked.map(({ name }) => name), mode, config });
  if (history.refusal !== undefined) {
    return refuse(`preflight refused to start the rotation; nothing was written. ${history.refusal}.`);
  }
  emitAuditEvent({
    phase: PHASE,
    action: 'check-fleet',
    executionId,
    outcome: 'succeeded',
    fingerprintsBefore: [`root:${currentRoot.ref.fingerprint}`],
    detail: { mode, clusters: clusters.length },
  });
  return {
    clusters: worked.map(({ name }) => ({
      name,
      strategy: strategy.strategies.find((chosen) => chosen.cluster === name)?.strategy ?? 'restart',
    })),
    currentRoot: secretVersionOf(currentRoot),
    plan: summarisePlan(
      planned.plan,
      istio,
      soak,
      [
        ...istioNotes({ clusters: [], findings: strategy.findings }),
        ...(rootExpiry.note === undefined ? [] : [rootExpiry.note]),
        ...(history.note === undefined ? [] : [history.note]),
      ],
      strategy,
      history.estimate,
    ),
  };
}
