// A lab pod's volumes, laid out in its root folder as kubelet lays them out on a node, so the pod's real
// processes (istiod, pilot-agent), chrooted into that folder, read and watch them as in a cluster:
// every volumeMount of every container and init container appears at `<rootfs>/<mountPath>`.
//
// - secret, configMap, projected (serviceAccountToken, secret, configMap, downwardAPI) and downwardAPI
//   volumes are written with kubelet's atomic writer (atomic-writer.ts) and refreshed by sync(): a
//   changed Secret becomes a `..data` swap that istiod's fsnotify sees; unchanged content writes nothing.
// - serviceAccountToken: requested for the pod, bound to it, and requested again once 80% of its life
//   has passed (or it is 24 h old), as kubelet's token manager does.
// - emptyDir: a folder, created once, never refreshed. kubelet bind-mounts one folder wherever the
//   volume is mounted; a chroot has no bind mounts, so a second mount of it is a relative symlink.
// - subPath: a copy of that part of the volume taken once, never updated (kubelet bind-mounts the file,
//   which a later swap does not touch either); on an emptyDir, a symlink into it (it stays shared).
//
// A pod spec is input: a mountPath, subPath or item path that would leave the root folder is refused,
// and so is a symlink in the way that points outside it.
import { chmod, lstat, mkdir, realpath, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, posix, relative, sep } from 'node:path';
import type {
  V1ConfigMap,
  V1DownwardAPIVolumeFile,
  V1KeyToPath,
  V1Pod,
  V1Secret,
  V1Volume,
} from '@kubernetes/client-node';
import { LabError } from '../lab-errors.js';
import {
  type FileProjection,
  projectionPathProblem,
  type VolumePayload,
  writeVolumeAtomically,
} from './atomic-writer.js';
import { containerResourceValue, DownwardApiError, podFieldValue } from './downward-api.js';
import { podKey } from './pod-runtime.js';
import {
  PodVolumeError,
  UnsafeVolumePathError,
  UnsupportedVolumeError,
  VolumeSourceMissingError,
} from './pod-volume-errors.js';

/** kubelet's and the API server's default file mode for secret, configMap, projected and downwardAPI. */
export const DEFAULT_VOLUME_MODE = 0o644;
/** The API server's default for a serviceAccountToken projection without expirationSeconds. */
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600;
const TOKEN_REFRESH_AT = 0.8;
const TOKEN_MAX_AGE_MS = 24 * 3600 * 1000;

/** What the node agent reads from its cluster's API for a pod's volumes, with the node's credentials. */
export interface VolumeSource {
  /** The Secret, or undefined when it does not exist (404). Other failures reject. */
  readSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
  /** The ConfigMap, or undefined when it does not exist (404). Other failures reject. */
  readConfigMap(namespace: string, name: string): Promise<V1ConfigMap | undefined>;
  /** A TokenRequest for the service account, bound to the pod (boundObjectRef kind Pod, name, uid). */
  requestServiceAccountToken(request: ServiceAccountTokenRequest): Promise<ServiceAccountToken>;
}

export interface ServiceAccountTokenRequest {
  readonly namespace: string;
  readonly serviceAccountName: string;
  /** The token's audience; absent means the API server's own. */
  readonly audience?: string;
  readonly expirationSeconds: number;
  readonly podName: string;
  readonly podUid: string;
}

export interface ServiceAccountToken {
  readonly token: string;
  readonly expirationTimestamp: Date;
}

export interface PodVolumesOptions {
  /** The pod as the API server holds it (defaults applied); its spec's volumes never change. */
  readonly pod: V1Pod;
  /** The pod's root folder; created if missing. Everything is written under it. */
  readonly rootfs: string;
  readonly source: VolumeSource;
  /** status.podIP of the downward API. */
  readonly podAddress: string;
  /** spec.nodeName of the downward API. */
  readonly nodeName: string;
  /** status.hostIP of the downward API. */
  readonly nodeAddress: string;
  /** What an undeclared limit reads as in a resourceFieldRef. @default LAB_NODE_ALLOCATABLE */
  readonly nodeAllocatable?: Readonly<Record<string, string>>;
  /** The clock of token refreshes, in ms since the epoch. @default Date.now */
  readonly now?: () => number;
}

