import { readRootCertConfigMaps } from '../adapters/kube/trust-bundles.js';
import { awaitProxyRoots } from '../application/await-proxy-roots.js';
import { primaryServing } from '../application/remote-cluster.js';
import type { HandlerRuntime } from '../application/runtime.js';
import { waitUntil } from '../application/wait-until.js';
import { judgePublishedRoots } from '../core/istio/published-roots.js';
import { VerificationFailed } from '../core/rotation-errors.js';
import { type ClusterStepInput, clusterStepSchema, parseInput } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

const PHASE = 'verify-trust';

export interface VerifyTrustOutput {
  readonly cluster: string;
  /** The roots every namespace's istio-ca-root-cert holds (the root-cert.pem istiod loaded). */
  readonly roots: string[];
  readonly namespaces: number;
  /**
   * Root rotations: the running proxies whose agent takes istiod's pushes (PCDS) and were found holding
   * both roots in their Envoy's ROOTCA, and those without PCDS, which take them at renewal.
   */
  readonly proxies?: { readonly confirmed: number; readonly atRenewal: number };
}

/**
 * verify-trust, per cluster (a gate, writes nothing): istiod has published to every namespace's
 * istio-ca-root-cert one and the same root set, holding the current and the new root. Only istiod
 * publishes that ConfigMap, from the root-cert.pem it loaded, and the new root exists nowhere but in
 * what distribute-bundle wrote: so this shows istiod loaded that write, without reading cacerts (which
 * holds the intermediate's key). The cluster role it runs as reads no secret (group meshtrust-verifier).
 * Then, in a root rotation, every running proxy whose agent has PCDS holds both roots in what its Envoy
 * verifies peers with (application/await-proxy-roots.ts). Waits a little in-process for istiod's pushes;
 * after that VerificationFailed, which the state machine retries.
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<VerifyTrustOutput> {
  const input = parseInput(clusterStepSchema, event, PHASE);
  return runHandler(
    { phase: PHASE, executionId: input.executionId, cluster: input.cluster, lambdaContext: context },
    (runtime) => verifyTrust(input, runtime),
  );
}

async function verifyTrust(input: ClusterStepInput, runtime: HandlerRuntime): Promise<VerifyTrustOutput> {
  const { cluster, currentRoot, stagedRoot } = input;
  const client = await runtime.clusterClient(cluster);
  const required = [currentRoot.fingerprint, ...(stagedRoot === null ? [] : [stagedRoot.fingerprint])];
  const deadline = Date.now() + runtime.config.verifyTimeoutSeconds * 1000;
  const checked = await waitUntil(runtime.config.verifyTimeoutSeconds * 1000, async () => {
    const review = judgePublishedRoots(await readRootCertConfigMaps(client), required, cluster);
    return { done: review.done, value: review };
  });
  const { behind, differing, published, roots } = checked.value;
  // A remote's bundles are published by its primary's istiod (REMOTE_CLUSTERS).
  const primary = primaryServing(runtime, cluster);
  const istiod = primary === undefined ? 'istiod' : `istiod of ${primary}, the primary serving this remote,`;
  if (!checked.done) {
    const lagging = [...behind, ...differing];
    throw new VerificationFailed(
      published === 0
        ? `No namespace of cluster ${cluster} has istio-ca-root-cert; is ${istiod} running? Check it, then retry.`
        : `istio-ca-root-cert of cluster ${cluster} does not yet hold the root set ${required.join(' + ')} in ` +
            `${lagging.length} namespace(s): ${lagging.slice(0, 10).join(', ')}${lagging.length > 10 ? ', ...' : ''}. ` +
            `${istiod} may still be pushing; retry. If it persists, check that istio-system/cacerts root-cert.pem ` +
            `${primary === undefined ? '' : `of ${primary} `}holds both roots (distribute-bundle writes it) and that istiod took it (its log).`,
      { cluster, phase: PHASE },
    );
  }
  const output = { cluster, roots: [...(roots ?? [])], namespaces: published };
  if (stagedRoot === null) return output;
  const proxies = await awaitProxyRoots(client, required, Math.max(0, deadline - Date.now()));
  if (!proxies.done) {
    throw new VerificationFailed(
      `In cluster ${cluster}, ${proxies.behindCount} running proxy(ies) with PCDS do not hold the root set ` +
        `${required.join(' + ')} in their Envoy's roots (ROOTCA) yet: ${proxies.behind.join('; ')}` +
        `${proxies.behindCount > proxies.behind.length ? '; ...' : ''}. istiod pushes the bundle to every ` +
        "proxy within seconds; retry. If it persists, the proxy is not connected to istiod: check its pilot-agent's log.",
      { cluster, phase: PHASE },
    );
  }
  return { ...output, proxies: { confirmed: proxies.confirmed, atRenewal: proxies.atRenewal } };
}
