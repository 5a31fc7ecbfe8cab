// `meshtrust import-root` against moto: the root goes in as AWSCURRENT with its key in a secret of its
// own (or offline), once, each secret with the resource policy of the roles the deployed stack's
// stage-root names (or none with --no-secret-policy); an unfit root, a second root, a wrong command line
// or a mesh with no deployed function to name the roles writes nothing.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { EXIT_CODES } from '../../../bin/cli/cli-errors.js';
import type { ImportRootReport } from '../../../bin/commands/import-root.js';
import { CaSecretStore } from '../../../lambdas/adapters/secrets/ca-secret-store.js';
import { clientRequestTokenFor } from '../../../lambdas/adapters/secrets/client-request-token.js';
import { ImportedRootKeyStore } from '../../../lambdas/adapters/secrets/imported-root-key-store.js';
import { MeshSecrets } from '../../../lambdas/adapters/secrets/mesh-secrets.js';
import {
  CA_SECRET_POLICY_ENV,
  type CaSecretGrant,
  type CaSecretPolicyPrincipals,
} from '../../../lambdas/contract/ca-store.js';
import { caSecretPolicy } from '../../../lambdas/core/access/secret-policy.js';
import {
  certificateFingerprint,
  createIntermediateCa,
  createRootCa,
} from '../../../lambdas/core/pki/index.js';
import { deployFunctionToMoto } from '../../support/moto-deployed-function.js';
import { motoClientConfig } from '../../support/moto-endpoint.js';
import { withEnv } from '../handlers/handler-lab.js';
import { type CliRun, runMeshtrustInProcess } from './in-process-cli.js';

const secrets = new SecretsManagerClient(motoClientConfig());
const kms = new KMSClient(motoClientConfig());
let dir: string;
let kmsKeyId: string;
let root: Awaited<ReturnType<typeof createRootCa>>;
const files: Record<string, string> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshtrust-import-root-'));
  kmsKeyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId as string;
  root = await createRootCa({ commonName: 'existing mesh root' });
  const other = await createRootCa({ commonName: 'another root' });
  const intermediate = await createIntermediateCa({ cluster: 'east', issuer: root });
  for (const [name, pem] of Object.entries({
    'root-cert.pem': root.certificatePem,
    'root-key.pem': root.privateKeyPem,
    'other-cert.pem': other.certificatePem,
    'other-key.pem': other.privateKeyPem,
    'ca-cert.pem': intermediate.certificatePem,
  })) {
    files[name] = join(dir, name);
    await writeFile(files[name], pem);
  }
});
afterAll(async () => {
  secrets.destroy();
  kms.destroy();
  await rm(dir, { recursive: true, force: true });
});

/**
 * The command in this process, its AWS SDK pointed at moto the way a shell's environment would. Meshes
 * with no deployed stack in moto import with --no-secret-policy; deployedImportRoot reads the roles.
 */
function importRoot(meshId: string, ...args: string[]): Promise<CliRun> {
  return deployedImportRoot(meshId, '--no-secret-policy', ...args);
}

function deployedImportRoot(meshId: string, ...args: string[]): Promise<CliRun> {
  const { endpoint, region, credentials } = motoClientConfig();
  const env = {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
    AWS_ENDPOINT_URL_LAMBDA: endpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  };
  return withEnv(env, () =>
    runMeshtrustInProcess(
      ['import-root', '--mesh-id', meshId, '--region', region, '--kms-key-id', kmsKeyId, ...args],
      {
        ...process.env,
      },
    ),
  );
}

/** Whether a secret exists in moto. */
async function exists(name: string): Promise<boolean> {
  return secrets
    .send(new DescribeSecretCommand({ SecretId: name }))
    .then(() => true)
    .catch(() => false);
}

const newMesh = () => `import-${randomUUID().slice(0, 8)}`;

