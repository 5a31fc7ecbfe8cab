// The model engine as a rehearsal fleet: the in-process lab (start-lab.ts), its object store read and
// watched directly, its istiod model's own list of refused writes.
import { cacertsSnapshot } from '../../lab/cacerts-snapshot.js';
import { CACERTS_SECRET_NAME, ISTIO_SYSTEM_NAMESPACE } from '../../lab/istio/istiod-model.js';
import { combineTimeliness } from '../../lab/istio/renewal-timeliness.js';
import type { Lab } from '../../lab/start-lab.js';
import { podWorkload } from '../../lab/workloads/pod-workload.js';
import type { PodStartRecorder } from '../lab-waits.js';
import { type RehearsalFleet, sharedLabFields } from './rehearsal-fleet.js';

/** `podStarts`: the lab's pod starts, when its pod events were recorded (lab-waits.ts). */
export function modelRehearsalFleet(lab: Lab, podStarts?: PodStartRecorder): RehearsalFleet {
  const secret = (cluster: string) =>
    lab.cluster(cluster).store.tryGet('Secret', ISTIO_SYSTEM_NAMESPACE, CACERTS_SECRET_NAME);
  return {
    engine: { name: 'model', istio: lab.options.istioVersion },
    ...sharedLabFields(lab),
    workloadCertTtlMs: lab.options.workloadCertTtlMs,
    // The model's istiod sees the last write a volume sync later and pushes it a push delay after; with
    // PCDS the proxies re-sign then, without it they take the new roots at their next renewal (the
    // latest one the jitter allows).
    settleMs:
      lab.options.volumeSyncDelayMs +
      lab.options.pushDelayMs +
      (lab.options.pcds
        ? 0
        : lab.options.workloadCertTtlMs * (lab.options.renewFraction + lab.options.renewalJitter)) +
      1_000,
    inProcessLab: {
      signedCertificates: () =>
        lab.clusters.reduce((sum, cluster) => sum + cluster.istiod.signedCertificates(), 0),
      renewalTimeliness: () =>
        combineTimeliness(lab.clusters.map((cluster) => cluster.istiod.renewalTimeliness())),
      pace: {
        workloadCertTtlMs: lab.options.workloadCertTtlMs,
        renewFraction: lab.options.renewFraction,
        renewalJitter: lab.options.renewalJitter,
        proberIntervalMs: lab.options.proberIntervalMs,
        proberPairsPerRound: lab.options.proberPairsPerRound,
      },
      delays: {
        volumeSyncDelayMs: lab.options.volumeSyncDelayMs,
        pushDelayMs: lab.options.pushDelayMs,
        podStartDelayMs: lab.options.podStartDelayMs,
      },
      ...(podStarts !== undefined && { podStarts: () => podStarts.starts() }),
    },
    // The pod's UID and owner from the cluster's object store (what its Kubernetes API serves); a pod
    // deleted since istiod issued its certificate is left out, as the istio engine lists ready pods only.
    workloadCertificates: async () =>
      lab.clusters.flatMap((cluster) =>
        cluster.istiod.identities().flatMap((identity) => {
          const pod = cluster.store.tryGet('Pod', identity.namespace, identity.podName);
          if (pod === undefined) return [];
          return [
            {
              cluster: cluster.name,
              pod: `${identity.namespace}/${identity.podName}`,
              uid: String(pod.metadata.uid ?? ''),
              workload: podWorkload(pod.metadata),
              issuer: identity.issuerFingerprint,
            },
          ];
        }),
      ),
    cacertsData: async (cluster) => ({ ...(secret(cluster)?.data ?? {}) }),
    snapshotCacerts: async (cluster) => lab.snapshotCacerts(cluster),
    watchCacerts: async (onChange) => {
      const stops = lab.clusters.map((cluster) => {
        onChange(lab.snapshotCacerts(cluster.name));
        return cluster.store.watch(
          { kind: 'Secret', namespace: ISTIO_SYSTEM_NAMESPACE, name: CACERTS_SECRET_NAME },
          (event) => {
            if (event.type === 'DELETED') return;
            const { data, metadata } = event.object;
            onChange(cacertsSnapshot(cluster.name, data, String(metadata.resourceVersion ?? '')));
          },
        );
      });
      return () => {
        for (const stop of stops) stop();
      };
    },
    refusedCacerts: async () =>
      lab.clusters.flatMap((cluster) =>
        cluster.istiod.rejections().map((rejection) => ({
          cluster: cluster.name,
          at: rejection.at.toISOString(),
          rules: [...rejection.rules],
          reason: rejection.reason,
          resourceVersion: rejection.resourceVersion,
        })),
      ),
    stop: () => lab.stop(),
  };
}
