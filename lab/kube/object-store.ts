// One cluster's objects, in memory: what etcd plus the API server's registry do for the lab. The HTTP
// server and in-process system components (rollout controller, istiod model) share it; they read and
// write through the same methods, so resourceVersion conflicts and watch events are the same for all.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  AlreadyExistsError,
  ConflictError,
  GoneError,
  InvalidError,
  NotFoundError,
  STALE_OBJECT_MESSAGE,
} from './errors.js';
import { applyJsonMergePatch, type Json } from './json-merge-patch.js';
import { applyJsonPatch, deepEqual } from './json-patch.js';
import type { KubeObject, WatchEvent } from './kube-object.js';
import { type LabelSelector, matchesLabelSelector, parseLabelSelector } from './label-selector.js';
import { applyDefaults } from './object-defaults.js';
import { apiVersionOf, findKindByName, type ResourceKind } from './resource-kinds.js';
import { applyStrategicMergePatch } from './strategic-merge-patch.js';

export type PatchType = 'merge' | 'strategic' | 'json';

export interface ListOptions {
  /** Only objects of this namespace; all namespaces when absent. Ignored for cluster-scoped kinds. */
  readonly namespace?: string;
  /** A selector string (`app=web,tier in (a,b)`) or a parsed selector. */
  readonly labelSelector?: string | LabelSelector;
  /** Only the object of this name (what `fieldSelector=metadata.name=x` asks for). */
  readonly name?: string;
}

export interface ObjectList {
  readonly items: KubeObject[];
  readonly resourceVersion: string;
}

export interface WatchOptions extends ListOptions {
  /** Kind to watch; every kind when absent. */
  readonly kind?: string;
  /** Replay the retained changes after this resourceVersion first; only new changes when absent. */
  readonly resourceVersion?: string;
}

export interface WriteOptions {
  /** 'status' writes only .status (the /status subresource); otherwise .status is kept as stored. */
  readonly subresource?: 'status';
}

// How long a watch can resume, as kube-apiserver's watch cache keeps it (k8s.io/apiserver
// storage/cacher/watch_cache.go): every event of the last 75 s (DefaultEventFreshDuration) and at least
// the newest 100 (defaultLowerBoundCapacity), at most 100 * 1024 (defaultUpperBoundCapacity); an older
// resourceVersion is answered 410 Gone and the client lists again. Kubernetes keeps that floor per
// resource type, the lab per store: fewer events, never more, so a client that resumes too late meets
// Gone here at least as soon as on EKS. (The lab kept 10,000 events a store before: at 100 clusters
// dropping them took the rehearsal of 100 x 100 from 2,018 to 1,365 MiB, docs/workflow.md slice 7.)
/** Events newer than this are kept for a resuming watch. */
export const WATCH_HISTORY_FRESH_MS = 75_000;
/** The newest events kept whatever their age. */
export const WATCH_HISTORY_FLOOR = 100;
/** The most events kept whatever their age. */
export const WATCH_HISTORY_CEILING = 100 * 1024;

export interface ObjectStoreOptions {
  /** The most past changes a watch can resume from. @default WATCH_HISTORY_CEILING */
  readonly historyLimit?: number;
  /** How long a change stays resumable beyond the newest WATCH_HISTORY_FLOOR. @default WATCH_HISTORY_FRESH_MS */
  readonly historyFreshMs?: number;
  /** The clock the history's ages are read on, ms. @default Date.now */
  readonly now?: () => number;
}

type Listener = (event: WatchEvent) => void;

interface HistoryEntry {
  readonly resourceVersion: number;
  /**
   * The event as JSON, parsed again only when a watch resumes from it: a retained event is rarely
   * read, and its text is one string where a copy of the object is a tree of them (while workloads
   * restart, a store holds ~800 events of 75 s; at 30 x 100 they were most of each store's heap).
   */
  readonly eventJson: string;
  /** When the change was stored (ObjectStoreOptions.now). */
  readonly at: number;
}

export class KubeObjectStore {
  private readonly objects = new Map<string, KubeObject>();
  private readonly history: HistoryEntry[] = [];
  private readonly historyLimit: number;
  private readonly historyFreshMs: number;
  private readonly now: () => number;
  private readonly emitter = new EventEmitter();
  private readonly pending: WatchEvent[] = [];
  private dispatching = false;
  private revision = 0;
  private trimTimer: NodeJS.Timeout | undefined;

