// What a cluster's Istio runs with, as far as a root rotation cares: every istiod Deployment (label
// app=istiod) in istio-system, with its revision, replicas, image and container env, and the mesh config
// ConfigMap of each revision (`istio`, `istio-<revision>`), key `mesh`, for defaultConfig.proxyMetadata.
// Reads only; the judgement is lambdas/core/istio. deploy/kubernetes/rbac.yaml grants `get` on those
// ConfigMaps by name only, so a 403 on a revision's ConfigMap is returned as a reading (`forbidden`), for
// preflight to name the RBAC entry to add, rather than thrown.

import { parse } from 'yaml';
import {
  type ClusterIstioReading,
  type EnvSetting,
  type IstiodDeployment,
  type MeshConfigReading,
  meshConfigMapName,
} from '../../core/istio/istio-settings.js';
import { istioVersionOfImage } from '../../core/istio/istio-version.js';
import type { ClusterClient } from './cluster-client.js';
import { callKube } from './kube-call.js';
import { describeKubeFailure, kubeStatusOf } from './kube-errors.js';
import {
  CONFIG_MAPS,
  DEPLOYMENTS,
  type V1Container,
  type V1Deployment,
  type V1EnvVar,
  type V1EnvVarSource,
} from './kube-objects.js';

export type {
  ClusterIstioReading,
  EnvSetting,
  IstiodDeployment,
  MeshConfigReading,
} from '../../core/istio/istio-settings.js';

export const ISTIO_NAMESPACE = 'istio-system';
export const ISTIOD_LABEL_SELECTOR = 'app=istiod';
export const MESH_CONFIG_KEY = 'mesh';
const REVISION_LABEL = 'istio.io/rev';
const REVISION_ENV = 'REVISION';
const DISCOVERY_CONTAINER = 'discovery';

/** The cluster's istiod Deployments (sorted by name) and the mesh config of each of their revisions. */
export async function readIstioSettings(
  client: ClusterClient,
): Promise<Omit<ClusterIstioReading, 'cluster'>> {
  const list = await callKube(
    client,
    `list deployments in ${ISTIO_NAMESPACE} (${ISTIOD_LABEL_SELECTOR})`,
    () => client.api.list(DEPLOYMENTS, { namespace: ISTIO_NAMESPACE, labelSelector: ISTIOD_LABEL_SELECTOR }),
  );
  const istiods = list.items
    .map(istiodDeploymentOf)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const revisions = [...new Set(istiods.map((istiod) => istiod.revision))].sort();
  const meshConfigs = await Promise.all(revisions.map((revision) => readMeshConfig(client, revision)));
  return { istiods, meshConfigs };
}

/** One Deployment as preflight judges it. Pure; exported for tests of real Istio manifests. */
export function istiodDeploymentOf(deployment: V1Deployment): IstiodDeployment {
  const metadata = deployment.metadata ?? {};
  const containers = deployment.spec?.template.spec?.containers ?? [];
  const container: V1Container | undefined =
    containers.find((candidate) => candidate.name === DISCOVERY_CONTAINER) ?? containers[0];
  const env: Record<string, EnvSetting> = {};
  // Kubernetes keeps the last of duplicate names.
  for (const variable of container?.env ?? []) env[variable.name] = envSettingOf(variable);
  const revisionEnv = env[REVISION_ENV];
  const revision =
    (revisionEnv !== undefined && 'value' in revisionEnv && revisionEnv.value !== ''
      ? revisionEnv.value
      : undefined) ??
    metadata.labels?.[REVISION_LABEL] ??
    'default';
  const image = container?.image;
  const istioVersion = istioVersionOfImage(image);
  return {
    namespace: metadata.namespace ?? ISTIO_NAMESPACE,
    name: metadata.name ?? '',
    revision,
    // Kubernetes defaults spec.replicas to 1.
    replicas: deployment.spec?.replicas ?? 1,
    readyReplicas: deployment.status?.readyReplicas ?? 0,
    ...(image !== undefined && { image }),
    ...(istioVersion !== undefined && { istioVersion }),
    env,
    envFrom: (container?.envFrom ?? []).map((source) =>
      source.configMapRef
        ? `configMap ${source.configMapRef.name}`
        : source.secretRef
          ? `secret ${source.secretRef.name}`
          : 'an unnamed source',
    ),
  };
}

