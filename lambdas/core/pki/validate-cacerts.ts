import { CACERTS_KEYS, type CacertsKey } from './cacerts.js';
import {
  CACERTS_RULES,
  type CacertsReview,
  checkCaCertHeadsChain,
  checkChainVerifies,
  checkExtendedKeyUsage,
  checkIssuersAreCa,
  checkKeyCertSign,
  checkKeyMatchesCert,
  checkNoTlsOverride,
  checkPathLength,
  checkValidity,
} from './cacerts-rules.js';
import { type ParsedCertificate, parseCertificatePem, parseCertificatesPem } from './certificate.js';
import { evaluateRule, type Finding } from './findings.js';
import { PkiError } from './pki-errors.js';
import { importPrivateKeyPem, publicKeyDerOf } from './private-key.js';

export interface ValidateCacertsOptions {
  /** The clock the validity windows are judged against. */
  readonly now: Date;
  readonly cluster?: string;
  /** Other keys found in the secret; `tls.crt`/`tls.key` among them are reported (checkNoTlsOverride). */
  readonly extraKeys?: readonly string[];
}

/**
 * Everything istiod checks before it takes a plug-in `cacerts`, as findings: one per rule (or per
 * offending file/certificate). istiod drops a bad `cacerts` silently, so this is the only way to
 * know before writing.
 */
export async function validateCacerts(
  files: Partial<Record<CacertsKey, string>>,
  options: ValidateCacertsOptions,
): Promise<Finding[]> {
  const cluster = options.cluster;
  const where = (file?: string) => ({ ...(cluster ? { cluster } : {}), ...(file ? { file } : {}) });
  const findings: Finding[] = [];

  for (const key of CACERTS_KEYS) {
    const present = typeof files[key] === 'string' && files[key].trim() !== '';
    findings.push({
      rule: CACERTS_RULES.keysPresent,
      status: present ? 'compliant' : 'non-compliant',
      reason: present
        ? `${key} is present`
        : `${key} is missing or empty; istiod needs all of ${CACERTS_KEYS.join(', ')}`,
      ...where(key),
    });
  }

  findings.push(checkNoTlsOverride(cluster, options.extraKeys ?? []));

  let caCert: ParsedCertificate | undefined;
  let certChain: readonly ParsedCertificate[] | undefined;
  let roots: readonly ParsedCertificate[] | undefined;
  let caKeyPublicDer: Uint8Array | undefined;
  // A parse failure is this rule's verdict, not a broken check: report the PkiError's message.
  const parse = async (key: CacertsKey, parser: (text: string) => unknown) => {
    const text = files[key];
    if (typeof text !== 'string' || text.trim() === '') return;
    try {
      await parser(text);
      findings.push({
        rule: CACERTS_RULES.pemParses,
        status: 'compliant',
        reason: `${key} parses`,
        ...where(key),
      });
    } catch (error) {
      findings.push({
        rule: CACERTS_RULES.pemParses,
        status: 'non-compliant',
        reason: error instanceof PkiError ? error.message : `${key} could not be parsed; regenerate it`,
        ...where(key),
      });
    }
  };
  await parse('ca-cert.pem', (text) => {
    caCert = parseCertificatePem(text, where('ca-cert.pem'));
  });
  await parse('cert-chain.pem', (text) => {
    certChain = parseCertificatesPem(text, where('cert-chain.pem'));
  });
  await parse('root-cert.pem', (text) => {
    roots = parseCertificatesPem(text, where('root-cert.pem'));
  });
  await parse('ca-key.pem', async (text) => {
    caKeyPublicDer = publicKeyDerOf(await importPrivateKeyPem(text, where('ca-key.pem')));
  });

  const review: CacertsReview = { cluster, now: options.now, caCert, certChain, roots, caKeyPublicDer };
  const rules = [
    [CACERTS_RULES.caCertHeadsChain, checkCaCertHeadsChain],
    [CACERTS_RULES.chainVerifies, checkChainVerifies],
    [CACERTS_RULES.validity, checkValidity],
    [CACERTS_RULES.issuersAreCa, checkIssuersAreCa],
    [CACERTS_RULES.keyCertSign, checkKeyCertSign],
    [CACERTS_RULES.pathLength, checkPathLength],
    [CACERTS_RULES.extendedKeyUsage, checkExtendedKeyUsage],
    [CACERTS_RULES.keyMatchesCert, checkKeyMatchesCert],
  ] as const;
  for (const [rule, check] of rules) {
    findings.push(...(await evaluateRule(rule, where(), () => check(review))));
  }
  return findings;
}