  constructor(options: ObjectStoreOptions = {}) {
    this.historyLimit = options.historyLimit ?? WATCH_HISTORY_CEILING;
    this.historyFreshMs = options.historyFreshMs ?? WATCH_HISTORY_FRESH_MS;
    this.now = options.now ?? Date.now;
    this.emitter.setMaxListeners(0);
  }

  /** The latest resourceVersion handed out (a list's resourceVersion). */
  get resourceVersion(): string {
    return String(this.revision);
  }

  /** A copy of the object, or NotFoundError. */
  get(kind: string, namespace: string | undefined, name: string): KubeObject {
    const type = requireKind(kind);
    const stored = this.objects.get(keyOf(type, namespace, name));
    if (!stored) {
      throw new NotFoundError(resourceName(type), name);
    }
    return structuredClone(stored);
  }

  tryGet(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const type = requireKind(kind);
    const stored = this.objects.get(keyOf(type, namespace, name));
    return stored ? structuredClone(stored) : undefined;
  }

  list(kind: string, options: ListOptions = {}): ObjectList {
    const type = requireKind(kind);
    const filter = { ...options, labelSelector: parseSelector(options.labelSelector) };
    const items = [...this.objects.values()]
      .filter((object) => matches(type, object, filter))
      .sort(byNamespaceAndName)
      .map((object) => structuredClone(object));
    return { items, resourceVersion: this.resourceVersion };
  }

  create(input: KubeObject): KubeObject {
    const type = requireKind(input.kind);
    const object = structuredClone(input);
    object.apiVersion = apiVersionOf(type);
    object.metadata ??= { name: '' };
    if (!object.metadata.name && object.metadata.generateName) {
      object.metadata.name = `${object.metadata.generateName}${randomSuffix()}`;
    }
    this.checkNameAndNamespace(type, object);
    const key = keyOf(type, object.metadata.namespace, object.metadata.name);
    if (this.objects.has(key)) {
      throw new AlreadyExistsError(resourceName(type), object.metadata.name);
    }
    applyDefaults(object);
    object.metadata.uid = randomUUID();
    object.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    if (type.workload || type.generation) {
      object.metadata.generation = 1;
    } else {
      delete object.metadata.generation;
    }
    delete object.metadata.deletionTimestamp;
    if (type.workload || type.generation) {
      object.status = {};
    }
    return this.commit(key, object, 'ADDED');
  }

  /**
   * Replaces the object. A metadata.resourceVersion that is set must be the stored one (else
   * ConflictError); an unset one updates unconditionally, as Kubernetes allows for these kinds.
   */
  update(input: KubeObject, options: WriteOptions = {}): KubeObject {
    const type = requireKind(input.kind);
    const namespace = type.namespaced ? input.metadata?.namespace : undefined;
    const current = this.get(type.kind, namespace, input.metadata?.name);
    return this.replaceStored(type, current, structuredClone(input), options);
  }

  /** Patches the object; a resourceVersion the patch sets acts as a precondition, as in Kubernetes. */
  patch(
    kind: string,
    namespace: string | undefined,
    name: string,
    patchType: PatchType,
    patch: unknown,
    options: WriteOptions = {},
  ): KubeObject {
    const type = requireKind(kind);
    const current = this.get(type.kind, namespace, name);
    const patched = applyPatch(current as unknown as Json, patchType, patch) as unknown as KubeObject;
    if (!patched || typeof patched !== 'object' || typeof patched.metadata !== 'object') {
      throw new InvalidError(
        `the patch removed the metadata of ${resourceName(type)} "${name}"; patch fields, not the object`,
      );
    }
    if (patched.metadata.name !== name || (type.namespaced && patched.metadata.namespace !== namespace)) {
      throw new InvalidError(
        `a patch cannot change the name or namespace of ${resourceName(type)} "${name}"`,
        {
          resource: resourceName(type),
          objectName: name,
        },
      );
    }
    return this.replaceStored(type, current, patched, options);
  }

  /**
   * Deletes the object and returns its last state. Deleting a Namespace deletes every object in it
   * at once (the real namespace controller does it asynchronously).
   */
  delete(kind: string, namespace: string | undefined, name: string): KubeObject {
    const type = requireKind(kind);
    const key = keyOf(type, namespace, name);
    const stored = this.objects.get(key);
    if (!stored) {
      throw new NotFoundError(resourceName(type), name);
    }
    if (type.kind === 'Namespace') {
      for (const [childKey, child] of [...this.objects.entries()]) {
        if (child.metadata.namespace === name) {
          this.objects.delete(childKey);
          this.record('DELETED', this.stamp(structuredClone(child)));
        }
      }
    }
    this.objects.delete(key);
    return this.record('DELETED', this.stamp(structuredClone(stored)));
  }

