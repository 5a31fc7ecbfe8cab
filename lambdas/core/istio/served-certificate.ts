// Which intermediate a running proxy's workload certificate comes from, judged from what its Envoy
// serves: the `default` secret of Envoy's config dump (GET /config_dump on the admin port, as
// `istioctl proxy-config secret` reads it), whose certificate chain Istio's agent gave Envoy by SDS,
// leaf first. The issuer is the certificate of that chain that names the leaf's issuer and whose key
// signed it, compared by SHA-256 of its DER with the intermediates the rotation knows (issues 12, 17).
import { isIssuedBy, type ParsedCertificate, parseCertificatesPem } from '../pki/index.js';
import { VerificationFailed } from '../rotation-errors.js';

/** The SDS resource Istio's agent serves the workload certificate as. */
export const WORKLOAD_SECRET_NAME = 'default';
/** The SDS resource Istio's agent serves the roots it trusts as (with PCDS, the pushed ones merged in). */
export const ROOT_SECRET_NAME = 'ROOTCA';

export interface ServedLeaf {
  /** SHA-256 of the leaf's DER, lowercase hex. */
  readonly leafFingerprint: string;
  /** SHA-256 of the DER of the chain's certificate that issued the leaf. */
  readonly issuerFingerprint: string;
  /** The issuer's subject, for messages. */
  readonly issuerSubject: string;
  /** The issuer itself, as the proxy serves it: a gate checks which root signed it. */
  readonly issuerCertificate: ParsedCertificate['certificate'];
  readonly notAfter: Date;
}

/**
 * The PEM chain of the `default` secret in a config dump, in either form Envoy prints: the
 * ConfigDump of a mask (configs[] holding a SecretsConfigDump with dynamic_active_secrets) or of
 * `resource=dynamic_active_secrets` (configs[] of DynamicSecret). Undefined when Envoy holds no such
 * secret yet. Only the public chain is read; Envoy redacts the key anyway.
 */
export function servedChainPem(configDump: unknown): string | undefined {
  const workload = activeSecret(configDump, WORKLOAD_SECRET_NAME);
  return decoded(workload?.secret?.tls_certificate?.certificate_chain?.inline_bytes);
}

/**
 * The PEM roots of the `ROOTCA` secret in a config dump (its validation context's trusted CA): what the
 * proxy verifies peers with. Undefined when Envoy holds no such secret yet.
 */
export function servedRootsPem(configDump: unknown): string | undefined {
  const roots = activeSecret(configDump, ROOT_SECRET_NAME);
  return decoded(roots?.secret?.validation_context?.trusted_ca?.inline_bytes);
}

interface DumpedSecret {
  readonly name?: unknown;
  readonly secret?: {
    readonly tls_certificate?: { readonly certificate_chain?: { readonly inline_bytes?: unknown } };
    readonly validation_context?: { readonly trusted_ca?: { readonly inline_bytes?: unknown } };
  };
}

function activeSecret(configDump: unknown, name: string): DumpedSecret | undefined {
  const configs = (configDump as { configs?: unknown } | null)?.configs;
  if (!Array.isArray(configs)) return undefined;
  const secrets = configs.flatMap((config: Record<string, unknown>) =>
    Array.isArray(config?.dynamic_active_secrets) ? config.dynamic_active_secrets : [config],
  ) as DumpedSecret[];
  return secrets.find((secret) => secret?.name === name);
}

function decoded(bytes: unknown): string | undefined {
  return typeof bytes === 'string' && bytes !== ''
    ? Buffer.from(bytes, 'base64').toString('utf8')
    : undefined;
}

/** The served leaf and its issuer within the served chain; VerificationFailed when they cannot be told. */
export async function servedLeafIssuer(
  chainPem: string,
  context: { readonly pod: string; readonly cluster?: string },
): Promise<ServedLeaf> {
  const where = { ...(context.cluster !== undefined ? { cluster: context.cluster } : {}) };
  let chain: ParsedCertificate[];
  try {
    chain = parseCertificatesPem(chainPem);
  } catch (error) {
    throw new VerificationFailed(`${context.pod} serves a certificate chain that does not parse`, {
      ...where,
      cause: error,
    });
  }
  const [leaf, ...rest] = chain;
  if (!leaf) throw new VerificationFailed(`${context.pod} serves an empty certificate chain`, where);
  for (const candidate of rest) {
    if (await isIssuedBy(leaf.certificate, candidate.certificate)) {
      return {
        leafFingerprint: leaf.fingerprint,
        issuerFingerprint: candidate.fingerprint,
        issuerSubject: candidate.certificate.subject,
        issuerCertificate: candidate.certificate,
        notAfter: leaf.certificate.notAfter,
      };
    }
  }
  throw new VerificationFailed(
    `${context.pod} serves a chain without the issuer of its leaf (issuer ${leaf.certificate.issuer}); ` +
      'Istio serves the leaf with the intermediates that signed it, so its issuer cannot be confirmed',
    where,
  );
}
