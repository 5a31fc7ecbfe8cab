// The lab's workload controllers in one: keeps each Deployment's, StatefulSet's and DaemonSet's pods at
// the current pod template, replacing them when the template changes (what `kubectl rollout restart`
// does through the restartedAt annotation), and maintains the status fields `kubectl rollout status`
// reads. Pods turn Ready after a start delay, as a kubelet would report them. It also keeps each
// PodDisruptionBudget's status as the disruption controller does (disruption-status.ts). It works on the
// store directly, as a trusted system component.
//
// Simplifications (see docs/lab-kube.md): no ReplicaSets or ControllerRevisions (pods are owned by the
// workload itself), pods terminate at once, a DaemonSet runs on a fixed set of lab nodes.

import { NotFoundError } from '../kube/errors.js';
import type { KubeObject, WatchEvent } from '../kube/kube-object.js';
import type { KubeObjectStore } from '../kube/object-store.js';
import { disruptionStatus } from './disruption-status.js';
import { buildPod, isPodReady, runningStatus, templateHashAnnotation } from './lab-pods.js';
import { podTemplateHash, randomPodSuffix } from './pod-template-hash.js';
import { admitPod, injectorInputsOf } from './sidecar-injection.js';

export type PodEventType = 'created' | 'ready' | 'deleted';

export interface PodEvent {
  readonly type: PodEventType;
  /** The pod as stored after the change (its last state for 'deleted'). */
  readonly pod: KubeObject;
}

export interface RolloutControllerOptions {
  readonly store: KubeObjectStore;
  /** How long a new pod stays Pending before it is Running and Ready. */
  readonly podStartDelayMs: number;
  /** Names of the nodes DaemonSets run on. @default ['lab-node-1', 'lab-node-2'] */
  readonly nodeNames?: readonly string[];
  /** Told after the controller created a pod, marked it ready, or deleted it (e.g. to hand out certs). */
  readonly onPodEvent?: (event: PodEvent) => void;
  /**
   * Asked once for each pod the controller creates (the rehearsal's `--fault kube:CLUSTER:stuck`): true
   * keeps it Pending and unready until it is deleted, as a pod whose image never pulls or whose
   * readiness probe never passes, so its workload's rollout never completes.
   */
  readonly holdsPodUnready?: (pod: KubeObject) => boolean;
  /**
   * The store of the cluster whose istiod injects the pods, when not this one: a remote's primary,
   * whose istiod renders the proxy with its own image. @default store
   */
  readonly injectingIstiodStore?: KubeObjectStore;
}

export interface RolloutController {
  /** Stops reacting to changes and cancels pending pod starts. Pods already stored stay. */
  stop(): void;
}

const workloadKinds = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

export function startRolloutController(options: RolloutControllerOptions): RolloutController {
  const controller = new Controller(options);
  controller.start();
  return { stop: () => controller.stop() };
}

type WorkloadKey = string; // kind/namespace/name

class Controller {
  private readonly store: KubeObjectStore;
  private readonly nodeNames: readonly string[];
  private readonly dirty = new Set<WorkloadKey>();
  /** Namespaces whose PodDisruptionBudgets' status must be computed again. */
  private readonly dirtyBudgets = new Set<string>();
  private readonly startTimers = new Map<string, NodeJS.Timeout>();
  private flushHandle: NodeJS.Immediate | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;
  private nextPodIp = 1;

  constructor(private readonly options: RolloutControllerOptions) {
    this.store = options.store;
    this.nodeNames = options.nodeNames ?? ['lab-node-1', 'lab-node-2'];
  }

