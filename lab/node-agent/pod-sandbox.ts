// A pod's sandbox, as far as a container runtime without images goes: a root folder of its own
// (volumes appear at their mount paths inside it, /etc/hosts is the pod's), and processes that run
// chrooted into it in a private mount namespace, with /dev and /proc from the host and the lab's
// binaries mounted read-only at /lab-bin. Working directory "/" as in a container, so the paths
// Istio's binaries use (./etc/cacerts, /var/run/secrets/...) resolve inside the pod.
// There is no network namespace: the lab's pods share the host's, each with its own loopback
// address, and each component is told to listen on it (see pod-listen-addresses.ts).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type LabProcess, startLabProcess } from '../control-plane/lab-process.js';

/** Where the lab's binaries appear inside every pod. */
export const POD_BIN_DIR = '/lab-bin';

export interface PodSandbox {
  readonly rootfs: string;
  /** Where the pod's processes log (outside the rootfs). */
  readonly logDir: string;
  /** Starts `binary` (a name in the lab's binary folder) chrooted into the pod. */
  run(input: {
    name: string;
    binary: string;
    argv: readonly string[];
    env: Readonly<Record<string, string>>;
  }): LabProcess;
  /** Replaces the pod's /etc/hosts in place (the file keeps its inode, as kubelet's does). */
  writeHosts(content: string): Promise<void>;
}

export interface PodSandboxOptions {
  /** The pod's folder; holds rootfs/ and logs/. */
  readonly dir: string;
  /** The host folder with the lab's binaries (ensureLabBinaries). */
  readonly binDir: string;
  readonly hostname: string;
  readonly podAddress: string;
}

export async function createPodSandbox(options: PodSandboxOptions): Promise<PodSandbox> {
  const rootfs = join(options.dir, 'rootfs');
  const logDir = join(options.dir, 'logs');
  for (const dir of [
    'dev',
    'proc',
    'tmp',
    'etc',
    POD_BIN_DIR.slice(1),
    'var/run/secrets',
    'var/lib/istio/data',
  ]) {
    await mkdir(join(rootfs, dir), { recursive: true });
  }
  await mkdir(logDir, { recursive: true });
  await writeFile(join(rootfs, 'etc/hostname'), `${options.hostname}\n`);
  // Go's resolver reads these: names come from /etc/hosts only; there is no DNS server in the lab.
  await writeFile(join(rootfs, 'etc/nsswitch.conf'), 'hosts: files\n');
  await writeFile(join(rootfs, 'etc/resolv.conf'), 'options ndots:1\n');
  await writeFile(join(rootfs, 'etc/hosts'), hostsHeader(options.hostname, options.podAddress));
  const hostsFile = join(rootfs, 'etc/hosts');

  return {
    rootfs,
    logDir,
    run: ({ name, binary, argv, env }) =>
      startLabProcess({
        name,
        command: '/usr/bin/unshare',
        args: [
          '--mount',
          '--propagation',
          'private',
          '--',
          '/bin/sh',
          '-c',
          SANDBOX_SCRIPT,
          'pod-sandbox',
          rootfs,
          options.binDir,
          `${POD_BIN_DIR}/${binary}`,
          ...argv,
        ],
        env: { ...env },
        logFile: join(logDir, `${name.replace(/[^a-zA-Z0-9_.-]/g, '_')}.log`),
      }),
    writeHosts: async (content) => {
      // In place, not by rename: a process may hold the file open, and kubelet keeps the inode too.
      await writeFile(hostsFile, `${hostsHeader(options.hostname, options.podAddress)}${content}`);
    },
  };
}

/**
 * $1 rootfs, $2 binary folder, $3 the binary's path inside the pod, then its arguments. Runs in a new
 * mount namespace, so nothing it mounts is seen by the host, and it all goes when the process ends.
 */
const SANDBOX_SCRIPT = [
  'set -e',
  'root="$1"; bin="$2"; shift 2',
  '/usr/bin/mount --rbind /dev "$root/dev"',
  '/usr/bin/mount -t proc proc "$root/proc"',
  '/usr/bin/mount --bind "$bin" "$root/lab-bin"',
  '/usr/bin/mount -o remount,bind,ro "$root/lab-bin"',
  'exec /usr/sbin/chroot "$root" "$@"',
].join('\n');

/** What kubelet writes first: localhost and the pod's own name on its address. */
function hostsHeader(hostname: string, podAddress: string): string {
  return `127.0.0.1\tlocalhost\n::1\tlocalhost\n${podAddress}\t${hostname}\n# services, as the lab's node agent resolves them:\n`;
}
