// What a fresh lab cluster holds before anyone rotates anything: istio-system with the plug-in CA secret
// `cacerts`, istiod's Deployment and mesh config, a few namespaces with sidecar injection and one without, and injected workloads of all
// three kinds, each with its own service account (so each has its own SPIFFE id).
import type { CacertsFiles } from '../lambdas/core/pki/index.js';
import type { KubeObject } from './kube/kube-object.js';
import type { KubeObjectStore } from './kube/object-store.js';
import type { RootCertStyle } from './root-cert-style.js';

export const ISTIO_SYSTEM = 'istio-system';
export const INJECTED_NAMESPACES = ['shop', 'payments', 'inventory'] as const;
export const UNINJECTED_NAMESPACE = 'tools';

export type WorkloadKindName = 'Deployment' | 'StatefulSet' | 'DaemonSet';

export interface SeededWorkload {
  readonly kind: WorkloadKindName;
  readonly namespace: string;
  readonly name: string;
}

/** The Secret `istio-system/cacerts` holding `files` (data base64, as the API stores it). */
export function cacertsSecret(files: Readonly<Record<string, string>>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'cacerts', namespace: ISTIO_SYSTEM },
    type: 'Opaque',
    data: base64Data(files),
  };
}

export function base64Data(files: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(files).map(([key, value]) => [key, Buffer.from(value, 'utf8').toString('base64')]),
  );
}

export function seedNamespaces(store: KubeObjectStore): void {
  store.create({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: ISTIO_SYSTEM, labels: { 'topology.istio.io/network': 'lab' } },
  });
  for (const name of INJECTED_NAMESPACES) {
    store.create({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { 'istio-injection': 'enabled' } },
    });
  }
  store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: UNINJECTED_NAMESPACE } });
}

export function seedCacerts(store: KubeObjectStore, files: CacertsFiles): void {
  store.create(cacertsSecret(files));
}

/**
 * A canonical root-cert.pem rewritten the way tools and operators leave the file (lab option
 * rootCertStyle): CRLF line ends, `openssl x509 -subject -issuer` text before each block, or no final
 * newline. The same certificates, other bytes.
 */
export function styledRootCertPem(canonicalPem: string, style: RootCertStyle): string {
  switch (style) {
    case 'canonical':
      return canonicalPem;
    case 'crlf':
      return canonicalPem.replace(/\r?\n/g, '\r\n');
    case 'openssl-text':
      return canonicalPem.replace(
        /-----BEGIN CERTIFICATE-----/g,
        'subject=O = meshtrust lab\nissuer=O = meshtrust lab\n-----BEGIN CERTIFICATE-----',
      );
    case 'no-final-newline':
      return canonicalPem.replace(/\n+$/, '');
  }
}

/** The Istio patch release the lab's istiod Deployment claims for its minor version. */
export function labIstioImageTag(istioVersion: string): string {
  return `${istioVersion}.0`;
}

/**
 * istiod's own Deployment, as `istioctl install` leaves it (default revision), so that what meshtrust
 * checks before a rotation (the pilot image version, ISTIO_MULTIROOT_MESH, the revision, ready replicas)
 * is there to read. The istiod model is what acts, with the same version and flag; this object only
 * describes it.
 */
export function seedIstiodDeployment(
  store: KubeObjectStore,
  options: { readonly istioVersion: string; readonly multiRootMesh: boolean },
): void {
  const labels = { app: 'istiod', istio: 'pilot', 'istio.io/rev': 'default' };
  store.create({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'istiod', namespace: ISTIO_SYSTEM, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: { istio: 'pilot' } },
      template: {
        metadata: { labels: { ...labels, 'sidecar.istio.io/inject': 'false' } },
        spec: {
          serviceAccountName: 'istiod',
          containers: [
            {
              name: 'discovery',
              image: `docker.io/istio/pilot:${labIstioImageTag(options.istioVersion)}`,
              env: [
                { name: 'REVISION', value: 'default' },
                { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
                { name: 'ISTIO_MULTIROOT_MESH', value: String(options.multiRootMesh) },
              ],
            },
          ],
        },
      },
    },
  });
}

/** What the model's proxies run with, as their proxy metadata says it. */
export interface ModelProxySettings {
  readonly workloadCertTtlMs: number;
  /** SECRET_GRACE_PERIOD_RATIO_JITTER, written only when not 0 (the lab's fleet-sized pace). @default 0 */
  readonly renewalJitter?: number;
  readonly pcds: boolean;
}

/**
 * The mesh config istiod of the default revision reads, ConfigMap `istio-system/istio` key `mesh`, with
 * the proxy metadata that describes the model: PROXY_CONFIG_XDS_AGENT=true only when the model's proxies
 * take istiod's pushed roots (PCDS; Istio ships without it), SECRET_TTL = the model's workload
 * certificate lifetime (real pilot-agent requests it in whole seconds), and the renewal jitter when the
 * lab spreads renewals (lab-pace.ts), so the rotation waits for the latest renewal as it would in a mesh.
 */
export function seedMeshConfig(store: KubeObjectStore, options: ModelProxySettings): void {
  store.create({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'istio',
      namespace: ISTIO_SYSTEM,
      labels: { app: 'istiod', 'istio.io/rev': 'default' },
    },
    data: {
      mesh: [
        'defaultConfig:',
        '  discoveryAddress: istiod.istio-system.svc:15012',
        '  proxyMetadata:',
        ...Object.entries(meshProxyMetadata(options)).map(([key, value]) =>
          key === 'SECRET_TTL' ? `    ${key}: ${value}` : `    ${key}: "${value}"`,
        ),
        'rootNamespace: istio-system',
        'trustDomain: cluster.local',
        '',
      ].join('\n'),
    },
  });
}

