// The istio engine as a rehearsal fleet: `cacerts` read and watched through each cluster's real API
// server (as the lab's administrator), and what istiod refused read from istiod's own log
// (istiod-reload-log.ts), where the model engine keeps a list of its own.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, type Informer, KubeConfig, makeInformer, type V1Secret } from '@kubernetes/client-node';
import { cacertsSnapshot } from '../../lab/cacerts-snapshot.js';
import { CACERTS_SECRET_NAME, ISTIO_SYSTEM_NAMESPACE } from '../../lab/istio/istiod-model.js';
import { istiodReloads } from '../../lab/istio-install/istiod-reload-log.js';
import type { IstioLab } from '../../lab/istio-install/start-istio-lab.js';
import { LabError } from '../../lab/lab-errors.js';
import { type RefusedCacerts, type RehearsalFleet, sharedLabFields } from './rehearsal-fleet.js';

export interface IstioRehearsalFleetOptions {
  /** The workload certificate lifetime the proxies ask for (their SECRET_TTL). */
  readonly workloadCertTtlMs: number;
  /** kubelet's volume sync: how late istiod may see a write. */
  readonly volumeSyncDelayMs: number;
}

export function istioRehearsalFleet(lab: IstioLab, options: IstioRehearsalFleetOptions): RehearsalFleet {
  const clients = new Map(
    lab.fleet.controlPlane.clusters.map((cluster) => {
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromFile(cluster.adminKubeconfig);
      return [cluster.name, { kubeConfig, core: kubeConfig.makeApiClient(CoreV1Api) }];
    }),
  );
  const client = (cluster: string) => {
    const found = clients.get(cluster);
    if (!found) throw new LabError(`the fleet has no cluster ${cluster}`);
    return found;
  };
  // A remote cluster (topology primary-remote) holds no cacerts: read as an empty Secret, as the
  // model's, and one written there by mistake is seen.
  const readCacerts = (cluster: string): Promise<V1Secret> =>
    client(cluster)
      .core.readNamespacedSecret({ name: CACERTS_SECRET_NAME, namespace: ISTIO_SYSTEM_NAMESPACE })
      .catch((error: unknown) => {
        if ((error as { code?: number }).code === 404) return {};
        throw error;
      });
  const snapshotOf = (cluster: string, secret: V1Secret) =>
    cacertsSnapshot(cluster, secret.data, secret.metadata?.resourceVersion ?? '');

  return {
    engine: lab.engine,
    ...sharedLabFields(lab),
    workloadCertTtlMs: options.workloadCertTtlMs,
    // The last write reaches istiod a volume sync later; a proxy without PCDS takes the roots it then
    // serves at its next renewal, at most a certificate lifetime later.
    settleMs: options.volumeSyncDelayMs + options.workloadCertTtlMs,
    workloadCertificates: () => lab.workloadCertificates(),
    cacertsData: async (cluster) => ({ ...((await readCacerts(cluster)).data ?? {}) }),
    snapshotCacerts: async (cluster) => snapshotOf(cluster, await readCacerts(cluster)),
    watchCacerts: async (onChange) => {
      const informers: Informer<V1Secret>[] = [];
      let stopped = false;
      for (const cluster of lab.clusters) {
        const { kubeConfig, core } = client(cluster.name);
        const informer = makeInformer<V1Secret>(
          kubeConfig,
          `/api/v1/namespaces/${ISTIO_SYSTEM_NAMESPACE}/secrets`,
          () =>
            core.listNamespacedSecret({
              namespace: ISTIO_SYSTEM_NAMESPACE,
              fieldSelector: `metadata.name=${CACERTS_SECRET_NAME}`,
            }),
        );
        // The list is narrowed to cacerts; the watch sees every Secret of istio-system.
        const report = (secret: V1Secret) => {
          if (secret.metadata?.name === CACERTS_SECRET_NAME) onChange(snapshotOf(cluster.name, secret));
        };
        informer.on('add', report);
        informer.on('update', report);
        // A dropped watch is listed and watched again (the timeline skips what it already holds).
        informer.on('error', () => {
          if (!stopped) setTimeout(() => void informer.start().catch(() => undefined), 1_000).unref();
        });
        // The informer lists first (each cluster's present cacerts), then watches.
        await informer.start();
        informers.push(informer);
      }
      return () => {
        stopped = true;
        for (const informer of informers) void informer.stop();
      };
    },
    refusedCacerts: async () => {
      const refused: RefusedCacerts[] = [];
      for (const cluster of lab.clusters) {
        const pods = await client(cluster.name).core.listNamespacedPod({
          namespace: ISTIO_SYSTEM_NAMESPACE,
          labelSelector: 'app=istiod',
        });
        for (const pod of pods.items) {
          const name = pod.metadata?.name ?? '';
          const log = join(
            lab.fleet.podRootfs(cluster.name, pod.metadata?.uid ?? ''),
            '..',
            'logs',
            `${ISTIO_SYSTEM_NAMESPACE}.${name}.discovery.log`,
          );
          const text = await readFile(log, 'utf8').catch(() => '');
          for (const reload of istiodReloads(text)) {
            if (reload.verdict === undefined || reload.verdict === 'accepted') continue;
            refused.push({
              cluster: cluster.name,
              at: reload.at ?? '',
              rules: [],
              reason: `${name}: ${reload.line ?? reload.verdict}`,
            });
          }
        }
      }
      return refused;
    },
    stop: () => lab.stop(),
  };
}
