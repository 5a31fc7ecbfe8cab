// Puts the lab's CAs into an AWS account (moto_server in `meshtrust lab`) the way a deployed meshtrust
// stack holds them after its first run: the stack's KMS key (alias/meshtrust/<mesh>/ca, lib/ca-store.ts),
// the mesh's root secret with root A as AWSCURRENT and one intermediate secret per cluster holding the
// intermediate that cluster's cacerts carries, both encrypted with that key. The CA store adapter
// does the writing, so the layout is exactly the one the handlers read.

import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
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

/**
 * The mesh's customer-managed key, created with its alias unless the alias already exists. There is
 * no KMS client among our dependencies and three JSON calls do not justify one, so the requests are
 * signed here with the same SigV4 library the EKS token uses.
 */
async function ensureMeshKey(options: SeedCaStoreOptions): Promise<string> {
  const call = (action: string, body: Record<string, unknown>) => callKms(options, action, body);
  const alias = meshKeyAlias(options.meshId);
  const existing = await call('DescribeKey', { KeyId: alias });
  if (existing.status === 200) return (existing.body as { KeyMetadata: { Arn: string } }).KeyMetadata.Arn;
  const created = await call('CreateKey', {
    Description: `Encrypts the CA secrets of mesh ${options.meshId} (meshtrust)`,
    KeyUsage: 'ENCRYPT_DECRYPT',
  });
  if (created.status !== 200)
    throw new Error(`KMS CreateKey failed (${created.status}) at ${options.endpoint}`);
  const { KeyId, Arn } = (created.body as { KeyMetadata: { KeyId: string; Arn: string } }).KeyMetadata;
  for (const [action, body] of [
    ['EnableKeyRotation', { KeyId }],
    ['CreateAlias', { AliasName: alias, TargetKeyId: KeyId }],
  ] as const) {
    const answer = await call(action, body);
    if (answer.status !== 200)
      throw new Error(`KMS ${action} failed (${answer.status}) at ${options.endpoint}`);
  }
  return Arn;
}

async function callKms(
  options: SeedCaStoreOptions,
  action: string,
  body: Record<string, unknown>,
): Promise<{ status: number; body: unknown }> {
  const url = new URL(options.endpoint);
  const payload = JSON.stringify(body);
  const signer = new SignatureV4({
    service: 'kms',
    region: options.region,
    credentials: options.credentials,
    sha256: Sha256,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: '/',
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `TrentService.${action}`,
      },
      body: payload,
    }),
  );
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      { method: 'POST', headers: signed.headers, agent: false, timeout: 30_000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = {};
          try {
            parsed = text === '' ? {} : JSON.parse(text);
          } catch {
            parsed = { message: text.slice(0, 200) };
          }
          resolve({ status: response.statusCode ?? 0, body: parsed });
        });
      },
    );
    request.once('timeout', () =>
      request.destroy(new Error(`KMS ${action} timed out at ${options.endpoint}`)),
    );
    request.once('error', reject);
    request.end(payload);
  });
}
