import { readCacerts, writeCacerts } from '../adapters/kube/cacerts-secret.js';
import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { CacertsConflict } from '../adapters/kube/kube-errors.js';
import { withRetry } from '../adapters/retry.js';
import { CACERTS_KEYS, type CacertsFiles } from '../core/pki/cacerts.js';
import { nonCompliant } from '../core/pki/findings.js';
import { checkRootCertBytes } from '../core/pki/root-cert-bytes.js';
import { checkRootTransition, TrustBundle } from '../core/pki/trust-bundle.js';
import { validateCacerts } from '../core/pki/validate-cacerts.js';
import type { CacertsChange } from '../core/rotation/cacerts-change.js';
import { refuseWriteOfRolledBackRun } from '../core/rotation/rollback-fence.js';
import { PreconditionFailed } from '../core/rotation-errors.js';

/** A cluster's complete `cacerts` and the resourceVersion it was read at. */
export interface ClusterCacerts {
  readonly files: CacertsFiles;
  readonly resourceVersion: string;
  /** The execution whose rollback fenced the Secret (adapters/kube/cacerts-secret.ts), if any. */
  readonly rolledBack?: string;
}

/** Reads `cacerts`, refusing (PreconditionFailed) when it is missing or lacks a key. */
export async function readClusterCacerts(client: ClusterClient, phase: string): Promise<ClusterCacerts> {
  const snapshot = await readCacerts(client);
  const missing = CACERTS_KEYS.filter((key) => !snapshot?.files[key]);
  if (snapshot === undefined || missing.length > 0) {
    throw new PreconditionFailed(
      snapshot === undefined
        ? `Cluster ${client.name} has no secret istio-system/cacerts; ${phase} needs the plug-in CA preflight found. Find out who removed it.`
        : `istio-system/cacerts of cluster ${client.name} lacks ${missing.join(', ')}; ${phase} cannot continue. Find out who changed it.`,
      { cluster: client.name, phase },
    );
  }
  return {
    files: snapshot.files as CacertsFiles,
    resourceVersion: snapshot.resourceVersion,
    ...(snapshot.rolledBack !== undefined && { rolledBack: snapshot.rolledBack }),
  };
}

export interface AppliedChange {
  readonly before: CacertsFiles;
  readonly after: CacertsFiles;
  /** false when the cluster already was in the desired state: nothing written. */
  readonly changed: boolean;
  readonly resourceVersion: string;
}

/**
 * Read, decide, check, write: `decide` computes the change from what the cluster holds now, and the
 * whole cycle runs again when someone else wrote `cacerts` in between (a resourceVersion conflict).
 * Before writing, the new content is validated as istiod will (chain, key, dates) and its root-cert.pem
 * change checked against the multiroot rules of every Istio version (bytes contained, set superset or
 * subset), so a write istiod would drop silently is never made. With `forwardOf` (a forward phase's
 * execution name) the cycle refuses once that execution's rollback has fenced the Secret: a fence set
 * after the read turns the write into a conflict, and the re-read finds the fence.
 */
export async function applyCacertsChange(
  client: ClusterClient,
  phase: string,
  decide: (current: CacertsFiles) => CacertsChange | Promise<CacertsChange>,
  options: { readonly now?: Date; readonly onConflict?: () => void; readonly forwardOf?: string } = {},
): Promise<AppliedChange> {
  const { forwardOf } = options;
  return withRetry(
    async () => {
      const current = await readClusterCacerts(client, phase);
      if (forwardOf !== undefined) {
        refuseWriteOfRolledBackRun({
          cluster: client.name,
          phase,
          executionName: forwardOf,
          rolledBack: current.rolledBack,
        });
      }
      const change = await decide(current.files);
      if (!change.write) {
        return {
          before: current.files,
          after: current.files,
          changed: false,
          resourceVersion: current.resourceVersion,
        };
      }
      await assertIstiodWouldAccept(
        client.name,
        phase,
        current.files,
        change.files,
        options.now ?? new Date(),
      );
      const written = await writeCacerts(client, change.files, {
        expectedResourceVersion: current.resourceVersion,
      });
      return {
        before: current.files,
        after: change.files,
        changed: written.written,
        resourceVersion: written.resourceVersion,
      };
    },
    {
      attempts: 5,
      baseDelayMs: 100,
      maxDelayMs: 2000,
      operation: `update istio-system/cacerts of cluster ${client.name}`,
      isRetryable: (error) => error instanceof CacertsConflict,
      onRetry: () => options.onConflict?.(),
    },
  );
}

async function assertIstiodWouldAccept(
  cluster: string,
  phase: string,
  current: CacertsFiles,
  next: CacertsFiles,
  now: Date,
): Promise<void> {
  const problems = nonCompliant(await validateCacerts(next, { now, cluster })).map(
    (finding) => finding.reason,
  );
  // Both of istiod's root-cert.pem rules, since the cluster's Istio version is not known here: bytes
  // that contain each other (up to 1.29) and a set that is a superset or subset (1.30 on).
  const where = { cluster, file: 'root-cert.pem' };
  const transitions = [
    checkRootTransition(
      TrustBundle.parse(current['root-cert.pem']),
      TrustBundle.parse(next['root-cert.pem']),
      where,
    ),
    checkRootCertBytes(current['root-cert.pem'], next['root-cert.pem'], where),
  ];
  problems.push(...nonCompliant(transitions).map((finding) => finding.reason));
  if (problems.length > 0) {
    throw new PreconditionFailed(
      `The new istio-system/cacerts of cluster ${cluster} would be dropped by istiod: ${problems.join('; ')}. Nothing was written.`,
      { cluster, phase },
    );
  }
}
