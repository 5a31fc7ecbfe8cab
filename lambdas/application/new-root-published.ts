// The new root as a cluster publishes it: istiod writes the root-cert.pem it loaded to every namespace's
// istio-ca-root-cert, so the new root is found there by its fingerprint once istiod took
// distribute-bundle's write. verify-workloads checks what proxies serve against it.
import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { readRootCertConfigMaps } from '../adapters/kube/trust-bundles.js';
import { type ParsedCertificate, parseCertificatesPem } from '../core/pki/index.js';
import { newRootMissingFinding } from '../core/rotation/workload-move-findings.js';

/** The new root, or the problems of not finding it: named once, to the first caller. */
export type NewRootLookup = () => Promise<ParsedCertificate | { readonly problems: readonly string[] }>;

/**
 * Looks the root up in the cluster's istio-ca-root-cert ConfigMaps when first asked, and answers every
 * later call from that read.
 */
export function newRootLookup(client: ClusterClient, fingerprint: string): NewRootLookup {
  let read: Promise<ParsedCertificate | undefined> | undefined;
  return async () => {
    const first = read === undefined;
    read ??= publishedRoot(client, fingerprint);
    const root = await read;
    if (root !== undefined) return root;
    return { problems: first ? [newRootMissingFinding(client.name, fingerprint)] : [] };
  };
}

async function publishedRoot(
  client: ClusterClient,
  fingerprint: string,
): Promise<ParsedCertificate | undefined> {
  for (const { rootCertPem } of await readRootCertConfigMaps(client)) {
    if (rootCertPem === undefined) continue;
    const root = parseCertificatesPem(rootCertPem).find((candidate) => candidate.fingerprint === fingerprint);
    if (root !== undefined) return root;
  }
  return undefined;
}
