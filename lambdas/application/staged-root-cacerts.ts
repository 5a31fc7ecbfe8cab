import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import type { CacertsFiles } from '../core/pki/cacerts.js';
import type { CacertsChange } from '../core/rotation/cacerts-change.js';
import { distributeBundleChange } from '../core/rotation/distribute-bundle-change.js';
import { executionNameOf } from '../core/rotation/execution-name.js';
import { retireRootChange } from '../core/rotation/retire-root-change.js';
import { refuseWriteOfRolledBackRun } from '../core/rotation/rollback-fence.js';
import { requireStagedRoot, type StagedRootPhase } from '../core/rotation/staged-root-required.js';
import { readClusterCacerts } from './cluster-cacerts.js';
import { type CacertsWrite, writeClusterCacerts } from './cluster-cacerts-write.js';
import { readRootVersion, type SecretVersion } from './root-ca.js';
import type { RotationRuntime } from './runtime.js';

/** What distribute-bundle and retire-root answer for a primary cluster. */
export interface RootCertWritten {
  readonly cluster: string;
  readonly changed: boolean;
  readonly rootsBefore: string[];
  readonly rootsAfter: string[];
  readonly resourceVersion: string;
  /**
   * ISO time at or after which cacerts held `rootsAfter` (written, or found written): the gate after the
   * phase counts istiod's delay in taking it from there (core/istio/istiod-load-window.ts).
   */
  readonly cacertsWrittenBy: string;
}

export interface DistributeBundleOutput extends RootCertWritten {
  readonly backupVersionId: string;
}

export type RetireRootOutput = RootCertWritten;

/** What of its event a phase writing the staged root works from. */
export interface StagedRootStep {
  readonly executionId: string;
  readonly cluster: string;
  /** null in intermediate mode, which these phases refuse. */
  readonly stagedRoot: SecretVersion | null;
}

/**
 * distribute-bundle on one primary cluster: cacerts backed up as this execution first found it (the first
 * backup is kept on re-runs), then root-cert.pem = its bytes with the new root's PEM appended.
 */
export async function distributeBundle(
  runtime: RotationRuntime,
  step: StagedRootStep,
): Promise<DistributeBundleOutput> {
  const phase = 'distribute-bundle';
  const { client, newRootPem } = await stagedRootFor(runtime, phase, step);
  const start = await readClusterCacerts(client, phase);
  const executionName = executionNameOf(step.executionId);
  // Before the backup too: a late first invocation after the rollback began has nothing to back up.
  refuseWriteOfRolledBackRun({ cluster: step.cluster, phase, executionName, rolledBack: start.rolledBack });
  const backup = await runtime.store.backupCacerts(executionName, step.cluster, start);
  const written = await writeRootCert(
    client,
    { phase, step, detail: { backupVersionId: backup.versionId } },
    (current) => distributeBundleChange(current, newRootPem),
  );
  return { ...written, backupVersionId: backup.versionId };
}

/**
 * retire-root on one primary cluster: root-cert.pem = the new root's PEM as staged, refused (in the core)
 * while the intermediate does not chain to it.
 */
export async function retireRoot(runtime: RotationRuntime, step: StagedRootStep): Promise<RetireRootOutput> {
  const phase = 'retire-root';
  const { client, newRootPem } = await stagedRootFor(runtime, phase, step);
  return writeRootCert(client, { phase, step }, (current) =>
    retireRootChange(step.cluster, current, newRootPem),
  );
}

/** The staged root's certificate, checked against the fingerprint the execution recorded, and the cluster. */
async function stagedRootFor(
  runtime: RotationRuntime,
  phase: StagedRootPhase,
  step: StagedRootStep,
): Promise<{ readonly client: ClusterClient; readonly newRootPem: string }> {
  const { cluster } = step;
  const stagedRoot = requireStagedRoot(phase, cluster, step.stagedRoot);
  const newRoot = await readRootVersion(runtime.store, stagedRoot, { phase, cluster });
  return { client: await runtime.clusterClient(cluster), newRootPem: newRoot.material.certificatePem };
}

/** The write through the per-cluster frame, and what both phases answer of it. */
async function writeRootCert(
  client: ClusterClient,
  write: {
    readonly phase: StagedRootPhase;
    readonly step: StagedRootStep;
    readonly detail?: CacertsWrite['detail'];
  },
  decide: (current: CacertsFiles) => CacertsChange | Promise<CacertsChange>,
): Promise<RootCertWritten> {
  const { phase, step, detail } = write;
  const { cluster, executionId } = step;
  const { applied, before, after, writtenBy } = await writeClusterCacerts(
    client,
    { phase, action: 'write-cacerts', cluster, executionId, ...(detail !== undefined && { detail }) },
    decide,
  );
  return {
    cluster,
    changed: applied.changed,
    rootsBefore: before.roots,
    rootsAfter: after.roots,
    resourceVersion: applied.resourceVersion,
    cacertsWrittenBy: writtenBy.toISOString(),
  };
}
