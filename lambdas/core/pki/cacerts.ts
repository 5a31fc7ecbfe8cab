import { parseCertificatesPem } from './certificate.js';
import type { CaMaterial } from './certificate-authority.js';
import { encodePem } from './pem.js';
import type { TrustBundle } from './trust-bundle.js';

/** The four keys of istiod's plug-in CA secret `istio-system/cacerts`, all required. */
export const CACERTS_KEYS = ['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem'] as const;
export type CacertsKey = (typeof CACERTS_KEYS)[number];
export type CacertsFiles = Readonly<Record<CacertsKey, string>>;
/** What may leave a handler: everything but the key. */
export type CacertsPublicFiles = Readonly<Omit<CacertsFiles, 'ca-key.pem'>>;

/**
 * Keys meshtrust never leaves in `cacerts`: with tls.crt istiod reads tls.crt, tls.key and ca.crt instead
 * of the plug-in files; tls.key alone waits for a tls.crt to do the same (cacerts-rules checkNoTlsOverride).
 */
export const CACERTS_FORBIDDEN_KEYS = ['tls.crt', 'tls.key'] as const;

export interface AssembleCacertsInput {
  readonly intermediate: CaMaterial;
  /** The certificates above the intermediate, its issuer first, up to and including the root. */
  readonly chainAbove: readonly string[];
  /**
   * root-cert.pem: a bundle is written canonically (a new cacerts); a string is an existing
   * root-cert.pem kept byte for byte, because Istio up to 1.29 compares that file's raw bytes.
   */
  readonly trustedRoots: TrustBundle | string;
}

/** The exact contents istiod expects; ca-cert and cert-chain re-encoded canonically. */
export function assembleCacerts(input: AssembleCacertsInput): CacertsFiles {
  const caCert = canonical(input.intermediate.certificatePem, 'ca-cert.pem');
  const above = input.chainAbove.map((pem) => canonical(pem, 'cert-chain.pem'));
  return {
    'ca-cert.pem': caCert,
    'ca-key.pem': input.intermediate.privateKeyPem,
    'cert-chain.pem': [caCert, ...above].join(''),
    'root-cert.pem': typeof input.trustedRoots === 'string' ? input.trustedRoots : input.trustedRoots.toPem(),
  };
}

export function publicPartsOf(files: CacertsFiles): CacertsPublicFiles {
  return {
    'ca-cert.pem': files['ca-cert.pem'],
    'cert-chain.pem': files['cert-chain.pem'],
    'root-cert.pem': files['root-cert.pem'],
  };
}

function canonical(pem: string, file: string): string {
  return parseCertificatesPem(pem, { file })
    .map((certificate) => encodePem('CERTIFICATE', certificate.der))
    .join('');
}
