// What the istio engine runs in a pod, container by container, from the image the pod asks for:
// - Istio's pilot image: the real pilot-discovery (istiod) with the container's own args and env;
// - Istio's proxyv2 image as a sidecar or gateway: the real pilot-agent, without Envoy (this machine
//   cannot build Envoy): DISABLE_ENVOY=true, its workload certificate written to files
//   (OUTPUT_CERTS) that the pod's TLS endpoint serves, and an Envoy stand-in on its xDS socket so
//   istiod's pushes (PCDS) reach it as they would reach Envoy, and an Envoy admin stand-in on the
//   pod's address, port 15000, that shows those files as Envoy's config dump shows its secrets
//   (envoy-admin-stand-in.ts); proxyv2 init containers (iptables set-up) have nothing to do and
//   count as completed;
// - any other image: the pod's application, which the lab's prober stands in for.
// Each pod gets a sandbox (pod-sandbox.ts) with its volumes laid out by pod-volumes.ts.

import { access, rm, symlink, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { LabProcess } from '../control-plane/lab-process.js';
import { containerArgv, containerEnvironment, type EnvSource, type PodFacts } from './container-env.js';
import { type EnvoyAdminStandIn, startEnvoyAdminStandIn } from './envoy-admin-stand-in.js';
import { type EnvoyStandIn, readGrpcBootstrapNode, startEnvoyStandIn } from './envoy-stand-in.js';
import { discoveryOnPodAddress, type ProcessLaunch } from './pod-listen-addresses.js';
import { type PodRuntime, podKey } from './pod-runtime.js';
import { createPodSandbox, type PodSandbox } from './pod-sandbox.js';
import { createPodVolumes, type PodVolumes, type VolumeSource } from './pod-volumes.js';

/** Where pilot-agent writes the workload certificate, key and roots (inside the pod). */
export const PROXY_OUTPUT_CERTS_DIR = '/etc/istio/proxy';
export const PROXY_CERT_FILES = ['cert-chain.pem', 'key.pem', 'root-cert.pem'] as const;
/** pilot-agent's xDS socket (./etc/istio/proxy/XDS from its working directory, "/" in the pod). */
export const PROXY_XDS_SOCKET = '/etc/istio/proxy/XDS';
/** Where pilot-agent writes the gRPC xDS bootstrap the Envoy stand-in reads its node from. */
export const PROXY_GRPC_BOOTSTRAP = '/etc/istio/proxy/grpc-bootstrap.json';

/**
 * A pod's folder: short, since a Unix socket path inside it (the agent's xDS socket) must stay under
 * 108 bytes. The pod's namespace, name and uid are in pod.json beside its rootfs/.
 */
export function podDirOf(podsDir: string, podUid: string): string {
  return join(podsDir, podUid.slice(0, 8));
}

export type ContainerProgram = 'istiod' | 'proxy' | 'app' | 'completed';

/** What the lab runs for a container, from its image's name (registry and tag do not matter). */
export function programOf(container: V1Container, isInit: boolean): ContainerProgram {
  const image = (container.image ?? '').split('@')[0] ?? '';
  const name = image.slice(image.lastIndexOf('/') + 1).split(':')[0];
  const longRunning = !isInit || container.restartPolicy === 'Always'; // a native sidecar runs on
  if (!longRunning) return 'completed';
  if (name === 'pilot') return 'istiod';
  if (name === 'proxyv2') return 'proxy';
  return 'app';
}

export interface RunningPod {
  readonly pod: V1Pod;
  /** One Envoy stand-in per proxy container, on that agent's xDS socket. */
  readonly standIns: readonly EnvoyStandIn[];
  /** Envoy's admin endpoint for the pod's proxy (one per pod: port 15000 on the pod's address). */
  readonly admin: EnvoyAdminStandIn | undefined;
  readonly address: string;
  readonly sandbox: PodSandbox;
  readonly volumes: PodVolumes;
  readonly processes: ReadonlyMap<string, LabProcess>;
  readonly programs: ReadonlyMap<string, ContainerProgram>;
}

export interface IstioPodRuntimeOptions {
  /** Each pod's folder is made below this one. */
  readonly podsDir: string;
  /** The lab's binaries (mounted read-only into every pod). */
  readonly binDir: string;
  readonly facts: Omit<PodFacts, 'podAddress'>;
  readonly nodeName: string;
  readonly volumeSource: VolumeSource;
  /**
   * The source one pod's volumes are synced from, given the cluster's (missed-secret-change.ts: the
   * istio engine's istiod-drop). @default the cluster's own
   */
  readonly podVolumeSource?: (pod: V1Pod, source: VolumeSource) => VolumeSource;
  readonly envSource: EnvSource;
  /** The hosts lines for the cluster's Services (service-proxy.ts), at start. */
  readonly hosts: () => string;
}

export interface IstioPodRuntime extends PodRuntime {
  /** The pods running now, for the volume refresher, the hosts updates and the prober. */
  pods(): Iterable<RunningPod>;
}

export function createIstioPodRuntime(options: IstioPodRuntimeOptions): IstioPodRuntime {
  const running = new Map<string, RunningPod>();

  const start = async (pod: V1Pod, address: string) => {
    const key = podKey(pod);
    const dir = podDirOf(options.podsDir, pod.metadata?.uid ?? address);
    const sandbox = await createPodSandbox({
      dir,
      binDir: options.binDir,
      hostname: pod.metadata?.name ?? 'pod',
      podAddress: address,
    });
    await writeFile(
      join(dir, 'pod.json'),
      `${JSON.stringify({ namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid, address })}\n`,
    );
    await sandbox.writeHosts(options.hosts());
    const volumes = createPodVolumes({
      pod,
      rootfs: sandbox.rootfs,
      source: options.podVolumeSource?.(pod, options.volumeSource) ?? options.volumeSource,
      podAddress: address,
      nodeName: options.nodeName,
      nodeAddress: options.facts.nodeAddress,
    });
    await volumes.sync();
    const facts: PodFacts = { ...options.facts, podAddress: address };
    const processes = new Map<string, LabProcess>();
    const programs = new Map<string, ContainerProgram>();
    const standIns: EnvoyStandIn[] = [];
    let admin: EnvoyAdminStandIn | undefined;
    const containers = [
      ...(pod.spec?.initContainers ?? []).map((container) => ({ container, isInit: true })),
      ...(pod.spec?.containers ?? []).map((container) => ({ container, isInit: false })),
    ];
    try {
      for (const { container, isInit } of containers) {
        const program = programOf(container, isInit);
        programs.set(container.name, program);
        if (program !== 'istiod' && program !== 'proxy') continue;
        const env = await containerEnvironment(pod, container, facts, options.envSource);
        const launch =
          program === 'istiod'
            ? istiodLaunch({ argv: containerArgv(container, env), env }, address)
            : proxyLaunch({ argv: containerArgv(container, env), env });
        processes.set(
          container.name,
          sandbox.run({
            name: `${pod.metadata?.namespace}.${pod.metadata?.name}.${container.name}`,
            binary: program === 'istiod' ? 'pilot-discovery' : 'pilot-agent',
            argv: launch.argv,
            env: launch.env,
          }),
        );
        if (program === 'proxy') {
          // Where Envoy would connect: the agent's xDS socket, with the node the agent describes.
          standIns.push(
            startEnvoyStandIn({
              socketPath: await shortSocketPath(join(sandbox.rootfs, PROXY_XDS_SOCKET), dir),
              node: () => readGrpcBootstrapNode(join(sandbox.rootfs, PROXY_GRPC_BOOTSTRAP)),
            }),
          );
          admin ??= await startEnvoyAdminStandIn({
            address,
            certsDir: join(sandbox.rootfs, PROXY_OUTPUT_CERTS_DIR),
          });
        }
      }
    } catch (error) {
      await admin?.stop();
      await Promise.allSettled(standIns.map((standIn) => standIn.stop()));
      await Promise.allSettled([...processes.values()].map((process) => process.stop()));
      throw error;
    }
    running.set(key, { pod, address, sandbox, volumes, processes, programs, standIns, admin });
  };

  return {
    start,
    stop: async (key) => {
      const pod = running.get(key);
      if (!pod) return;
      running.delete(key);
      await Promise.allSettled(pod.standIns.map((standIn) => standIn.stop()));
      await pod.admin?.stop();
      await Promise.allSettled([...pod.processes.values()].map((process) => process.stop()));
      await pod.volumes.close();
      await rm(socketLinkOf(dirname(pod.sandbox.rootfs)), { force: true });
    },
    readiness: async (key) => {
      const pod = running.get(key);
      if (!pod) return {};
      const ready: Record<string, boolean> = {};
      const sidecars = (pod.pod.spec?.initContainers ?? []).filter(
        (container) => container.restartPolicy === 'Always',
      );
      for (const container of [...sidecars, ...(pod.pod.spec?.containers ?? [])]) {
        ready[container.name] = await isReady(pod, container);
      }
      return ready;
    },
    pods: () => running.values(),
  };
}

/** The container's own image entrypoint is the binary; its args start with the subcommand. */
function istiodLaunch(launch: ProcessLaunch, address: string): ProcessLaunch {
  return discoveryOnPodAddress(launch, address);
}

function proxyLaunch(launch: ProcessLaunch): ProcessLaunch {
  return {
    argv: launch.argv,
    env: {
      ...launch.env,
      DISABLE_ENVOY: 'true',
      OUTPUT_CERTS: PROXY_OUTPUT_CERTS_DIR,
      GRPC_XDS_BOOTSTRAP: PROXY_GRPC_BOOTSTRAP,
    },
  };
}

async function isReady(pod: RunningPod, container: V1Container): Promise<boolean> {
  const process = pod.processes.get(container.name);
  if (process && process.exitStatus() !== undefined) return false;
  switch (pod.programs.get(container.name)) {
    case 'istiod': {
      const probe = container.readinessProbe?.httpGet;
      if (!probe) return true;
      return httpOk(pod.address, Number(probe.port), probe.path ?? '/');
    }
    case 'proxy':
      // Envoy is ready once it has its certificate; so is the stand-in.
      return allExist(PROXY_CERT_FILES.map((file) => join(pod.sandbox.rootfs, PROXY_OUTPUT_CERTS_DIR, file)));
    default:
      return true;
  }
}

function socketLinkOf(podDir: string): string {
  return join(tmpdir(), `mt-xds-${basename(podDir)}-${process.pid}`);
}

/**
 * A path to `socket` that fits a Unix socket address (107 bytes): the path itself, or one through a
 * short symlink to its folder (connect follows it) when the lab's folder is deep.
 */
async function shortSocketPath(socket: string, podDir: string): Promise<string> {
  if (Buffer.byteLength(socket) <= 100) return socket;
  const link = socketLinkOf(podDir);
  await rm(link, { force: true });
  await symlink(dirname(socket), link);
  return join(link, basename(socket));
}

async function allExist(paths: readonly string[]): Promise<boolean> {
  try {
    await Promise.all(paths.map((path) => access(path)));
    return true;
  } catch {
    return false;
  }
}

function httpOk(host: string, port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest({ host, port, path, method: 'GET', timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 400);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
