// Installs Istio into one lab cluster the way an operator does with a plug-in CA: the `cacerts`
// Secret first, then Istio's own manifests, rendered by istioctl (built from the same istio.io/istio
// commit) from an IstioOperator, applied with kubectl. Nothing of Istio's install is hand-written here.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { LabError } from '../lab-errors.js';
import { LOOPBACK_ENDPOINT_ANNOTATION } from '../node-agent/service-proxy.js';

const run = promisify(execFile);

export const CACERTS_FILES = ['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem'] as const;
export type CacertsFiles = { readonly [file in (typeof CACERTS_FILES)[number]]: string };

export interface InstallIstioOptions {
  readonly istioctl: string;
  readonly adminKubeconfig: string;
  /** Where the IstioOperator, the rendered manifest and the cacerts files are written. */
  readonly dir: string;
  readonly clusterName: string;
  readonly meshId: string;
  readonly network: string;
  readonly trustDomain: string;
  /** The image tag Istio's manifests name (the images are never pulled: the node agent runs the binaries). */
  readonly tag: string;
  readonly istiodReplicas: number;
  /** istiod's environment (values.pilot.env), e.g. ISTIO_MULTIROOT_MESH. */
  readonly istiodEnv: Readonly<Record<string, string>>;
  /** The mesh's proxy metadata (meshConfig.defaultConfig.proxyMetadata), e.g. PROXY_CONFIG_XDS_AGENT. */
  readonly proxyMetadata: Readonly<Record<string, string>>;
  /** The plug-in CA; written to `cacerts` before istiod starts. */
  readonly cacerts: CacertsFiles;
  /** How long to wait for istiod to become ready. */
  readonly readyTimeoutSeconds: number;
}

/**
 * The east-west gateway of Istio's multi-network install (samples/multicluster/gen-eastwest-gateway.sh):
 * an ingress-gateway component of its own, so its own Deployment, Service and ServiceAccount
 * (`istio-eastwestgateway-service-account`), pilot-agent `proxy router` in `sni-dnat` mode, labelled
 * with the cluster's network.
 */
const EASTWEST_GATEWAY = { name: 'istio-eastwestgateway', istioLabel: 'eastwestgateway' } as const;

function eastWestGateway(network: string): object {
  return {
    name: EASTWEST_GATEWAY.name,
    enabled: true,
    label: {
      istio: EASTWEST_GATEWAY.istioLabel,
      app: EASTWEST_GATEWAY.name,
      'topology.istio.io/network': network,
    },
    k8s: {
      env: [
        { name: 'ISTIO_META_ROUTER_MODE', value: 'sni-dnat' },
        { name: 'ISTIO_META_REQUESTED_NETWORK_VIEW', value: network },
      ],
      service: {
        ports: [
          { name: 'status-port', port: 15021, targetPort: 15021 },
          { name: 'mtls', port: 15443, targetPort: 15443 },
          { name: 'tcp-istiod', port: 15012, targetPort: 15012 },
          { name: 'tcp-webhook', port: 15017, targetPort: 15017 },
        ],
      },
    },
  };
}

/**
 * The IstioOperator the lab installs from: default profile, plug-in CA, the ingress gateway and the
 * east-west gateway. A components.ingressGateways list replaces the profile's, so the profile's
 * `istio-ingressgateway` is named again, as the profile has it.
 */
export function labIstioOperator(options: InstallIstioOptions): object {
  return {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    spec: {
      profile: 'default',
      hub: 'docker.io/istio',
      tag: options.tag,
      meshConfig: {
        trustDomain: options.trustDomain,
        defaultConfig: { proxyMetadata: { ...options.proxyMetadata } },
      },
      components: {
        ingressGateways: [{ name: 'istio-ingressgateway', enabled: true }, eastWestGateway(options.network)],
      },
      values: {
        global: {
          meshID: options.meshId,
          multiCluster: { clusterName: options.clusterName },
          network: options.network,
        },
        pilot: {
          env: { ...options.istiodEnv },
          autoscaleEnabled: false,
          replicaCount: options.istiodReplicas,
        },
        gateways: { 'istio-ingressgateway': { autoscaleEnabled: false } },
      },
    },
  };
}

