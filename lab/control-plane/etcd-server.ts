// The fleet's one real etcd (each cluster's kube-apiserver keeps its objects under its own prefix),
// on loopback, its data in a folder of the lab's. --unsafe-no-fsync: the lab's data is thrown away
// at the end, and fsync on every write would make the API servers wait on the disk.
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { type LabProcess, startLabProcess } from './lab-process.js';
import { waitUntilHealthy } from './readiness.js';

const START_TIMEOUT_MS = 30_000;

export interface EtcdServer {
  /** http://<address>:<port>, for --etcd-servers. */
  readonly url: string;
  readonly process: LabProcess;
  stop(): Promise<void>;
}

export interface EtcdServerOptions {
  readonly etcdBinary: string;
  /** Holds the data folder and etcd.log. */
  readonly dir: string;
  readonly address: string;
}

export async function startEtcdServer(options: EtcdServerOptions): Promise<EtcdServer> {
  const clientPort = await freePort(options.address);
  const peerPort = await freePort(options.address);
  const url = `http://${options.address}:${clientPort}`;
  const component = startLabProcess({
    name: 'etcd',
    command: options.etcdBinary,
    args: [
      '--name=lab-etcd',
      `--data-dir=${join(options.dir, 'etcd-data')}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=http://${options.address}:${peerPort}`,
      `--initial-advertise-peer-urls=http://${options.address}:${peerPort}`,
      `--initial-cluster=lab-etcd=http://${options.address}:${peerPort}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    logFile: join(options.dir, 'etcd.log'),
  });
  try {
    await waitUntilHealthy(component, { url: `${url}/health` }, START_TIMEOUT_MS);
  } catch (error) {
    await component.stop();
    throw error;
  }
  return { url, process: component, stop: () => component.stop() };
}
