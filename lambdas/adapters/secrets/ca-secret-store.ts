import type { CaMaterial, SecretVersionRef, StoredCa } from './ca-material.js';
import type { CacertsBackup, CacertsBackupRef } from './cacerts-backup.js';
import { CacertsBackupStore } from './cacerts-backup-store.js';
import { ImportedRootKeyStore } from './imported-root-key-store.js';
import { IntermediateStore } from './intermediate-store.js';
import { MeshSecrets, type MeshSecretsProps } from './mesh-secrets.js';
import type { StoredRoot } from './root-material.js';
import {
  type ImportRootInput,
  type PromotedRoot,
  type RootStages,
  RootStore,
  type StageRootInput,
} from './root-store.js';

export { CURRENT, PENDING, PREVIOUS } from './mesh-secrets.js';
export type { PromotedRoot, RootStages } from './root-store.js';

export type CaSecretStoreProps = MeshSecretsProps;

/**
 * The CA store of one mesh on Secrets Manager: the root CA, each cluster's intermediate CA and the
 * per-execution backups of each cluster's `cacerts` (layout in secret-names.ts, docs/adapters.md).
 * One object for the handlers, the CLI and the lab to wire; each part is its own module:
 *
 * - root-store.ts: the root secret and its staging labels (describe, read, import, stage, promote, drop);
 * - imported-root-key-store.ts: the key of a root imported with its key, in a secret of its own;
 * - intermediate-store.ts: each cluster's intermediate;
 * - cacerts-backup-store.ts: each cluster's `cacerts` as an execution first found it;
 * - mesh-secrets.ts: the Secrets Manager calls they share (retries, "not there" as undefined, tags, and
 *   the write once per ClientRequestToken).
 *
 * Every write checks what is stored before writing and is idempotent for a given ClientRequestToken
 * (see clientRequestTokenFor): a repeat with the same material returns the stored version, a repeat
 * with different material is refused. Real Secrets Manager refuses such a repeat too, but moto
 * silently overwrites it, so the check is ours and does not depend on the backend.
 *
 * The root secret holds no private key (root-material.ts: a KMS key reference, or the name of an
 * imported root's key secret). Only readImportedRootKey, (try)readIntermediate and readCacertsBackup
 * return private keys, for in-process use; everything else returns ARNs, version ids and fingerprints.
 */
export class CaSecretStore {
  readonly meshId: string;
  readonly rootSecretName: string;
  private readonly root: RootStore;
  private readonly importedRootKeys: ImportedRootKeyStore;
  private readonly intermediates: IntermediateStore;
  private readonly backups: CacertsBackupStore;

  constructor(props: CaSecretStoreProps) {
    const secrets = new MeshSecrets(props);
    this.importedRootKeys = new ImportedRootKeyStore(secrets);
    this.root = new RootStore(secrets, this.importedRootKeys);
    this.intermediates = new IntermediateStore(secrets);
    this.backups = new CacertsBackupStore(secrets);
    this.meshId = props.meshId;
    this.rootSecretName = this.root.rootSecretName;
  }

  intermediateSecretName(cluster: string): string {
    return this.intermediates.intermediateSecretName(cluster);
  }

  backupSecretName(executionName: string, cluster: string): string {
    return this.backups.backupSecretName(executionName, cluster);
  }

  // The operations are documented where they are implemented.

  describeRoot(): Promise<RootStages> {
    return this.root.describeRoot();
  }

  readCurrentRoot(): Promise<StoredRoot> {
    return this.root.readCurrentRoot();
  }

  readRootVersion(versionId: string): Promise<StoredRoot> {
    return this.root.readRootVersion(versionId);
  }

  tryReadRootVersion(versionId: string): Promise<StoredRoot | undefined> {
    return this.root.tryReadRootVersion(versionId);
  }

  importRoot(input: ImportRootInput): Promise<SecretVersionRef> {
    return this.root.importRoot(input);
  }

  stageRoot(input: StageRootInput): Promise<SecretVersionRef> {
    return this.root.stageRoot(input);
  }

  checkCanStageRoot(token: string): Promise<void> {
    return this.root.checkCanStageRoot(token);
  }

  promoteRoot(input: { readonly versionId: string }): Promise<PromotedRoot> {
    return this.root.promoteRoot(input);
  }

  dropPendingRoot(input: { readonly versionId?: string } = {}): Promise<{ droppedVersionId?: string }> {
    return this.root.dropPendingRoot(input);
  }

  readImportedRootKey(root: StoredRoot): Promise<CaMaterial> {
    return this.importedRootKeys.readImportedRootKey(root);
  }

  deleteImportedRootKey(
    secretName: string,
    recoveryWindowDays: number,
  ): Promise<{ readonly deletionDate?: Date; readonly changed: boolean }> {
    return this.importedRootKeys.deleteImportedRootKey(secretName, recoveryWindowDays);
  }

  putIntermediate(cluster: string, material: CaMaterial, token: string): Promise<SecretVersionRef> {
    return this.intermediates.putIntermediate(cluster, material, token);
  }

  readIntermediate(cluster: string): Promise<StoredCa> {
    return this.intermediates.readIntermediate(cluster);
  }

  tryReadIntermediate(cluster: string): Promise<StoredCa | undefined> {
    return this.intermediates.tryReadIntermediate(cluster);
  }

  backupCacerts(
    executionName: string,
    cluster: string,
    backup: CacertsBackup,
  ): Promise<CacertsBackupRef & { readonly created: boolean }> {
    return this.backups.backupCacerts(executionName, cluster, backup);
  }

  readCacertsBackup(executionName: string, cluster: string): Promise<CacertsBackup | undefined> {
    return this.backups.readCacertsBackup(executionName, cluster);
  }

  deleteCacertsBackup(
    executionName: string,
    cluster: string,
    recoveryWindowDays: number,
  ): Promise<{ readonly deletionDate?: Date; readonly changed: boolean }> {
    return this.backups.deleteCacertsBackup(executionName, cluster, recoveryWindowDays);
  }

  listCacertsBackups(executionName: string): Promise<string[]> {
    return this.backups.listCacertsBackups(executionName);
  }
}
