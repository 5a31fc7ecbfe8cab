// The istio engine's --fault kube:..., on a REAL kube-apiserver and kube-controller-manager (built from
// their Go modules, lab/go), driven by the rehearsal's fault plan as the model's API server is.
// Request faults: a fault proxy in front of the API server, started as the istio lab starts it for each
// cluster (startClusterKubeFaultProxy); the client is the functions' own, the product's cluster client (a
// DescribeCluster-style endpoint and CA, an EKS bearer token per request) and its cacerts adapter. It gets
// the 503, the 409, the late answer and the reset for exactly N requests (or SECONDS), then the real API
// server's answers through the same proxy; the lab's own path to the API server (its administrator's
// kubeconfig) never meets a fault. `stuck`: the node agent, the lab's kubelet, reports the next N new
// workload pods never ready, so the real Deployment controller's rollout stalls, then completes again.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import {
  type ControlPlaneCluster,
  type LabControlPlane,
  startControlPlane,
} from '../../../lab/control-plane/start-control-plane.js';
import { createLabIdentities } from '../../../lab/eks/lab-identities.js';
import { type KubeFaultProxy, startClusterKubeFaultProxy } from '../../../lab/kube-fault-proxy.js';
import { podWorkloadKind } from '../../../lab/workloads/pod-workload.js';
import { readCacerts, writeCacerts } from '../../../lambdas/adapters/kube/cacerts-secret.js';
import { type ClusterClient, createClusterClient } from '../../../lambdas/adapters/kube/cluster-client.js';
import { createEksTokenProvider } from '../../../lambdas/adapters/kube/eks-token-provider.js';
import { CacertsConflict } from '../../../lambdas/adapters/kube/kube-errors.js';
import { SECRETS } from '../../../lambdas/adapters/kube/kube-objects.js';
import { isTransientKubeError } from '../../../lambdas/adapters/retry.js';
import { createFaultPlan, type FaultPlan } from '../../../rehearsal/fault-plan.js';
import { parseFault } from '../../../rehearsal/fault-spec.js';
import { controlPlaneBinaries } from '../../support/lab-binaries.js';

const REGION = 'us-east-1';
const CLUSTER = 'lab-1';
const SECRET = { name: 'cacerts', namespace: 'istio-system' };
/** Stand-ins for the four files: the API server and the adapter read them as text, nothing parses them. */
const FILES = {
  'ca-cert.pem': 'INTERMEDIATE-1',
  'ca-key.pem': 'KEY-1',
  'cert-chain.pem': 'INTERMEDIATE-1+ROOT-A',
  'root-cert.pem': 'ROOT-A',
};

// The first run on a machine builds Kubernetes and etcd (tens of minutes on 2 cores).
jest.setTimeout(120_000);

let dir: string;
let controlPlane: LabControlPlane;
let cluster: ControlPlaneCluster;
let proxy: KubeFaultProxy;
let plan: FaultPlan = createFaultPlan([]);
const identities = createLabIdentities({ clusterNames: [CLUSTER] });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshtrust-kube-fault-proxy-'));
  controlPlane = await startControlPlane({
    binaries: await controlPlaneBinaries(),
    dir: join(dir, 'fleet'),
    clusterNames: [CLUSTER],
    identities,
    region: REGION,
    // As start-rehearsal-fleet.ts wires it for --fault kube:CLUSTER:stuck.
    holdUnready: (name, pod) =>
      plan.podHeldUnready(name, {
        namespace: pod.metadata?.namespace ?? '',
        name: pod.metadata?.name ?? '',
        workloadKind: podWorkloadKind(pod.metadata ?? {}),
      }),
  });
  cluster = controlPlane.clusters[0] as ControlPlaneCluster;
  await adminCore().createNamespacedSecret({
    namespace: SECRET.namespace,
    body: {
      metadata: SECRET,
      type: 'Opaque',
      data: Object.fromEntries(
        Object.entries(FILES).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
      ),
    },
  });
  // As start-istio-lab.ts wires it for the rehearsal: the fault plan asked with the cluster's name.
  proxy = await startClusterKubeFaultProxy(cluster, (name, request) => plan.kubeRequest(name, request));
}, 60 * 60_000);

