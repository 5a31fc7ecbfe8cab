// The lab's node agent: one Node per cluster that the real control plane sees as a healthy kubelet,
// in the manner of kwok. It registers the Node, renews its Lease and Ready condition, binds pods that
// nobody scheduled (the lab runs no kube-scheduler), gives each pod its own loopback address, hands it
// to a PodRuntime to start, reports it Running and Ready, and finishes graceful deletions as kubelet
// does. What runs inside a pod is the runtime's business (pod-runtime.ts).
import {
  CoordinationV1Api,
  CoreV1Api,
  type KubeConfig,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type V1Container,
  type V1Pod,
} from '@kubernetes/client-node';
import { podNetworkAddress } from '../control-plane/lab-addresses.js';
import { LabError } from '../lab-errors.js';
import { type PodRuntime, podKey } from './pod-runtime.js';

const HEARTBEAT_MS = 10_000;
/** How often readiness is probed (kubelet's default probe period is 10 s; the lab is quicker). */
const PROBE_MS = 1_000;
const START_RETRY_MS = 2_000;

/** A pod that could not start yet; the node agent tries it again. */
class PodStartError extends LabError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PodStartError';
  }
}
const LEASE_SECONDS = 40;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface NodeAgentOptions {
  readonly kubeConfig: KubeConfig;
  /** The Node's name, e.g. lab-1-node. */
  readonly nodeName: string;
  /** The Node's InternalIP (a loopback address of its own). */
  readonly nodeAddress: string;
  /**
   * The port of the node's kubelet streaming server (lab/control-plane/kubelet-streaming-process.ts),
   * published as status.daemonEndpoints.kubeletEndpoint.Port: where kube-apiserver sends
   * pods/portforward. Absent: 0, as a Node whose kubelet serves nothing.
   */
  readonly kubeletPort?: number;
  /** Hands out pod addresses; called once per started pod. */
  readonly allocateAddress: () => string;
  readonly releaseAddress: (address: string) => void;
  readonly runtime: PodRuntime;
  readonly kubeletVersion: string;
  /** Told about what it could not do (a failed bind, a pod that would not start). */
  readonly onProblem?: (message: string) => void;
  /**
   * Asked once for each pod it starts (the rehearsal's --fault kube:CLUSTER:stuck): true reports the
   * pod's containers never ready for as long as it runs, as kubelet reports a pod whose readiness probe
   * never passes; its native sidecar (istio-proxy) is probed as any other. @default none held
   */
  readonly holdUnready?: (pod: V1Pod) => boolean;
}

export interface NodeAgent {
  readonly nodeName: string;
  stop(): Promise<void>;
}

interface RunningPod {
  readonly uid: string;
  readonly address: string;
  readonly name: string;
  readonly namespace: string;
  readonly pod: V1Pod;
  readonly startedAt: Date;
  /** Held unready (holdUnready): its containers are reported not ready whatever they answer. */
  readonly heldUnready: boolean;
  /** What was last reported, as one string, so an unchanged probe result patches nothing. */
  reported?: string;
}

