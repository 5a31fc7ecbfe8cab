/**
 * The checks istiod (through Go's x509) applies to a plug-in `cacerts`, one pure function per rule.
 * Each takes the parsed review and returns findings; `validateCacerts` composes them.
 */
import { CACERTS_FORBIDDEN_KEYS, CACERTS_KEYS } from './cacerts.js';
import { type ParsedCertificate, sameBytes } from './certificate.js';
import { extendedKeyUsageNames } from './certificate-info.js';
import { buildCertificatePath, type PathElement, type PathResult } from './certificate-path.js';
import type { Finding, FindingStatus } from './findings.js';
import { x509 } from './x509.js';

export const CACERTS_RULES = {
  keysPresent: 'cacerts-keys-present',
  noTlsOverride: 'cacerts-no-tls-override',
  pemParses: 'cacerts-pem-parses',
  caCertHeadsChain: 'cacerts-ca-cert-heads-chain',
  chainVerifies: 'cacerts-chain-verifies',
  validity: 'cacerts-certificates-in-validity',
  issuersAreCa: 'cacerts-issuers-are-ca',
  keyCertSign: 'cacerts-issuers-key-cert-sign',
  pathLength: 'cacerts-path-length',
  extendedKeyUsage: 'cacerts-eku-allows-server-auth',
  keyMatchesCert: 'cacerts-key-matches-cert',
} as const;
export type CacertsRule = (typeof CACERTS_RULES)[keyof typeof CACERTS_RULES];

/** What the rules look at; undefined parts did not parse (and have their own finding). */
export interface CacertsReview {
  readonly cluster?: string;
  readonly now: Date;
  readonly caCert?: ParsedCertificate;
  readonly certChain?: readonly ParsedCertificate[];
  readonly roots?: readonly ParsedCertificate[];
  /** SubjectPublicKeyInfo DER derived from ca-key.pem. */
  readonly caKeyPublicDer?: Uint8Array;
}

const SERVER_AUTH_OR_ANY = new Set(['serverAuth', 'anyExtendedKeyUsage']);

function finding(
  review: Pick<CacertsReview, 'cluster'>,
  rule: CacertsRule,
  status: FindingStatus,
  reason: string,
  file?: string,
): Finding {
  return {
    rule,
    status,
    reason,
    ...(review.cluster ? { cluster: review.cluster } : {}),
    ...(file ? { file } : {}),
  };
}

function skipped(review: CacertsReview, rule: CacertsRule, needs: string): Finding {
  return finding(
    review,
    rule,
    'not-applicable',
    `not checked: ${needs} did not parse (see ${CACERTS_RULES.pemParses})`,
  );
}

function label(element: PathElement): string {
  return `"${element.parsed.certificate.subject}" (${element.file})`;
}

/**
 * istiod picks its CA files by one test (`detectSigningCABundleAndCRL`, pilot/pkg/bootstrap/istio_ca.go):
 * when `tls.crt` exists it signs with tls.crt and tls.key, trusts ca.crt and chains tls.crt + ca.crt, and
 * reads none of the plug-in files; missing tls.key or ca.crt then make the bundle incomplete (refused at
 * start, dropped on reload). `tls.key` alone changes nothing, until a tls.crt arrives.
 */
export function checkNoTlsOverride(cluster: string | undefined, otherKeys: readonly string[]): Finding {
  const review = { cluster };
  const rule = CACERTS_RULES.noTlsOverride;
  const present = CACERTS_FORBIDDEN_KEYS.filter((key) => otherKeys.includes(key));
  if (present.length === 0) return finding(review, rule, 'compliant', 'cacerts holds no tls.crt/tls.key');
  const plugIn = CACERTS_KEYS.join(', ');
  if (present.includes('tls.crt')) {
    return finding(
      review,
      rule,
      'non-compliant',
      `cacerts holds ${present.join(' and ')}: with tls.crt present istiod signs with tls.crt and tls.key and trusts ` +
        `ca.crt (the kubernetes.io/tls layout) and reads none of ${plugIn}, so a rotation of those files would change ` +
        'nothing istiod uses (without tls.key or ca.crt istiod refuses the bundle as incomplete). Move that CA into ' +
        'the plug-in files and remove tls.crt, tls.key and ca.crt from cacerts',
      'tls.crt',
    );
  }
  return finding(
    review,
    rule,
    'non-compliant',
    `cacerts holds tls.key without tls.crt: istiod ignores it for now, but a tls.crt added later would switch istiod ` +
      `from ${plugIn} to the kubernetes.io/tls layout (tls.crt, tls.key, ca.crt). Remove tls.key from cacerts`,
    'tls.key',
  );
}

