// Each running istiod replica's CA gauges, read from its monitoring port (15014, /metrics) through the
// API server's pod proxy, as `kubectl get --raw /api/v1/namespaces/istio-system/pods/NAME:15014/proxy/metrics`
// does. RBAC: Role meshtrust-istiod-monitoring (get pods/proxy in istio-system). The judgement is
// lambdas/core/istio/istiod-ca-metrics.ts.

import { type IstiodCaGauges, istiodCaGauges } from '../../core/istio/istiod-ca-metrics.js';
import type { ClusterClient } from './cluster-client.js';
import { ISTIO_NAMESPACE, ISTIOD_LABEL_SELECTOR } from './istio-settings.js';
import { callKube } from './kube-call.js';
import { PODS, type V1Pod } from './kube-objects.js';

/** istiod's --monitoringAddr. */
export const ISTIOD_MONITORING_PORT = 15014;

export async function readIstiodCaGauges(client: ClusterClient): Promise<IstiodCaGauges[]> {
  const pods = await callKube(client, `list istiod pods in ${ISTIO_NAMESPACE}`, () =>
    client.api.list(PODS, { namespace: ISTIO_NAMESPACE, labelSelector: ISTIOD_LABEL_SELECTOR }),
  );
  const running = pods.items.filter(isServing).map((pod) => pod.metadata?.name ?? '');
  return Promise.all(
    running.sort().map(async (name) => {
      const metrics = await callKube(
        client,
        `read ${name}'s metrics (pods/proxy, port ${ISTIOD_MONITORING_PORT})`,
        () => client.api.podProxyGet(ISTIO_NAMESPACE, name, ISTIOD_MONITORING_PORT, 'metrics'),
      );
      return istiodCaGauges(name, metrics);
    }),
  );
}

/** A replica that serves: running, ready, not on its way out. */
function isServing(pod: V1Pod): boolean {
  return (
    pod.status?.phase === 'Running' &&
    pod.metadata?.deletionTimestamp === undefined &&
    (pod.status.conditions ?? []).some(
      (condition) => condition.type === 'Ready' && condition.status === 'True',
    )
  );
}
