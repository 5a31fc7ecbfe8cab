// What the istio-engine tests do to a running fleet, the way an operator would: kubectl as the lab's
// administrator, the app pod of a cluster, cacerts written and read, and real mTLS handshakes between
// two clusters' workloads with what each pod's pilot-agent holds now.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { createLabIdentities, type LabIdentities } from '../../lab/eks/lab-identities.js';
import { type HandshakeOutcome, mtlsHandshake } from '../../lab/istio/mtls-handshake.js';
import { readProxyIdentity } from '../../lab/istio-install/proxy-identity.js';
import { type IstioFleet, startIstioFleet } from '../../lab/istio-install/start-istio-fleet.js';
import { runKubectl } from '../../lab/kube/kubectl-runner.js';
import { type CaMaterial, createIntermediateCa } from '../../lambdas/core/pki/index.js';
import { controlPlaneBinaries } from './lab-binaries.js';

export interface TestFleetOptions {
  /** The test's scratch folder: the fleet and kubectl's cache go below it. */
  readonly dir: string;
  readonly clusters: readonly string[];
  /** The mesh's proxy metadata; { PROXY_CONFIG_XDS_AGENT: 'true' } turns PCDS on. */
  readonly proxyMetadata: Readonly<Record<string, string>>;
  readonly volumeSyncPeriodMs: number;
}

/** A multi-primary istio-engine fleet with ISTIO_MULTIROOT_MESH on, and a kit to drive it. */
export async function startTestFleet(
  options: TestFleetOptions,
): Promise<{ fleet: IstioFleet; kit: IstioFleetKit; identities: LabIdentities }> {
  const identities = createLabIdentities({ clusterNames: options.clusters });
  const fleet = await startIstioFleet({
    binaries: await controlPlaneBinaries(),
    dir: join(options.dir, 'fleet'),
    clusterNames: options.clusters,
    identities,
    region: 'eu-west-1',
    meshId: 'lab',
    trustDomain: 'cluster.local',
    istiodEnv: { ISTIO_MULTIROOT_MESH: 'true' },
    proxyMetadata: options.proxyMetadata,
    istiodReplicas: 1,
    volumeSyncPeriodMs: options.volumeSyncPeriodMs,
    // Istio labs cannot run side by side on one machine; another test file's may be running.
    waitForOtherLabMs: 30 * 60_000,
  });
  return { fleet, kit: new IstioFleetKit(fleet, options.dir), identities };
}

export class IstioFleetKit {
  constructor(
    private readonly fleet: IstioFleet,
    private readonly scratchDir: string,
    private readonly trustDomain = 'cluster.local',
  ) {}

