// Puts the lab's CAs into an AWS account (moto_server in `meshtrust lab`) the way a deployed meshtrust
// stack holds them after its first run: the stack's KMS key (alias/meshtrust/<mesh>/ca, lib/ca-store.ts),
// the mesh's root secret with root A as AWSCURRENT and one intermediate secret per cluster holding the
// intermediate that cluster's cacerts carries, both encrypted with that key. The CA store adapter
// does the writing, so the layout is exactly the one the handlers read.

import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretVersionRef } from '../lambdas/adapters/secrets/ca-material.js';
import { CaSecretStore } from '../lambdas/adapters/secrets/ca-secret-store.js';
import { clientRequestTokenFor } from '../lambdas/adapters/secrets/client-request-token.js';
import { caStoreKeyAlias } from '../lambdas/contract/ca-store.js';
import { type CaMaterial, certificateFingerprint } from '../lambdas/core/pki/index.js';
import type { LabCredentials } from './eks/lab-identities.js';

export interface SeedCaStoreOptions {
  /** Secrets Manager endpoint, e.g. moto_server's http://127.0.0.1:<port>. */
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: LabCredentials;
  readonly meshId: string;
  readonly root: CaMaterial;
  /** Each cluster's current intermediate (signed by `root`). */
  readonly intermediates: readonly { readonly cluster: string; readonly material: CaMaterial }[];
}

export interface SeededCaStore {
  /** ARN of the KMS key the secrets are encrypted with. */
  readonly kmsKeyArn: string;
  readonly root: SecretVersionRef;
  readonly intermediates: Readonly<Record<string, SecretVersionRef>>;
}

/** Stands for the execution that "installed" the lab: it makes the seed's version ids stable per mesh. */
export function labSeedExecutionId(meshId: string): string {
  return `meshtrust-lab-seed/${meshId}`;
}

/**
 * Imports the root and stores every intermediate. Idempotent: seeding the same CAs again returns the
 * stored versions; a different root already stored is refused by the store (PreconditionFailed).
 */
export async function seedCaStore(options: SeedCaStoreOptions): Promise<SeededCaStore> {
  const client = new SecretsManagerClient({
    endpoint: options.endpoint,
    region: options.region,
    credentials: options.credentials,
  });
  try {
    const kmsKeyArn = await ensureMeshKey(options);
    const store = new CaSecretStore({ client, meshId: options.meshId, kmsKeyId: kmsKeyArn });
    const execution = labSeedExecutionId(options.meshId);
    const root = await store.importRoot({
      material: withFingerprint(options.root),
      token: clientRequestTokenFor(execution, 'root'),
    });
    const intermediates: Record<string, SecretVersionRef> = {};
    for (const { cluster, material } of options.intermediates) {
      intermediates[cluster] = await store.putIntermediate(
        cluster,
        withFingerprint(material),
        clientRequestTokenFor(execution, `intermediate/${cluster}`),
      );
    }
    return { kmsKeyArn, root, intermediates };
  } finally {
    client.destroy();
  }
}

function withFingerprint(material: CaMaterial) {
  return {
    certificatePem: material.certificatePem,
    privateKeyPem: material.privateKeyPem,
    fingerprint: certificateFingerprint(material.certificatePem),
  };
}

/** The alias the stack gives the mesh's key (lib/ca-store.ts). */
export const meshKeyAlias = caStoreKeyAlias;

/** The mesh's customer-managed key, created with its alias (and key rotation) unless the alias exists. */
async function ensureMeshKey(options: SeedCaStoreOptions): Promise<string> {
  const kms = new KMSClient({
    endpoint: options.endpoint,
    region: options.region,
    credentials: options.credentials,
  });
  const alias = meshKeyAlias(options.meshId);
  try {
    const existing = await kms.send(new DescribeKeyCommand({ KeyId: alias })).catch((error: unknown) => {
      if (error instanceof Error && error.name === 'NotFoundException') return undefined;
      throw error;
    });
    if (existing?.KeyMetadata?.Arn !== undefined) return existing.KeyMetadata.Arn;
    const created = await kms.send(
      new CreateKeyCommand({
        Description: `Encrypts the CA secrets of mesh ${options.meshId} (meshtrust)`,
        KeyUsage: 'ENCRYPT_DECRYPT',
      }),
    );
    const { KeyId, Arn } = created.KeyMetadata ?? {};
    if (KeyId === undefined || Arn === undefined)
      throw new Error(`KMS CreateKey returned no key at ${options.endpoint}`);
    await kms.send(new EnableKeyRotationCommand({ KeyId }));
    await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: KeyId }));
    return Arn;
  } finally {
    kms.destroy();
  }
}
