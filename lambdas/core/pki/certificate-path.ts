import { isIssuedBy, namesMatch, type ParsedCertificate } from './certificate.js';

/** A certificate and the cacerts file it was taken from. */
export interface PathElement {
  readonly parsed: ParsedCertificate;
  readonly file: string;
}

export type PathResult =
  | { readonly verified: true; readonly path: readonly PathElement[] }
  | { readonly verified: false; readonly reason: string; readonly partialPath: readonly PathElement[] };

const MAX_PATH_LENGTH = 8;

/**
 * Links `leaf` to a trusted root the way Go's x509.Verify does: issuer name (DER) and signature, using
 * `intermediates` as the untrusted pool. Validity, CA flags and key usages are separate checks so
 * each problem gets its own finding.
 */
export async function buildCertificatePath(
  leaf: PathElement,
  intermediates: readonly PathElement[],
  roots: readonly PathElement[],
): Promise<PathResult> {
  const path: PathElement[] = [leaf];
  while (path.length <= MAX_PATH_LENGTH) {
    const current = path[path.length - 1];
    if (roots.some((root) => root.parsed.fingerprint === current.parsed.fingerprint)) {
      return { verified: true, path };
    }
    const root = await findIssuer(current, roots);
    if (root) {
      path.push(root);
      return { verified: true, path };
    }
    const used = new Set(path.map((element) => element.parsed.fingerprint));
    const next = await findIssuer(
      current,
      intermediates.filter((candidate) => !used.has(candidate.parsed.fingerprint)),
    );
    if (!next) return { verified: false, reason: deadEnd(current, roots, intermediates), partialPath: path };
    path.push(next);
  }
  return {
    verified: false,
    reason: `the chain is longer than ${MAX_PATH_LENGTH} certificates`,
    partialPath: path,
  };
}

async function findIssuer(
  child: PathElement,
  candidates: readonly PathElement[],
): Promise<PathElement | undefined> {
  for (const candidate of candidates) {
    if (await isIssuedBy(child.parsed.certificate, candidate.parsed.certificate)) return candidate;
  }
  return undefined;
}

function deadEnd(
  current: PathElement,
  roots: readonly PathElement[],
  intermediates: readonly PathElement[],
): string {
  const certificate = current.parsed.certificate;
  const subject = `"${certificate.subject}" (${current.file})`;
  if (namesMatch(certificate.issuerName, certificate.subjectName)) {
    return `the chain ends at the self-signed ${subject}, which root-cert.pem does not contain`;
  }
  const named = [...roots, ...intermediates].find((candidate) =>
    namesMatch(certificate.issuerName, candidate.parsed.certificate.subjectName),
  );
  if (named) {
    return `${subject} names "${certificate.issuer}" as issuer, but its signature does not verify with that certificate's key (from ${named.file})`;
  }
  return `no certificate in cert-chain.pem or root-cert.pem is the issuer "${certificate.issuer}" of ${subject}`;
}