export async function startNodeAgent(options: NodeAgentOptions): Promise<NodeAgent> {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const coordination = options.kubeConfig.makeApiClient(CoordinationV1Api);
  const problem = options.onProblem ?? (() => undefined);
  const running = new Map<string, RunningPod>();
  const inFlight = new Map<string, Promise<void>>();
  // holdUnready's answer per pod UID: asked once, however often the pod's start is retried.
  const heldUnready = new Map<string, boolean>();
  let stopped = false;

  await registerNode(core, options);
  const heartbeat = async () => {
    await Promise.all([renewLease(coordination, options.nodeName), reportNodeReady(core, options)]);
  };
  await heartbeat();
  const timer = setInterval(() => {
    heartbeat().catch((error: unknown) => problem(`${options.nodeName} heartbeat failed: ${String(error)}`));
  }, HEARTBEAT_MS);

  // One pod is handled by one chain of promises at a time, so a burst of events for it never races.
  const handle = (pod: V1Pod) => {
    const key = podKey(pod);
    const previous = inFlight.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => (stopped ? undefined : reconcile(pod)))
      .catch((error: unknown) => {
        problem(`${key}: ${error instanceof Error ? error.message : String(error)}`);
        if (error instanceof PodStartError) retryLater(pod);
      });
    inFlight.set(key, next);
    void next.finally(() => {
      if (inFlight.get(key) === next) inFlight.delete(key);
    });
  };

  // kubelet retries a pod that could not start (a Secret or ConfigMap not there yet) with a back-off.
  const retries = new Map<string, NodeJS.Timeout>();
  const retryLater = (pod: V1Pod) => {
    const key = podKey(pod);
    if (stopped || retries.has(key)) return;
    retries.set(
      key,
      setTimeout(() => {
        retries.delete(key);
        const latest = informer.get(pod.metadata?.name ?? '', pod.metadata?.namespace);
        if (latest && latest.metadata?.uid === pod.metadata?.uid) handle(latest);
      }, START_RETRY_MS),
    );
  };

  const reconcile = async (pod: V1Pod) => {
    const key = podKey(pod);
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? '';
    const uid = pod.metadata?.uid ?? '';
    if (!pod.spec?.nodeName) {
      if ((pod.spec?.schedulerName ?? 'default-scheduler') !== 'default-scheduler') return;
      await core.createNamespacedPodBinding({
        name,
        namespace,
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name, namespace, uid },
          target: { apiVersion: 'v1', kind: 'Node', name: options.nodeName },
        },
      });
      return;
    }
    if (pod.spec.nodeName !== options.nodeName) return;
    const current = running.get(key);
    if (pod.metadata?.deletionTimestamp) {
      if (current?.uid === uid) await stopPod(key, current);
      // kubelet's last word on a pod: delete it for good once its containers are gone.
      await core
        // In the body: client-node drops the gracePeriodSeconds query parameter when a body is given.
        .deleteNamespacedPod({ name, namespace, body: { gracePeriodSeconds: 0, preconditions: { uid } } })
        .catch(ignoreNotFound);
      return;
    }
    if (current?.uid === uid || isFinished(pod)) return;
    if (current) await stopPod(key, current); // a new pod of the same name (StatefulSet)
    const address = options.allocateAddress();
    const startedAt = new Date();
    if (!heldUnready.has(uid)) heldUnready.set(uid, options.holdUnready?.(pod) === true);
    const held = heldUnready.get(uid) === true;
    const entry: RunningPod = { uid, address, name, namespace, pod, startedAt, heldUnready: held };
    running.set(key, entry);
    try {
      await options.runtime.start(pod, address);
    } catch (error) {
      running.delete(key);
      options.releaseAddress(address);
      throw new PodStartError(`pod ${key} did not start: ${(error as Error).message}`, { cause: error });
    }
    await reportStatus(key, entry);
  };

  const reportStatus = async (key: string, entry: RunningPod) => {
    const probed = (await options.runtime.readiness?.(key)) ?? {};
    const ready = entry.heldUnready
      ? { ...probed, ...Object.fromEntries((entry.pod.spec?.containers ?? []).map((c) => [c.name, false])) }
      : probed;
    const status = runningStatus(entry.pod, entry.address, options.nodeAddress, entry.startedAt, ready);
    const fingerprint = JSON.stringify(
      [...status.initContainerStatuses, ...status.containerStatuses].map((container) => container.ready),
    );
    if (entry.reported === fingerprint || running.get(key) !== entry) return;
    await core.patchNamespacedPodStatus(
      { name: entry.name, namespace: entry.namespace, body: { status } },
      mergePatch,
    );
    entry.reported = fingerprint;
  };

  // kubelet's prober: readiness can change while a pod runs (istiod not ready yet, a proxy without
  // its certificate), and the Endpoints of Services follow it.
  const prober = setInterval(() => {
    for (const [key, entry] of running) {
      if (inFlight.has(key)) continue;
      reportStatus(key, entry).catch((error: unknown) => problem(`${key} status: ${String(error)}`));
    }
  }, PROBE_MS);

  const stopPod = async (key: string, pod: RunningPod) => {
    running.delete(key);
    heldUnready.delete(pod.uid);
    try {
      await options.runtime.stop(key);
    } finally {
      options.releaseAddress(pod.address);
    }
  };

  const informer = makeInformer<V1Pod>(options.kubeConfig, '/api/v1/pods', () =>
    core.listPodForAllNamespaces(),
  );
  informer.on('add', handle);
  informer.on('update', handle);
  informer.on('delete', (pod) => {
    const key = podKey(pod);
    const current = running.get(key);
    if (current?.uid === pod.metadata?.uid && current) void stopPod(key, current).catch(() => undefined);
  });
  informer.on('error', () => {
    // The informer stops on an error; a node agent keeps watching, as kubelet would.
    if (!stopped) setTimeout(() => void informer.start().catch(() => undefined), 1_000);
  });
  await informer.start();

  return {
    nodeName: options.nodeName,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      clearInterval(prober);
      for (const retry of retries.values()) clearTimeout(retry);
      await informer.stop();
      await Promise.allSettled(inFlight.values());
      await Promise.allSettled([...running.entries()].map(([key, pod]) => stopPod(key, pod)));
      await options.runtime.close?.();
    },
  };
}