export interface PodVolumesSyncResult {
  /** Volumes whose files were (re)written by this sync, by name; a first sync lists every written one. */
  readonly changed: string[];
}

export interface PodVolumes {
  /** namespace/name of the pod. */
  readonly podKey: string;
  readonly podUid: string;
  readonly rootfs: string;
  /**
   * Brings every mounted volume up to date with the API (the first call creates them). Each volume is
   * tried; if any failed, rejects with the first failure (a VolumeSourceMissingError for a missing
   * non-optional Secret or ConfigMap) and the others keep what they had. Calls run one at a time.
   */
  sync(): Promise<PodVolumesSyncResult>;
  /** A newer copy of the same pod (same uid): its labels and annotations feed the downward API. */
  updatePod(pod: V1Pod): void;
  /** Waits for a running sync; later syncs do nothing. Call before removing the root folder. */
  close(): Promise<void>;
}

type VolumeKind = 'secret' | 'configMap' | 'projected' | 'downwardAPI' | 'emptyDir';

interface PlannedMount {
  readonly volume: string;
  readonly kind: VolumeKind;
  /** Relative to the root folder, normalised, no leading or trailing slash. */
  readonly mountPath: string;
  /** Normalised subPath, or undefined for the whole volume. */
  readonly subPath: string | undefined;
  /** Position in the pod spec (init containers, then containers, mounts in order). */
  readonly order: number;
}

interface CachedToken {
  readonly token: string;
  readonly expiresAtMs: number;
  readonly expirationSeconds: number;
}

