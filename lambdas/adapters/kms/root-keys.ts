// The mesh's root keys in AWS KMS (issue 13): stage-root creates one asymmetric SIGN_VERIFY key per
// rotation, every root certificate and intermediate it issues is signed with kms:Sign, and the key is
// disabled and scheduled for deletion when its root is retired or its rotation rolled back.
//
// KMS has no idempotency token for CreateKey, so each key gets an alias named after the root version
// it belongs to: a re-run finds the key by its alias instead of creating a second one.
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  type KeyMetadata,
  type KeySpec,
  type KMSClient,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { MESH_TAG_KEY } from '../../contract/resource-tags.js';
import { ROOT_KEY_DELETION_WINDOW_DAYS, rootKeyAliasPrefix } from '../../contract/root-keys.js';
import { MeshTrustError } from '../../core/meshtrust-error.js';
import type { CertificateSigner } from '../../core/pki/certificate-signer.js';
import type { KeyAlgorithm } from '../../core/pki/key-algorithm.js';
import { PreconditionFailed } from '../../core/rotation-errors.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetry } from '../retry.js';
import { KMS_SIGNING_KEYS, kmsCertificateSigner } from './kms-certificate-signer.js';
import { type RootKeyPrincipals, rootKeyPolicy } from './root-key-policy.js';

export interface RootKeysProps {
  readonly client: KMSClient;
  readonly meshId: string;
  /**
   * The roles each new key's policy names, per use (root-key-policy.ts).
   * @default KMS's default key policy (outside a deployed stack)
   */
  readonly keyPrincipals?: RootKeyPrincipals;
  readonly retry?: RetryPolicy;
}

/** A root key and whether this call created it. */
export interface RootKeyRef {
  readonly keyArn: string;
  readonly created: boolean;
}

/** What retiring a key did. */
export interface RetiredRootKey {
  readonly keyArn: string;
  /** false: the key was already disabled and scheduled for deletion (or gone). */
  readonly changed: boolean;
  readonly deletionDate?: Date;
}

export class RootKeys {
  private readonly client: KMSClient;
  private readonly meshId: string;
  private readonly keyPrincipals: RootKeyPrincipals | undefined;
  private readonly retry: RetryPolicy;

  constructor(props: RootKeysProps) {
    this.client = props.client;
    this.meshId = props.meshId;
    this.keyPrincipals = props.keyPrincipals;
    this.retry = props.retry ?? DEFAULT_RETRY_POLICY;
  }

  /** The alias of the key of root version `rootVersionId`. */
  aliasFor(rootVersionId: string): string {
    return `${rootKeyAliasPrefix(this.meshId)}${rootVersionId}`;
  }

