import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filesWithPrivateKeys, keyFragments } from '../../../rehearsal/private-key-scan.js';

describe('the key scan of a report directory', () => {
  // Keys are made at run time: no key literal lives in the repository.
  const keyPem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const body = keyPem.split('\n')[1] ?? '';

  function reportDirectory(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'meshtrust-scan-'));
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
    return dir;
  }

  it('finds a PEM key as text, JSON-escaped, base64-encoded, and as a bare key line', async () => {
    // Prepare
    const dir = reportDirectory({
      'clean/report.json': JSON.stringify({ fingerprint: 'ab'.repeat(32) }),
      'final/lab-1/ca-cert.pem': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      'plain.pem': keyPem,
      'history.json': JSON.stringify({ output: keyPem }),
      'logs/base64.log': Buffer.from(keyPem).toString('base64'),
      'logs/stripped.log': `something ${body} something`,
    });

    // Act
    const found = await filesWithPrivateKeys(dir, keyFragments([keyPem]));

    // Assess
    expect(found).toEqual(['history.json', 'logs/base64.log', 'logs/stripped.log', 'plain.pem']);
  });

  it('finds nothing in a directory of certificates and fingerprints', async () => {
    // Prepare
    const dir = reportDirectory({
      'report.json': JSON.stringify({ roots: ['cd'.repeat(32)] }),
      'initial/lab-1/root-cert.pem': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    });

    // Act & Assess
    expect(await filesWithPrivateKeys(dir, keyFragments([keyPem]))).toEqual([]);
  });
});
