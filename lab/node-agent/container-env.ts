// A container's environment and arguments as kubelet makes them: `value`, `valueFrom` (fieldRef,
// resourceFieldRef, configMapKeyRef, secretKeyRef), `envFrom`, the service variables every pod gets
// for the `kubernetes` Service, and `$(VAR)` references in later values and in command/args.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { containerResourceValue, podFieldValue } from './downward-api.js';

export interface EnvSource {
  readConfigMapKey(namespace: string, name: string, key: string): Promise<string | undefined>;
  readSecretKey(namespace: string, name: string, key: string): Promise<string | undefined>;
}

export interface PodFacts {
  readonly podAddress: string;
  readonly nodeName: string;
  readonly nodeAddress: string;
  /** Where the `kubernetes` Service's endpoint is: kube-proxy would send its ClusterIP there. */
  readonly apiServerHost: string;
  readonly apiServerPort: number;
}

export class ContainerEnvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainerEnvError';
  }
}

export async function containerEnvironment(
  pod: V1Pod,
  container: V1Container,
  facts: PodFacts,
  source: EnvSource,
): Promise<Record<string, string>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  // kubelet's service links for `kubernetes`, pointing where kube-proxy would route them.
  const env: Record<string, string> = {
    HOSTNAME: pod.metadata?.name ?? '',
    KUBERNETES_SERVICE_HOST: facts.apiServerHost,
    KUBERNETES_SERVICE_PORT: String(facts.apiServerPort),
    KUBERNETES_SERVICE_PORT_HTTPS: String(facts.apiServerPort),
    PATH: '/usr/local/bin:/usr/bin:/bin',
  };
  if ((container.envFrom ?? []).length > 0) {
    // envFrom needs every key of an object; the lab's workloads do not use it, so refuse rather than guess.
    throw new ContainerEnvError(
      `${namespace}/${pod.metadata?.name}: container ${container.name} uses envFrom, which the lab node agent does not support`,
    );
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) {
      env[variable.name] = expand(variable.value, env);
      continue;
    }
    const from = variable.valueFrom;
    if (!from) {
      env[variable.name] = '';
    } else if (from.fieldRef) {
      env[variable.name] = podFieldValue(pod, from.fieldRef.fieldPath, facts);
    } else if (from.resourceFieldRef) {
      env[variable.name] = containerResourceValue(
        pod,
        from.resourceFieldRef.containerName ?? container.name,
        from.resourceFieldRef,
      );
    } else if (from.configMapKeyRef) {
      const value = await source.readConfigMapKey(
        namespace,
        from.configMapKeyRef.name ?? '',
        from.configMapKeyRef.key,
      );
      if (value === undefined && !from.configMapKeyRef.optional) {
        throw new ContainerEnvError(
          `${namespace}/${pod.metadata?.name}: env ${variable.name} needs configmap ${from.configMapKeyRef.name} key ${from.configMapKeyRef.key}`,
        );
      }
      if (value !== undefined) env[variable.name] = value;
    } else if (from.secretKeyRef) {
      const value = await source.readSecretKey(
        namespace,
        from.secretKeyRef.name ?? '',
        from.secretKeyRef.key,
      );
      if (value === undefined && !from.secretKeyRef.optional) {
        throw new ContainerEnvError(
          `${namespace}/${pod.metadata?.name}: env ${variable.name} needs secret ${from.secretKeyRef.name} key ${from.secretKeyRef.key}`,
        );
      }
      if (value !== undefined) env[variable.name] = value;
    }
  }
  return env;
}

/** command + args with `$(VAR)` expanded, `$$` kept as a literal `$`, as kubelet does. */
export function containerArgv(container: V1Container, env: Readonly<Record<string, string>>): string[] {
  return [...(container.command ?? []), ...(container.args ?? [])].map((arg) => expand(arg, env));
}

/** Kubernetes' $(VAR) expansion: known names are replaced, unknown ones stay as written, $$ is $. */
export function expand(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && env[name] !== undefined ? env[name] : match;
  });
}
