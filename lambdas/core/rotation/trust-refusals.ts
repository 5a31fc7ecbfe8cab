// verify-trust's refusals (VerificationFailed, which the state machine retries): istiod has not yet
// published the root set to every namespace, or a proxy with PCDS does not hold it yet. Pure: the
// application layer reads the ConfigMaps and the proxies, judges them (core/istio/published-roots.ts,
// core/istio/pushed-roots.ts) and words the refusal with these.
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

/** The refusal while istiod has not published the required root set everywhere; undefined once it has. */
export function publishedRootsRefusal(check: TrustCheck, review: PublishedRootsReview): string | undefined {
  if (review.done) return undefined;
  const { cluster, required, primary } = check;
  // A remote's bundles are published by its primary's istiod.
  const istiod = primary === undefined ? 'istiod' : `istiod of ${primary}, the primary serving this remote,`;
  if (review.published === 0) {
    return `No namespace of cluster ${cluster} has istio-ca-root-cert; is ${istiod} running? Check it, then retry.`;
  }
  const lagging = [...review.behind, ...review.differing];
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
