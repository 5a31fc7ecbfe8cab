// stage-root and promote-root against moto: they touch only the CA store and the mesh's root keys in KMS.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DescribeKeyCommand, GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { RootKeys } from '../../../lambdas/adapters/kms/root-keys.js';
import { clientRequestTokenFor } from '../../../lambdas/adapters/secrets/client-request-token.js';
import { parseCertificatePem } from '../../../lambdas/core/pki/index.js';
import { handler as promoteRoot } from '../../../lambdas/handlers/promote-root.js';
import { handler as stageRoot } from '../../../lambdas/handlers/stage-root.js';
import { motoClientConfig } from '../../support/moto-endpoint.js';
import { expectNoKeyMaterial, type HandlerLab, startHandlerLab } from './handler-lab.js';

const run = promisify(execFile);
let h: HandlerLab;
const client = new SecretsManagerClient(motoClientConfig());
const kms = new KMSClient(motoClientConfig());

beforeAll(async () => {
  h = await startHandlerLab({ clusters: 1, workloadsPerCluster: 1 });
});
afterAll(async () => {
  client.destroy();
  kms.destroy();
  await h?.stop();
});

async function versionsOfRoot(): Promise<Record<string, string[]>> {
  const described = await client.send(new DescribeSecretCommand({ SecretId: h.store.rootSecretName }));
  return described.VersionIdsToStages ?? {};
}

