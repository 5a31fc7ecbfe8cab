// The data-plane half of verify-trust (issue 12): once every istio-ca-root-cert holds the new root set,
// every running proxy whose agent takes istiod's pushes (PCDS in its own env) must hold it in the roots
// its Envoy verifies peers with (ROOTCA), read through its admin port. Proxies without PCDS learn the
// roots at renewal, which the plan's proxy-trust wait covers; they are counted, not read.
import { mapWithConcurrency } from '../adapters/eks/map-with-concurrency.js';
import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { type ProxiedPodReading, readProxiedPods } from '../adapters/kube/proxied-pods.js';
import { PodGone, readServedRoots, SERVED_READ_CONCURRENCY } from '../adapters/kube/served-certificate.js';
import { rootsMissing, takesPushes } from '../core/istio/pushed-roots.js';
import { PreconditionFailed } from '../core/rotation-errors.js';
import { waitUntil } from './wait-until.js';

const BEHIND_NAMED = 5;

export interface ProxyRootsOutcome {
  /** Every pushed-to proxy holds the roots. */
  readonly done: boolean;
  /** Proxies read and found holding every required root. */
  readonly confirmed: number;
  /** Running proxies without PCDS: they take the roots at renewal (await-proxy-trust). */
  readonly atRenewal: number;
  /** Up to five proxies still without them, with why. */
  readonly behind: readonly string[];
  readonly behindCount: number;
}

/** Reads until every pushed-to proxy's ROOTCA holds `required` (fingerprints), or `timeoutMs` passes. */
export async function awaitProxyRoots(
  client: ClusterClient,
  required: readonly string[],
  timeoutMs: number,
): Promise<ProxyRootsOutcome> {
  const proxies = await readProxiedPods(client);
  const pushed = proxies.filter(takesPushes);
  const outcome = await awaitServedRoots(client, pushed, required, timeoutMs);
  return { ...outcome, atRenewal: proxies.length - pushed.length };
}

/**
 * Reads each of `pods`' ROOTCA until every one holds `required` (fingerprints) or `timeoutMs` passes
 * (at least once each). A pod deleted meanwhile counts as holding them: it serves no one any more.
 */
export async function awaitServedRoots(
  client: ClusterClient,
  pods: readonly ProxiedPodReading[],
  required: readonly string[],
  timeoutMs: number,
): Promise<Omit<ProxyRootsOutcome, 'atRenewal'>> {
  const confirmed = new Set<string>();
  const gone = new Set<string>();
  const outcome = await waitUntil(
    timeoutMs,
    async () => {
      const toRead = pods.filter((pod) => {
        const key = `${pod.namespace}/${pod.name}`;
        return !confirmed.has(key) && !gone.has(key);
      });
      const problems = await mapWithConcurrency(toRead, SERVED_READ_CONCURRENCY, async (pod) => {
        const key = `${pod.namespace}/${pod.name}`;
        try {
          const missing = rootsMissing(await readServedRoots(client, pod), required);
          if (missing.length === 0) {
            confirmed.add(key);
            return undefined;
          }
          return `${key} lacks ${missing.map((fingerprint) => fingerprint.slice(0, 12)).join(', ')}`;
        } catch (error) {
          // A pod deleted meanwhile holds nothing; a refusal (RBAC) will not pass by waiting.
          if (error instanceof PodGone) {
            gone.add(key);
            return undefined;
          }
          if (error instanceof PreconditionFailed) throw error;
          return `${key}: ${error instanceof Error ? error.message : String(error)}`;
        }
      });
      const behind = problems.filter((problem): problem is string => problem !== undefined);
      return { done: behind.length === 0, value: behind };
    },
    1000,
  );
  return {
    done: outcome.done,
    confirmed: confirmed.size,
    behind: outcome.value.slice(0, BEHIND_NAMED),
    behindCount: outcome.value.length,
  };
}