/**
 * The proxy metadata seedMeshConfig writes, by key: PROXY_CONFIG_XDS_AGENT (PCDS on only), SECRET_TTL,
 * SECRET_GRACE_PERIOD_RATIO_JITTER (a jitter other than 0 only).
 */
function meshProxyMetadata(options: ModelProxySettings): Record<string, string> {
  const ttl = options.workloadCertTtlMs;
  const jitter = options.renewalJitter ?? 0;
  return {
    ...(options.pcds ? { PROXY_CONFIG_XDS_AGENT: 'true' } : {}),
    SECRET_TTL: ttl % 1000 === 0 ? `${ttl / 1000}s` : `${ttl}ms`,
    ...(jitter === 0 ? {} : { SECRET_GRACE_PERIOD_RATIO_JITTER: String(jitter) }),
  };
}

/** The gateways Istio's multi-network install leaves in istio-system, as the istio engine has them. */
export const GATEWAYS = [
  { name: 'istio-ingressgateway', istio: 'ingressgateway' },
  { name: 'istio-eastwestgateway', istio: 'eastwestgateway' },
] as const;

/**
 * The ingress gateway and the east-west gateway, each a Deployment of one replica running as its own
 * service account (the model serves no ServiceAccount objects; istiod's model signs for the name) with
 * an `istio-proxy` container of its own (never injected), pilot-agent `proxy router`,
 * as istioctl renders Istio's gateway chart: the mesh config's proxy metadata in its env (so
 * PROXY_CONFIG_XDS_AGENT when PCDS is on), and for the east-west gateway the network label and the
 * sni-dnat router mode of samples/multicluster/gen-eastwest-gateway.sh. The istiod model signs for them
 * as for any pod with istio-proxy; the model routes no traffic through either.
 */
export function seedGateways(
  store: KubeObjectStore,
  options: ModelProxySettings & { readonly istioVersion: string; readonly network: string },
): void {
  const metadata = meshProxyMetadata(options);
  for (const gateway of GATEWAYS) {
    const eastWest = gateway.istio === 'eastwestgateway';
    const selector = {
      app: gateway.name,
      istio: gateway.istio,
      ...(eastWest ? { 'topology.istio.io/network': options.network } : {}),
    };
    const serviceAccount = `${gateway.name}-service-account`;
    const env = {
      ...(eastWest
        ? { ISTIO_META_ROUTER_MODE: 'sni-dnat', ISTIO_META_REQUESTED_NETWORK_VIEW: options.network }
        : {}),
      ...metadata,
    };
    store.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: gateway.name, namespace: ISTIO_SYSTEM, labels: selector },
      spec: {
        replicas: 1,
        selector: { matchLabels: selector },
        template: {
          metadata: {
            annotations: { 'sidecar.istio.io/inject': 'false' },
            labels: { ...selector, 'sidecar.istio.io/inject': 'false' },
          },
          spec: {
            serviceAccountName: serviceAccount,
            containers: [
              {
                name: 'istio-proxy',
                image: `docker.io/istio/proxyv2:${labIstioImageTag(options.istioVersion)}`,
                args: ['proxy', 'router', '--domain', '$(POD_NAMESPACE).svc.cluster.local'],
                env: Object.entries(env).map(([name, value]) => ({ name, value })),
              },
            ],
          },
        },
      },
    });
  }
}

/**
 * `count` injected workloads spread over the injected namespaces with 1-2 replicas. The first
 * cluster's set holds a DaemonSet, every cluster a StatefulSet (when count allows), so the fleet has
 * all three kinds.
 */
export function seedWorkloads(
  store: KubeObjectStore,
  options: { readonly count: number; readonly clusterIndex: number },
): SeededWorkload[] {
  const seeded: SeededWorkload[] = [];
  for (let i = 0; i < options.count; i++) {
    const kind: WorkloadKindName =
      i === 1 ? 'StatefulSet' : i === 2 && options.clusterIndex === 0 ? 'DaemonSet' : 'Deployment';
    const namespace = INJECTED_NAMESPACES[i % INJECTED_NAMESPACES.length];
    const name = `app-${String(i + 1).padStart(2, '0')}`;
    const replicas = (i % 2) + 1;
    store.create(workloadObject(kind, namespace, name, replicas));
    seeded.push({ kind, namespace, name });
  }
  // Something outside the mesh, which istiod must leave alone.
  store.create(workloadObject('Deployment', UNINJECTED_NAMESPACE, 'debug-shell', 1));
  return seeded;
}

/**
 * The proxies seedWorkloads and seedGateways give a cluster once rolled out: each workload's replicas
 * (a DaemonSet one per lab node: the rollout controller's two), and the gateways. What istiod signs
 * for and renews, so what the lab's pace is sized by (lab-pace.ts).
 */
export function seededProxyCount(options: { readonly count: number; readonly clusterIndex: number }): number {
  const labNodes = 2;
  let proxies = GATEWAYS.length;
  for (let i = 0; i < options.count; i++) {
    proxies += i === 2 && options.clusterIndex === 0 ? labNodes : (i % 2) + 1;
  }
  return proxies;
}

function workloadObject(
  kind: WorkloadKindName,
  namespace: string,
  name: string,
  replicas: number,
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      ...(kind === 'DaemonSet' ? {} : { replicas }),
      ...(kind === 'StatefulSet' ? { serviceName: name } : {}),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          serviceAccountName: name,
          containers: [{ name: 'app', image: `registry.lab/${name}:1`, ports: [{ containerPort: 8080 }] }],
        },
      },
    },
  };
}
