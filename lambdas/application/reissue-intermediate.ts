import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import type { RotationStrategy } from '../core/istio/rotation-strategy.js';
import { executionNameOf } from '../core/rotation/execution-name.js';
import { requireIssuerTrusted } from '../core/rotation/issuer-trust.js';
import { reissueIntermediateChange } from '../core/rotation/reissue-intermediate-change.js';
import { type ReissueEvent, reissueIssuerOf } from '../core/rotation/reissue-issuer.js';
import { refuseWriteOfRolledBackRun } from '../core/rotation/rollback-fence.js';
import { VerificationFailed } from '../core/rotation-errors.js';
import { type AppliedChange, readClusterCacerts } from './cluster-cacerts.js';
import { writeClusterCacerts } from './cluster-cacerts-write.js';
import { reissuedIntermediate } from './reissued-intermediate.js';
import { readRootVersion, type SecretVersion } from './root-ca.js';
import type { RotationRuntime } from './runtime.js';

const PHASE = 'reissue-intermediate';

export interface ReissueIntermediateOutput {
  readonly cluster: string;
  readonly changed: boolean;
  readonly intermediateBefore: string;
  readonly intermediateAfter: string;
  /** The root the new intermediate chains to. */
  readonly issuerRoot: string;
  readonly intermediateSecretArn: string;
  readonly intermediateVersionId: string;
  readonly resourceVersion: string;
  /**
   * ISO time at or after which cacerts held `intermediateAfter` (written, or found written): restart-
   * workloads' istiod gate counts istiod's delay in taking it from there (core/istio/istiod-load-window.ts).
   */
  readonly cacertsWrittenBy: string;
  /** `resign`: root-cert.pem got the new root's PEM once more, so istiod pushes and proxies re-sign. */
  readonly strategy: RotationStrategy;
}

/**
 * reissue-intermediate on one primary cluster: refused before anything is stored unless root-cert.pem
 * trusts the issuing root; cacerts backed up as found (the first write in intermediate mode); the
 * execution's intermediate (reissued-intermediate.ts) written with the change the core decides; read back.
 */
export async function reissueIntermediate(
  runtime: RotationRuntime,
  event: ReissueEvent<SecretVersion> & { readonly executionId: string },
): Promise<ReissueIntermediateOutput> {
  const { executionId, cluster } = event;
  const { issuerVersion, strategy } = reissueIssuerOf(event);
  const issuer = await readRootVersion(runtime.store, issuerVersion, { phase: PHASE, cluster });
  const client = await runtime.clusterClient(cluster);
  const start = await readClusterCacerts(client, PHASE);
  // Before an intermediate is stored: rollback takes a stored one as "switched".
  requireIssuerTrusted(cluster, start.files['root-cert.pem'], issuer.ref.fingerprint);
  const executionName = executionNameOf(executionId);
  // Before anything is stored: a late invocation after the rollback began must leave nothing behind.
  refuseWriteOfRolledBackRun({ cluster, phase: PHASE, executionName, rolledBack: start.rolledBack });
  await runtime.store.backupCacerts(executionName, cluster, start);
  const intermediate = await reissuedIntermediate(runtime, { executionId, cluster, issuer });
  const { applied, before, after, writtenBy } = await writeClusterCacerts(
    client,
    {
      phase: PHASE,
      action: 'write-cacerts',
      cluster,
      executionId,
      detail: {
        intermediateVersionId: intermediate.ref.versionId,
        issuerRoot: issuer.ref.fingerprint,
        strategy,
      },
      confirm: (written) => confirmIntermediateWritten(client, written),
    },
    (current) =>
      reissueIntermediateChange({
        cluster,
        current,
        intermediate: intermediate.material,
        issuerRootPem: issuer.material.certificatePem,
        strategy,
      }),
  );
  return {
    cluster,
    changed: applied.changed,
    intermediateBefore: before.intermediate,
    intermediateAfter: after.intermediate,
    issuerRoot: issuer.ref.fingerprint,
    intermediateSecretArn: intermediate.ref.arn,
    intermediateVersionId: intermediate.ref.versionId,
    resourceVersion: applied.resourceVersion,
    cacertsWrittenBy: writtenBy.toISOString(),
    strategy,
  };
}

/** istiod says nothing when it drops a cacerts; at least make sure what it reads is what was written. */
async function confirmIntermediateWritten(client: ClusterClient, applied: AppliedChange): Promise<void> {
  const readBack = await readClusterCacerts(client, PHASE);
  if (readBack.files['ca-cert.pem'] !== applied.after['ca-cert.pem']) {
    throw new VerificationFailed(
      `istio-system/cacerts of cluster ${client.name} does not hold the new intermediate after writing it; someone else ` +
        'changed it. Find out who, then retry.',
      { cluster: client.name, phase: PHASE },
    );
  }
}
