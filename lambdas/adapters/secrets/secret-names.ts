import { CA_SECRET_NAMES } from '../../contract/ca-store.js';
import { PreconditionFailed } from '../../core/rotation-errors.js';

/**
 * The layout of meshtrust's secrets in Secrets Manager, one mesh per prefix:
 *
 *   meshtrust/<mesh>/root                              the mesh root CA (versions staged AWSPENDING,
 *                                                      AWSCURRENT, AWSPREVIOUS)
 *   meshtrust/<mesh>/root-key/<versionId>              the private key of an imported root (import-root),
 *                                                      deleted when a rotation retires that root; a root
 *                                                      made by meshtrust has its key in KMS instead
 *   meshtrust/<mesh>/intermediate/<cluster>            a cluster's intermediate CA
 *   meshtrust/<mesh>/backup/<executionName>/<cluster>  a cluster's cacerts as the execution found it
 */

// Characters Secrets Manager allows in names, without '/', which separates our segments.
const SEGMENT = /^[A-Za-z0-9_+=.@-]{1,128}$/;

/** Where every secret of the mesh lives (the stack scopes IAM to it). */
export function meshSecretPrefix(meshId: string): string {
  return `meshtrust/${segment('mesh id', meshId)}/`;
}

export function rootSecretName(meshId: string): string {
  return `${meshSecretPrefix(meshId)}${CA_SECRET_NAMES.root}`;
}

/** The secret of an imported root's private key, named after the root version it belongs to. */
export function importedRootKeySecretName(meshId: string, rootVersionId: string): string {
  return `${meshSecretPrefix(meshId)}${CA_SECRET_NAMES.importedRootKeys}${segment('root version id', rootVersionId)}`;
}

export function intermediateSecretName(meshId: string, cluster: string): string {
  return `${meshSecretPrefix(meshId)}${CA_SECRET_NAMES.intermediates}${segment('cluster name', cluster)}`;
}

export function backupSecretPrefix(meshId: string, executionName: string): string {
  return `${meshSecretPrefix(meshId)}${CA_SECRET_NAMES.backups}${segment('execution name', executionName)}/`;
}

export function backupSecretName(meshId: string, executionName: string, cluster: string): string {
  return `${backupSecretPrefix(meshId, executionName)}${segment('cluster name', cluster)}`;
}

function segment(what: string, value: string): string {
  if (!SEGMENT.test(value)) {
    throw new PreconditionFailed(
      `The ${what} ${JSON.stringify(value)} cannot be part of a secret name: use 1-128 characters from ` +
        'A-Z a-z 0-9 _ + = . @ -',
    );
  }
  return value;
}
