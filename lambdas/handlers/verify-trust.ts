import { connectEksCluster } from '../adapters/kube/eks-cluster-connector.js';
import { type VerifyTrustOutput, verifyTrust } from '../application/verify-trust.js';
import { gateStepSchema, parseInput } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

export type { VerifyTrustOutput } from '../application/verify-trust.js';

const PHASE = 'verify-trust';

/**
 * verify-trust, per cluster (a gate, writes nothing): istiod has published to every namespace's
 * istio-ca-root-cert one and the same root set, holding the current and the new root. Only istiod
 * publishes that ConfigMap, from the root-cert.pem it loaded, and the new root exists nowhere but in
 * what distribute-bundle wrote: so this shows istiod loaded that write, without reading cacerts (which
 * holds the intermediate's key). The cluster role it runs as reads no secret (group meshtrust-verifier).
 * Then, in a root rotation, every running proxy whose agent has PCDS holds both roots in what its Envoy
 * verifies peers with (application/await-proxy-roots.ts). Waits a little in-process for istiod's pushes;
 * after that VerificationFailed, which the state machine retries. `writes` (distribute-bundle's answers)
 * says when the write was made: past the time istiod takes one, it fails at once, naming a write istiod
 * missed (core/istio/istiod-load-window.ts).
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<VerifyTrustOutput> {
  const input = parseInput(gateStepSchema, event, PHASE);
  return runHandler(
    {
      phase: PHASE,
      executionId: input.executionId,
      cluster: input.cluster,
      lambdaContext: context,
      connectCluster: connectEksCluster,
    },
    (runtime) => verifyTrust(runtime, input),
  );
}