function envSettingOf(variable: V1EnvVar): EnvSetting {
  if (variable.valueFrom !== undefined) return { valueFrom: describeValueFrom(variable.valueFrom) };
  // An env entry without value is set to the empty string.
  return { value: variable.value ?? '' };
}

/** Where a value comes from, by reference only: never the value of a Secret or ConfigMap. */
function describeValueFrom(source: V1EnvVarSource): string {
  if (source.configMapKeyRef) {
    return `configMapKeyRef (ConfigMap ${source.configMapKeyRef.name} key ${source.configMapKeyRef.key})`;
  }
  if (source.secretKeyRef)
    return `secretKeyRef (Secret ${source.secretKeyRef.name} key ${source.secretKeyRef.key})`;
  if (source.fieldRef) return `fieldRef (${source.fieldRef.fieldPath})`;
  if (source.resourceFieldRef) return `resourceFieldRef (${source.resourceFieldRef.resource})`;
  return 'valueFrom';
}

/** The mesh config ConfigMap of `revision` (`istio`, `istio-<revision>`) in istio-system, as read. */
export async function readMeshConfig(client: ClusterClient, revision: string): Promise<MeshConfigReading> {
  const name = meshConfigMapName(revision);
  try {
    const configMap = await callKube(
      client,
      `read configmap ${ISTIO_NAMESPACE}/${name}`,
      () => client.api.read(CONFIG_MAPS, ISTIO_NAMESPACE, name),
      { passStatuses: [403, 404] },
    );
    return meshConfigOf({ name, revision, mesh: configMap.data?.[MESH_CONFIG_KEY] });
  } catch (error) {
    const status = kubeStatusOf(error);
    if (status === 404) return meshConfigOf({ name, revision, mesh: undefined });
    if (status === 403) {
      return {
        namespace: ISTIO_NAMESPACE,
        name,
        revision,
        state: 'forbidden',
        proxyMetadata: {},
        problem: `403 ${describeKubeFailure(error).message}`,
      };
    }
    throw error;
  }
}

/**
 * The proxy metadata of one mesh config text (the `mesh` key), or why it does not read. YAML 1.1, as
 * Kubernetes and Istio read YAML (go-yaml): `yes`/`on` are booleans there. Values that are YAML
 * scalars other than strings are kept as their text (`true`, `86400`).
 */
export function meshConfigOf(input: {
  readonly name: string;
  readonly revision: string;
  readonly mesh: string | undefined;
}): MeshConfigReading {
  const base = { namespace: ISTIO_NAMESPACE, name: input.name, revision: input.revision };
  if (input.mesh === undefined) return { ...base, state: 'absent', proxyMetadata: {} };
  const unreadable = (problem: string): MeshConfigReading => ({
    ...base,
    state: 'unreadable',
    proxyMetadata: {},
    problem,
  });
  let document: unknown;
  try {
    document = parse(input.mesh, { version: '1.1' });
  } catch (error) {
    // The parser's message quotes the offending line of the ConfigMap; mesh config holds no secret.
    return unreadable(
      `YAML error: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`,
    );
  }
  if (document === null || document === undefined) return { ...base, state: 'read', proxyMetadata: {} };
  if (!isMap(document)) return unreadable('the mesh key is not a YAML map');
  const defaultConfig = document.defaultConfig;
  if (defaultConfig === undefined || defaultConfig === null)
    return { ...base, state: 'read', proxyMetadata: {} };
  if (!isMap(defaultConfig)) return unreadable('defaultConfig is not a map');
  const address = defaultConfig.discoveryAddress;
  const discovery = typeof address === 'string' && address !== '' ? { discoveryAddress: address } : {};
  const metadata = defaultConfig.proxyMetadata;
  if (metadata === undefined || metadata === null)
    return { ...base, state: 'read', proxyMetadata: {}, ...discovery };
  if (!isMap(metadata)) return unreadable('defaultConfig.proxyMetadata is not a map');
  const proxyMetadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (value === null || typeof value === 'object') {
      return unreadable(`defaultConfig.proxyMetadata.${key} is not a string`);
    }
    proxyMetadata[key] = String(value);
  }
  return { ...base, state: 'read', proxyMetadata, ...discovery };
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
