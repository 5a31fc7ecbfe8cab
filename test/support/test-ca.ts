import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCa {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** SHA-256 of the certificate DER, lowercase hex (as lambdas/core/pki computes it). */
  readonly fingerprint: string;
}

/**
 * A throwaway self-signed CA made at run time with openssl (P-256: fast). The key exists only in a
 * temporary directory that is removed before this returns, and in memory.
 */
export async function makeTestCa(commonName: string): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), 'meshtrust-test-ca-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '1',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    const [certificatePem, privateKeyPem] = await Promise.all([
      readFile(certPath, 'utf8'),
      readFile(keyPath, 'utf8'),
    ]);
    const fingerprint = createHash('sha256').update(new X509Certificate(certificatePem).raw).digest('hex');
    return { certificatePem, privateKeyPem, fingerprint };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
