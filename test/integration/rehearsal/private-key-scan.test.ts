import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  filesWithPrivateKeys,
  keyFragments,
  SCAN_WINDOW_BYTES,
} from '../../../rehearsal/private-key-scan.js';

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

  it('finds what straddles two of the windows a large file is read in', async () => {
    // Prepare: each thing looked for starts a few bytes before the third window ends, and is the only
    // one in its file (a whole key would also be found by its END line or its other lines)
    const edge = SCAN_WINDOW_BYTES * 3;
    const at = (offset: number, text: string) => `${'x'.repeat(edge - offset)}${text}${'x'.repeat(1000)}`;
    const marker = keyPem.split('\n')[0] ?? ''; // the PEM header line, from the key made above
    const dir = reportDirectory({
      'marker.log': at(16, marker),
      'base64.log': at(16, Buffer.from(marker).toString('base64')),
      'stripped.log': at(24, body),
      'clean.log': at(16, 'ab'.repeat(32)),
    });

    // Act
    const found = await filesWithPrivateKeys(dir, keyFragments([keyPem]));

    // Assess
    expect(found).toEqual(['base64.log', 'marker.log', 'stripped.log']);
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