  /**
   * Calls `listener` for each change matching the options, in order, after the change is stored.
   * Listeners may write to the store; those changes are delivered after the current one to everyone.
   * Returns a function that stops the watch. Throws GoneError when `resourceVersion` is older than
   * the retained history.
   */
  watch(options: WatchOptions, listener: Listener): () => void {
    const type = options.kind === undefined ? undefined : requireKind(options.kind);
    const selector = parseSelector(options.labelSelector);
    const filtered: Listener = (event) => {
      if (type && event.object.kind !== type.kind) return;
      if (!matches(type, event.object, { ...options, labelSelector: selector })) return;
      try {
        listener(structuredClone(event));
      } catch (error) {
        // One faulty watcher must not fail the write that is already stored, nor starve the others.
        console.error('lab object store: a watch listener threw', error);
      }
    };
    if (
      options.resourceVersion !== undefined &&
      options.resourceVersion !== '0' &&
      options.resourceVersion !== ''
    ) {
      const from = Number(options.resourceVersion);
      const oldest = this.history[0]?.resourceVersion ?? this.revision + 1;
      if (!Number.isInteger(from) || from < oldest - 1) {
        throw new GoneError(options.resourceVersion);
      }
      for (const entry of this.history) {
        if (entry.resourceVersion > from) filtered(JSON.parse(entry.eventJson) as WatchEvent);
      }
    }
    this.emitter.on('change', filtered);
    return () => {
      this.emitter.off('change', filtered);
    };
  }

  private replaceStored(
    type: ResourceKind,
    current: KubeObject,
    next: KubeObject,
    options: WriteOptions,
  ): KubeObject {
    const name = current.metadata.name;
    const requested = next.metadata?.resourceVersion;
    if (requested !== undefined && requested !== '' && requested !== current.metadata.resourceVersion) {
      throw new ConflictError(resourceName(type), name, STALE_OBJECT_MESSAGE);
    }
    let object: KubeObject;
    if (options.subresource === 'status') {
      object = structuredClone(current);
      object.status = next.status;
    } else {
      object = next;
      object.kind = type.kind;
      object.apiVersion = apiVersionOf(type);
      object.metadata = {
        ...next.metadata,
        name,
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
      };
      if (type.namespaced) object.metadata.namespace = current.metadata.namespace;
      else delete object.metadata.namespace;
      // Like the real registry, the main resource ignores .status for kinds with a status subresource.
      if (type.hasStatus) object.status = current.status;
      applyDefaults(object);
      if (type.workload || type.generation) {
        const generation = current.metadata.generation ?? 1;
        object.metadata.generation = deepEqual(object.spec, current.spec) ? generation : generation + 1;
      }
    }
    delete object.metadata.resourceVersion;
    const before = { ...current, metadata: { ...current.metadata, resourceVersion: undefined } };
    if (deepEqual(stripUndefined(before), stripUndefined(object))) {
      // A no-op write keeps the resourceVersion and sends no event, as the API server does.
      return current;
    }
    return this.commit(keyOf(type, current.metadata.namespace, name), object, 'MODIFIED');
  }

  private checkNameAndNamespace(type: ResourceKind, object: KubeObject): void {
    const name = object.metadata.name;
    if (typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) {
      throw new InvalidError(
        `${type.kind} "${name ?? ''}" is invalid: metadata.name must be a lowercase RFC 1123 name (a-z, 0-9, '-', '.')`,
        { resource: resourceName(type), objectName: String(name ?? '') },
      );
    }
    if (!type.namespaced) {
      delete object.metadata.namespace;
      return;
    }
    const namespace = object.metadata.namespace;
    if (!namespace) {
      throw new InvalidError(`${type.kind} "${name}" needs metadata.namespace`, {
        resource: resourceName(type),
        objectName: name,
      });
    }
    if (!this.objects.has(`Namespace//${namespace}`)) {
      throw new NotFoundError('namespaces', namespace);
    }
  }

  private stamp(object: KubeObject): KubeObject {
    this.revision += 1;
    object.metadata.resourceVersion = String(this.revision);
    return object;
  }

  private commit(key: string, object: KubeObject, type: 'ADDED' | 'MODIFIED'): KubeObject {
    this.stamp(object);
    this.objects.set(key, object);
    return this.record(type, object);
  }

