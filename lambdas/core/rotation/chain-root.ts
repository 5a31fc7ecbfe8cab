import type { CacertsFiles } from '../pki/cacerts.js';
import { parseCertificatePem, parseCertificatesPem } from '../pki/certificate.js';
import { buildCertificatePath } from '../pki/certificate-path.js';
import type { TrustBundle } from '../pki/trust-bundle.js';

/**
 * The fingerprint of the root in `roots` that the cluster's intermediate (`ca-cert.pem`) chains to
 * through `cert-chain.pem`, or undefined when it chains to none of them. Tells which root a cluster
 * issues workload certificates under.
 */
export async function chainRootOf(
  files: CacertsFiles,
  roots: TrustBundle,
  cluster?: string,
): Promise<string | undefined> {
  const context = cluster === undefined ? {} : { cluster };
  const leaf = {
    parsed: parseCertificatePem(files['ca-cert.pem'], { ...context, file: 'ca-cert.pem' }),
    file: 'ca-cert.pem',
  };
  const chain = parseCertificatesPem(files['cert-chain.pem'], { ...context, file: 'cert-chain.pem' }).map(
    (parsed) => ({ parsed, file: 'cert-chain.pem' }),
  );
  const trusted = roots.certificates().map((parsed) => ({ parsed, file: 'root-cert.pem' }));
  const result = await buildCertificatePath(leaf, chain, trusted);
  if (!result.verified) return undefined;
  return result.path[result.path.length - 1]?.parsed.fingerprint;
}
