// The wait of a `resign` cluster (lambdas/core/rotation/resign-wait.ts): rounds of reading what each
// running proxy serves, through its Envoy admin port (adapters/kube/served-certificate.ts), until
// every pod serves a leaf of the intermediate or the deadline passes. A pod that serves it is not read
// again (pilot-agent never goes back to an older intermediate); a pod that cannot be read for good
// (gone, forbidden) is not read again either, and its workload falls back to a restart.
import { setTimeout as sleep } from 'node:timers/promises';
import { mapWithConcurrency } from '../../adapters/eks/map-with-concurrency.js';
import type { ClusterClient } from '../../adapters/kube/cluster-client.js';
import { readServedCertificate, SERVED_READ_CONCURRENCY } from '../../adapters/kube/served-certificate.js';
import {
  judgeResignRound,
  type PodServing,
  type ProxiedPodOfWorkload,
  podKey,
  type ResignRound,
} from '../../core/rotation/resign-wait.js';
import { PreconditionFailed } from '../../core/rotation-errors.js';

/** Between rounds: istiod debounces its pushes (PILOT_DEBOUNCE_AFTER, 100 ms up to 10 s). */
const ROUND_INTERVAL_MS = 2_000;
/** A single read's timeout, as istioctl's. */
const READ_TIMEOUT_MS = 15_000;

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
