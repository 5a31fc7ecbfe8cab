import {
  type CacertsBackup,
  type CacertsBackupRef,
  parseCacertsBackup,
  serialiseCacertsBackup,
} from './cacerts-backup.js';
import { clientRequestTokenFor } from './client-request-token.js';
import { CURRENT, type MeshSecrets, type SecretVersion } from './mesh-secrets.js';
import { backupSecretName, backupSecretPrefix } from './secret-names.js';

/**
 * Each cluster's `cacerts` as an execution first found it, one secret per execution and cluster
 * (`backup/<executionName>/<cluster>`), for rollback to restore. First write wins: a retried distribute
 * step cannot replace the start state with a half-rotated one.
 */
export class CacertsBackupStore {
  private readonly secrets: MeshSecrets;

  constructor(secrets: MeshSecrets) {
    this.secrets = secrets;
  }

  backupSecretName(executionName: string, cluster: string): string {
    return backupSecretName(this.secrets.meshId, executionName, cluster);
  }

  /**
   * Backs up a cluster's `cacerts` for an execution. The first backup is the start state to restore,
   * so an existing backup is kept and returned (created: false), never overwritten.
   */
  async backupCacerts(
    executionName: string,
    cluster: string,
    backup: CacertsBackup,
  ): Promise<CacertsBackupRef & { readonly created: boolean }> {
    const name = this.backupSecretName(executionName, cluster);
    const secretString = serialiseCacertsBackup(backup, new Date());
    const labels = { kind: 'cacerts-backup', cluster, execution: executionName } as const;
    const existing = await this.secrets.getVersion(name, { stage: CURRENT });
    if (existing !== undefined) {
      // A run stopped after creating the backup may not have put its policy yet.
      await this.secrets.putPolicy(name, labels);
      return { ...backupRef(existing, cluster), created: false };
    }

    const token = clientRequestTokenFor(name, 'cacerts-backup');
    const created = await this.secrets.createSecret(name, labels, { secretString, token });
    if (created !== undefined) {
      return {
        arn: created.arn,
        versionId: created.versionId,
        cluster,
        resourceVersion: backup.resourceVersion,
        created: true,
      };
    }
    // Someone created the secret between our read and our create: keep theirs if it holds a value.
    const raced = await this.secrets.getVersion(name, { stage: CURRENT });
    if (raced !== undefined) return { ...backupRef(raced, cluster), created: false };
    const put = await this.secrets.putSecretValue(name, secretString, token, [CURRENT]);
    return {
      arn: put.arn,
      versionId: put.versionId,
      cluster,
      resourceVersion: backup.resourceVersion,
      created: true,
    };
  }

  /** The backup of a cluster's `cacerts` for an execution, or undefined when there is none. */
  async readCacertsBackup(executionName: string, cluster: string): Promise<CacertsBackup | undefined> {
    const name = this.backupSecretName(executionName, cluster);
    const version = await this.secrets.getVersion(name, { stage: CURRENT });
    if (version === undefined) return undefined;
    return parseCacertsBackup(version.secretString, `cacerts backup ${name}`);
  }

  /**
   * Schedules the deletion of a cluster's backup for an execution (it holds that cluster's old
   * intermediate key), after a recovery window of 7-30 days. Idempotent: a backup already scheduled for
   * deletion, or never made, is left as it is (changed: false).
   */
  deleteCacertsBackup(
    executionName: string,
    cluster: string,
    recoveryWindowDays: number,
  ): Promise<{ readonly deletionDate?: Date; readonly changed: boolean }> {
    return this.secrets.scheduleDeletion(this.backupSecretName(executionName, cluster), recoveryWindowDays);
  }

  /**
   * The clusters with a backup for an execution. ListSecrets is eventually consistent on AWS: a
   * backup made seconds ago may be missing, so rollback should call readCacertsBackup for each
   * cluster of its plan and use this list only to find extra ones.
   */
  async listCacertsBackups(executionName: string): Promise<string[]> {
    const prefix = backupSecretPrefix(this.secrets.meshId, executionName);
    const names = await this.secrets.listNames(prefix);
    return names.map((name) => name.slice(prefix.length)).sort();
  }
}

function backupRef(version: SecretVersion, cluster: string): CacertsBackupRef {
  const backup = parseCacertsBackup(version.secretString, `cacerts backup ${version.arn}`);
  return {
    arn: version.arn,
    versionId: version.versionId,
    cluster,
    resourceVersion: backup.resourceVersion,
  };
}
