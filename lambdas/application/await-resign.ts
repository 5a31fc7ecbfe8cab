// The wait of a `resign` cluster (lambdas/core/rotation/resign-wait.ts): rounds of reading what each
// running proxy serves, through its Envoy admin port (adapters/kube/served-certificate.ts), until
// every pod serves a leaf of the intermediate or the deadline passes. A pod that serves it is not read
// again (pilot-agent never goes back to an older intermediate); a pod that cannot be read for good
// (gone, forbidden) is not read again either, and its workload falls back to a restart.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RotationPhase } from '../adapters/audit/audit-event.js';
import { mapWithConcurrency } from '../adapters/eks/map-with-concurrency.js';
import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { readServedCertificate, SERVED_READ_CONCURRENCY } from '../adapters/kube/served-certificate.js';
import { certificateFingerprint } from '../core/pki/fingerprint.js';
import {
  judgeResignRound,
  type PodServing,
  type ProxiedPodOfWorkload,
  podKey,
  type ResignRound,
} from '../core/rotation/resign-wait.js';
import { PreconditionFailed } from '../core/rotation-errors.js';
import { auditStateChange } from './audit-state-change.js';
import { readClusterCacerts } from './cluster-cacerts.js';
import { signingClusterClient } from './remote-cluster.js';
import type { RotationRuntime } from './runtime.js';

/** Between rounds: istiod debounces its pushes (PILOT_DEBOUNCE_AFTER, 100 ms up to 10 s). */
const ROUND_INTERVAL_MS = 2_000;
/** Workloads and pods an answer names at most: keeps the Step Functions payload small. */
const RESIGN_LISTED = 50;
/** A single read's timeout, as istioctl's. */
const READ_TIMEOUT_MS = 15_000;

/** What the resign wait found, as restart-workloads answers it and carries it across invocations. */
export interface ResignSummary {
  readonly pods: number;
  readonly moved: number;
  readonly waitedSeconds: number;
  /** Workloads restarted because a pod of theirs had not moved by the deadline. */
  readonly fallback: number;
  /** Their workloadKeys, at most 50. */
  readonly fallbackWorkloads: readonly string[];
  /** Pods nothing can restart that had not moved, at most 50. */
  readonly unmovedUnmanaged: readonly string[];
  /** The first pods behind, with what they serve. */
  readonly behind: readonly string[];
}

export interface ResignWaitOutcome {
  readonly round: ResignRound;
  readonly waitedMs: number;
  readonly rounds: number;
}

/** Reads until every pod serves a leaf of `intermediate` (a fingerprint) or `deadline` (epoch ms). */
export async function awaitResign(
  client: ClusterClient,
  pods: readonly ProxiedPodOfWorkload[],
  intermediate: string,
  deadline: number,
  options: { readonly intervalMs?: number } = {},
): Promise<ResignWaitOutcome> {
  const started = Date.now();
  const intervalMs = options.intervalMs ?? ROUND_INTERVAL_MS;
  const serving = new Map<string, PodServing>();
  for (let rounds = 1; ; rounds++) {
    const toRead = pods.filter((pod) => settled(serving.get(podKey(pod)), intermediate) === false);
    const readings = await mapWithConcurrency(toRead, SERVED_READ_CONCURRENCY, (pod) =>
      readServing(client, pod, deadline),
    );
    for (const [index, pod] of toRead.entries()) serving.set(podKey(pod), readings[index] as PodServing);
    const round = judgeResignRound(pods, serving, intermediate);
    const over = Date.now() + intervalMs > deadline;
    if (round.behindWorkloads.length + round.behindUnmanaged.length === 0 || !round.waitable || over) {
      return { round, waitedMs: Date.now() - started, rounds };
    }
    await sleep(intervalMs);
  }
}

/** true: nothing to read again (on the intermediate, or unreadable for good). */
function settled(reading: PodServing | undefined, intermediate: string): boolean {
  if (reading === undefined) return false;
  if ('issuer' in reading) return reading.issuer === intermediate;
  return reading.final === true;
}

async function readServing(
  client: ClusterClient,
  pod: ProxiedPodOfWorkload,
  deadline: number,
): Promise<PodServing> {
  try {
    const served = await readServedCertificate(client, pod, {
      timeoutMs: Math.max(1_000, Math.min(READ_TIMEOUT_MS, deadline - Date.now())),
    });
    return { issuer: served.issuerFingerprint, issuerSubject: served.issuerSubject };
  } catch (error) {
    const problem = error instanceof Error ? error.message : String(error);
    // Forbidden, or the pod is gone: waiting changes nothing. Anything else may pass (Envoy not up yet).
    return { problem, final: error instanceof PreconditionFailed };
  }
}

/** The resign wait, with its deadline (ROLLOUT_TIMEOUT_SECONDS, as for one wave) and its audit. */
export async function waitForResign(
  runtime: RotationRuntime,
  client: ClusterClient,
  pods: readonly ProxiedPodOfWorkload[],
  invocationEnd: number,
  executionId: string,
  phase: RotationPhase,
): Promise<{ readonly round: ResignRound; readonly summary: ResignSummary }> {
  const cluster = client.name;
  // A remote's proxies are signed by its primary's istiod, with the intermediate in the primary's cacerts.
  const signing = await signingClusterClient(runtime, client);
  const { files } = await readClusterCacerts(signing, phase);
  const intermediate = certificateFingerprint(files['ca-cert.pem'], {
    cluster: signing.name,
    file: 'ca-cert.pem',
  });
  const deadline = Math.min(invocationEnd, Date.now() + runtime.config.rolloutTimeoutSeconds * 1000);
  const { round, waitedMs } = await awaitResign(client, pods, intermediate, deadline);
  const summary: ResignSummary = {
    pods: round.pods,
    moved: round.moved,
    waitedSeconds: Math.round(waitedMs / 1000),
    fallback: round.behindWorkloads.length,
    fallbackWorkloads: round.behindWorkloads.slice(0, RESIGN_LISTED),
    unmovedUnmanaged: round.behindUnmanaged.slice(0, RESIGN_LISTED),
    behind: [...round.behind],
  };
  const allMoved = round.behindWorkloads.length === 0 && round.behindUnmanaged.length === 0;
  auditStateChange({
    phase,
    action: 'await-resign',
    cluster,
    executionId,
    // The proxies moved by themselves; a fallback is a change of plan, not a failure.
    outcome: 'succeeded',
    fingerprintsAfter: [intermediate],
    detail: {
      pods: round.pods,
      moved: round.moved,
      waitedSeconds: summary.waitedSeconds,
      fallbackWorkloads: round.behindWorkloads.length,
      unmovedUnmanaged: round.behindUnmanaged.length,
      allMoved,
      ...(!allMoved && { firstBehind: round.behind[0] ?? '' }),
    },
  });
  return { round, summary };
}
