// One pod's view of a Secret that misses changes: the istio engine's --fault kube:CLUSTER:istiod-drop.
// Real istiod takes every cacerts change its volume delivers, so the lab cannot make istiod itself ignore
// one without patching it; it makes the change never reach istiod's files instead, as a kubelet that
// misses a Secret's update for a pod does (or a subPath mount, which never updates). For istiod the
// effect is the model's drop: it keeps serving the CA it has, and the next change reaches it.
//
// Wraps the pod's VolumeSource: each read of the Secret whose data differs from what this pod was last
// given asks `misses()` once; true keeps giving the pod what it had, for as long as the Secret holds that
// same data. The first read (the pod's start) is never missed, as the model's istiod never drops its first
// load. Other Secrets, ConfigMaps and tokens pass through.
import { createHash } from 'node:crypto';
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import { CACERTS_SECRET_NAME, ISTIO_SYSTEM_NAMESPACE } from '../istio/istiod-model.js';
import type { VolumeSource } from './pod-volumes.js';

export interface MissedSecret {
  readonly namespace: string;
  readonly name: string;
}

export function missingSecretChanges(
  source: VolumeSource,
  secret: MissedSecret,
  misses: () => boolean,
): VolumeSource {
  let given: { readonly data: string; readonly secret: V1Secret | undefined } | undefined;
  let missed: string | undefined;
  return {
    readConfigMap: (namespace, name) => source.readConfigMap(namespace, name),
    requestServiceAccountToken: (request) => source.requestServiceAccountToken(request),
    readSecret: async (namespace, name) => {
      const current = await source.readSecret(namespace, name);
      if (namespace !== secret.namespace || name !== secret.name) return current;
      const data = dataFingerprint(current);
      if (given !== undefined && data !== given.data) {
        if (data === missed) return given.secret;
        if (misses()) {
          missed = data;
          return given.secret;
        }
      }
      given = { data, secret: current };
      missed = undefined;
      return current;
    },
  };
}

/**
 * The node agent's volume source for each pod under the istiod-drop fault: each pod its own view of
 * istio-system/cacerts, so one istiod replica may miss a change another takes, as with kubelet. Only
 * istiod mounts that Secret (a pod mounts Secrets of its own namespace; the gateways mount none).
 */
export function cacertsMissedByIstiod(
  misses: () => boolean,
): (pod: V1Pod, source: VolumeSource) => VolumeSource {
  return (_pod, source) =>
    missingSecretChanges(source, { namespace: ISTIO_SYSTEM_NAMESPACE, name: CACERTS_SECRET_NAME }, misses);
}

/** What the pod's files hold of the Secret: its data (absent for a missing Secret), not its metadata. */
function dataFingerprint(secret: V1Secret | undefined): string {
  if (secret === undefined) return 'absent';
  const entries = Object.entries(secret.data ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex');
}
