// Server-side defaulting and normalisation the real API server applies on every write, limited to what
// clients of the lab read back: the rollout strategy fields `kubectl rollout status` insists on, replicas,
// and Secret stringData folded into base64 data.
import { InvalidError } from './errors.js';
import type { KubeObject } from './kube-object.js';

export function applyDefaults(object: KubeObject): void {
  switch (object.kind) {
    case 'Secret':
      foldStringData(object);
      object.type ??= 'Opaque';
      break;
    case 'Deployment':
      object.spec ??= {};
      object.spec.replicas ??= 1;
      object.spec.strategy ??= { type: 'RollingUpdate' };
      if (object.spec.strategy.type === 'RollingUpdate') {
        object.spec.strategy.rollingUpdate ??= {};
        object.spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
        object.spec.strategy.rollingUpdate.maxSurge ??= '25%';
      }
      object.spec.revisionHistoryLimit ??= 10;
      object.spec.progressDeadlineSeconds ??= 600;
      break;
    case 'StatefulSet':
      object.spec ??= {};
      object.spec.replicas ??= 1;
      object.spec.podManagementPolicy ??= 'OrderedReady';
      object.spec.updateStrategy ??= { type: 'RollingUpdate' };
      if (object.spec.updateStrategy.type === 'RollingUpdate') {
        object.spec.updateStrategy.rollingUpdate ??= {};
        object.spec.updateStrategy.rollingUpdate.partition ??= 0;
      }
      object.spec.revisionHistoryLimit ??= 10;
      break;
    case 'DaemonSet':
      object.spec ??= {};
      object.spec.updateStrategy ??= { type: 'RollingUpdate' };
      if (object.spec.updateStrategy.type === 'RollingUpdate') {
        object.spec.updateStrategy.rollingUpdate ??= {};
        object.spec.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
        object.spec.updateStrategy.rollingUpdate.maxSurge ??= 0;
      }
      object.spec.revisionHistoryLimit ??= 10;
      break;
    case 'Namespace':
      object.spec ??= { finalizers: ['kubernetes'] };
      object.status ??= { phase: 'Active' };
      object.metadata.labels = {
        ...object.metadata.labels,
        'kubernetes.io/metadata.name': object.metadata.name,
      };
      break;
  }
}

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;

function foldStringData(secret: KubeObject): void {
  const data: Record<string, unknown> = { ...(secret.data ?? {}) };
  for (const [key, value] of Object.entries(data)) {
    if (typeof value !== 'string' || value.length % 4 !== 0 || !base64Pattern.test(value)) {
      throw new InvalidError(
        `Secret "${secret.metadata.name}" is invalid: data[${key}] must be base64-encoded; put plain text in stringData instead`,
        { resource: 'secrets', objectName: secret.metadata.name },
      );
    }
  }
  for (const [key, value] of Object.entries(secret.stringData ?? {})) {
    data[key] = Buffer.from(String(value), 'utf8').toString('base64');
  }
  delete secret.stringData;
  secret.data = data;
}
