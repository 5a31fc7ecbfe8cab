// What istiod published: the trust bundle ConfigMap istio-ca-root-cert in every namespace. Read by
// name, one GET per namespace: deploy/kubernetes/rbac.yaml grants only `get` on that one ConfigMap
// name, so the rotator can read no other ConfigMap (a list would need the `list` verb too).
import { mapWithConcurrency } from '../eks/map-with-concurrency.js';
import type { ClusterClient } from './cluster-client.js';
import { callKube } from './kube-call.js';
import { kubeStatusOf } from './kube-errors.js';
import { CONFIG_MAPS, NAMESPACES } from './kube-objects.js';

export const ROOT_CERT_CONFIGMAP = 'istio-ca-root-cert';
export const ROOT_CERT_KEY = 'root-cert.pem';
/** ConfigMap reads in flight at once per cluster. */
const READ_CONCURRENCY = 8;

export interface NamespaceInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface RootCertConfigMap {
  readonly namespace: string;
  /** The published bundle; undefined when the namespace has no istio-ca-root-cert (or no root-cert.pem in it). */
  readonly rootCertPem?: string;
}

/** Every namespace with its labels, sorted by name. */
export async function listNamespaces(client: ClusterClient): Promise<NamespaceInfo[]> {
  const list = await callKube(client, 'list namespaces', () => client.api.list(NAMESPACES));
  return list.items
    .map((namespace) => ({ name: namespace.metadata?.name ?? '', labels: { ...namespace.metadata?.labels } }))
    .filter((namespace) => namespace.name !== '')
    .sort(byName);
}

/**
 * One entry per namespace, sorted by namespace. istiod skips some namespaces on purpose (kube-system,
 * kube-public, kube-node-lease, and those outside discoverySelectors), so a missing bundle there is for
 * the caller to judge.
 */
export async function readRootCertConfigMaps(client: ClusterClient): Promise<RootCertConfigMap[]> {
  const namespaces = await listNamespaces(client);
  return mapWithConcurrency(namespaces, READ_CONCURRENCY, async ({ name: namespace }) => {
    const rootCertPem = await readRootCert(client, namespace);
    return rootCertPem === undefined ? { namespace } : { namespace, rootCertPem };
  });
}

async function readRootCert(client: ClusterClient, namespace: string): Promise<string | undefined> {
  try {
    const configMap = await callKube(
      client,
      `read configmap ${namespace}/${ROOT_CERT_CONFIGMAP}`,
      () => client.api.read(CONFIG_MAPS, namespace, ROOT_CERT_CONFIGMAP),
      { passStatuses: [404] },
    );
    return configMap.data?.[ROOT_CERT_KEY];
  } catch (error) {
    if (kubeStatusOf(error) === 404) return undefined;
    throw error;
  }
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