/** Plans the pod's mounts (throws on anything unsafe or unsupported) and returns its volumes, unsynced. */
export function createPodVolumes(options: PodVolumesOptions): PodVolumes {
  let pod = options.pod;
  const key = podKey(pod);
  const uid = pod.metadata?.uid ?? '';
  const volumes = new Map<string, V1Volume>((pod.spec?.volumes ?? []).map((volume) => [volume.name, volume]));
  const kinds = new Map<string, VolumeKind>();
  for (const volume of volumes.values()) kinds.set(volume.name, checkVolume(key, volume));
  const mounts = planMounts(key, pod, kinds);
  const now = options.now ?? Date.now;
  const tokens = new Map<string, CachedToken>();
  const copiedSubPaths = new Set<string>();
  let rootReal: string | undefined;
  let closed = false;
  let chain: Promise<unknown> = Promise.resolve();

  const payloadOf = async (
    volume: V1Volume,
    kind: Exclude<VolumeKind, 'emptyDir'>,
  ): Promise<VolumePayload> => {
    const payload = new Map<string, FileProjection>();
    const add = (files: Map<string, FileProjection>) => {
      for (const [path, file] of files) payload.set(path, file);
    };
    if (kind === 'secret') {
      const source = volume.secret ?? {};
      const mode = source.defaultMode ?? DEFAULT_VOLUME_MODE;
      add(
        await secretFiles(volume.name, source.secretName ?? '', source.items, mode, source.optional === true),
      );
    } else if (kind === 'configMap') {
      const source = volume.configMap ?? { name: '' };
      const mode = source.defaultMode ?? DEFAULT_VOLUME_MODE;
      add(await configMapFiles(volume.name, source.name ?? '', source.items, mode, source.optional === true));
    } else if (kind === 'downwardAPI') {
      add(downwardFiles(volume.name, volume.downwardAPI?.items ?? [], volume.downwardAPI?.defaultMode));
    } else {
      const mode = volume.projected?.defaultMode ?? DEFAULT_VOLUME_MODE;
      for (const projection of volume.projected?.sources ?? []) {
        if (projection.secret) {
          const { name, items, optional } = projection.secret;
          add(await secretFiles(volume.name, name ?? '', items, mode, optional === true));
        } else if (projection.configMap) {
          const { name, items, optional } = projection.configMap;
          add(await configMapFiles(volume.name, name ?? '', items, mode, optional === true));
        } else if (projection.downwardAPI) {
          add(downwardFiles(volume.name, projection.downwardAPI.items ?? [], mode));
        } else if (projection.serviceAccountToken) {
          const { audience, expirationSeconds, path } = projection.serviceAccountToken;
          const token = await tokenFor(audience, expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS);
          payload.set(path, { data: Buffer.from(token), mode });
        }
      }
    }
    // Keys become file names when no items are listed: they are checked like item paths.
    const clean = new Map<string, FileProjection>();
    for (const [path, file] of payload) {
      checkItemPath(key, volume.name, 'key', path);
      clean.set(posix.normalize(path).replace(/\/+$/, ''), file);
    }
    return clean;
  };

  const secretFiles = async (
    volume: string,
    name: string,
    items: V1KeyToPath[] | undefined,
    defaultMode: number,
    optional: boolean,
  ): Promise<Map<string, FileProjection>> => {
    const namespace = pod.metadata?.namespace ?? '';
    const secret = await options.source.readSecret(namespace, name);
    if (secret === undefined && !optional) {
      throw new VolumeSourceMissingError(key, volume, { kind: 'Secret', namespace, name });
    }
    const data = new Map(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
    return keyedFiles(volume, { kind: 'Secret', namespace, name }, data, items, defaultMode, optional);
  };

  const configMapFiles = async (
    volume: string,
    name: string,
    items: V1KeyToPath[] | undefined,
    defaultMode: number,
    optional: boolean,
  ): Promise<Map<string, FileProjection>> => {
    const namespace = pod.metadata?.namespace ?? '';
    const configMap = await options.source.readConfigMap(namespace, name);
    if (configMap === undefined && !optional) {
      throw new VolumeSourceMissingError(key, volume, { kind: 'ConfigMap', namespace, name });
    }
    const data = new Map<string, Uint8Array>();
    for (const [k, v] of Object.entries(configMap?.data ?? {})) data.set(k, Buffer.from(v, 'utf8'));
    for (const [k, v] of Object.entries(configMap?.binaryData ?? {})) data.set(k, Buffer.from(v, 'base64'));
    return keyedFiles(volume, { kind: 'ConfigMap', namespace, name }, data, items, defaultMode, optional);
  };

  // kubelet's MakePayload: every key, or only the listed items (a missing key fails unless optional).
  const keyedFiles = (
    volume: string,
    object: { kind: 'Secret' | 'ConfigMap'; namespace: string; name: string },
    data: Map<string, Uint8Array>,
    items: V1KeyToPath[] | undefined,
    defaultMode: number,
    optional: boolean,
  ): Map<string, FileProjection> => {
    const files = new Map<string, FileProjection>();
    if (items === undefined || items.length === 0) {
      for (const [name, bytes] of data) files.set(name, { data: bytes, mode: defaultMode });
      return files;
    }
    for (const item of items) {
      const bytes = data.get(item.key);
      if (bytes === undefined) {
        if (optional) continue;
        throw new VolumeSourceMissingError(key, volume, { ...object, key: item.key });
      }
      files.set(item.path, { data: bytes, mode: item.mode ?? defaultMode });
    }
    return files;
  };

  const downwardFiles = (
    volume: string,
    items: V1DownwardAPIVolumeFile[],
    defaultMode = DEFAULT_VOLUME_MODE,
  ): Map<string, FileProjection> => {
    const files = new Map<string, FileProjection>();
    const context = {
      podAddress: options.podAddress,
      nodeName: options.nodeName,
      nodeAddress: options.nodeAddress,
    };
    for (const item of items) {
      let value = '';
      try {
        if (item.fieldRef) value = podFieldValue(pod, item.fieldRef.fieldPath, context);
        else if (item.resourceFieldRef) {
          const ref = item.resourceFieldRef;
          value = containerResourceValue(pod, ref.containerName ?? '', ref, options.nodeAllocatable);
        }
      } catch (error) {
        if (!(error instanceof DownwardApiError)) throw error;
        throw new UnsupportedVolumeError(key, volume, `downward API item ${item.path}: ${error.message}`);
      }
      files.set(item.path, { data: Buffer.from(value, 'utf8'), mode: item.mode ?? defaultMode });
    }
    return files;
  };

  // kubelet's token manager: one token per (audience, expiration) for the pod, renewed when 80% of its
  // life has passed or it is a day old. (kubelet adds up to 10 s of jitter; the lab's short TTLs do not.)
  const tokenFor = async (audience: string | undefined, expirationSeconds: number): Promise<string> => {
    const cacheKey = `${audience ?? ''}\n${expirationSeconds}`;
    const cached = tokens.get(cacheKey);
    const at = now();
    if (cached !== undefined) {
      const lifeMs = cached.expirationSeconds * 1000;
      const issuedAtMs = cached.expiresAtMs - lifeMs;
      const stale = at > issuedAtMs + TOKEN_MAX_AGE_MS || at > issuedAtMs + TOKEN_REFRESH_AT * lifeMs;
      if (!stale) return cached.token;
    }
    const granted = await options.source.requestServiceAccountToken({
      namespace: pod.metadata?.namespace ?? '',
      serviceAccountName: pod.spec?.serviceAccountName ?? 'default',
      ...(audience === undefined || audience === '' ? {} : { audience }),
      expirationSeconds,
      podName: pod.metadata?.name ?? '',
      podUid: uid,
    });
    tokens.set(cacheKey, {
      token: granted.token,
      expiresAtMs: granted.expirationTimestamp.getTime(),
      expirationSeconds,
    });
    return granted.token;
  };

  const syncOnce = async (): Promise<PodVolumesSyncResult> => {
    const root = await rootFolder();
    const changed = new Set<string>();
    const failed = new Map<string, unknown>();
    const payloads = new Map<string, Promise<VolumePayload>>();
    for (const mount of mounts) {
      if (failed.has(mount.volume)) continue;
      try {
        if (mount.kind === 'emptyDir') {
          await ensureEmptyDirMount(key, root, mount, mounts, uid);
          continue;
        }
        let payload = payloads.get(mount.volume);
        if (payload === undefined) {
          const volume = volumes.get(mount.volume) as V1Volume;
          payload = payloadOf(volume, mount.kind);
          payloads.set(mount.volume, payload);
        }
        const files = await payload;
        if (mount.subPath === undefined) {
          const dir = await ensureFolder(key, mount.volume, root, mount.mountPath);
          if ((await writeVolumeAtomically(dir, files)).written) changed.add(mount.volume);
        } else {
          const copyKey = `${mount.mountPath}\n${mount.volume}\n${mount.subPath}`;
          if (copiedSubPaths.has(copyKey)) continue;
          await copySubPath(key, root, mount, files);
          copiedSubPaths.add(copyKey);
        }
      } catch (error) {
        failed.set(mount.volume, error);
      }
    }
    const [first] = failed.values();
    if (first !== undefined) {
      if (first instanceof PodVolumeError) throw first;
      const message = first instanceof Error ? first.message : String(first);
      const volume = [...failed.keys()][0];
      throw new PodVolumeError(key, volume, `could not be synced: ${message}`, { cause: first });
    }
    return { changed: [...changed] };
  };

  const rootFolder = async (): Promise<string> => {
    if (rootReal === undefined) {
      await mkdir(options.rootfs, { recursive: true });
      rootReal = await realpath(options.rootfs);
      return rootReal;
    }
    try {
      await stat(rootReal);
    } catch (error) {
      throw new PodVolumeError(key, undefined, `root folder ${options.rootfs} is gone`, { cause: error });
    }
    return rootReal;
  };

  return {
    podKey: key,
    podUid: uid,
    rootfs: options.rootfs,
    sync: () => {
      const next = chain.then(() => (closed ? { changed: [] } : syncOnce()));
      chain = next.catch(() => undefined);
      return next;
    },
    updatePod: (newer) => {
      if ((newer.metadata?.uid ?? '') !== uid) {
        throw new PodVolumeError(key, undefined, `updatePod got uid ${newer.metadata?.uid}, expected ${uid}`);
      }
      pod = newer;
    },
    close: async () => {
      closed = true;
      await chain;
    },
  };
}

function checkVolume(pod: string, volume: V1Volume): VolumeKind {
  const kinds = (['secret', 'configMap', 'projected', 'downwardAPI', 'emptyDir'] as const).filter(
    (kind) => volume[kind] !== undefined && volume[kind] !== null,
  );
  const others = Object.keys(volume).filter(
    (field) =>
      field !== 'name' &&
      !(kinds as readonly string[]).includes(field) &&
      volume[field as keyof V1Volume] != null,
  );
  const [kind] = kinds;
  if (kind === undefined || kinds.length > 1 || others.length > 0) {
    const seen = [...kinds, ...others].join(', ') || 'none';
    throw new UnsupportedVolumeError(
      pod,
      volume.name,
      'the lab supports secret, configMap, projected, downwardAPI and emptyDir volumes, one per volume; ' +
        `got ${seen}`,
    );
  }
  const modes: (number | undefined)[] = [];
  const itemPaths: string[] = [];
  const collect = (items: { path: string; mode?: number }[] | undefined) => {
    for (const item of items ?? []) {
      itemPaths.push(item.path);
      modes.push(item.mode);
    }
  };
  if (kind === 'secret') {
    modes.push(volume.secret?.defaultMode);
    collect(volume.secret?.items);
  } else if (kind === 'configMap') {
    modes.push(volume.configMap?.defaultMode);
    collect(volume.configMap?.items);
  } else if (kind === 'downwardAPI') {
    modes.push(volume.downwardAPI?.defaultMode);
    collect(volume.downwardAPI?.items);
  } else if (kind === 'projected') {
    modes.push(volume.projected?.defaultMode);
    for (const projection of volume.projected?.sources ?? []) {
      collect(projection.secret?.items);
      collect(projection.configMap?.items);
      collect(projection.downwardAPI?.items);
      if (projection.serviceAccountToken) itemPaths.push(projection.serviceAccountToken.path);
      const supported = ['secret', 'configMap', 'downwardAPI', 'serviceAccountToken'];
      const unsupported = Object.keys(projection).filter(
        (field) => !supported.includes(field) && projection[field as keyof typeof projection] != null,
      );
      if (unsupported.length > 0) {
        throw new UnsupportedVolumeError(
          pod,
          volume.name,
          `unsupported projected source ${unsupported.join(', ')}`,
        );
      }
    }
  }
  for (const path of itemPaths) checkItemPath(pod, volume.name, 'items[].path', path);
  for (const mode of modes) {
    if (mode !== undefined && (!Number.isInteger(mode) || mode < 0 || mode > 0o777)) {
      throw new UnsupportedVolumeError(pod, volume.name, `mode ${mode} must be 0 to 0777 (511)`);
    }
  }
  return kind;
}

function checkItemPath(pod: string, volume: string, field: string, path: string): void {
  const problem = projectionPathProblem(path);
  if (problem !== undefined) throw new UnsafeVolumePathError(pod, volume, field, path, problem);
}

/** Every mount of every init container and container, checked, deduplicated, parents first. */
function planMounts(pod: string, spec: V1Pod, kinds: Map<string, VolumeKind>): PlannedMount[] {
  const byPath = new Map<string, PlannedMount>();
  const containers = [...(spec.spec?.initContainers ?? []), ...(spec.spec?.containers ?? [])];
  for (const container of containers) {
    for (const mount of container.volumeMounts ?? []) {
      const kind = kinds.get(mount.name);
      if (kind === undefined) {
        throw new UnsupportedVolumeError(
          pod,
          mount.name,
          `container ${container.name} mounts it at ${mount.mountPath} but the pod has no such volume`,
        );
      }
      if (mount.subPathExpr) {
        throw new UnsupportedVolumeError(
          pod,
          mount.name,
          `subPathExpr is not supported (container ${container.name})`,
        );
      }
      const mountPath = checkMountPath(pod, mount.name, mount.mountPath);
      const subPath = checkSubPath(pod, mount.name, mount.subPath);
      const planned: PlannedMount = { volume: mount.name, kind, mountPath, subPath, order: byPath.size };
      const existing = byPath.get(mountPath);
      if (existing === undefined) byPath.set(mountPath, planned);
      else if (existing.volume !== planned.volume || existing.subPath !== planned.subPath) {
        throw new UnsupportedVolumeError(
          pod,
          mount.name,
          `/${mountPath} is also where ${existing.volume} is mounted; a lab pod shares one root folder, ` +
            'so one path holds one mount',
        );
      }
    }
  }
  const planned = [...byPath.values()].sort(
    (a, b) =>
      a.mountPath.split('/').length - b.mountPath.split('/').length || a.mountPath.localeCompare(b.mountPath),
  );
  for (const inner of planned) {
    for (const outer of planned) {
      if (outer === inner || !inner.mountPath.startsWith(`${outer.mountPath}/`)) continue;
      // A mount inside a whole volume is a folder beside that volume's entries: the atomic writer
      // only ever touches `..`-names and the entries it wrote itself, so the folder survives every
      // update (Istio's sidecar mounts its CRL volume inside the istio-ca-root-cert one). Inside a
      // subPath copy, or under a name the writer uses, it could not live.
      const firstName = inner.mountPath.slice(outer.mountPath.length + 1).split('/')[0] ?? '';
      if (outer.subPath !== undefined || firstName.startsWith('..')) {
        throw new UnsupportedVolumeError(
          pod,
          inner.volume,
          `/${inner.mountPath} lies inside /${outer.mountPath} (volume ${outer.volume}), which the lab ` +
            'cannot nest there (a subPath mount, or a name of the volume writer)',
        );
      }
    }
  }
  return planned;
}

function checkMountPath(pod: string, volume: string, mountPath: string): string {
  if (mountPath.split('/').includes('..')) {
    throw new UnsafeVolumePathError(pod, volume, 'mountPath', mountPath, "must not contain '..'");
  }
  const clean = posix.normalize(`/${mountPath}`).replace(/^\/+|\/+$/g, '');
  if (clean === '' || clean === '.') {
    throw new UnsafeVolumePathError(pod, volume, 'mountPath', mountPath, 'would mount over the root folder');
  }
  return clean;
}

function checkSubPath(pod: string, volume: string, subPath: string | undefined): string | undefined {
  if (subPath === undefined || subPath === '') return undefined;
  if (posix.isAbsolute(subPath)) {
    throw new UnsafeVolumePathError(pod, volume, 'subPath', subPath, 'must be a relative path');
  }
  if (subPath.split('/').includes('..')) {
    throw new UnsafeVolumePathError(pod, volume, 'subPath', subPath, "must not contain '..'");
  }
  const clean = posix.normalize(subPath).replace(/\/+$/, '');
  return clean === '.' ? undefined : clean;
}

/**
 * Makes `<root>/<path>` a folder, one component at a time: a missing one is created, a symlink is
 * followed only if it resolves inside the root folder, anything else in the way is refused. Returns
 * the folder's real path.
 */
async function ensureFolder(pod: string, volume: string, root: string, path: string): Promise<string> {
  if (path === '.' || path === '') return root;
  let current = root;
  for (const component of path.split('/')) {
    const next = join(current, component);
    let stats: import('node:fs').Stats | undefined;
    try {
      stats = await lstat(next);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (stats === undefined) {
      await mkdir(next, { mode: 0o755 });
      current = next;
    } else if (stats.isSymbolicLink()) {
      const target = await realpath(next).catch(() => undefined);
      if (target === undefined || !isInside(root, target)) {
        throw new UnsafeVolumePathError(
          pod,
          volume,
          'mountPath',
          `/${path}`,
          `${next} is a symlink out of the root folder`,
        );
      }
      if (!(await stat(target)).isDirectory()) {
        throw new UnsupportedVolumeError(pod, volume, `${next} leads to a file where a folder must be`);
      }
      current = target;
    } else if (stats.isDirectory()) {
      current = next;
    } else {
      throw new UnsupportedVolumeError(pod, volume, `${next} is a file where a folder must be`);
    }
  }
  return current;
}

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
}

/**
 * An emptyDir lives at its first whole mount in the pod spec (or, mounted only by subPath, where
 * kubelet keeps it: var/lib/kubelet/pods/<uid>/volumes/kubernetes.io~empty-dir/<name>); every other
 * mount of it is a relative symlink, so the containers share it as they would share kubelet's bind
 * mounts.
 */
async function ensureEmptyDirMount(
  pod: string,
  root: string,
  mount: PlannedMount,
  mounts: readonly PlannedMount[],
  uid: string,
): Promise<void> {
  const whole = mounts
    .filter((candidate) => candidate.volume === mount.volume && candidate.subPath === undefined)
    .sort((a, b) => a.order - b.order);
  const home =
    whole[0]?.mountPath ??
    posix.join('var/lib/kubelet/pods', uid || 'pod', 'volumes/kubernetes.io~empty-dir', mount.volume);
  const storage = await ensureFolder(pod, mount.volume, root, home);
  if (mount.subPath === undefined && mount.mountPath === home) return;
  const target =
    mount.subPath === undefined ? storage : await ensureFolder(pod, mount.volume, storage, mount.subPath);
  const parent = await ensureFolder(pod, mount.volume, root, posix.dirname(mount.mountPath));
  const link = join(parent, posix.basename(mount.mountPath));
  const existing = await lstat(link).catch(() => undefined);
  if (existing?.isSymbolicLink()) return;
  if (existing !== undefined) {
    throw new UnsupportedVolumeError(
      pod,
      mount.volume,
      `/${mount.mountPath} exists and is not this emptyDir`,
    );
  }
  await symlink(relative(parent, target) || '.', link);
}

/**
 * A subPath of a Secret, ConfigMap, projected or downward API volume: the file (or folder) copied
 * once, as it was when the container started. A subPath the volume does not have becomes an empty
 * folder, as kubelet creates it.
 */
async function copySubPath(
  pod: string,
  root: string,
  mount: PlannedMount,
  files: VolumePayload,
): Promise<void> {
  const subPath = mount.subPath as string;
  const parent = await ensureFolder(pod, mount.volume, root, posix.dirname(mount.mountPath));
  const destination = join(parent, posix.basename(mount.mountPath));
  if ((await lstat(destination).catch(() => undefined)) !== undefined) return;
  const file = files.get(subPath);
  if (file !== undefined) {
    await writeFileWithMode(destination, file);
    return;
  }
  await mkdir(destination, { mode: 0o755 });
  const prefix = `${subPath}/`;
  for (const [path, inner] of files) {
    if (!path.startsWith(prefix)) continue;
    const target = join(destination, path.slice(prefix.length));
    await mkdir(dirname(target), { recursive: true });
    await writeFileWithMode(target, inner);
  }
}

async function writeFileWithMode(path: string, file: FileProjection): Promise<void> {
  await writeFile(path, file.data, { mode: file.mode, flag: 'wx' });
  await chmod(path, file.mode);
}

// ---------------------------------------------------------------------------------------------------
// The refresher: kubelet resyncs every pod's volumes periodically; the lab's --volume-sync-delay.

export interface VolumeRefresherOptions {
  /** Time between the starts of two rounds: a Secret change reaches the files within one period. */
  readonly syncPeriodMs: number;
  /** The pods to sync, read at the start of every round. */
  readonly volumes: () => Iterable<PodVolumes>;
  /** Told which volumes of a pod a round rewrote. */
  readonly onChange?: (pod: PodVolumes, changed: readonly string[]) => void;
  /** Told about a pod whose sync failed; the next round tries it again. */
  readonly onError?: (error: unknown, pod: PodVolumes) => void;
  /** Pods synced at once. @default 4 */
  readonly concurrency?: number;
}

export interface VolumeRefresher {
  /** Runs a round now (after the one running, if any) and resolves when it is done. */
  syncNow(): Promise<void>;
  /** Clears the timer and waits for a running round. */
  stop(): Promise<void>;
}

export function startVolumeRefresher(options: VolumeRefresherOptions): VolumeRefresher {
  if (!Number.isFinite(options.syncPeriodMs) || options.syncPeriodMs <= 0) {
    throw new LabError(`syncPeriodMs must be a positive number of ms, got ${options.syncPeriodMs}`);
  }
  const concurrency = Math.max(1, options.concurrency ?? 4);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let queue: Promise<void> = Promise.resolve();

  // A callback that throws must not stop the refresher.
  const tell = (callback: () => void) => {
    try {
      callback();
    } catch {
      // ignored on purpose
    }
  };
  const syncPod = async (pod: PodVolumes) => {
    let changed: readonly string[];
    try {
      ({ changed } = await pod.sync());
    } catch (error) {
      tell(() => options.onError?.(error, pod));
      return;
    }
    if (changed.length > 0) tell(() => options.onChange?.(pod, changed));
  };

  const round = async () => {
    let pods: PodVolumes[];
    try {
      pods = [...options.volumes()];
    } catch {
      // The caller's own list of pods; if reading it failed, the next round reads it again.
      return;
    }
    let next = 0;
    const worker = async () => {
      while (next < pods.length && !stopped) await syncPod(pods[next++] as PodVolumes);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, pods.length) }, worker));
  };

  const runRound = () => {
    const done = queue.then(round);
    queue = done.catch(() => undefined);
    return done;
  };

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      const startedAt = Date.now();
      void runRound().finally(() => schedule(Math.max(0, startedAt + options.syncPeriodMs - Date.now())));
    }, delayMs);
  };
  schedule(options.syncPeriodMs);

  return {
    syncNow: async () => {
      if (!stopped) await runRound();
    },
    stop: async () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await queue;
    },
  };
}
