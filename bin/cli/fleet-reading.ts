// What plan and verify read before they judge: the CA store's root stages and current root, the mesh's
// clusters, and each cluster read and reviewed exactly as preflight does (lambdas/application/
// review-fleet.ts). Reads only. An AWS or network failure is an environment problem (exit 3).
import type { DiscoveredCluster } from '../../lambdas/adapters/eks/fleet-discovery.js';
import { connectEksCluster } from '../../lambdas/adapters/kube/eks-cluster-connector.js';
import type { RootStages } from '../../lambdas/adapters/secrets/ca-secret-store.js';
import type { RotationConfig } from '../../lambdas/application/config.js';
import { type ClusterReading, reviewFleet } from '../../lambdas/application/review-fleet.js';
import { createRotationRuntime } from '../../lambdas/application/runtime.js';
import { type CertificateInfo, describeCertificate } from '../../lambdas/core/pki/certificate-info.js';
import { RotationError } from '../../lambdas/core/rotation-errors.js';
import { CliError, EnvironmentError, EXIT_CODES } from './cli-errors.js';

export interface FleetReading {
  readonly config: RotationConfig;
  readonly stages: RootStages;
  /** The CA store's current root (certificate only); undefined when the store holds none. */
  readonly currentRoot?: CertificateInfo & { readonly pem: string };
  readonly clusters: readonly DiscoveredCluster[];
  /** One per cluster; empty without a current root (nothing to review against). */
  readonly readings: readonly ClusterReading[];
}

export async function readFleet(config: RotationConfig, now: Date): Promise<FleetReading> {
  const runtime = createRotationRuntime(config, { connectCluster: connectEksCluster });
  try {
    const stages = await step(`read the CA store (${runtime.store.rootSecretName})`, () =>
      runtime.store.describeRoot(),
    );
    const clusters = await step(`find the clusters of mesh ${config.meshId} in EKS`, () => runtime.fleet());
    if (stages.current === undefined) return { config, stages, clusters, readings: [] };
    const stored = await step(`read the current root from ${runtime.store.rootSecretName}`, () =>
      runtime.store.readCurrentRoot(),
    );
    // Only the certificate leaves this function; the key stays in the store's answer, unused.
    const pem = stored.material.certificatePem;
    const currentRoot = { ...describeCertificate(pem, { file: 'current root' }), pem };
    const readings = await reviewFleet(runtime, clusters, currentRoot.fingerprint, now);
    return { config, stages, currentRoot, clusters, readings };
  } finally {
    runtime.close();
  }
}

async function step<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    // The fleet is not as the mesh needs it (e.g. a listed cluster does not exist): a finding, exit 1.
    if (error instanceof RotationError)
      throw new CliError(error.message, EXIT_CODES.checkFailed, { cause: error });
    const reason = error instanceof Error ? error.message : String(error);
    throw new EnvironmentError(
      `could not ${what}: ${reason}. Check the credentials (--profile), the region (--region) and, for a lab, ` +
        '`source DIR/env`.',
      { cause: error },
    );
  }
}