  async kubectl(cluster: string, args: string[], input?: string): Promise<string> {
    const target = this.fleet.controlPlane.clusters.find((candidate) => candidate.name === cluster);
    if (!target) throw new Error(`no cluster ${cluster}`);
    const result = await runKubectl(args, {
      kubeconfig: target.adminKubeconfig,
      cacheDir: join(this.scratchDir, 'kube-cache'),
      input,
      timeoutMs: 150_000,
    });
    if (result.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')} (${cluster}): ${result.stderr}`);
    return result.stdout;
  }

  /** An injected Deployment `app` (service account `app`) in namespace `shop`, rolled out. */
  async deployApp(cluster: string): Promise<void> {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'app', namespace: 'shop' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'app' } },
        template: {
          metadata: { labels: { app: 'app' } },
          spec: { serviceAccountName: 'app', containers: [{ name: 'app', image: 'lab/app:1' }] },
        },
      },
    };
    await this.kubectl(cluster, ['create', 'namespace', 'shop']);
    await this.kubectl(cluster, ['label', 'namespace', 'shop', 'istio-injection=enabled']);
    await this.kubectl(cluster, ['-n', 'shop', 'create', 'serviceaccount', 'app']);
    await this.kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(deployment));
    await this.kubectl(cluster, ['-n', 'shop', 'rollout', 'status', 'deployment/app', '--timeout=120s']);
  }

  async restartApp(cluster: string): Promise<void> {
    await this.kubectl(cluster, ['-n', 'shop', 'rollout', 'restart', 'deployment/app']);
    await this.kubectl(cluster, ['-n', 'shop', 'rollout', 'status', 'deployment/app', '--timeout=120s']);
  }

  /** The one running, ready app pod of a cluster (waits while a rollout still has two). */
  appPod(cluster: string): Promise<V1Pod> {
    return this.readyPod(cluster, 'shop', 'app=app');
  }

  /** The one ready pod of a gateway, by its `istio` label (`ingressgateway`, `eastwestgateway`). */
  gatewayPod(cluster: string, istioLabel: string): Promise<V1Pod> {
    return this.readyPod(cluster, 'istio-system', `istio=${istioLabel}`);
  }

  /** The one running, ready pod a selector picks (waits while a rollout still has two). */
  async readyPod(cluster: string, namespace: string, selector: string): Promise<V1Pod> {
    for (let attempt = 0; attempt < 120; attempt++) {
      const list = JSON.parse(
        await this.kubectl(cluster, ['-n', namespace, 'get', 'pods', '-l', selector, '-o', 'json']),
      ) as { items: V1Pod[] };
      const ready = list.items.filter(
        (pod) =>
          !pod.metadata?.deletionTimestamp &&
          pod.status?.conditions?.some(
            (condition) => condition.type === 'Ready' && condition.status === 'True',
          ),
      );
      if (list.items.length === 1 && ready[0]) return ready[0];
      await sleep(500);
    }
    throw new Error(`${cluster}: no single ready pod ${namespace} ${selector}`);
  }

  /** A file the pod's pilot-agent wrote (cert-chain.pem, key.pem, root-cert.pem). */
  proxyFile(cluster: string, pod: V1Pod, file: string): Promise<string> {
    return readFile(
      join(this.fleet.podRootfs(cluster, pod.metadata?.uid ?? ''), 'etc/istio/proxy', file),
      'utf8',
    );
  }

  /** A real mTLS handshake from `from`'s app to `to`'s, each side with what its agent holds now. */
  async handshake(from: string, to: string): Promise<HandshakeOutcome> {
    const [client, server] = await Promise.all([this.appPod(from), this.appPod(to)]);
    return this.handshakeBetween({ cluster: from, pod: client }, { cluster: to, pod: server });
  }

  /** A real mTLS handshake between two pods (apps or gateways), each with what its agent holds now. */
  async handshakeBetween(
    client: { readonly cluster: string; readonly pod: V1Pod },
    server: { readonly cluster: string; readonly pod: V1Pod },
  ): Promise<HandshakeOutcome> {
    return mtlsHandshake(
      await readProxyIdentity(this.fleet.podRootfs(client.cluster, client.pod.metadata?.uid ?? '')),
      await readProxyIdentity(this.fleet.podRootfs(server.cluster, server.pod.metadata?.uid ?? '')),
      { trustDomain: this.trustDomain, timeoutMs: 5_000 },
    );
  }

  async writeCacerts(cluster: string, files: Record<string, string>): Promise<void> {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'cacerts', namespace: 'istio-system' },
      data: Object.fromEntries(
        Object.entries(files).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
      ),
    };
    await this.kubectl(cluster, ['replace', '-f', '-'], JSON.stringify(secret));
  }

  async cacerts(cluster: string): Promise<Record<string, string>> {
    const secret = JSON.parse(
      await this.kubectl(cluster, ['-n', 'istio-system', 'get', 'secret', 'cacerts', '-o', 'json']),
    ) as { data: Record<string, string> };
    return Object.fromEntries(
      Object.entries(secret.data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]),
    );
  }

  /** Appends a root's PEM to the bytes of a cluster's root-cert.pem, as distribute-bundle does. */
  async appendRoot(cluster: string, rootPem: string): Promise<void> {
    const current = await this.cacerts(cluster);
    await this.writeCacerts(cluster, {
      ...current,
      'root-cert.pem': `${current['root-cert.pem']}${rootPem}`,
    });
  }

  /**
   * Gives a cluster a new intermediate under `root` (root-cert.pem untouched), then restarts its app
   * until it serves a certificate from that intermediate: istiod loads cacerts a volume sync after
   * the Secret changed. Says whether the app got there within a minute.
   */
  async switchIntermediate(
    cluster: string,
    root: CaMaterial,
  ): Promise<{ intermediate: CaMaterial; moved: boolean }> {
    const intermediate = await createIntermediateCa({ cluster, issuer: root, commonName: 'Intermediate B' });
    await this.writeCacerts(cluster, {
      ...(await this.cacerts(cluster)),
      'ca-cert.pem': intermediate.certificatePem,
      'ca-key.pem': intermediate.privateKeyPem,
      'cert-chain.pem': `${intermediate.certificatePem}${root.certificatePem}`,
    });
    const moved = await eventually(async () => {
      await this.restartApp(cluster);
      const pod = await this.appPod(cluster);
      return holdsCertificate(
        await this.proxyFile(cluster, pod, 'cert-chain.pem'),
        intermediate.certificatePem,
      );
    }, 60_000);
    return { intermediate, moved };
  }

  /** The bundle istiod published to a namespace (what verify-trust reads). */
  async publishedRoots(cluster: string, namespace: string): Promise<string> {
    return this.kubectl(cluster, [
      '-n',
      namespace,
      'get',
      'configmap',
      'istio-ca-root-cert',
      '-o',
      'jsonpath={.data.root-cert\\.pem}',
    ]);
  }
}

/** Whether a PEM text holds a certificate (compared by its first base64 line). */
export function holdsCertificate(pemText: string, certificatePem: string): boolean {
  return pemText.includes(certificatePem.trim().split('\n')[1] ?? '\u0000');
}

export async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (await check()) return true;
    await sleep(500);
  }
  return check();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
