import { readRootCertConfigMaps } from '../adapters/kube/trust-bundles.js';
import { TrustBundle } from '../core/pki/trust-bundle.js';
import { VerificationFailed } from '../core/rotation-errors.js';
import { readClusterCacerts } from './runtime/cluster-cacerts.js';
import { type ClusterStepInput, clusterStepSchema, parseInput } from './runtime/handler-input.js';
import { type LambdaContext, runHandler } from './runtime/run-handler.js';
import type { HandlerRuntime } from './runtime/runtime.js';
import { waitUntil } from './runtime/wait-until.js';

const PHASE = 'verify-trust';

export interface VerifyTrustOutput {
  readonly cluster: string;
  /** The roots every namespace's istio-ca-root-cert holds. */
  readonly roots: string[];
  readonly namespaces: number;
}

/**
 * verify-trust, per cluster (a gate, writes nothing): cacerts root-cert holds the current and the new
 * root, and istiod has published exactly that set to every namespace's istio-ca-root-cert. Waits a
 * little in-process for istiod's push; after that VerificationFailed, which the state machine retries.
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
  const { files } = await readClusterCacerts(client, PHASE);
  const written = TrustBundle.parse(files['root-cert.pem'], { cluster, file: 'root-cert.pem' });
  const absent = required.filter((root) => !written.has(root));
  if (absent.length > 0) {
    throw new VerificationFailed(
      `istio-system/cacerts of cluster ${cluster} does not trust ${absent.join(', ')}; run distribute-bundle for it first.`,
      { cluster, phase: PHASE },
    );
  }
  const lagging = await waitUntil(runtime.config.verifyTimeoutSeconds * 1000, async () => {
    const bundles = await readRootCertConfigMaps(client);
    // istiod skips some system namespaces on purpose; only the ones it publishes to must match.
    const published = bundles.filter((bundle) => bundle.rootCertPem !== undefined);
    const behind = published
      .filter((bundle) => !TrustBundle.parse(bundle.rootCertPem as string).equals(written))
      .map((bundle) => bundle.namespace);
    return {
      done: behind.length === 0 && published.length > 0,
      value: { behind, published: published.length },
    };
  });
  if (!lagging.done) {
    const { behind, published } = lagging.value;
    throw new VerificationFailed(
      published === 0
        ? `No namespace of cluster ${cluster} has istio-ca-root-cert; is istiod running? Check it, then retry.`
        : `istio-ca-root-cert of cluster ${cluster} does not yet hold the new root set in ${behind.length} namespace(s): ` +
            `${behind.slice(0, 10).join(', ')}${behind.length > 10 ? ', ...' : ''}. istiod may still be pushing; retry, ` +
            'and check istiod if it persists.',
      { cluster, phase: PHASE },
    );
  }
  return { cluster, roots: written.fingerprints(), namespaces: lagging.value.published };
}
