// The streaming part of a kubelet for a lab node (lab/go/cmd/kubelet-streaming): kube-apiserver's
// pods/portforward subresource (what `kubectl port-forward` and client-node's PortForward call)
// connects to the kubelet of the pod's node, at the Node's InternalIP and
// status.daemonEndpoints.kubeletEndpoint.Port, path /portForward/<namespace>/<pod>. The lab runs no
// kubelet, so this process serves that path with Kubernetes' own port-forward code and sends each
// stream to the pod's loopback address. HTTPS on the node's address only; it accepts only clients
// with a certificate of the cluster's client CA (the API server's kubelet client certificate).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ControlPlanePki } from './control-plane-pki.js';
import { freePort } from './free-port.js';
import { type LabProcess, startLabProcess } from './lab-process.js';
import { waitUntilHealthy } from './readiness.js';

const START_TIMEOUT_MS = 30_000;

export interface KubeletStreamingOptions {
  readonly binary: string;
  readonly clusterName: string;
  readonly nodeName: string;
  /** The Node's InternalIP: where it listens (a loopback address). */
  readonly nodeAddress: string;
  /** The cluster's folder: certificates and the log go here. */
  readonly dir: string;
  readonly pki: ControlPlanePki;
  /** It reads pods (their node and status.podIP) with this kubeconfig. */
  readonly kubeconfig: string;
}

export interface KubeletStreamingProcess {
  /** The Node's daemonEndpoints.kubeletEndpoint.Port. */
  readonly port: number;
  readonly process: LabProcess;
  stop(): Promise<void>;
}

export async function startKubeletStreaming(
  options: KubeletStreamingOptions,
): Promise<KubeletStreamingProcess> {
  const file = (name: string) => join(options.dir, name);
  await Promise.all([
    writeFile(file('kubelet-serving.crt'), options.pki.kubeletServingCertPem),
    writeFile(file('kubelet-serving.key'), options.pki.kubeletServingKeyPem, { mode: 0o600 }),
    writeFile(file('client-ca.crt'), options.pki.clientCaPem),
  ]);
  const port = await freePort(options.nodeAddress);
  const component = startLabProcess({
    name: `${options.clusterName} kubelet-streaming`,
    command: options.binary,
    args: [
      `--address=${options.nodeAddress}`,
      `--port=${port}`,
      `--tls-cert-file=${file('kubelet-serving.crt')}`,
      `--tls-private-key-file=${file('kubelet-serving.key')}`,
      `--client-ca-file=${file('client-ca.crt')}`,
      `--kubeconfig=${options.kubeconfig}`,
      `--node-name=${options.nodeName}`,
    ],
    logFile: file('kubelet-streaming.log'),
  });
  try {
    await waitUntilHealthy(
      component,
      {
        url: `https://${options.nodeAddress}:${port}/healthz`,
        caPem: options.pki.servingCaPem,
        certPem: options.pki.kubeletClientCertPem,
        keyPem: options.pki.kubeletClientKeyPem,
      },
      START_TIMEOUT_MS,
    );
  } catch (error) {
    await component.stop();
    throw error;
  }
  return { port, process: component, stop: () => component.stop() };
}
