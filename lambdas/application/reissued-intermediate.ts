import type { CaMaterial, StoredCa } from '../adapters/secrets/ca-material.js';
import { clientRequestTokenFor } from '../adapters/secrets/client-request-token.js';
import type { StoredRoot } from '../adapters/secrets/root-material.js';
import { createIntermediateCa } from '../core/pki/certificate-authority.js';
import { certificateFingerprint } from '../core/pki/fingerprint.js';
import { rootIssuer } from './root-ca.js';
import type { RotationRuntime } from './runtime.js';

/**
 * reissue-intermediate's intermediate for a cluster, stored under a version id derived from the
 * execution: on a re-run the one stored already, so the cluster never sees a second one; else a new one
 * signed by `issuer` (its KMS key, or an imported root's key secret), stored before it is written.
 */
export async function reissuedIntermediate(
  runtime: Pick<RotationRuntime, 'store' | 'rootKeys' | 'config'>,
  context: { readonly executionId: string; readonly cluster: string; readonly issuer: StoredRoot },
): Promise<Pick<StoredCa, 'ref' | 'material'>> {
  const { store, config } = runtime;
  const { executionId, cluster, issuer } = context;
  const token = clientRequestTokenFor(executionId, `intermediate/${cluster}`);
  const stored = await store.tryReadIntermediate(cluster);
  if (stored?.ref.versionId === token) return stored;
  const created = await createIntermediateCa({
    cluster,
    issuer: await rootIssuer(runtime, issuer, { phase: 'reissue-intermediate', cluster }),
    validityDays: config.intermediateValidityDays,
    algorithm: config.keyAlgorithm,
  });
  const material: CaMaterial = { ...created, fingerprint: certificateFingerprint(created.certificatePem) };
  const ref = await store.putIntermediate(cluster, material, token);
  return { ref, material };
}
