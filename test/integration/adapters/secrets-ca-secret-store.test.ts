// CaSecretStore against moto_server (started by the integration project's globalSetup). Each test
// uses its own mesh id, so tests do not see each other's secrets.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { SecretVersionRef } from '../../../lambdas/adapters/secrets/ca-material.js';
import { CaSecretStore } from '../../../lambdas/adapters/secrets/ca-secret-store.js';
import { clientRequestTokenFor } from '../../../lambdas/adapters/secrets/client-request-token.js';
import type { RootMaterial } from '../../../lambdas/adapters/secrets/root-material.js';
import { PreconditionFailed } from '../../../lambdas/core/rotation-errors.js';
import { motoClientConfig } from '../../support/moto-endpoint.js';
import { makeTestCa } from '../../support/test-ca.js';

const run = promisify(execFile);
const client = new SecretsManagerClient(motoClientConfig());
const executionArn = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:meshtrust:${name}`;

function newStore(kmsKeyId?: string): CaSecretStore {
  return new CaSecretStore({ client, meshId: `mesh-${randomUUID().slice(0, 8)}`, kmsKeyId });
}

/** A store whose mesh already trusts root A (AWSCURRENT), as every rotation starts. */
async function adoptedStore(
  kmsKeyId?: string,
): Promise<{ store: CaSecretStore; rootARef: SecretVersionRef }> {
  const store = newStore(kmsKeyId);
  const rootARef = await store.importRoot({ material: rootA, token: clientRequestTokenFor('adopt', 'root') });
  return { store, rootARef };
}

async function stagesOf(secretId: string): Promise<Record<string, string[]>> {
  const described = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
  return described.VersionIdsToStages ?? {};
}

async function storedFingerprint(secretId: string, versionId: string): Promise<string> {
  const value = await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId }));
  return JSON.parse(value.SecretString ?? '{}').fingerprint;
}

/** A root as stage-root stores it: the certificate and the ARN of its KMS key (fake: nothing signs here). */
function kmsRoot(ca: { certificatePem: string; fingerprint: string }): RootMaterial {
  const keyArn = `arn:aws:kms:us-east-1:123456789012:key/${ca.fingerprint.slice(-12).replace(/:/g, '')}`;
  return { certificatePem: ca.certificatePem, fingerprint: ca.fingerprint, key: { kind: 'kms', keyArn } };
}

let rootA: Awaited<ReturnType<typeof makeTestCa>>;
let rootB: Awaited<ReturnType<typeof makeTestCa>>;
let rootC: Awaited<ReturnType<typeof makeTestCa>>;

beforeAll(async () => {
  [rootA, rootB, rootC] = await Promise.all([
    makeTestCa('root A'),
    makeTestCa('root B'),
    makeTestCa('root C'),
  ]);
});

afterAll(() => client.destroy());

describe('CaSecretStore root staging', () => {
  it('stages a new root as AWSPENDING under the token and keeps the current root current', async () => {
    // Prepare
    const { store, rootARef: imported } = await adoptedStore();
    const token = clientRequestTokenFor(executionArn('run-1'), 'root');
    // Act
    const staged = await store.stageRoot({ material: kmsRoot(rootB), token });
    // Assess
    expect(staged).toEqual({
      arn: expect.stringContaining(store.rootSecretName),
      versionId: token,
      fingerprint: rootB.fingerprint,
    });
    expect(await stagesOf(store.rootSecretName)).toEqual({
      [imported.versionId]: ['AWSCURRENT'],
      [token]: ['AWSPENDING'],
    });
    expect((await store.readCurrentRoot()).ref.fingerprint).toBe(rootA.fingerprint);
    const read = await store.readRootVersion(token);
    expect(read.material).toEqual(kmsRoot(rootB));
    expect(read.stages).toEqual(['AWSPENDING']);
  });

  it('returns the stored version when the same root is staged again with the same token', async () => {
    // Prepare
    const { store, rootARef } = await adoptedStore();
    const token = clientRequestTokenFor(executionArn('run-2'), 'root');
    const first = await store.stageRoot({ material: kmsRoot(rootB), token });
    // Act
    const second = await store.stageRoot({ material: kmsRoot(rootB), token });
    // Assess
    expect(second).toEqual(first);
    expect(await stagesOf(store.rootSecretName)).toEqual({
      [rootARef.versionId]: ['AWSCURRENT'],
      [token]: ['AWSPENDING'],
    });
  });

  it('refuses a different root under a used token before writing, so moto still holds the first one', async () => {
    // Prepare
    const { store, rootARef } = await adoptedStore();
    const token = clientRequestTokenFor(executionArn('run-3'), 'root');
    await store.stageRoot({ material: kmsRoot(rootB), token });
    // Act
    const restage = store.stageRoot({ material: kmsRoot(rootC), token });
    // Assess
    await expect(restage).rejects.toThrow(PreconditionFailed);
    await expect(restage).rejects.toThrow(/nothing was written/);
    expect(await storedFingerprint(store.rootSecretName, token)).toBe(rootB.fingerprint);
    expect(await stagesOf(store.rootSecretName)).toEqual({
      [rootARef.versionId]: ['AWSCURRENT'],
      [token]: ['AWSPENDING'],
    });
  });

  it('refuses to stage while another rotation has a root pending', async () => {
    // Prepare
    const { store, rootARef } = await adoptedStore();
    const other = clientRequestTokenFor(executionArn('other-run'), 'root');
    await store.stageRoot({ material: kmsRoot(rootB), token: other });
    // Act
    const staging = store.stageRoot({
      material: kmsRoot(rootC),
      token: clientRequestTokenFor(executionArn('run-4'), 'root'),
    });
    // Assess
    await expect(staging).rejects.toThrow(/already has a pending root/);
    expect(await stagesOf(store.rootSecretName)).toEqual({
      [rootARef.versionId]: ['AWSCURRENT'],
      [other]: ['AWSPENDING'],
    });
  });

  it('refuses to stage when no root is current, since AWS would make the first version current at once', async () => {
    // Prepare
    const store = newStore();
    // Act
    const staging = store.stageRoot({
      material: kmsRoot(rootB),
      token: clientRequestTokenFor(executionArn('run-0'), 'root'),
    });
    // Assess
    await expect(staging).rejects.toThrow(/holds no current root/);
    await expect(store.describeRoot()).resolves.toEqual({});
  });

  it('importing the current root again returns it, importing another one is refused', async () => {
    // Prepare
    const { store, rootARef } = await adoptedStore();
    // Act
    const again = await store.importRoot({
      material: rootA,
      token: clientRequestTokenFor('adopt-again', 'root'),
    });
    const other = store.importRoot({ material: rootB, token: clientRequestTokenFor('adopt-other', 'root') });
    // Assess
    expect(again).toEqual(rootARef);
    await expect(other).rejects.toThrow(/already holds a different current root/);
    expect(await stagesOf(store.rootSecretName)).toEqual({ [rootARef.versionId]: ['AWSCURRENT'] });
  });

  it('creates the secret with the configured KMS key and the mesh tag', async () => {
    // Prepare
    const { stdout } = await run('aws', [
      '--endpoint-url',
      motoClientConfig().endpoint,
      'kms',
      'create-key',
      '--query',
      'KeyMetadata.KeyId',
      '--output',
      'text',
    ]);
    const kmsKeyId = stdout.trim();
    const store = newStore(kmsKeyId);
    // Act
    await store.importRoot({ material: rootA, token: clientRequestTokenFor('adopt', 'root') });
    // Assess
    const described = await client.send(new DescribeSecretCommand({ SecretId: store.rootSecretName }));
    expect(kmsKeyId).toMatch(/^[0-9a-f-]{36}$/);
    expect(described.KmsKeyId).toBe(kmsKeyId);
    expect(described.Tags).toEqual(
      expect.arrayContaining([{ Key: 'meshtrust.io/mesh', Value: store.meshId }]),
    );
  });
});

describe('CaSecretStore imported roots', () => {
  it("keeps an imported root's key in a secret of its own, so the root secret holds no private key", async () => {
    // Prepare
    const store = newStore();
    const token = clientRequestTokenFor('adopt', 'root');
    // Act
    const ref = await store.importRoot({ material: rootA, token });
    // Assess
    const rootValue = await client.send(new GetSecretValueCommand({ SecretId: store.rootSecretName }));
    expect(rootValue.SecretString).not.toContain('PRIVATE KEY');
    const root = await store.readCurrentRoot();
    expect(root.ref).toEqual(ref);
    expect(root.material.key).toEqual({
      kind: 'secret',
      secretName: `meshtrust/${store.meshId}/root-key/${token}`,
    });
    const key = await store.readImportedRootKey(root);
    expect(key.privateKeyPem).toBe(rootA.privateKeyPem);
    expect(key.fingerprint).toBe(rootA.fingerprint);
  });

  it('imports a root without its key as offline, and has no key to read for it', async () => {
    // Prepare
    const store = newStore();
    // Act
    await store.importRoot({
      material: { certificatePem: rootA.certificatePem, fingerprint: rootA.fingerprint },
      token: clientRequestTokenFor('adopt', 'root'),
    });
    // Assess
    const root = await store.readCurrentRoot();
    expect(root.material.key).toEqual({ kind: 'offline' });
    await expect(store.readImportedRootKey(root)).rejects.toThrow(/needs a root whose key is a secret/);
  });

  it('refuses a root version that holds a private key next to its certificate', async () => {
    // Prepare: a root secret as meshtrust 0.1 wrote it, key inline.
    const store = newStore();
    await client.send(
      new CreateSecretCommand({
        Name: store.rootSecretName,
        SecretString: JSON.stringify({
          certificatePem: rootA.certificatePem,
          privateKeyPem: rootA.privateKeyPem,
          fingerprint: rootA.fingerprint,
        }),
      }),
    );
    // Act
    const reading = store.readCurrentRoot();
    // Assess
    await expect(reading).rejects.toThrow(PreconditionFailed);
    await expect(reading).rejects.toThrow(/holds a private key next to the root certificate/);
    await expect(reading).rejects.not.toThrow(/BEGIN/);
  });

  it("schedules the deletion of an imported root's key secret once, and refuses to read it afterwards", async () => {
    // Prepare
    const { store } = await adoptedStore();
    const root = await store.readCurrentRoot();
    const secretName = root.material.key.kind === 'secret' ? root.material.key.secretName : '';
    // Act
    const first = await store.deleteImportedRootKey(secretName, 7);
    const again = await store.deleteImportedRootKey(secretName, 7);
    // Assess
    expect(first.changed).toBe(true);
    expect(first.deletionDate?.getTime()).toBeGreaterThan(Date.now() + 6 * 24 * 3600 * 1000);
    expect(again).toEqual({ changed: false });
    const described = await client.send(new DescribeSecretCommand({ SecretId: secretName }));
    expect(described.DeletedDate).toBeDefined();
    await expect(store.readImportedRootKey(root)).rejects.toThrow();
  });
});

describe('CaSecretStore root promotion and rollback', () => {
  it('promotes the staged root: AWSCURRENT to it, AWSPREVIOUS to the old root, AWSPENDING removed', async () => {
    // Prepare
    const { store, rootARef: old } = await adoptedStore();
    const staged = await store.stageRoot({
      material: kmsRoot(rootB),
      token: clientRequestTokenFor(executionArn('run-6'), 'root'),
    });
    // Act
    const promoted = await store.promoteRoot({ versionId: staged.versionId });
    // Assess
    expect(promoted).toEqual({ ...staged, previousVersionId: old.versionId });
    expect(await stagesOf(store.rootSecretName)).toEqual({
      [staged.versionId]: ['AWSCURRENT'],
      [old.versionId]: ['AWSPREVIOUS'],
    });
    expect((await store.readCurrentRoot()).ref.fingerprint).toBe(rootB.fingerprint);
  });

  it('promoting again changes nothing', async () => {
    // Prepare
    const { store, rootARef: old } = await adoptedStore();
    const staged = await store.stageRoot({
      material: kmsRoot(rootB),
      token: clientRequestTokenFor(executionArn('run-7'), 'root'),
    });
    await store.promoteRoot({ versionId: staged.versionId });
    // Act
    const again = await store.promoteRoot({ versionId: staged.versionId });
    // Assess
    expect(again).toEqual({ ...staged, previousVersionId: old.versionId });
    expect(await stagesOf(store.rootSecretName)).toEqual({
      [staged.versionId]: ['AWSCURRENT'],
      [old.versionId]: ['AWSPREVIOUS'],
    });
  });

  it('finishes a promotion that stopped after AWSCURRENT moved but before AWSPENDING was removed', async () => {
    // Prepare
    const { store, rootARef: old } = await adoptedStore();
    const staged = await store.stageRoot({
      material: kmsRoot(rootB),
      token: clientRequestTokenFor(executionArn('run-8'), 'root'),
    });
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: store.rootSecretName,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: staged.versionId,
        RemoveFromVersionId: old.versionId,
      }),
    );
    // Act
    await store.promoteRoot({ versionId: staged.versionId });
    // Assess
    expect((await stagesOf(store.rootSecretName))[staged.versionId]).toEqual(['AWSCURRENT']);
  });

  it('refuses to promote a version that was never staged', async () => {
    // Prepare
    const { store } = await adoptedStore();
    const staged = await store.stageRoot({
      material: kmsRoot(rootB),
      token: clientRequestTokenFor(executionArn('run-9'), 'root'),
    });
    await store.dropPendingRoot();
    // Act
    const promoting = store.promoteRoot({ versionId: staged.versionId });
    // Assess
    await expect(promoting).rejects.toThrow(/is not staged/);
  });

  it('drops AWSPENDING on rollback and leaves the current root as it was', async () => {
    // Prepare
    const { store, rootARef: old } = await adoptedStore();
    const staged = await store.stageRoot({
      material: kmsRoot(rootB),
      token: clientRequestTokenFor(executionArn('run-10'), 'root'),
    });
    // Act
    const dropped = await store.dropPendingRoot();
    // Assess
    expect(dropped).toEqual({ droppedVersionId: staged.versionId });
    expect(await store.describeRoot()).toEqual({ arn: expect.any(String), current: old.versionId });
  });

  it('dropping when nothing is pending is a no-op, also when the root secret does not exist', async () => {
    // Prepare
    const store = newStore();
    // Act
    const dropped = await store.dropPendingRoot();
    // Assess
    expect(dropped).toEqual({});
    await expect(store.describeRoot()).resolves.toEqual({});
  });
});

describe('CaSecretStore intermediates', () => {
  it('stores a cluster intermediate as current and reads it back with its key', async () => {
    // Prepare
    const store = newStore();
    const token = clientRequestTokenFor(executionArn('run-11'), 'intermediate/east');
    // Act
    const ref = await store.putIntermediate('east', rootB, token);
    const again = await store.putIntermediate('east', rootB, token);
    // Assess
    expect(again).toEqual(ref);
    const read = await store.readIntermediate('east');
    expect(read.ref).toEqual(ref);
    expect(read.material).toEqual(rootB);
    expect(Object.keys(await stagesOf(store.intermediateSecretName('east')))).toEqual([token]);
  });

  it('refuses a different intermediate under a used token and keeps the stored one', async () => {
    // Prepare
    const store = newStore();
    const token = clientRequestTokenFor(executionArn('run-12'), 'intermediate/east');
    await store.putIntermediate('east', rootB, token);
    // Act
    const putting = store.putIntermediate('east', rootC, token);
    // Assess
    await expect(putting).rejects.toThrow(PreconditionFailed);
    expect(await storedFingerprint(store.intermediateSecretName('east'), token)).toBe(rootB.fingerprint);
  });

  it('says which cluster has no intermediate', async () => {
    // Prepare
    const store = newStore();
    // Act
    const reading = store.readIntermediate('west');
    // Assess
    await expect(reading).rejects.toMatchObject({ name: 'PreconditionFailed', cluster: 'west' });
  });
});

describe('CaSecretStore cacerts backups', () => {
  const files = (label: string) => ({
    'ca-cert.pem': `${label} ca-cert`,
    'ca-key.pem': `${label} ca-key`,
    'cert-chain.pem': `${label} cert-chain`,
    'root-cert.pem': `${label} root-cert`,
  });

  it('keeps the first backup of an execution and cluster; a later one does not overwrite it', async () => {
    // Prepare
    const store = newStore();
    const first = await store.backupCacerts('run-13', 'east', {
      files: files('start'),
      resourceVersion: '100',
    });
    // Act
    const second = await store.backupCacerts('run-13', 'east', {
      files: files('later'),
      resourceVersion: '101',
    });
    // Assess
    expect(first.created).toBe(true);
    expect(second).toEqual({ ...first, created: false });
    expect(await store.readCacertsBackup('run-13', 'east')).toEqual({
      files: files('start'),
      resourceVersion: '100',
    });
  });

  it('lists the clusters backed up by one execution only', async () => {
    // Prepare
    const store = newStore();
    await store.backupCacerts('run-14', 'east', { files: files('e'), resourceVersion: '1' });
    await store.backupCacerts('run-14', 'west', { files: files('w'), resourceVersion: '2' });
    await store.backupCacerts('run-140', 'north', { files: files('n'), resourceVersion: '3' });
    // Act
    const clusters = await store.listCacertsBackups('run-14');
    // Assess
    expect(clusters).toEqual(['east', 'west']);
  });

  it('reads undefined for a cluster the execution never backed up', async () => {
    // Prepare
    const store = newStore();
    // Act
    const backup = await store.readCacertsBackup('run-15', 'east');
    // Assess
    expect(backup).toBeUndefined();
  });

  it('refuses a backup that lacks one of the four cacerts keys, writing nothing', async () => {
    // Prepare
    const store = newStore();
    const { 'ca-key.pem': _dropped, ...partial } = files('p');
    // Act
    const backingUp = store.backupCacerts('run-16', 'east', {
      files: partial as ReturnType<typeof files>,
      resourceVersion: '1',
    });
    // Assess
    await expect(backingUp).rejects.toThrow(/lacks ca-key.pem/);
    expect(await store.listCacertsBackups('run-16')).toEqual([]);
  });
});