export function checkCaCertHeadsChain(review: CacertsReview): Finding {
  const rule = CACERTS_RULES.caCertHeadsChain;
  if (!review.caCert || !review.certChain) return skipped(review, rule, 'ca-cert.pem or cert-chain.pem');
  if (sameBytes(review.caCert.der, review.certChain[0].der)) {
    return finding(review, rule, 'compliant', 'cert-chain.pem starts with ca-cert.pem', 'cert-chain.pem');
  }
  return finding(
    review,
    rule,
    'non-compliant',
    'the first certificate of cert-chain.pem is not ca-cert.pem; write cert-chain.pem as ca-cert.pem followed by its issuers up to the root',
    'cert-chain.pem',
  );
}

const paths = new WeakMap<CacertsReview, Promise<PathResult | undefined>>();

/** The chain ca-cert -> cert-chain -> root-cert, or why there is none; built once per review. */
export function pathOf(review: CacertsReview): Promise<PathResult | undefined> {
  let path = paths.get(review);
  if (!path) {
    path = buildPathOf(review);
    paths.set(review, path);
  }
  return path;
}

async function buildPathOf(review: CacertsReview): Promise<PathResult | undefined> {
  if (!review.caCert || !review.certChain || !review.roots) return undefined;
  return buildCertificatePath(
    { parsed: review.caCert, file: 'ca-cert.pem' },
    review.certChain.map((parsed) => ({ parsed, file: 'cert-chain.pem' })),
    review.roots.map((parsed) => ({ parsed, file: 'root-cert.pem' })),
  );
}

export async function checkChainVerifies(review: CacertsReview): Promise<Finding> {
  const rule = CACERTS_RULES.chainVerifies;
  const result = await pathOf(review);
  if (!result) return skipped(review, rule, 'ca-cert.pem, cert-chain.pem or root-cert.pem');
  if (result.verified) {
    const root = result.path[result.path.length - 1];
    return finding(
      review,
      rule,
      'compliant',
      `ca-cert.pem chains to the trusted root "${root.parsed.certificate.subject}" (${root.parsed.fingerprint})`,
      'ca-cert.pem',
    );
  }
  return finding(
    review,
    rule,
    'non-compliant',
    `ca-cert.pem does not chain to a root in root-cert.pem: ${result.reason}. Put every issuer of ca-cert.pem in cert-chain.pem and its root in root-cert.pem`,
    'ca-cert.pem',
  );
}

/** The certificates the chain rules judge: the verified path, else the chain as written. */
async function chainUnderReview(review: CacertsReview): Promise<PathElement[] | undefined> {
  const result = await pathOf(review);
  if (result?.verified) return [...result.path];
  if (!review.caCert) return undefined;
  return [
    { parsed: review.caCert, file: 'ca-cert.pem' },
    ...(review.certChain ?? []).slice(1).map((parsed) => ({ parsed, file: 'cert-chain.pem' })),
  ];
}

async function perCertificate(
  review: CacertsReview,
  rule: CacertsRule,
  okReason: string,
  problemOf: (element: PathElement, index: number) => string | undefined,
): Promise<Finding[]> {
  const chain = await chainUnderReview(review);
  if (!chain) return [skipped(review, rule, 'ca-cert.pem')];
  const problems = chain.flatMap((element, index) => {
    const problem = problemOf(element, index);
    return problem ? [finding(review, rule, 'non-compliant', problem, element.file)] : [];
  });
  return problems.length > 0 ? problems : [finding(review, rule, 'compliant', okReason, 'ca-cert.pem')];
}

