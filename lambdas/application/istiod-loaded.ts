// The gate before any restart: every istiod replica of the cluster signs with the intermediate now in
// its `cacerts`, as istiod's own CA gauge says (lambdas/core/istio/istiod-ca-metrics.ts). A pod
// restarted earlier would get a certificate from the intermediate istiod still holds, and a Secret that
// changed proves nothing: the kubelet brings the files a sync later, and istiod may refuse them.
// Waits in-process for up to VERIFY_TIMEOUT_SECONDS, then throws VerificationFailed, which the state
// machine retries with backoff. When it knows when the intermediate was written (`writes`, the answers of
// the Map that wrote it: reissue-intermediate's, or in a rollback restore-intermediate's), it stops waiting once that write is past the time istiod takes one
// (core/istio/istiod-load-window.ts): istiod missed it, and every retry would otherwise wait out the
// whole timeout again for nothing. A remote cluster has no istiod: its proxies are signed by its
// primary's (REMOTE_CLUSTERS), so the gate reads the primary's cacerts and istiod.

import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { readIstiodCaGauges } from '../adapters/kube/istiod-metrics.js';
import { istiodsNotOnIntermediate } from '../core/istio/istiod-ca-metrics.js';
import {
  type CacertsWriteAnswer,
  describeLoadDelay,
  type GatedRun,
  istiodLoadDueAt,
  latestCacertsWrite,
  missedWriteAdvice,
} from '../core/istio/istiod-load-window.js';
import { parseCertificatePem } from '../core/pki/certificate.js';
import { VerificationFailed } from '../core/rotation-errors.js';
import { readClusterCacerts } from './cluster-cacerts.js';
import { primaryServing } from './remote-cluster.js';
import type { RotationRuntime } from './runtime.js';
import { waitUntilDue } from './wait-until.js';

/**
 * Resolves once every istiod replica of the cluster (of its primary, for a remote) signs with the
 * intermediate in its cacerts. `writes`: the answers of the Map that wrote that intermediate
 * (reissue-intermediate's; a rollback's restore-intermediate's), each that wrote with the time it was
 * written by; without them the gate does not know when istiod's delay began and waits its whole timeout.
 * `run`: whose gate it is, which decides what its VerificationFailed says comes after the retries.
 */
export async function waitForIstiodOnCacerts(
  runtime: RotationRuntime,
  clusterClient: ClusterClient,
  gate: {
    readonly phase: string;
    readonly run: GatedRun;
    readonly writes?: readonly CacertsWriteAnswer[] | undefined;
  },
): Promise<void> {
  const { phase, run, writes } = gate;
  const primary = primaryServing(runtime, clusterClient.name);
  const client = primary === undefined ? clusterClient : await runtime.clusterClient(primary);
  const cluster = client.name;
  const { files } = await readClusterCacerts(client, phase);
  const intermediate = parseCertificatePem(files['ca-cert.pem'], { cluster, file: 'ca-cert.pem' });
  const notAfter = intermediate.certificate.notAfter;
  const writtenBy = latestCacertsWrite(writes);
  const { kubeletSyncPeriodSeconds } = runtime.config;
  const outcome = await waitUntilDue(
    runtime.config.verifyTimeoutSeconds * 1000,
    istiodLoadDueAt(writtenBy, kubeletSyncPeriodSeconds),
    async () => {
      const behind = istiodsNotOnIntermediate(await readIstiodCaGauges(client), notAfter);
      return { done: behind.length === 0, value: behind };
    },
    1000,
  );
  if (outcome.done) return;
  const istiod = `istiod in cluster ${cluster}${primary === undefined ? '' : ` (the primary of remote ${clusterClient.name})`}`;
  const wanted = `the intermediate in istio-system/cacerts (${intermediate.fingerprint}, expiring ${notAfter.toISOString()})`;
  if (outcome.overdue && writtenBy !== undefined) {
    throw new VerificationFailed(
      `${istiod} has not loaded ${wanted} ${describeLoadDelay(writtenBy, new Date(), kubeletSyncPeriodSeconds)}: ` +
        `${outcome.value.join('; ')}. ${missedWriteAdvice(run)}`,
      { cluster, phase },
    );
  }
  throw new VerificationFailed(
    `${istiod} has not loaded ${wanted} yet: ${outcome.value.join('; ')}. The kubelet brings a changed Secret ` +
      'to istiod within its sync period (about a minute); if this persists, istiod refused the files: read its log.',
    { cluster, phase },
  );
}