afterAll(async () => {
  await proxy?.stop();
  await controlPlane?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Sets off the given faults, as the rehearsal does when their phase begins. */
function faultsAtPhase(...specs: string[]): void {
  plan = createFaultPlan(specs.map(parseFault));
  plan.enterPhase('distribute-bundle');
}

/**
 * The functions' client of the cluster, as the lab's EKS API describes it: the proxy's endpoint and the
 * cluster's CA, the rotator's EKS token on every request. One attempt a call unless asked, so each
 * call is one request.
 */
function rotatorClient(attempts = 1): ClusterClient {
  return createClusterClient({
    cluster: { name: CLUSTER, endpoint: proxy.endpoint, caPem: cluster.caPem },
    tokenProvider: createEksTokenProvider({
      clusterName: CLUSTER,
      region: REGION,
      credentials: identities.rotator.credentials,
    }),
    retry: { attempts, baseDelayMs: 50, maxDelayMs: 200 },
  });
}

/** The lab's own path: its administrator's kubeconfig, on the API server itself. */
function adminConfig(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(cluster.adminKubeconfig);
  return config;
}

function adminCore(): CoreV1Api {
  return adminConfig().makeApiClient(CoreV1Api);
}

/** One raw read through the proxy: the answer, or the error the cluster client threw. */
async function readThroughProxy(client: ClusterClient): Promise<{ ok: boolean; error?: unknown }> {
  try {
    await client.api.read(SECRETS, SECRET.namespace, SECRET.name);
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The Status a failed client-node call carries. */
function statusOf(error: unknown): { code?: number; reason?: string } {
  const body = (error as { body?: unknown }).body;
  return typeof body === 'string' ? JSON.parse(body) : ((body ?? {}) as object);
}

describe('fault proxy in front of a real kube-apiserver (istio engine, --fault kube:...)', () => {
  it('listens on the API server own address, at another port, and passes requests through with their token', async () => {
    // Prepare
    faultsAtPhase();

    // Act
    const snapshot = await readCacerts(rotatorClient());

    // Assess
    const [front, back] = [new URL(proxy.endpoint), new URL(cluster.endpoint)];
    expect(front.hostname).toBe(back.hostname);
    expect(front.port).not.toBe(back.port);
    expect(snapshot?.files).toEqual(FILES);
  });

  it('answers the next N requests 503 with a ServiceUnavailable Status, then the API server answers', async () => {
    // Prepare
    faultsAtPhase('kube:lab-1:5xx:2@distribute-bundle');
    const client = rotatorClient();

    // Act
    const answers = [await readThroughProxy(client), await readThroughProxy(client)];
    const adminRead = await adminCore().readNamespacedSecret(SECRET);
    const after = await readCacerts(client);

    // Assess
    for (const answer of answers) {
      expect(answer.ok).toBe(false);
      expect(isTransientKubeError(answer.error)).toBe(true);
      expect(statusOf(answer.error)).toMatchObject({
        kind: 'Status',
        reason: 'ServiceUnavailable',
        code: 503,
      });
    }
    expect(adminRead.metadata?.name).toBe('cacerts');
    expect(after?.files).toEqual(FILES);
    expect(plan.report()).toEqual([{ spec: 'kube:lab-1:5xx:2@distribute-bundle', fired: 2 }]);
  });

  it('lets the adapters retry absorb a 5xx fault smaller than its attempts', async () => {
    // Prepare
    faultsAtPhase('kube:lab-1:5xx:3@distribute-bundle');

    // Act
    const snapshot = await readCacerts(rotatorClient(4));

    // Assess
    expect(snapshot?.files).toEqual(FILES);
    expect(plan.report()[0]?.fired).toBe(3);
  });

  it('answers the next N writes 409 Conflict, lets reads through, then the API server takes the write', async () => {
    // Prepare
    faultsAtPhase('kube:lab-1:conflict:1@distribute-bundle');
    const client = rotatorClient();
    const read = await readCacerts(client);
    const next = { ...FILES, 'root-cert.pem': 'ROOT-A+ROOT-B' };
    const expectedResourceVersion = read?.resourceVersion ?? '';

    // Act
    const conflicted = await writeCacerts(client, next, { expectedResourceVersion }).catch((error) => error);
    const unchanged = await adminCore().readNamespacedSecret(SECRET);
    const written = await writeCacerts(client, next, { expectedResourceVersion });

    // Assess
    expect(conflicted).toBeInstanceOf(CacertsConflict);
    expect(statusOf((conflicted as Error).cause)).toMatchObject({ reason: 'Conflict', code: 409 });
    expect(unchanged.metadata?.resourceVersion).toBe(expectedResourceVersion);
    expect(written.written).toBe(true);
    expect((await readCacerts(client))?.files).toEqual(next);
    // The reads before and between the writes passed: exactly one request, the first write, was answered.
    expect(plan.report()[0]?.fired).toBe(1);
    await writeCacerts(client, FILES, { expectedResourceVersion: written.resourceVersion });
  });

  it('answers the next N requests late, and the one after that at once', async () => {
    // Prepare
    faultsAtPhase('kube:lab-1:slow:800:2@distribute-bundle');
    const client = rotatorClient();

    // Act
    const elapsed: number[] = [];
    for (let i = 0; i < 2; i++) {
      const start = performance.now();
      await readCacerts(client);
      elapsed.push(performance.now() - start);
    }
    const third = await readCacerts(client);

    // Assess
    for (const ms of elapsed) expect(ms).toBeGreaterThanOrEqual(800);
    expect(third?.files).toEqual(FILES);
    expect(plan.report()[0]?.fired).toBe(2);
  });

  it('resets every connection while the cluster is down, then the API server answers again', async () => {
    // Prepare
    faultsAtPhase('kube:lab-1:down:2@distribute-bundle');
    const client = rotatorClient();

    // Act
    const whileDown = await readThroughProxy(client);
    const adminRead = await adminCore().readNamespacedSecret(SECRET);
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    const after = await readCacerts(client);

    // Assess
    expect(whileDown.ok).toBe(false);
    expect(isTransientKubeError(whileDown.error)).toBe(true);
    // node:https reads a connection closed without an answer as ECONNRESET ("socket hang up").
    expect((whileDown.error as { code?: string }).code).toBe('ECONNRESET');
    expect(adminRead.metadata?.name).toBe('cacerts');
    expect(after?.files).toEqual(FILES);
    expect(plan.report()[0]?.fired).toBeGreaterThanOrEqual(1);
  });
});

describe('stuck on the istio engine: the node agent holds new pods unready', () => {
  const namespace = 'shop';
  const name = 'app-held';
  const apps = () => adminConfig().makeApiClient(AppsV1Api);
  const isReady = (pod: V1Pod) =>
    pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ===
    true;
  const pods = async () =>
    (await adminCore().listNamespacedPod({ namespace, labelSelector: `app=${name}` })).items.filter(
      (pod) => pod.metadata?.deletionTimestamp === undefined,
    );
  /** A restart as restart-workloads makes one: a new template annotation, so a new ReplicaSet. */
  const restart = (at: string) =>
    apps().patchNamespacedDeployment(
      {
        name,
        namespace,
        body: {
          spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  const rolledOut = async () => {
    const { metadata, status } = await apps().readNamespacedDeployment({ name, namespace });
    return (
      status?.observedGeneration === metadata?.generation &&
      status?.updatedReplicas === 1 &&
      status?.readyReplicas === 1 &&
      (status?.replicas ?? 0) === 1
    );
  };
  const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };

  beforeAll(async () => {
    await adminCore().createNamespace({ body: { metadata: { name: namespace } } });
    await apps().createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name, namespace },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: { containers: [{ name: 'app', image: 'lab/app:1' }] },
          },
        },
      },
    });
    await until('the first rollout', rolledOut);
  });

  it('keeps the next new pod of a Deployment unready, so its rollout stalls, then lets the next one be ready', async () => {
    // Prepare
    faultsAtPhase('kube:lab-1:stuck:1:deployment@distribute-bundle');
    const [original] = await pods();

    // Act
    await restart('held');
    await until('the held pod running', async () =>
      (await pods()).some(
        (pod) => pod.metadata?.uid !== original?.metadata?.uid && pod.status?.phase === 'Running',
      ),
    );
    // A few of the node agent's probe rounds (1 s each): a held pod stays unready through them.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const whileHeld = await pods();
    const stalled = !(await rolledOut());
    await restart('released');
    await until('the rollout after the fault', rolledOut, 60_000);
    const after = await pods();

    // Assess
    const held = whileHeld.find((pod) => pod.metadata?.uid !== original?.metadata?.uid);
    expect(held?.status?.phase).toBe('Running');
    expect(held && isReady(held)).toBe(false);
    // The real Deployment controller keeps the old pod while the new one is not ready (maxUnavailable 0 of 1).
    expect(whileHeld.some((pod) => pod.metadata?.uid === original?.metadata?.uid && isReady(pod))).toBe(true);
    expect(stalled).toBe(true);
    expect(after).toHaveLength(1);
    expect(after[0] && isReady(after[0])).toBe(true);
    expect(plan.report()).toEqual([{ spec: 'kube:lab-1:stuck:1:deployment@distribute-bundle', fired: 1 }]);
  });
});
