import type { RootKey } from '../adapters/secrets/root-material.js';
import type { RotationRuntime } from './runtime.js';

/** What retiring a root's key did, for the handler's output and audit. */
export interface RetiredKey {
  readonly kind: RootKey['kind'];
  /** The KMS key ARN or the key secret's name; absent for an offline key. */
  readonly id?: string;
  /** false: already retired, or nothing meshtrust can retire (an offline key). */
  readonly changed: boolean;
  /** ISO time of the key's deletion, when one is scheduled. */
  readonly deletionDate?: string;
}

/**
 * Retires a root's private key once nothing may sign with it again: a KMS key is disabled at once and
 * scheduled for deletion, an imported root's key secret scheduled for deletion, both after
 * ROOT_KEY_DELETION_WINDOW_DAYS. An offline key is its owner's to destroy. Idempotent.
 */
export async function retireRootKey(
  runtime: Pick<RotationRuntime, 'store' | 'rootKeys' | 'config'>,
  key: RootKey,
): Promise<RetiredKey> {
  const windowDays = runtime.config.rootKeyDeletionWindowDays;
  switch (key.kind) {
    case 'kms': {
      const retired = await runtime.rootKeys.retire(key.keyArn, windowDays);
      return {
        kind: key.kind,
        id: retired.keyArn,
        changed: retired.changed,
        ...isoDate(retired.deletionDate),
      };
    }
    case 'secret': {
      const deleted = await runtime.store.deleteImportedRootKey(key.secretName, windowDays);
      return {
        kind: key.kind,
        id: key.secretName,
        changed: deleted.changed,
        ...isoDate(deleted.deletionDate),
      };
    }
    case 'offline':
      return { kind: key.kind, changed: false };
  }
}

/** A retired key as flat audit detail fields. */
export function retiredKeyDetail(retired: RetiredKey): Record<string, string | boolean> {
  return {
    retiredKeyKind: retired.kind,
    ...(retired.id !== undefined && { retiredKey: retired.id }),
    retiredKeyChanged: retired.changed,
    ...(retired.deletionDate !== undefined && { retiredKeyDeletionDate: retired.deletionDate }),
  };
}

function isoDate(date: Date | undefined): { deletionDate?: string } {
  return date === undefined ? {} : { deletionDate: date.toISOString() };
}