export async function installIstio(options: InstallIstioOptions): Promise<void> {
  const operatorFile = join(options.dir, 'istio-operator.json');
  const manifestFile = join(options.dir, 'istio-manifest.yaml');
  await writeFile(operatorFile, `${JSON.stringify(labIstioOperator(options), null, 2)}\n`);
  for (const file of CACERTS_FILES) {
    await writeFile(join(options.dir, file), options.cacerts[file], { mode: 0o600 });
  }
  await kubectl(options, [
    '-n',
    'istio-system',
    'create',
    'secret',
    'generic',
    'cacerts',
    ...CACERTS_FILES.map((file) => `--from-file=${file}=${join(options.dir, file)}`),
  ]);
  const manifest = await step('istioctl manifest generate', () =>
    run(options.istioctl, ['manifest', 'generate', '-f', operatorFile], { maxBuffer: 64 * 1024 * 1024 }),
  );
  await writeFile(manifestFile, manifest.stdout);
  // Server-side: Istio's CRDs are too large for client-side apply's last-applied annotation.
  await kubectl(options, ['apply', '--server-side', '--force-conflicts', '-f', manifestFile]);
  // istiod first (the gateway waits for the root ConfigMap istiod publishes), then all it installed.
  await kubectl(options, [
    '-n',
    'istio-system',
    'rollout',
    'status',
    'deployment/istiod',
    `--timeout=${options.readyTimeoutSeconds}s`,
  ]);
  await kubectl(options, [
    '-n',
    'istio-system',
    'wait',
    '--for=condition=Available',
    'deployment',
    '--all',
    `--timeout=${options.readyTimeoutSeconds}s`,
  ]);
}

async function kubectl(
  options: Pick<InstallIstioOptions, 'adminKubeconfig' | 'readyTimeoutSeconds'>,
  args: readonly string[],
): Promise<void> {
  await step(`kubectl ${args.slice(0, 5).join(' ')}`, () =>
    run('kubectl', ['--kubeconfig', options.adminKubeconfig, ...args], {
      maxBuffer: 16 * 1024 * 1024,
      timeout: (options.readyTimeoutSeconds + 60) * 1000,
    }),
  );
}

async function step<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    const stderr = ((error as { stderr?: string }).stderr ?? (error as Error).message).trim();
    throw new LabError(`installing Istio: ${what} failed: ${stderr.split('\n').slice(-15).join('\n')}`, {
      cause: error,
    });
  }
}

/**
 * What a primary-remote remote cluster is installed with: no cacerts, no istiod, its pods served by
 * the primary's.
 */
export interface InstallRemoteIstioOptions
  extends Pick<
    InstallIstioOptions,
    | 'istioctl'
    | 'adminKubeconfig'
    | 'dir'
    | 'clusterName'
    | 'meshId'
    | 'network'
    | 'tag'
    | 'proxyMetadata'
    | 'readyTimeoutSeconds'
  > {
  /** The primary cluster whose istiod serves this one (its cluster ID). */
  readonly primaryCluster: string;
  /** Where the primary's istiod is reached on 15012 (xDS and CA) and 443 (injection webhook). */
  readonly primaryIstiodAddress: string;
  /** The primary's admin kubeconfig: the remote secret is applied there. */
  readonly primaryAdminKubeconfig: string;
}

/**
 * The remote of a primary-remote mesh, as Istio's install guide makes one
 * (istio.io "Install Primary-Remote"): the remote's istio-system names the primary as its control
 * plane cluster (topology.istio.io/controlPlaneClusters, read by an EXTERNAL_ISTIOD primary), then
 * Istio's `remote` profile (injection webhook calling the `istiod` Service with the remote's own
 * /inject/cluster/<name>/net/<network> path, that Service pointing at the primary's istiod through
 * remotePilotAddress, the reader service account, the gateways), then the primary gets the remote's
 * kubeconfig as `istioctl create-remote-secret` writes it. The remote's gateways wait until the
 * primary's istiod has published istio-ca-root-cert into the remote's istio-system.
 *
 * One object of the rendered manifest is changed: the EndpointSlice naming the primary's address, which
 * Kubernetes refuses on loopback. It is applied with a documentation address in its place
 * (REMOTE_SLICE_STAND_IN_ADDRESS), so that the remote holds what preflight checks its reach to istiod by
 * (lambdas/core/topology/remote-istiod-reach.ts), and the `istiod` Service carries the real address, for
 * the lab's kube-proxy stand-in (service-proxy.ts's LOOPBACK_ENDPOINT_ANNOTATION), which forwards by it.
 */