export function checkValidity(review: CacertsReview): Promise<Finding[]> {
  const now = review.now.getTime();
  return perCertificate(
    review,
    CACERTS_RULES.validity,
    `every certificate of the chain is valid at ${review.now.toISOString()}`,
    (element) => {
      const { notBefore, notAfter } = element.parsed.certificate;
      if (notAfter.getTime() < now) {
        return `${label(element)} expired at ${notAfter.toISOString()}; rotate it (issue a new certificate) now`;
      }
      if (notBefore.getTime() > now) {
        return `${label(element)} is not valid before ${notBefore.toISOString()}; check the clock of the issuing machine or wait`;
      }
      return undefined;
    },
  );
}

export function checkIssuersAreCa(review: CacertsReview): Promise<Finding[]> {
  return perCertificate(
    review,
    CACERTS_RULES.issuersAreCa,
    'every certificate of the chain has basicConstraints CA:TRUE',
    (element) =>
      element.parsed.certificate.getExtension(x509.BasicConstraintsExtension)?.ca
        ? undefined
        : `${label(element)} is not a CA (basicConstraints CA:TRUE missing) but signs certificates; reissue it as a CA`,
  );
}

export function checkKeyCertSign(review: CacertsReview): Promise<Finding[]> {
  return perCertificate(
    review,
    CACERTS_RULES.keyCertSign,
    'every certificate of the chain may sign certificates (keyCertSign, or no keyUsage restriction)',
    (element) => {
      const keyUsage = element.parsed.certificate.getExtension(x509.KeyUsagesExtension);
      // No keyUsage extension means no restriction (RFC 5280, Go and openssl agree).
      if (!keyUsage || keyUsage.usages & x509.KeyUsageFlags.keyCertSign) return undefined;
      return `${label(element)} has a keyUsage without keyCertSign, so it may not sign certificates; reissue it with keyUsage keyCertSign`;
    },
  );
}

export function checkPathLength(review: CacertsReview): Promise<Finding[]> {
  // Workload certificates sit below ca-cert, so the certificate at index i has i CAs below it.
  return perCertificate(
    review,
    CACERTS_RULES.pathLength,
    'no pathlen constraint of the chain is exceeded',
    (element, index) => {
      const constraints = element.parsed.certificate.getExtension(x509.BasicConstraintsExtension);
      if (!constraints?.ca || constraints.pathLength === undefined) return undefined;
      if (index <= constraints.pathLength) return undefined;
      return `${label(element)} has pathlen:${constraints.pathLength} but ${index} CA certificate(s) sit below it; reissue the CAs below it directly under a CA whose pathlen allows them`;
    },
  );
}

export function checkExtendedKeyUsage(review: CacertsReview): Promise<Finding[]> {
  // istiod verifies ca-cert with Go's default usage (serverAuth); Go applies EKU to the whole chain.
  return perCertificate(
    review,
    CACERTS_RULES.extendedKeyUsage,
    'no certificate of the chain restricts extendedKeyUsage away from serverAuth',
    (element) => {
      const usages = extendedKeyUsageNames(element.parsed.certificate);
      if (!usages || usages.some((usage) => SERVER_AUTH_OR_ANY.has(usage))) return undefined;
      return `${label(element)} has extendedKeyUsage ${usages.join(', ')} without serverAuth, which istiod rejects; reissue it without EKU (or with serverAuth)`;
    },
  );
}

export function checkKeyMatchesCert(review: CacertsReview): Finding {
  const rule = CACERTS_RULES.keyMatchesCert;
  if (!review.caCert || !review.caKeyPublicDer) return skipped(review, rule, 'ca-cert.pem or ca-key.pem');
  if (sameBytes(review.caKeyPublicDer, review.caCert.certificate.publicKey.rawData)) {
    return finding(review, rule, 'compliant', 'ca-key.pem is the private key of ca-cert.pem', 'ca-key.pem');
  }
  return finding(
    review,
    rule,
    'non-compliant',
    'ca-key.pem is not the private key of ca-cert.pem; store the key that was generated with this certificate (or reissue the certificate for this key)',
    'ca-key.pem',
  );
}