async function keyState(keyId: string): Promise<string | undefined> {
  return (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState;
}

/** openssl's verdict on a self-signed certificate: verified against itself, X.509 strict. */
async function opensslVerifiesSelfSigned(certificatePem: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'meshtrust-kms-root-'));
  try {
    const file = join(dir, 'root.pem');
    await writeFile(file, certificatePem);
    const { stdout } = await run('openssl', ['verify', '-x509_strict', '-CAfile', file, file]);
    expect(stdout.trim()).toBe(`${file}: OK`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('stage-root handler', () => {
  it("signs the new root with a KMS key of the mesh and stores only the key's ARN with the certificate", async () => {
    // Prepare
    const executionId = h.executionId();
    // Act
    const staged = await stageRoot({ executionId });
    // Assess
    const stored = await h.store.readRootVersion(staged.versionId);
    expect(stored.material.key.kind).toBe('kms');
    const keyArn = stored.material.key.kind === 'kms' ? stored.material.key.keyArn : '';
    const described = await kms.send(new DescribeKeyCommand({ KeyId: keyArn }));
    expect(described.KeyMetadata).toMatchObject({ KeyUsage: 'SIGN_VERIFY', KeyState: 'Enabled' });
    expect(described.KeyMetadata?.KeySpec ?? described.KeyMetadata?.CustomerMasterKeySpec).toBe(
      'ECC_NIST_P256',
    );
    const publicKey = (await kms.send(new GetPublicKeyCommand({ KeyId: keyArn }))).PublicKey;
    const certificate = parseCertificatePem(stored.material.certificatePem).certificate;
    expect(Buffer.from(certificate.publicKey.rawData).equals(Buffer.from(publicKey ?? []))).toBe(true);
    await opensslVerifiesSelfSigned(stored.material.certificatePem);
    const raw = await client.send(
      new GetSecretValueCommand({ SecretId: h.store.rootSecretName, VersionId: staged.versionId }),
    );
    expect(raw.SecretString).not.toContain('PRIVATE KEY');
    expectNoKeyMaterial(staged);
    await promoteRoot({ executionId, stagedRoot: staged });
  });

  it('stores a new root as AWSPENDING and returns its version and fingerprint only', async () => {
    // Prepare
    const executionId = h.executionId();
    // Act
    const staged = await stageRoot({ executionId });
    // Assess
    expect(staged).toEqual({
      secretArn: expect.stringContaining(h.store.rootSecretName),
      versionId: expect.any(String),
      fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(staged.fingerprint).not.toBe(h.currentRoot.fingerprint);
    expect((await versionsOfRoot())[staged.versionId]).toEqual(['AWSPENDING']);
    expectNoKeyMaterial(staged);
    await promoteRoot({ executionId, stagedRoot: staged }); // leave no pending root to the next test
  });

  it('returns the same root on a re-run, with no second version', async () => {
    // Prepare
    const executionId = h.executionId();
    const first = await stageRoot({ executionId });
    const versionsBefore = Object.keys(await versionsOfRoot()).length;
    const keysBefore = (await h.writableState()).rootKeys;
    // Act
    const again = await stageRoot({ executionId });
    // Assess
    expect(again).toEqual(first);
    expect(Object.keys(await versionsOfRoot())).toHaveLength(versionsBefore);
    expect((await h.writableState()).rootKeys).toEqual(keysBefore);
    await promoteRoot({ executionId, stagedRoot: first });
  });

  it('refuses while another execution has a pending root', async () => {
    // Prepare
    const running = h.executionId();
    const staged = await stageRoot({ executionId: running });
    const before = await h.writableState();
    // Act
    const second = stageRoot({ executionId: h.executionId() });
    // Assess
    await expect(second).rejects.toMatchObject({ name: 'PreconditionFailed', phase: 'stage-root' });
    await expect(second).rejects.toThrow(/already has a pending root/);
    expect(await h.writableState()).toEqual(before); // no second key either
    await promoteRoot({ executionId: running, stagedRoot: staged });
  });

  it('refuses an event without executionId and says which field', async () => {
    // Prepare, Act
    const act = stageRoot({ execution: 'x' });
    // Assess
    await expect(act).rejects.toMatchObject({ name: 'PreconditionFailed' });
    await expect(act).rejects.toThrow(/executionId/);
  });
});

describe('promote-root handler', () => {
  it('makes the staged root current and the old one previous; a re-run changes nothing', async () => {
    // Prepare
    const executionId = h.executionId();
    const before = await h.store.describeRoot();
    const staged = await stageRoot({ executionId });
    // Act
    const promoted = await promoteRoot({ executionId, stagedRoot: staged });
    const again = await promoteRoot({ executionId, stagedRoot: staged });
    // Assess
    expect(promoted).toEqual({
      secretArn: staged.secretArn,
      currentVersionId: staged.versionId,
      previousVersionId: before.current,
      fingerprint: staged.fingerprint,
      retiredKey: expect.objectContaining({ kind: 'kms', changed: true }),
      // No clusters given (and no backups made): nothing to delete.
      backupsDeleted: 0,
    });
    expect(again.currentVersionId).toBe(staged.versionId);
    expect(again.retiredKey).toEqual({ ...promoted.retiredKey, changed: false });
    const stages = await h.store.describeRoot();
    expect(stages).toMatchObject({ current: staged.versionId, previous: before.current });
    expect(stages.pending).toBeUndefined();
    expectNoKeyMaterial(promoted);
  });

  it("retires the old root's KMS key: disabled, deletion scheduled, refused as a signer", async () => {
    // Prepare
    const first = h.executionId();
    const firstStaged = await stageRoot({ executionId: first });
    await promoteRoot({ executionId: first, stagedRoot: firstStaged });
    const oldKey = await new RootKeys({ client: kms, meshId: h.meshId }).find(
      clientRequestTokenFor(first, 'root'),
    );
    const executionId = h.executionId();
    const staged = await stageRoot({ executionId });
    expect(await keyState(oldKey as string)).toBe('Enabled');
    // Act
    const promoted = await promoteRoot({ executionId, stagedRoot: staged });
    // Assess
    expect(promoted.retiredKey).toMatchObject({ kind: 'kms', id: oldKey, changed: true });
    expect(Date.parse(promoted.retiredKey?.deletionDate ?? '')).toBeGreaterThan(
      Date.now() + 29 * 24 * 3600 * 1000,
    );
    expect(await keyState(oldKey as string)).toBe('PendingDeletion');
    // moto still signs with a disabled key (AWS refuses, KMSInvalidStateException): our signer checks first.
    const signing = new RootKeys({ client: kms, meshId: h.meshId }).signer(oldKey as string);
    await expect(signing).rejects.toThrow(/is PendingDeletion: its root was retired/);
  });

  it("deletes the imported root's key secret when the first rotation retires it", async () => {
    // Prepare: a mesh of its own whose current root is still the imported one.
    const fresh = await startHandlerLab({ clusters: 1, workloadsPerCluster: 1 });
    try {
      const imported = await fresh.store.readCurrentRoot();
      const executionId = fresh.executionId();
      const staged = await stageRoot({ executionId });
      // Act
      const promoted = await promoteRoot({ executionId, stagedRoot: staged });
      // Assess
      const keySecret = imported.material.key.kind === 'secret' ? imported.material.key.secretName : '';
      expect(promoted.retiredKey).toMatchObject({ kind: 'secret', id: keySecret, changed: true });
      const described = await client.send(new DescribeSecretCommand({ SecretId: keySecret }));
      expect(described.DeletedDate).toBeDefined();
    } finally {
      await fresh.stop();
    }
  });

  it('refuses a staged root whose fingerprint is not what the execution recorded', async () => {
    // Prepare
    const executionId = h.executionId();
    const staged = await stageRoot({ executionId });
    // Act
    const act = promoteRoot({ executionId, stagedRoot: { ...staged, fingerprint: 'f'.repeat(64) } });
    // Assess
    await expect(act).rejects.toThrow(/someone changed the CA store/);
    expect((await h.store.describeRoot()).pending).toBe(staged.versionId);
    await promoteRoot({ executionId, stagedRoot: staged });
  });
});