  private record(type: WatchEvent['type'], object: KubeObject): KubeObject {
    const event: WatchEvent = { type, object: structuredClone(object) };
    const at = this.now();
    this.history.push({
      resourceVersion: Number(object.metadata.resourceVersion),
      eventJson: JSON.stringify(event),
      at,
    });
    this.trimHistory(at);
    this.pending.push(event);
    this.dispatch();
    return structuredClone(object);
  }

  private trimHistory(at: number): void {
    const staleBefore = at - this.historyFreshMs;
    let drop = Math.max(0, this.history.length - this.historyLimit);
    while (
      this.history.length - drop > WATCH_HISTORY_FLOOR &&
      (this.history[drop] as HistoryEntry).at < staleBefore
    ) {
      drop += 1;
    }
    if (drop > 0) this.history.splice(0, drop);
    this.scheduleTrim(at);
  }

  // kube-apiserver's cache resizes only when an event arrives, so a resource nobody writes to keeps
  // the events of its last burst. The lab drops them once stale without a write: a store whose
  // workloads restarted held ~800 events (1.4 MiB) until its next change, in a scheduled 30 x 100
  // rehearsal's soak 42 of its 187 MiB of live objects (docs/workflow.md, slice 7). A resume then meets
  // 410 no later than on EKS. The timer is unref'd: it never keeps a process alive.
  private scheduleTrim(at: number): void {
    if (this.trimTimer || this.history.length <= WATCH_HISTORY_FLOOR) return;
    const newestBeyondFloor = this.history[this.history.length - WATCH_HISTORY_FLOOR - 1] as HistoryEntry;
    const staleIn = newestBeyondFloor.at + this.historyFreshMs - at;
    this.trimTimer = setTimeout(
      () => {
        this.trimTimer = undefined;
        this.trimHistory(this.now());
      },
      Math.min(Math.max(staleIn, 0), this.historyFreshMs) + 1,
    );
    this.trimTimer.unref();
  }

  // Delivers queued events one at a time so that a listener writing to the store does not make other
  // listeners see the changes out of order.
  private dispatch(): void {
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let event = this.pending.shift(); event; event = this.pending.shift()) {
        this.emitter.emit('change', event);
      }
    } finally {
      this.dispatching = false;
    }
  }
}

function applyPatch(current: Json, patchType: PatchType, patch: unknown): Json {
  switch (patchType) {
    case 'merge':
      return applyJsonMergePatch(current, patch as Json);
    case 'strategic':
      return applyStrategicMergePatch(current, patch as Json);
    case 'json':
      return applyJsonPatch(current, patch);
  }
}

function requireKind(kind: string): ResourceKind {
  const type = findKindByName(kind);
  if (!type) {
    throw new InvalidError(
      `the lab does not serve kind ${JSON.stringify(kind)}; use one of Namespace, Secret, ConfigMap, Pod, Deployment, StatefulSet, DaemonSet`,
    );
  }
  return type;
}

function keyOf(type: ResourceKind, namespace: string | undefined, name: string): string {
  return `${type.kind}/${type.namespaced ? (namespace ?? '') : ''}/${name}`;
}

function resourceName(type: ResourceKind): string {
  return type.group === '' ? type.plural : `${type.plural}.${type.group}`;
}

function parseSelector(selector: string | LabelSelector | undefined): LabelSelector {
  if (selector === undefined) return [];
  return typeof selector === 'string' ? parseLabelSelector(selector) : selector;
}

function matches(type: ResourceKind | undefined, object: KubeObject, options: ListOptions): boolean {
  if (type && object.kind !== type.kind) return false;
  if (
    options.namespace !== undefined &&
    (type?.namespaced ?? true) &&
    object.metadata.namespace !== options.namespace
  ) {
    return false;
  }
  if (options.name !== undefined && object.metadata.name !== options.name) return false;
  return matchesLabelSelector(parseSelector(options.labelSelector), object.metadata.labels);
}

function byNamespaceAndName(a: KubeObject, b: KubeObject): number {
  const an = `${a.metadata.namespace ?? ''}/${a.metadata.name}`;
  const bn = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
  return an < bn ? -1 : an > bn ? 1 : 0;
}

function stripUndefined(value: unknown): Json {
  return JSON.parse(JSON.stringify(value)) as Json;
}

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += alphabet[Math.floor(Math.random() * alphabet.length)];
  return suffix;
}
