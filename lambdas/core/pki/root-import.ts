// What makes a certificate (and, when given, a private key) fit to be a mesh's root in the CA store:
// the checks `meshtrust import-root` runs before it writes anything. Each problem says what is wrong
// in words an operator can act on, and never holds key material.
import { isIssuedBy, namesMatch, parseCertificatesPem, sameBytes } from './certificate.js';
import { PkiError } from './pki-errors.js';
import { importPrivateKeyPem, publicKeyDerOf } from './private-key.js';
import { x509 } from './x509.js';

export interface RootImport {
  readonly certificatePem: string;
  /** Absent: the root's key stays offline (root-material.ts, kind `offline`). */
  readonly privateKeyPem?: string;
  readonly now: Date;
}

/** Every reason the root cannot be imported; empty when it can. */
export async function rootImportProblems(input: RootImport): Promise<string[]> {
  let parsed: ReturnType<typeof parseCertificatesPem>;
  try {
    parsed = parseCertificatesPem(input.certificatePem, { file: 'the root certificate' });
  } catch (error) {
    return [describe(error)];
  }
  if (parsed.length !== 1) {
    return [
      `the certificate file holds ${parsed.length} certificates; give the root alone (the mesh's root-cert.pem may ` +
        "hold several roots during a rotation: import the one the clusters' intermediates chain to)",
    ];
  }
  const { certificate } = parsed[0];
  const problems: string[] = [];
  if (
    !namesMatch(certificate.issuerName, certificate.subjectName) ||
    !(await isIssuedBy(certificate, certificate))
  ) {
    problems.push(
      `${certificate.subject} is not self-signed: it is issued by ${certificate.issuer}; import the root, not an intermediate`,
    );
  }
  const constraints = certificate.getExtension(x509.BasicConstraintsExtension);
  if (!constraints?.ca)
    problems.push(`${certificate.subject} is not a CA (basicConstraints CA:TRUE is missing)`);
  const usage = certificate.getExtension(x509.KeyUsagesExtension);
  if (usage !== null && usage !== undefined && (usage.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
    problems.push(`${certificate.subject} may not sign certificates (keyUsage lacks keyCertSign)`);
  }
  if (certificate.notAfter.getTime() <= input.now.getTime()) {
    problems.push(`${certificate.subject} expired on ${certificate.notAfter.toISOString()}`);
  } else if (certificate.notBefore.getTime() > input.now.getTime()) {
    problems.push(`${certificate.subject} is not valid before ${certificate.notBefore.toISOString()}`);
  }
  if (input.privateKeyPem !== undefined) {
    problems.push(...(await keyProblems(input.privateKeyPem, new Uint8Array(certificate.publicKey.rawData))));
  }
  return problems;
}

async function keyProblems(privateKeyPem: string, certificatePublicKey: Uint8Array): Promise<string[]> {
  try {
    const key = await importPrivateKeyPem(privateKeyPem, { file: 'the root key' });
    return sameBytes(publicKeyDerOf(key), certificatePublicKey)
      ? []
      : ['the private key is not the key of this certificate (their public keys differ)'];
  } catch (error) {
    return [describe(error)];
  }
}

function describe(error: unknown): string {
  if (error instanceof PkiError) return error.message;
  return `it could not be read (${error instanceof Error ? error.name : 'unknown error'})`;
}
