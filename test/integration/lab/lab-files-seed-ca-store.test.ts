// Seeding the lab's AWS account (moto) as a deployed stack holds it after its first run, through the
// real CA store adapter: the mesh key, root A current, one intermediate per cluster; and safely again.
import { randomUUID } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { createLabIdentities } from '../../../lab/eks/lab-identities.js';
import { seedCaStore } from '../../../lab/seed-ca-store.js';
import { CaSecretStore } from '../../../lambdas/adapters/secrets/ca-secret-store.js';
import { type CaMaterial, createIntermediateCa, createRootCa } from '../../../lambdas/core/pki/index.js';
import { motoEndpoint } from '../../support/moto-endpoint.js';

const region = 'eu-west-1';
const { rotator } = createLabIdentities({ clusterNames: ['lab-1', 'lab-2'] });
let root: CaMaterial;
let intermediates: { cluster: string; material: CaMaterial }[];

beforeAll(async () => {
  root = await createRootCa({ commonName: 'seed test root A' });
  intermediates = await Promise.all(
    ['lab-1', 'lab-2'].map(async (cluster) => ({
      cluster,
      material: await createIntermediateCa({ cluster, issuer: root }),
    })),
  );
});

function client(): SecretsManagerClient {
  return new SecretsManagerClient({ endpoint: motoEndpoint(), region, credentials: rotator.credentials });
}

describe('seedCaStore', () => {
  it('stores root A as the current root and each intermediate, encrypted with the mesh key', async () => {
    // Prepare
    const meshId = `seed-${randomUUID().slice(0, 8)}`;
    const sm = client();

    // Act
    const seeded = await seedCaStore({
      endpoint: motoEndpoint(),
      region,
      credentials: rotator.credentials,
      meshId,
      root,
      intermediates,
    });

    // Assess
    const store = new CaSecretStore({ client: sm, meshId });
    const current = await store.readCurrentRoot();
    expect(current.material.certificatePem).toBe(root.certificatePem);
    expect(current.ref).toEqual(seeded.root);
    for (const { cluster, material } of intermediates) {
      const stored = await store.readIntermediate(cluster);
      expect(stored.material.certificatePem).toBe(material.certificatePem);
      expect(stored.ref).toEqual(seeded.intermediates[cluster]);
    }
    expect(seeded.kmsKeyArn).toMatch(/^arn:aws:kms:eu-west-1:\d{12}:key\//);
    const raw = await sm.send(new GetSecretValueCommand({ SecretId: `meshtrust/${meshId}/root` }));
    expect(raw.VersionStages).toEqual(['AWSCURRENT']);
    for (const name of [`meshtrust/${meshId}/root`, `meshtrust/${meshId}/intermediate/lab-2`]) {
      const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
      expect(described.KmsKeyId).toBe(seeded.kmsKeyArn);
    }
    sm.destroy();
  });

  it('returns the same versions when run again, and refuses another root for the same mesh', async () => {
    // Prepare
    const meshId = `seed-${randomUUID().slice(0, 8)}`;
    const options = {
      endpoint: motoEndpoint(),
      region,
      credentials: rotator.credentials,
      meshId,
      root,
      intermediates,
    };
    const first = await seedCaStore(options);
    const otherRoot = await createRootCa({ commonName: 'seed test other root' });

    // Act
    const second = await seedCaStore(options);
    const other = seedCaStore({ ...options, root: otherRoot, intermediates: [] });

    // Assess
    expect(second).toEqual(first);
    await expect(other).rejects.toThrow(/already holds a different current root/);
  });
});
