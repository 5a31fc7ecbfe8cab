// What import-root accepts as a mesh root: a single self-signed CA certificate, valid now, and (when
// given) its own unencrypted private key. Each refusal is checked by what it says.
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import {
  createIntermediateCa,
  createRootCa,
  rootImportProblems,
} from '../../../../lambdas/core/pki/index.js';

const now = new Date();
let root: Awaited<ReturnType<typeof createRootCa>>;
let other: Awaited<ReturnType<typeof createRootCa>>;

beforeAll(async () => {
  [root, other] = await Promise.all([
    createRootCa({ commonName: 'mesh root' }),
    createRootCa({ commonName: 'other' }),
  ]);
});

describe('rootImportProblems', () => {
  it('accepts a root with its key, and the same root without it', async () => {
    // Act
    const withKey = await rootImportProblems({ ...root, now });
    const certificateOnly = await rootImportProblems({ certificatePem: root.certificatePem, now });
    // Assess
    expect(withKey).toEqual([]);
    expect(certificateOnly).toEqual([]);
  });

  it("refuses another certificate's key, without showing either key", async () => {
    // Act
    const problems = await rootImportProblems({
      certificatePem: root.certificatePem,
      privateKeyPem: other.privateKeyPem,
      now,
    });
    // Assess
    expect(problems).toEqual([
      'the private key is not the key of this certificate (their public keys differ)',
    ]);
  });

  it('refuses an encrypted key and says to decrypt it', async () => {
    // Prepare
    const encrypted = createPrivateKey(root.privateKeyPem).export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'test-only',
    }) as string;
    // Act
    const problems = await rootImportProblems({
      certificatePem: root.certificatePem,
      privateKeyPem: encrypted,
      now,
    });
    // Assess
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/encrypted/i);
    expect(problems[0]).not.toContain('BEGIN');
  });

  it('refuses an intermediate, which is not self-signed', async () => {
    // Prepare
    const intermediate = await createIntermediateCa({ cluster: 'east', issuer: root });
    // Act
    const problems = await rootImportProblems({ certificatePem: intermediate.certificatePem, now });
    // Assess
    expect(problems).toEqual([expect.stringMatching(/is not self-signed: it is issued by .*mesh root/)]);
  });

  it('refuses a bundle of two roots, asking for the one the intermediates chain to', async () => {
    // Act
    const problems = await rootImportProblems({
      certificatePem: root.certificatePem + other.certificatePem,
      now,
    });
    // Assess
    expect(problems).toEqual([expect.stringMatching(/holds 2 certificates; give the root alone/)]);
  });

  it('refuses a root that has expired, and one not valid yet', async () => {
    // Act
    const later = await rootImportProblems({
      certificatePem: root.certificatePem,
      now: new Date(now.getTime() + 4000 * 86_400_000),
    });
    const earlier = await rootImportProblems({
      certificatePem: root.certificatePem,
      now: new Date(now.getTime() - 86_400_000),
    });
    // Assess
    expect(later).toEqual([expect.stringMatching(/expired on/)]);
    expect(earlier).toEqual([expect.stringMatching(/is not valid before/)]);
  });

  it('refuses a file that holds no certificate', async () => {
    // Prepare
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyOnly = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    // Act
    const problems = await rootImportProblems({ certificatePem: keyOnly, now });
    // Assess
    expect(problems).toHaveLength(1);
    expect(problems[0]).not.toContain('BEGIN');
  });
});
