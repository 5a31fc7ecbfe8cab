import { PreconditionFailed } from '../../core/rotation-errors.js';

/** The four keys of Istio's `cacerts` secret, all required. */
export const CACERTS_FILE_NAMES = ['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem'] as const;
export type CacertsFileName = (typeof CACERTS_FILE_NAMES)[number];
export type CacertsFiles = Readonly<Record<CacertsFileName, string>>;

/** A cluster's `cacerts` as an execution found it, to restore on rollback. */
export interface CacertsBackup {
  readonly files: CacertsFiles;
  /** The Kubernetes resourceVersion of `cacerts` when it was read. */
  readonly resourceVersion: string;
}

/** Where a backup is stored. */
export interface CacertsBackupRef {
  readonly arn: string;
  readonly versionId: string;
  readonly cluster: string;
  readonly resourceVersion: string;
}

export function serialiseCacertsBackup(backup: CacertsBackup, takenAt: Date): string {
  const files = checkFiles(backup.files, 'the cacerts backup to store');
  return JSON.stringify({ files, resourceVersion: backup.resourceVersion, takenAt: takenAt.toISOString() });
}

export function parseCacertsBackup(secretString: string | undefined, where: string): CacertsBackup {
  let parsed: { files?: unknown; resourceVersion?: unknown };
  try {
    parsed = JSON.parse(secretString ?? '');
  } catch {
    throw new PreconditionFailed(`${where} does not hold JSON; it cannot be used to restore cacerts.`);
  }
  if (typeof parsed.resourceVersion !== 'string') {
    throw new PreconditionFailed(`${where} has no resourceVersion; it cannot be used to restore cacerts.`);
  }
  return { files: checkFiles(parsed.files, where), resourceVersion: parsed.resourceVersion };
}

function checkFiles(value: unknown, where: string): CacertsFiles {
  const record = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const missing = CACERTS_FILE_NAMES.filter(
    (name) => typeof record[name] !== 'string' || record[name] === '',
  );
  if (missing.length > 0) {
    throw new PreconditionFailed(
      `${where} lacks ${missing.join(', ')}; a cacerts backup needs all of ${CACERTS_FILE_NAMES.join(', ')}.`,
    );
  }
  // Only the four keys: anything else (tls.crt, tls.key) must not come back on restore.
  return Object.fromEntries(CACERTS_FILE_NAMES.map((name) => [name, record[name]])) as CacertsFiles;
}
