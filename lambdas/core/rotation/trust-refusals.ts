// verify-trust's refusals (VerificationFailed, which the state machine retries): istiod has not yet
// published the root set to every namespace, or a proxy with PCDS does not hold it yet. Pure: the
// application layer reads the ConfigMaps and the proxies, judges them (core/istio/published-roots.ts,
// core/istio/pushed-roots.ts) and words the refusal with these.
import { describeLoadDelay, missedWriteAdvice } from '../istio/istiod-load-window.js';
import type { PublishedRootsReview } from '../istio/published-roots.js';

/** Namespaces named before the refusal says "...". */
const NAMED = 10;

/** Where verify-trust looks: the cluster, the roots it requires, and the primary publishing for a remote. */
export interface TrustCheck {
  readonly cluster: string;
  /** Fingerprints: the current root, and the staged one in a root rotation. */
  readonly required: readonly string[];
  /** The primary whose istiod serves the cluster, when it is a remote (REMOTE_CLUSTERS). */
  readonly primary?: string;
}

/** What verify-trust read of the running proxies with PCDS (application/await-proxy-roots.ts). */
export interface ProxyRootsRead {
  readonly done: boolean;
  /** The first proxies without the roots, with why. */
  readonly behind: readonly string[];
  readonly behindCount: number;
}

/**
 * The write istiod should have published by now: distribute-bundle's, at or before `writtenBy`, and it
 * is `now`, past the window in which istiod takes a change (core/istio/istiod-load-window.ts).
 */
export interface OverdueWrite {
  readonly writtenBy: Date;
  readonly now: Date;
  readonly kubeletSyncPeriodSeconds: number;
}

/**
 * The refusal while istiod has not published the required root set everywhere; undefined once it has.
 * With `overdue`, the write it still has not published is past the time istiod takes one: the refusal
 * says it missed the write and what makes it read the files, rather than "may still be pushing".
 */
export function publishedRootsRefusal(
  check: TrustCheck,
  review: PublishedRootsReview,
  overdue?: OverdueWrite,
): string | undefined {
  if (review.done) return undefined;
  const { cluster, required, primary } = check;
  // A remote's bundles are published by its primary's istiod.
  const istiod = primary === undefined ? 'istiod' : `istiod of ${primary}, the primary serving this remote,`;
  if (review.published === 0) {
    return `No namespace of cluster ${cluster} has istio-ca-root-cert; is ${istiod} running? Check it, then retry.`;
  }
  const lagging = [...review.behind, ...review.differing];
  if (overdue !== undefined) {
    const publisher = primary === undefined ? `istiod of cluster ${cluster}` : istiod;
    const head =
      `istio-ca-root-cert of cluster ${cluster} does not hold the root set ${required.join(' + ')} in ` +
      `${lagging.length} namespace(s) (${lagging.slice(0, NAMED).join(', ')}${lagging.length > NAMED ? ', ...' : ''}) ` +
      `${describeLoadDelay(overdue.writtenBy, overdue.now, overdue.kubeletSyncPeriodSeconds)}: `;
    // No namespace holds the set: istiod never took the write. Some do: it took it, and these lag.
    return review.roots === undefined
      ? `${head}${publisher} still serves the roots it had before distribute-bundle wrote istio-system/cacerts. ${missedWriteAdvice('rotation')}`
      : `${head}${publisher} published the set to the other namespaces, so it took the write, but not to these: ` +
          'its log names the ConfigMap writes that failed. Retry once they are fixed; it rolls back if they never are.';
  }
  return (
    `istio-ca-root-cert of cluster ${cluster} does not yet hold the root set ${required.join(' + ')} in ` +
    `${lagging.length} namespace(s): ${lagging.slice(0, NAMED).join(', ')}${lagging.length > NAMED ? ', ...' : ''}. ` +
    `${istiod} may still be pushing; retry. If it persists, check that istio-system/cacerts root-cert.pem ` +
    `${primary === undefined ? '' : `of ${primary} `}holds both roots (distribute-bundle writes it) and that istiod took it (its log).`
  );
}

/** The refusal while a running proxy with PCDS lacks a required root in its Envoy's ROOTCA; undefined once none does. */
export function proxyRootsRefusal(check: TrustCheck, proxies: ProxyRootsRead): string | undefined {
  if (proxies.done) return undefined;
  const { cluster, required } = check;
  return (
    `In cluster ${cluster}, ${proxies.behindCount} running proxy(ies) with PCDS do not hold the root set ` +
    `${required.join(' + ')} in their Envoy's roots (ROOTCA) yet: ${proxies.behind.join('; ')}` +
    `${proxies.behindCount > proxies.behind.length ? '; ...' : ''}. istiod pushes the bundle to every ` +
    "proxy within seconds; retry. If it persists, the proxy is not connected to istiod: check its pilot-agent's log."
  );
}