  /**
   * The key for root version `rootVersionId`: the one its alias names, or a new key of `algorithm`
   * with that alias. Refuses an existing key that cannot sign as `algorithm` or is not enabled.
   */
  async createOrFind(rootVersionId: string, algorithm: KeyAlgorithm): Promise<RootKeyRef> {
    const alias = this.aliasFor(rootVersionId);
    const keySpec = keySpecOf(algorithm);
    const existing = await this.describe(alias);
    if (existing !== undefined) return { keyArn: this.checkUsable(existing, alias, keySpec), created: false };

    const created = await this.call('create a root key', () =>
      this.client.send(
        new CreateKeyCommand({
          KeySpec: keySpec,
          KeyUsage: 'SIGN_VERIFY',
          ...(this.keyPrincipals !== undefined && { Policy: rootKeyPolicy(this.keyPrincipals) }),
          Description: `meshtrust ${this.meshId}: root CA key of root version ${rootVersionId}`,
          Tags: [
            { TagKey: MESH_TAG_KEY, TagValue: this.meshId },
            { TagKey: 'meshtrust.io/kind', TagValue: 'root-ca-key' },
            { TagKey: 'meshtrust.io/root-version', TagValue: rootVersionId },
          ],
        }),
      ),
    );
    const keyArn = created.KeyMetadata?.Arn;
    if (keyArn === undefined) throw new MeshTrustError('KMS CreateKey returned no key ARN');
    try {
      await this.call(`create alias ${alias}`, () =>
        this.client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyArn })),
      );
      return { keyArn, created: true };
    } catch (error) {
      if (errorName(error) !== 'AlreadyExistsException') throw error;
      const winner = await this.describe(alias);
      // The alias names our key: our CreateAlias was made and its answer lost, and the SDK's retry of
      // it found the alias. Retiring the key here would retire the root's own key.
      if (winner?.Arn === keyArn) return { keyArn, created: true };
      // A concurrent re-run won the alias: use its key and retire ours, which signed nothing.
      await this.retire(keyArn, ROOT_KEY_DELETION_WINDOW_DAYS.min);
      if (winner === undefined) throw error;
      return { keyArn: this.checkUsable(winner, alias, keySpec), created: false };
    }
  }

  /**
   * A certificate signer over a root key, refused (PreconditionFailed) unless the key is enabled: a
   * retired root's key must never sign again, and the error says so before KMS would.
   */
  async signer(keyArn: string): Promise<CertificateSigner> {
    const described = await this.describe(keyArn);
    if (described?.KeyState !== 'Enabled') {
      throw new PreconditionFailed(
        `Root key ${keyArn} is ${described?.KeyState ?? 'gone'}: its root was retired or rolled back, so it signs ` +
          'nothing more. Use the current root (meshtrust status shows it), or start a new rotation.',
      );
    }
    return kmsCertificateSigner(this.client, keyArn);
  }

  /** The ARN of root version `rootVersionId`'s key, or undefined when stage-root made none. */
  async find(rootVersionId: string): Promise<string | undefined> {
    return (await this.describe(this.aliasFor(rootVersionId)))?.Arn;
  }

  /**
   * Disables the key at once and schedules its deletion after `windowDays` (7-30; KMS refuses a
   * disabled or pending key's Sign at once, and CancelKeyDeletion would bring it back disabled).
   * Idempotent: a key already pending deletion, or gone, is left as it is.
   */
  async retire(keyId: string, windowDays: number): Promise<RetiredRootKey> {
    const described = await this.describe(keyId);
    if (described === undefined || described.KeyState === 'PendingDeletion') {
      return { keyArn: described?.Arn ?? keyId, changed: false, ...deletionDateOf(described) };
    }
    const keyArn = described.Arn ?? keyId;
    // By key id, not ARN: moto 5.2.1 fails DisableKey and ScheduleKeyDeletion given an ARN (HTTP 500);
    // AWS takes either for a key of the caller's account, which a root key always is.
    const id = described.KeyId ?? keyId;
    if (described.KeyState === 'Enabled') {
      await this.call(`disable key ${keyArn}`, () => this.client.send(new DisableKeyCommand({ KeyId: id })));
    }
    const scheduled = await this.call(`schedule deletion of key ${keyArn}`, () =>
      this.client.send(new ScheduleKeyDeletionCommand({ KeyId: id, PendingWindowInDays: windowDays })),
    );
    return {
      keyArn,
      changed: true,
      ...(scheduled.DeletionDate !== undefined && { deletionDate: scheduled.DeletionDate }),
    };
  }

  private checkUsable(key: KeyMetadata, alias: string, keySpec: KeySpec): string {
    const spec = key.KeySpec ?? key.CustomerMasterKeySpec;
    if (key.KeyState !== 'Enabled' || key.KeyUsage !== 'SIGN_VERIFY' || spec !== keySpec) {
      throw new PreconditionFailed(
        `KMS key ${key.Arn} (${alias}) is ${key.KeyState ?? 'in no state'}, ${spec ?? 'of no spec'} for ` +
          `${key.KeyUsage ?? 'no usage'}; this root needs an enabled ${keySpec} SIGN_VERIFY key. It was retired ` +
          'or changed by hand: roll back this execution and start a new one.',
      );
    }
    return key.Arn as string;
  }

  private async describe(keyId: string): Promise<KeyMetadata | undefined> {
    try {
      const described = await this.call(`describe key ${keyId}`, () =>
        this.client.send(new DescribeKeyCommand({ KeyId: keyId })),
      );
      return described.KeyMetadata;
    } catch (error) {
      if (errorName(error) === 'NotFoundException') return undefined;
      throw error;
    }
  }

  private call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, { ...this.retry, operation: `KMS: ${operation}` });
  }
}

/** The KMS key spec of a key algorithm (every algorithm meshtrust offers has one). */
export function keySpecOf(algorithm: KeyAlgorithm): KeySpec {
  const found = Object.entries(KMS_SIGNING_KEYS).find(([, spec]) => spec.algorithm === algorithm);
  if (found === undefined) throw new RangeError(`No KMS key spec signs as ${algorithm}`);
  return found[0] as KeySpec;
}

function deletionDateOf(key: KeyMetadata | undefined): { deletionDate?: Date } {
  return key?.DeletionDate === undefined ? {} : { deletionDate: key.DeletionDate };
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}
