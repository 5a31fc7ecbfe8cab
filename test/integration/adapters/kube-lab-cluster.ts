// One lab cluster for the Kubernetes adapter tests, started in-process: object store, HTTPS API server
// authenticating EKS tokens of the lab identities, the lab's RBAC (lab/lab-rbac.ts, the model of
// deploy/kubernetes/rbac.yaml), and the rollout controller. seedMesh adds what a mesh cluster holds:
// istio-system with cacerts made by lambdas/core/pki, injected and non-injected namespaces with
// workloads, istiod's root ConfigMaps.

import { createEksTokenAuthenticator } from '../../../lab/eks/eks-token-authenticator.js';
import {
  createLabIdentities,
  type LabIdentities,
  type LabIdentity,
} from '../../../lab/eks/lab-identities.js';
import {
  type KubeApiServer,
  type KubeApiServerOptions,
  startKubeApiServer,
} from '../../../lab/kube/kube-api-server.js';
import type { KubeObject } from '../../../lab/kube/kube-object.js';
import { KubeObjectStore } from '../../../lab/kube/object-store.js';
import { authorizeLabRequest } from '../../../lab/lab-rbac.js';
import { isPodReady } from '../../../lab/workloads/lab-pods.js';
import { type RolloutController, startRolloutController } from '../../../lab/workloads/rollout-controller.js';
import { isRolledOut } from '../../../lab/workloads/workload-rolled-out.js';
import { type ClusterClient, createClusterClient } from '../../../lambdas/adapters/kube/cluster-client.js';
import { createEksTokenProvider } from '../../../lambdas/adapters/kube/eks-token-provider.js';
import {
  assembleCacerts,
  type CacertsFiles,
  createIntermediateCa,
  createRootCa,
  TrustBundle,
} from '../../../lambdas/core/pki/index.js';

export const REGION = 'eu-west-1';
/** Fast retries: the tests wait for outcomes, not for backoff. */
export const FAST_RETRY = { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 };

export interface LabCluster {
  readonly name: string;
  readonly store: KubeObjectStore;
  readonly server: KubeApiServer;
  readonly identities: LabIdentities;
  /** A ClusterClient acting as the identity with EKS tokens made for tokenCluster (default: this cluster). */
  clientAs(identity: LabIdentity, tokenCluster?: string): ClusterClient;
  stop(): Promise<void>;
}

export interface StartLabClusterOptions {
  readonly name: string;
  readonly podStartDelayMs: number;
  /** @default authorizeLabRequest: the lab's model of deploy/kubernetes/rbac.yaml */
  readonly authorize?: KubeApiServerOptions['authorize'];
}

/** The lab's RBAC, recording each request it is asked to authorize in `into`, as `verb resource[/name]`. */
export function authorizeRecording(into: string[]): NonNullable<KubeApiServerOptions['authorize']> {
  return (identity, attributes) => {
    into.push(`${attributes.verb} ${attributes.resource}${attributes.name ? `/${attributes.name}` : ''}`);
    return authorizeLabRequest(identity, attributes);
  };
}

export async function startLabCluster(options: StartLabClusterOptions): Promise<LabCluster> {
  const { name } = options;
  const identities = createLabIdentities({ clusterNames: [name] });
  const store = new KubeObjectStore();
  const controller: RolloutController = startRolloutController({
    store,
    podStartDelayMs: options.podStartDelayMs,
  });
  const server = await startKubeApiServer({
    clusterName: name,
    store,
    authenticate: createEksTokenAuthenticator({ clusterName: name, identities, region: REGION }),
    authorize: options.authorize ?? authorizeLabRequest,
  });
  return {
    name,
    store,
    server,
    identities,
    clientAs: (identity, tokenCluster = name) =>
      createClusterClient({
        cluster: { name, endpoint: server.url, caPem: server.caPem },
        tokenProvider: createEksTokenProvider({
          clusterName: tokenCluster,
          region: REGION,
          credentials: identity.credentials,
        }),
        retry: FAST_RETRY,
      }),
    stop: async () => {
      controller.stop();
      await server.stop();
    },
  };
}

export interface SeededMesh {
  readonly cacerts: CacertsFiles;
}

const APP_NAMESPACES: readonly { name: string; labels: Record<string, string> }[] = [
  { name: 'shop', labels: { 'istio-injection': 'enabled' } },
  { name: 'payments', labels: { 'istio.io/rev': '1-24' } },
  { name: 'legacy', labels: {} },
  { name: 'opted-out', labels: { 'istio-injection': 'disabled', 'istio.io/rev': '1-24' } },
];

/**
 * istio-system with cacerts (P-256 root and intermediate) and istiod's root ConfigMap in every
 * namespace but legacy; workloads: shop (Deployment web x2, StatefulSet db x2, Deployment batch opted
 * out by annotation), payments (DaemonSet agent), legacy (Deployment old), opted-out (Deployment quiet).
 */
export async function seedMesh(store: KubeObjectStore, clusterName: string): Promise<SeededMesh> {
  const root = await createRootCa();
  const intermediate = await createIntermediateCa({ cluster: clusterName, issuer: root });
  const trustedRoots = TrustBundle.parse(root.certificatePem);
  const cacerts = assembleCacerts({ intermediate, chainAbove: [root.certificatePem], trustedRoots });
  store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } });
  store.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'cacerts',
      namespace: 'istio-system',
      labels: { 'app.kubernetes.io/managed-by': 'meshtrust' },
    },
    data: Object.fromEntries(
      Object.entries(cacerts).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
    ),
  });
  for (const namespace of APP_NAMESPACES) {
    store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: namespace });
  }
  for (const namespace of ['istio-system', 'shop', 'payments', 'opted-out']) {
    store.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'istio-ca-root-cert', namespace },
      data: { 'root-cert.pem': trustedRoots.toPem() },
    });
  }
  store.create(workload('Deployment', 'shop', 'web', { replicas: 2 }));
  store.create(workload('StatefulSet', 'shop', 'db', { replicas: 2 }));
  store.create(
    workload('Deployment', 'shop', 'batch', {
      replicas: 1,
      templateAnnotations: { 'sidecar.istio.io/inject': 'false' },
    }),
  );
  store.create(workload('DaemonSet', 'payments', 'agent', {}));
  store.create(workload('Deployment', 'legacy', 'old', { replicas: 1 }));
  store.create(workload('Deployment', 'opted-out', 'quiet', { replicas: 1 }));
  return { cacerts };
}

export function workload(
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet',
  namespace: string,
  name: string,
  options: { replicas?: number; templateAnnotations?: Record<string, string> },
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace },
    spec: {
      ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
      ...(kind === 'StatefulSet' ? { serviceName: name } : {}),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: {
          labels: { app: name },
          ...(options.templateAnnotations ? { annotations: options.templateAnnotations } : {}),
        },
        spec: { containers: [{ name: 'app', image: `${name}:1` }] },
      },
    },
  };
}

/** Polls until condition holds (the rollout controller works asynchronously). */
export async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Polls until the rollout controller has nothing left to write: every pod ready, and every workload
 * rolled out by its status. A test comparing what it listed with the store waits for this first, or a
 * late status write changes resourceVersions under it.
 */
export async function waitUntilSettled(store: KubeObjectStore, timeoutMs = 10_000): Promise<void> {
  await waitUntil(
    () =>
      store.list('Pod').items.every(isPodReady) &&
      ['Deployment', 'StatefulSet', 'DaemonSet'].every((kind) => store.list(kind).items.every(isRolledOut)),
    timeoutMs,
  );
}