export async function installRemoteIstio(options: InstallRemoteIstioOptions): Promise<void> {
  const timeouts = { readyTimeoutSeconds: options.readyTimeoutSeconds };
  const remote = { ...timeouts, adminKubeconfig: options.adminKubeconfig };
  const primary = { ...timeouts, adminKubeconfig: options.primaryAdminKubeconfig };
  await kubectl(remote, [
    'annotate',
    '--overwrite',
    'namespace',
    'istio-system',
    `topology.istio.io/controlPlaneClusters=${options.primaryCluster}`,
  ]);
  const operatorFile = join(options.dir, 'istio-operator.json');
  const manifestFile = join(options.dir, 'istio-manifest.yaml');
  await writeFile(operatorFile, `${JSON.stringify(labRemoteIstioOperator(options), null, 2)}\n`);
  const rendered = await step('istioctl manifest generate', () =>
    run(options.istioctl, ['manifest', 'generate', '-f', operatorFile], { maxBuffer: 64 * 1024 * 1024 }),
  );
  const manifest = remoteManifest(rendered.stdout, options.primaryIstiodAddress);
  const deploymentsFile = join(options.dir, 'istio-manifest-deployments.yaml');
  await writeFile(manifestFile, manifest.setup);
  await writeFile(deploymentsFile, manifest.deployments);
  await kubectl(remote, ['apply', '--server-side', '--force-conflicts', '-f', manifestFile]);
  const secret = await step('istioctl create-remote-secret', () =>
    run(
      options.istioctl,
      ['create-remote-secret', '--kubeconfig', options.adminKubeconfig, '--name', options.clusterName],
      { maxBuffer: 16 * 1024 * 1024, timeout: options.readyTimeoutSeconds * 1000 },
    ),
  );
  const secretFile = join(options.dir, 'istio-remote-secret.yaml');
  await writeFile(secretFile, secret.stdout, { mode: 0o600 });
  await kubectl(primary, ['apply', '-f', secretFile]);
  // The gateways' pods only once the primary's istiod serves the remote (it patches the webhook's
  // caBundle when it takes the lead): before, their ReplicaSets would back off, refused by the webhook.
  await step('the primary taking the lead of the remote', () =>
    untilWebhookCaBundle(options.adminKubeconfig, options.readyTimeoutSeconds * 1000),
  );
  await kubectl(remote, ['apply', '--server-side', '--force-conflicts', '-f', deploymentsFile]);
  await kubectl(remote, [
    '-n',
    'istio-system',
    'wait',
    '--for=condition=Available',
    'deployment',
    '--all',
    `--timeout=${options.readyTimeoutSeconds}s`,
  ]);
}

/** Istio's remote profile for the lab: the primary's gateways' counterparts, no istiod. */
export function labRemoteIstioOperator(options: InstallRemoteIstioOptions): object {
  return {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    spec: {
      profile: 'remote',
      hub: 'docker.io/istio',
      tag: options.tag,
      meshConfig: { defaultConfig: { proxyMetadata: { ...options.proxyMetadata } } },
      components: {
        ingressGateways: [{ name: 'istio-ingressgateway', enabled: true }, eastWestGateway(options.network)],
      },
      values: {
        global: {
          meshID: options.meshId,
          multiCluster: { clusterName: options.clusterName },
          network: options.network,
          remotePilotAddress: options.primaryIstiodAddress,
        },
        istiodRemote: { injectionPath: `/inject/cluster/${options.clusterName}/net/${options.network}` },
        gateways: { 'istio-ingressgateway': { autoscaleEnabled: false } },
      },
    },
  };
}

/**
 * The address the remote's istiod EndpointSlice holds in the lab, where Kubernetes refuses the primary's
 * loopback one: RFC 5737 TEST-NET-1, routed by nobody (the lab forwards by the Service's annotation).
 */
export const REMOTE_SLICE_STAND_IN_ADDRESS = '192.0.2.1';

/**
 * The rendered remote manifest with the EndpointSlice's loopback address replaced by a stand-in and put
 * on the Service instead; split into the Deployments (pods to inject) and all the rest.
 */
export function remoteManifest(
  rendered: string,
  primaryIstiodAddress: string,
): { readonly setup: string; readonly deployments: string } {
  const setup: string[] = [];
  const deployments: string[] = [];
  for (const document of parseAllDocuments(rendered)) {
    const object = document.toJS() as {
      kind?: string;
      metadata?: { name?: string; annotations?: Record<string, string> };
    } | null;
    if (!object) continue;
    if (object.kind === 'EndpointSlice' && object.metadata?.name === 'istiod') {
      const slice = object as { endpoints?: { addresses?: string[] }[] };
      slice.endpoints = (slice.endpoints ?? []).map((endpoint) => ({
        ...endpoint,
        addresses: (endpoint.addresses ?? []).map(() => REMOTE_SLICE_STAND_IN_ADDRESS),
      }));
    }
    if (object.kind === 'Service' && object.metadata?.name === 'istiod') {
      object.metadata.annotations = {
        ...object.metadata.annotations,
        [LOOPBACK_ENDPOINT_ANNOTATION]: primaryIstiodAddress,
      };
    }
    (object.kind === 'Deployment' ? deployments : setup).push(stringify(object));
  }
  return { setup: setup.join('---\n'), deployments: deployments.join('---\n') };
}

/** Resolves once the remote's injection webhook has a caBundle (its primary's istiod patched it). */
async function untilWebhookCaBundle(adminKubeconfig: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { stdout } = await run('kubectl', [
      '--kubeconfig',
      adminKubeconfig,
      'get',
      'mutatingwebhookconfiguration',
      'istio-sidecar-injector',
      '-o',
      'jsonpath={.webhooks[*].clientConfig.caBundle}',
    ]);
    if (stdout.trim() !== '') return;
    if (Date.now() > deadline) {
      throw new LabError(`the remote's injection webhook has no caBundle after ${timeoutMs / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