  start(): void {
    this.unsubscribe = this.store.watch({}, (event) => this.onChange(event));
    for (const kind of workloadKinds) {
      for (const workload of this.store.list(kind).items) this.markDirty(keyOf(workload));
    }
    for (const pdb of this.store.list('PodDisruptionBudget').items)
      this.markBudgetsDirty(pdb.metadata.namespace);
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.flushHandle) clearImmediate(this.flushHandle);
    for (const timer of this.startTimers.values()) clearTimeout(timer);
    this.startTimers.clear();
    this.dirty.clear();
    this.dirtyBudgets.clear();
  }

  private onChange(event: WatchEvent): void {
    const object = event.object;
    // A budget's status follows its pods, its spec, and its pods' controllers' replicas.
    if (object.kind === 'Pod' || object.kind === 'PodDisruptionBudget' || workloadKinds.has(object.kind)) {
      this.markBudgetsDirty(object.metadata.namespace);
    }
    if (workloadKinds.has(object.kind)) {
      this.markDirty(keyOf(object));
      return;
    }
    if (object.kind === 'Pod') {
      if (event.type === 'DELETED') this.cancelStart(object);
      const owner = object.metadata.ownerReferences?.find(
        (ref) => ref.controller && workloadKinds.has(ref.kind),
      );
      if (owner) this.markDirty(`${owner.kind}/${object.metadata.namespace}/${owner.name}`);
    }
  }

  // Reconciles in a later turn, batched: the store delivers events synchronously, and one write
  // (e.g. a PATCH) should lead to one reconcile with the final state.
  private markDirty(key: WorkloadKey): void {
    if (this.stopped) return;
    this.dirty.add(key);
    this.flushHandle ??= setImmediate(() => this.flush());
  }

  private markBudgetsDirty(namespace: string | undefined): void {
    if (this.stopped || namespace === undefined) return;
    this.dirtyBudgets.add(namespace);
    this.flushHandle ??= setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushHandle = undefined;
    const keys = [...this.dirty];
    this.dirty.clear();
    for (const key of keys) {
      if (this.stopped) return;
      try {
        this.reconcile(key);
      } catch (error) {
        // A write lost to a concurrent delete (NotFound) resolves on the next event; anything else is a bug.
        if (!(error instanceof NotFoundError))
          console.error(`lab rollout controller: reconcile ${key} failed`, error);
      }
    }
    // After the workloads: their reconciles changed pods. A status write that changes nothing sends no
    // event (the store), so this settles.
    const namespaces = [...this.dirtyBudgets];
    this.dirtyBudgets.clear();
    for (const namespace of namespaces) {
      if (this.stopped) return;
      try {
        this.reconcileBudgets(namespace);
      } catch (error) {
        if (!(error instanceof NotFoundError))
          console.error(`lab disruption controller: namespace ${namespace} failed`, error);
      }
    }
  }

  private reconcileBudgets(namespace: string): void {
    const budgets = this.store.list('PodDisruptionBudget', { namespace }).items;
    if (budgets.length === 0) return;
    const pods = this.store.list('Pod', { namespace }).items;
    const controllerOf = (pod: KubeObject) => {
      const ref = pod.metadata.ownerReferences?.find((r) => r.controller && workloadKinds.has(r.kind));
      return ref === undefined ? undefined : this.store.tryGet(ref.kind, namespace, ref.name);
    };
    for (const pdb of budgets) {
      this.store.update(
        { ...pdb, status: disruptionStatus(pdb, pods, controllerOf) },
        { subresource: 'status' },
      );
    }
  }

  private reconcile(key: WorkloadKey): void {
    const [kind, namespace, name] = key.split('/');
    const workload = this.store.tryGet(kind, namespace, name);
    const pods = this.ownedPods(kind, namespace, name, workload?.metadata.uid);
    if (!workload) {
      // Garbage collection of the pods of a deleted workload.
      for (const pod of pods) this.deletePod(pod);
      return;
    }
    switch (kind) {
      case 'Deployment':
        this.reconcileDeployment(workload, pods);
        break;
      case 'StatefulSet':
        this.reconcileStatefulSet(workload, pods);
        break;
      case 'DaemonSet':
        this.reconcileDaemonSet(workload, pods);
        break;
    }
  }

  private reconcileDeployment(deployment: KubeObject, pods: KubeObject[]): void {
    const desired: number = deployment.spec.replicas ?? 1;
    const hash = podTemplateHash(deployment.spec.template);
    const strategy = deployment.spec.strategy ?? {};
    const recreate = strategy.type === 'Recreate';
    let maxSurge = recreate
      ? 0
      : resolveIntOrPercent(strategy.rollingUpdate?.maxSurge ?? '25%', desired, true);
    let maxUnavailable = recreate
      ? desired
      : resolveIntOrPercent(strategy.rollingUpdate?.maxUnavailable ?? '25%', desired, false);
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    if (desired === 0) maxSurge = 0;

    let current = [...pods];
    const isNew = (pod: KubeObject) => pod.metadata.annotations?.[templateHashAnnotation] === hash;
    // Surplus new pods (scale down) go first, not-ready ones before ready ones.
    for (const pod of byReadiness(current.filter(isNew)).slice(desired)) {
      this.deletePod(pod);
      current = current.filter((p) => p !== pod);
    }
    // Old pods go while enough pods stay available; not-ready old pods cost nothing to remove.
    const minAvailable = desired - maxUnavailable;
    for (const pod of byReadiness(current.filter((p) => !isNew(p)))) {
      const available = current.filter(isPodReady).length;
      if (isPodReady(pod) && available - 1 < minAvailable) break;
      this.deletePod(pod);
      current = current.filter((p) => p !== pod);
    }
    // New pods come while the surge allows.
    const newCount = current.filter(isNew).length;
    const room = Math.min(desired - newCount, desired + maxSurge - current.length);
    for (let i = 0; i < room; i++) {
      current.push(
        this.createPod(deployment, `${deployment.metadata.name}-${hash}-${randomPodSuffix()}`, hash, {
          'pod-template-hash': hash,
        }),
      );
    }

    const updated = current.filter(isNew);
    const ready = current.filter(isPodReady).length;
    const complete = updated.length === desired && current.length === desired && ready === desired;
    this.writeStatus(deployment, {
      observedGeneration: deployment.metadata.generation,
      replicas: current.length,
      updatedReplicas: updated.length,
      readyReplicas: ready,
      availableReplicas: ready,
      ...(current.length - ready > 0 ? { unavailableReplicas: current.length - ready } : {}),
      conditions: [
        condition(
          deployment,
          'Available',
          ready >= minAvailable,
          ready >= minAvailable ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
        ),
        condition(deployment, 'Progressing', true, complete ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated'),
      ],
    });
  }

  private reconcileStatefulSet(statefulSet: KubeObject, pods: KubeObject[]): void {
    const name = statefulSet.metadata.name;
    const desired: number = statefulSet.spec.replicas ?? 1;
    const hash = podTemplateHash(statefulSet.spec.template);
    const updateRevision = `${name}-${hash}`;
    const revisionOf = (pod: KubeObject) => pod.metadata.labels?.['controller-revision-hash'];
    const byOrdinal = new Map<number, KubeObject>();
    for (const pod of pods) {
      const ordinal = Number(pod.metadata.name.slice(name.length + 1));
      if (Number.isInteger(ordinal) && ordinal >= 0 && ordinal < desired) byOrdinal.set(ordinal, pod);
      else this.deletePod(pod); // scaled away
    }
    const create = (ordinal: number): KubeObject =>
      this.createPod(statefulSet, `${name}-${ordinal}`, hash, {
        'controller-revision-hash': updateRevision,
        'statefulset.kubernetes.io/pod-name': `${name}-${ordinal}`,
        'apps.kubernetes.io/pod-index': String(ordinal),
      });
    // OrderedReady: create the lowest missing ordinal once all lower ones are ready.
    let allReady = true;
    for (let ordinal = 0; ordinal < desired; ordinal++) {
      const pod = byOrdinal.get(ordinal);
      if (!pod) {
        if (allReady) byOrdinal.set(ordinal, create(ordinal));
        allReady = false;
        break;
      }
      if (!isPodReady(pod)) {
        allReady = false;
        break;
      }
    }
    // RollingUpdate: when every pod is ready, replace the highest ordinal still at an old revision.
    const partition: number = statefulSet.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
    if (allReady && statefulSet.spec.updateStrategy?.type !== 'OnDelete') {
      for (let ordinal = desired - 1; ordinal >= partition; ordinal--) {
        const pod = byOrdinal.get(ordinal) as KubeObject;
        if (revisionOf(pod) !== updateRevision) {
          this.deletePod(pod);
          byOrdinal.set(ordinal, create(ordinal));
          break;
        }
      }
    }

    const current = [...byOrdinal.values()];
    const ready = current.filter(isPodReady).length;
    const updated = current.filter((p) => revisionOf(p) === updateRevision).length;
    const previous: string | undefined = statefulSet.status?.currentRevision;
    const currentRevision =
      previous === undefined || (updated === desired && ready === desired) ? updateRevision : previous;
    this.writeStatus(statefulSet, {
      observedGeneration: statefulSet.metadata.generation,
      replicas: current.length,
      readyReplicas: ready,
      availableReplicas: ready,
      currentReplicas: currentRevision === updateRevision ? updated : current.length - updated,
      updatedReplicas: updated,
      currentRevision,
      updateRevision,
      collisionCount: 0,
    });
  }

  private reconcileDaemonSet(daemonSet: KubeObject, pods: KubeObject[]): void {
    const hash = podTemplateHash(daemonSet.spec.template);
    const rollingUpdate = daemonSet.spec.updateStrategy?.type !== 'OnDelete';
    const desired = this.nodeNames.length;
    const maxUnavailable = Math.max(
      1,
      resolveIntOrPercent(daemonSet.spec.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, desired, false),
    );
    const isNew = (pod: KubeObject) => pod.metadata.annotations?.[templateHashAnnotation] === hash;
    let current = pods.filter((pod) => {
      if (this.nodeNames.includes(pod.spec?.nodeName)) return true;
      this.deletePod(pod);
      return false;
    });
    for (const node of this.nodeNames) {
      const onNode = current.filter((p) => p.spec?.nodeName === node);
      if (onNode.length === 0) {
        current.push(this.createDaemonPod(daemonSet, hash, node));
        continue;
      }
      const old = onNode.find((p) => !isNew(p));
      if (old && rollingUpdate) {
        const unavailable = this.nodeNames.filter(
          (n) => !current.some((p) => p.spec?.nodeName === n && isPodReady(p)),
        ).length;
        if (!isPodReady(old) || unavailable < maxUnavailable) {
          this.deletePod(old);
          current = current.filter((p) => p !== old);
          current.push(this.createDaemonPod(daemonSet, hash, node));
        }
      }
    }
    const ready = current.filter(isPodReady).length;
    const updated = current.filter(isNew).length;
    this.writeStatus(daemonSet, {
      observedGeneration: daemonSet.metadata.generation,
      desiredNumberScheduled: desired,
      currentNumberScheduled: current.length,
      numberMisscheduled: 0,
      numberReady: ready,
      numberAvailable: ready,
      ...(desired - ready > 0 ? { numberUnavailable: desired - ready } : {}),
      updatedNumberScheduled: updated,
    });
  }

  private createDaemonPod(daemonSet: KubeObject, hash: string, node: string): KubeObject {
    return this.createPod(
      daemonSet,
      `${daemonSet.metadata.name}-${randomPodSuffix()}`,
      hash,
      {
        'controller-revision-hash': hash,
        'pod-template-generation': String(daemonSet.metadata.generation ?? 1),
      },
      node,
    );
  }

  private createPod(
    owner: KubeObject,
    name: string,
    hash: string,
    extraLabels: Record<string, string>,
    nodeName?: string,
  ): KubeObject {
    const node = nodeName ?? this.nodeNames[this.nextPodIp % this.nodeNames.length];
    const built = buildPod({ owner, name, templateHash: hash, extraLabels, nodeName: node });
    // Admission as the API server does it: the sidecar injector's webhook first.
    const namespace = this.store.tryGet('Namespace', undefined, built.metadata.namespace as string);
    const pod = this.store.create(
      admitPod(built, namespace, injectorInputsOf(this.store, this.options.injectingIstiodStore)),
    );
    this.options.onPodEvent?.({ type: 'created', pod });
    if (this.options.holdsPodUnready?.(pod) === true) return pod;
    const key = podKey(pod);
    this.startTimers.set(
      key,
      setTimeout(() => {
        this.startTimers.delete(key);
        this.markReady(pod);
      }, this.options.podStartDelayMs),
    );
    return pod;
  }

  private markReady(pod: KubeObject): void {
    if (this.stopped) return;
    const stored = this.store.tryGet('Pod', pod.metadata.namespace, pod.metadata.name);
    // The name may have been reused by a newer pod (StatefulSet): only start the pod this timer was for.
    if (!stored || stored.metadata.uid !== pod.metadata.uid) return;
    const ip = `10.244.${Math.floor(this.nextPodIp / 250) % 250}.${(this.nextPodIp % 250) + 1}`;
    this.nextPodIp += 1;
    const running = this.store.patch(
      'Pod',
      pod.metadata.namespace,
      pod.metadata.name,
      'merge',
      {
        metadata: { resourceVersion: stored.metadata.resourceVersion },
        status: runningStatus(stored, ip),
      },
      { subresource: 'status' },
    );
    this.options.onPodEvent?.({ type: 'ready', pod: running });
  }

  private deletePod(pod: KubeObject): void {
    this.cancelStart(pod);
    try {
      const deleted = this.store.delete('Pod', pod.metadata.namespace, pod.metadata.name);
      this.options.onPodEvent?.({ type: 'deleted', pod: deleted });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }

  private cancelStart(pod: KubeObject): void {
    const key = podKey(pod);
    const timer = this.startTimers.get(key);
    if (timer) {
      clearTimeout(timer);
      this.startTimers.delete(key);
    }
  }

  // Pods controlled by this workload. Pods of an earlier workload of the same name (deleted and
  // recreated before the controller ran) are orphans and go, as the garbage collector would remove them.
  private ownedPods(kind: string, namespace: string, name: string, uid: string | undefined): KubeObject[] {
    const owned: KubeObject[] = [];
    for (const pod of this.store.list('Pod', { namespace }).items) {
      const ref = (pod.metadata.ownerReferences ?? []).find(
        (r) => r.controller && r.kind === kind && r.name === name,
      );
      if (!ref) continue;
      if (uid === undefined || ref.uid === uid) owned.push(pod);
      else this.deletePod(pod);
    }
    return owned;
  }

  private writeStatus(workload: KubeObject, status: Record<string, unknown>): void {
    this.store.update({ ...workload, status }, { subresource: 'status' });
  }
}

function keyOf(object: KubeObject): WorkloadKey {
  return `${object.kind}/${object.metadata.namespace}/${object.metadata.name}`;
}

function podKey(pod: KubeObject): string {
  return `${pod.metadata.namespace}/${pod.metadata.name}/${pod.metadata.uid}`;
}

function byReadiness(pods: KubeObject[]): KubeObject[] {
  return [...pods].sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b)));
}

/** maxSurge rounds percentages up, maxUnavailable down, as the Deployment controller does. */
function resolveIntOrPercent(value: number | string, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(value);
  if (!match) return Number(value) || 0;
  const exact = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

function condition(workload: KubeObject, type: string, ok: boolean, reason: string): object {
  const previous = (workload.status?.conditions ?? []).find((c: { type: string }) => c.type === type);
  const status = ok ? 'True' : 'False';
  const time =
    previous?.status === status && previous?.reason === reason
      ? previous.lastTransitionTime
      : new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return { type, status, reason, lastUpdateTime: time, lastTransitionTime: time };
}
