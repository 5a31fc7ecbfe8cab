// The public parts of a cluster's `cacerts`, with fingerprints: what the lab, the rehearsal's timeline
// and its report show of a Secret whichever engine stores it. Only public files are decoded;
// ca-key.pem is never read.
import {
  type CacertsPublicFiles,
  certificateFingerprint,
  parseCertificatesPem,
  TrustBundle,
} from '../lambdas/core/pki/index.js';

/** The public parts of a cluster's `cacerts` as stored now, with fingerprints. */
export interface CacertsSnapshot {
  readonly cluster: string;
  readonly resourceVersion: string;
  readonly files: Partial<CacertsPublicFiles>;
  readonly caCertFingerprint?: string;
  readonly rootFingerprints: readonly string[];
  /** SHA-256 of the root that signs ca-cert.pem (the last certificate of cert-chain.pem). */
  readonly issuerFingerprint?: string;
}

/** A Secret's `data` (base64 values) as read from an API server or the model's store. */
export type SecretData = Readonly<Record<string, string>>;

export function cacertsSnapshot(
  cluster: string,
  data: SecretData | undefined,
  resourceVersion: string,
): CacertsSnapshot {
  const files: Partial<Record<keyof CacertsPublicFiles, string>> = {};
  for (const key of ['ca-cert.pem', 'cert-chain.pem', 'root-cert.pem'] as const) {
    const value = data?.[key];
    if (typeof value === 'string') files[key] = Buffer.from(value, 'base64').toString('utf8');
  }
  // Whatever was written may not parse: the snapshot then shows the text, without fingerprints.
  const caCertFingerprint = attempt(() => certificateFingerprint(files['ca-cert.pem'] ?? ''));
  const issuerFingerprint = attempt(
    () => parseCertificatesPem(files['cert-chain.pem'] ?? '').at(-1)?.fingerprint,
  );
  return {
    cluster,
    resourceVersion,
    files,
    ...(caCertFingerprint === undefined ? {} : { caCertFingerprint }),
    rootFingerprints: attempt(() => TrustBundle.parse(files['root-cert.pem'] ?? '').fingerprints()) ?? [],
    ...(issuerFingerprint === undefined ? {} : { issuerFingerprint }),
  };
}

function attempt<T>(compute: () => T): T | undefined {
  try {
    return compute();
  } catch {
    return undefined;
  }
}