describe('meshtrust import-root', () => {
  it('stores the root as current with its key in a secret of its own, once', async () => {
    // Prepare
    const meshId = newMesh();
    // Act
    const withKey = ['--certificate', files['root-cert.pem'], '--key', files['root-key.pem'], '--json'];
    const first = await importRoot(meshId, ...withKey);
    const again = await importRoot(meshId, ...withKey);
    // Assess
    expect(first.exitCode).toBe(EXIT_CODES.ok);
    const report = JSON.parse(first.stdout) as ImportRootReport;
    expect(report).toMatchObject({
      meshId,
      rootSecret: `meshtrust/${meshId}/root`,
      fingerprint: certificateFingerprint(root.certificatePem),
      key: 'secret',
      written: true,
    });
    expect(JSON.parse(again.stdout)).toEqual({ ...report, written: false });
    const rootValue = await secrets.send(new GetSecretValueCommand({ SecretId: report.rootSecret }));
    expect(rootValue.SecretString).not.toContain('PRIVATE KEY');
    const store = new CaSecretStore({ client: secrets, meshId });
    const key = await store.readImportedRootKey(await store.readCurrentRoot());
    expect(key.privateKeyPem).toBe(root.privateKeyPem);
    for (const run of [first, again]) expect(run.stdout + run.stderr).not.toContain('PRIVATE KEY');
  });

  it('stores only the certificate with --without-key and says what that means', async () => {
    // Prepare
    const meshId = newMesh();
    // Act
    const result = await importRoot(meshId, '--certificate', files['root-cert.pem'], '--without-key');
    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.ok);
    expect(result.stdout).toContain('its key stays offline: intermediate mode is refused');
    const stored = await new CaSecretStore({ client: secrets, meshId }).readCurrentRoot();
    expect(stored.material.key).toEqual({ kind: 'offline' });
    expect(await exists(`meshtrust/${meshId}/root-key/${stored.ref.versionId}`)).toBe(false);
  });

  it('refuses an intermediate, and a key of another root, writing nothing (exit 1)', async () => {
    // Prepare
    const meshId = newMesh();
    // Act
    const intermediate = await importRoot(meshId, '--certificate', files['ca-cert.pem'], '--without-key');
    const wrongKey = await importRoot(
      meshId,
      '--certificate',
      files['root-cert.pem'],
      '--key',
      files['other-key.pem'],
    );
    // Assess
    expect(intermediate.exitCode).toBe(EXIT_CODES.checkFailed);
    expect(intermediate.stderr).toMatch(/nothing was written:\n {2}- .* is not self-signed/);
    expect(wrongKey.exitCode).toBe(EXIT_CODES.checkFailed);
    expect(wrongKey.stderr).toContain('the private key is not the key of this certificate');
    expect(wrongKey.stderr).not.toContain('PRIVATE KEY');
    expect(await exists(`meshtrust/${meshId}/root`)).toBe(false);
  });

  it('refuses a second, different root once one is current (exit 1)', async () => {
    // Prepare
    const meshId = newMesh();
    await importRoot(meshId, '--certificate', files['root-cert.pem'], '--without-key');
    // Act
    const second = await importRoot(
      meshId,
      '--certificate',
      files['other-cert.pem'],
      '--key',
      files['other-key.pem'],
    );
    // Assess
    expect(second.exitCode).toBe(EXIT_CODES.checkFailed);
    expect(second.stderr).toMatch(/already holds a different current root/);
    const stored = await new CaSecretStore({ client: secrets, meshId }).readCurrentRoot();
    expect(stored.ref.fingerprint).toBe(certificateFingerprint(root.certificatePem));
  });

  it('asks for --key or --without-key (exit 2) and names an unreadable file (exit 3)', async () => {
    // Prepare
    const meshId = newMesh();
    // Act
    const neither = await importRoot(meshId, '--certificate', files['root-cert.pem']);
    const both = await importRoot(
      meshId,
      '--certificate',
      files['root-cert.pem'],
      '--key',
      files['root-key.pem'],
      '--without-key',
    );
    const missing = await importRoot(meshId, '--certificate', join(dir, 'nope.pem'), '--without-key');
    // Assess
    expect([neither.exitCode, both.exitCode]).toEqual([EXIT_CODES.usage, EXIT_CODES.usage]);
    expect(neither.stderr).toContain('--key FILE to store it, or --without-key');
    expect(missing.exitCode).toBe(EXIT_CODES.environment);
    expect(missing.stderr).toMatch(/cannot read the certificate file .*nope\.pem \(ENOENT\)/);
    expect(await exists(`meshtrust/${meshId}/root`)).toBe(false);
  });
  it('documents where the resource policy comes from in --help', async () => {
    // Act
    const result = await runMeshtrustInProcess(['import-root', '--help']);
    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.ok);
    expect(result.stdout).toContain('--no-secret-policy');
    expect(result.stdout.replace(/\s+/g, ' ')).toContain(
      "The roles are read from function meshtrust-<mesh-id>-stage-root's environment",
    );
  });

  describe('the secrets resource policy', () => {
    const role = (name: string) => `arn:aws:iam::123456789012:role/meshtrust-${name}`;
    // What the stack hands every function (lib/rotation-functions.ts), one role per grant here.
    const principals = Object.fromEntries(
      (Object.keys(CA_SECRET_POLICY_ENV) as CaSecretGrant[]).map((grant) => [grant, [role(grant)]]),
    ) as Record<CaSecretGrant, string[]> satisfies CaSecretPolicyPrincipals;
    const environment = Object.fromEntries(
      (Object.keys(CA_SECRET_POLICY_ENV) as CaSecretGrant[]).map((grant) => [
        CA_SECRET_POLICY_ENV[grant],
        principals[grant].join(','),
      ]),
    );
    const policyOf = async (secretId: string) => {
      const answer = await secrets.send(new GetResourcePolicyCommand({ SecretId: secretId }));
      return answer.ResourcePolicy === undefined ? undefined : JSON.parse(answer.ResourcePolicy);
    };

    it("puts on the root and its key's secret the policy of the roles stage-root's environment names", async () => {
      // Prepare
      const meshId = newMesh();
      const remove = await deployFunctionToMoto(`meshtrust-${meshId}-stage-root`, environment);
      try {
        // Act
        const result = await deployedImportRoot(
          meshId,
          '--certificate',
          files['root-cert.pem'],
          '--key',
          files['root-key.pem'],
          '--json',
        );
        // Assess
        expect(result.exitCode).toBe(EXIT_CODES.ok);
        const report = JSON.parse(result.stdout) as ImportRootReport;
        expect(report.secretPolicyFrom).toBe(`meshtrust-${meshId}-stage-root`);
        const keySecret = `meshtrust/${meshId}/root-key/${report.versionId}`;
        expect(await policyOf(report.rootSecret)).toEqual(caSecretPolicy('root', principals));
        expect(await policyOf(keySecret)).toEqual(caSecretPolicy('importedRootKeys', principals));
        expect(JSON.stringify(await policyOf(keySecret))).toContain(role('importedRootKeysRead'));
      } finally {
        await remove();
      }
    }, 30_000);

    it('puts the policy on the secrets of a root imported without one when it is imported again', async () => {
      // Prepare
      const meshId = newMesh();
      const withKey = ['--certificate', files['root-cert.pem'], '--key', files['root-key.pem'], '--json'];
      const first = JSON.parse((await importRoot(meshId, ...withKey)).stdout) as ImportRootReport;
      const keySecret = `meshtrust/${meshId}/root-key/${first.versionId}`;
      expect(await policyOf(keySecret)).toBeUndefined();
      const remove = await deployFunctionToMoto(`meshtrust-${meshId}-stage-root`, environment);
      try {
        // Act
        const again = await deployedImportRoot(meshId, ...withKey);
        // Assess
        expect(again.exitCode).toBe(EXIT_CODES.ok);
        expect(JSON.parse(again.stdout)).toMatchObject({ written: false });
        expect(await policyOf(first.rootSecret)).toEqual(caSecretPolicy('root', principals));
        expect(await policyOf(keySecret)).toEqual(caSecretPolicy('importedRootKeys', principals));
      } finally {
        await remove();
      }
    }, 30_000);

    it('puts the policy on a key secret an import stopped before the root was written had left without one', async () => {
      // Prepare: the key secret as an earlier import wrote it before stopping, without a policy
      const meshId = newMesh();
      const fingerprint = certificateFingerprint(root.certificatePem);
      const token = clientRequestTokenFor(`import-root/${meshId}`, fingerprint);
      const keySecret = await new ImportedRootKeyStore(
        new MeshSecrets({ client: secrets, meshId, kmsKeyId }),
      ).putImportedRootKey(token, { ...root, fingerprint });
      expect(await policyOf(keySecret)).toBeUndefined();
      const remove = await deployFunctionToMoto(`meshtrust-${meshId}-stage-root`, environment);
      try {
        // Act
        const result = await deployedImportRoot(
          meshId,
          '--certificate',
          files['root-cert.pem'],
          '--key',
          files['root-key.pem'],
        );
        // Assess
        expect(result.exitCode).toBe(EXIT_CODES.ok);
        expect(await policyOf(keySecret)).toEqual(caSecretPolicy('importedRootKeys', principals));
      } finally {
        await remove();
      }
    }, 30_000);

    it('writes nothing when no deployed function names the roles (exit 3), and says how to go on', async () => {
      // Prepare
      const meshId = newMesh();
      // Act
      const result = await deployedImportRoot(
        meshId,
        '--certificate',
        files['root-cert.pem'],
        '--without-key',
      );
      // Assess
      expect(result.exitCode).toBe(EXIT_CODES.environment);
      expect(result.stderr).toContain(`no function meshtrust-${meshId}-stage-root in us-east-1`);
      expect(result.stderr).toContain('--no-secret-policy');
      expect(await exists(`meshtrust/${meshId}/root`)).toBe(false);
    }, 30_000);
  });
});
