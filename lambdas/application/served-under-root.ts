// Whether a pod's proxy serves a leaf under a root: the leaf's issuer, as read from its Envoy admin
// port (adapters/kube/served-certificate.ts), checked against the root's signature.
import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { type PodRef, readServedCertificate } from '../adapters/kube/served-certificate.js';
import { isIssuedBy, type ParsedCertificate } from '../core/pki/index.js';
import type { ServedUnderRoot } from '../core/rotation/workload-move-findings.js';

/** What `pod` serves, judged against `root`; a read that fails is `unreadable`, with why. */
export async function readServedUnderRoot(
  client: ClusterClient,
  pod: PodRef,
  root: ParsedCertificate,
): Promise<ServedUnderRoot> {
  try {
    const served = await readServedCertificate(client, pod);
    if (await isIssuedBy(served.issuerCertificate, root.certificate)) return { signed: true };
    return {
      signed: false,
      issuerSubject: served.issuerSubject,
      issuerFingerprint: served.issuerFingerprint,
    };
  } catch (error) {
    return { unreadable: error instanceof Error ? error.message : String(error) };
  }
}