async function registerNode(core: CoreV1Api, options: NodeAgentOptions): Promise<void> {
  await core
    .createNode({
      body: {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name: options.nodeName,
          labels: {
            'kubernetes.io/hostname': options.nodeName,
            'kubernetes.io/os': 'linux',
            'kubernetes.io/arch': 'amd64',
            'node.kubernetes.io/instance-type': 'lab',
          },
        },
      },
    })
    .catch((error: unknown) => {
      if ((error as { code?: number }).code !== 409) throw error;
    });
}

async function reportNodeReady(core: CoreV1Api, options: NodeAgentOptions): Promise<void> {
  const now = new Date();
  const condition = (type: string, status: string, reason: string) => ({
    type,
    status,
    reason,
    message: 'lab node agent',
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  await core.patchNodeStatus(
    {
      name: options.nodeName,
      body: {
        status: {
          conditions: [
            condition('Ready', 'True', 'KubeletReady'),
            condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
            condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure'),
            condition('PIDPressure', 'False', 'KubeletHasSufficientPID'),
          ],
          addresses: [
            { type: 'InternalIP', address: options.nodeAddress },
            { type: 'Hostname', address: options.nodeName },
          ],
          daemonEndpoints: { kubeletEndpoint: { Port: options.kubeletPort ?? 0 } },
          capacity: { cpu: '16', memory: '64Gi', pods: '1000' },
          allocatable: { cpu: '16', memory: '64Gi', pods: '1000' },
          nodeInfo: {
            kubeletVersion: options.kubeletVersion,
            kubeProxyVersion: '',
            architecture: 'amd64',
            operatingSystem: 'linux',
            osImage: 'meshtrust lab',
            kernelVersion: '',
            containerRuntimeVersion: 'meshtrust-lab://1',
            machineID: '',
            systemUUID: '',
            bootID: '',
          },
        },
      },
    },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
}

async function renewLease(coordination: CoordinationV1Api, nodeName: string): Promise<void> {
  // renewTime is a MicroTime: the API server wants six fractional digits, which a Date cannot print.
  const renewTime = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') as unknown as Date;
  const spec = { holderIdentity: nodeName, leaseDurationSeconds: LEASE_SECONDS, renewTime };
  try {
    await coordination.patchNamespacedLease(
      { name: nodeName, namespace: 'kube-node-lease', body: { spec } },
      mergePatch,
    );
  } catch (error) {
    if ((error as { code?: number }).code !== 404) throw error;
    await coordination.createNamespacedLease({
      namespace: 'kube-node-lease',
      body: { metadata: { name: nodeName, namespace: 'kube-node-lease' }, spec },
    });
  }
}

function runningStatus(
  pod: V1Pod,
  address: string,
  hostAddress: string,
  startedAt: Date,
  ready: Readonly<Record<string, boolean>>,
) {
  const isReady = (name: string) => ready[name] ?? true;
  // Native sidecars (init containers with restartPolicy Always, as Istio injects istio-proxy) keep
  // running and count towards readiness; other init containers ran to completion before.
  const sidecars = (pod.spec?.initContainers ?? []).filter(
    (container) => container.restartPolicy === 'Always',
  );
  const allReady = [...(pod.spec?.containers ?? []), ...sidecars].every((container) =>
    isReady(container.name),
  );
  const condition = (type: string, status = true) => ({
    type,
    status: status ? 'True' : 'False',
    lastTransitionTime: startedAt,
  });
  return {
    phase: 'Running',
    hostIP: hostAddress,
    hostIPs: [{ ip: hostAddress }],
    // Kubernetes sees the pod's network address; the pod serves on its loopback one (lab-addresses.ts).
    podIP: podNetworkAddress(address),
    podIPs: [{ ip: podNetworkAddress(address) }],
    startTime: startedAt,
    conditions: [
      condition('PodReadyToStartContainers'),
      condition('Initialized'),
      condition('ContainersReady', allReady),
      condition('Ready', allReady),
      condition('PodScheduled'),
    ],
    initContainerStatuses: (pod.spec?.initContainers ?? []).map((container) =>
      container.restartPolicy === 'Always'
        ? runningContainer(container, isReady(container.name), startedAt)
        : {
            ...runningContainer(container, true, startedAt),
            started: false,
            state: { terminated: { exitCode: 0, reason: 'Completed', startedAt, finishedAt: startedAt } },
          },
    ),
    containerStatuses: (pod.spec?.containers ?? []).map((container) =>
      runningContainer(container, isReady(container.name), startedAt),
    ),
  };
}

function runningContainer(container: V1Container, ready: boolean, startedAt: Date) {
  return {
    name: container.name,
    image: container.image ?? '',
    imageID: '',
    ready,
    restartCount: 0,
    started: true,
    state: { running: { startedAt } },
  };
}

function isFinished(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function ignoreNotFound(error: unknown): void {
  if ((error as { code?: number }).code !== 404) throw error;
}
