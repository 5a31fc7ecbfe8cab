// One cluster's real kube-controller-manager: Deployments, ReplicaSets, StatefulSets, DaemonSets,
// service-account tokens and the kube-root-ca.crt publisher are Kubernetes' own controllers. Each
// controller uses its own service account (--use-service-account-credentials), as on EKS.
import { join } from 'node:path';
import type { ControlPlanePki } from './control-plane-pki.js';
import { freePort } from './free-port.js';
import type { KubeApiServerProcess } from './kube-apiserver-process.js';
import { type LabProcess, startLabProcess } from './lab-process.js';
import { waitUntilHealthy } from './readiness.js';

const START_TIMEOUT_MS = 120_000;

export interface KubeControllerManagerOptions {
  readonly binary: string;
  readonly clusterName: string;
  readonly dir: string;
  readonly address: string;
  readonly apiServer: KubeApiServerProcess;
  readonly pki: ControlPlanePki;
}

export async function startKubeControllerManager(options: KubeControllerManagerOptions): Promise<LabProcess> {
  const { dir, apiServer } = options;
  const port = await freePort(options.address);
  const component = startLabProcess({
    name: `${options.clusterName} kube-controller-manager`,
    command: options.binary,
    args: [
      `--kubeconfig=${apiServer.adminKubeconfig}`,
      `--authentication-kubeconfig=${apiServer.adminKubeconfig}`,
      `--authorization-kubeconfig=${apiServer.adminKubeconfig}`,
      `--bind-address=${options.address}`,
      `--secure-port=${port}`,
      `--cert-dir=${join(dir, 'kube-controller-manager-certs')}`,
      `--service-account-private-key-file=${join(dir, 'service-account.key')}`,
      `--root-ca-file=${join(dir, 'serving-ca.crt')}`,
      '--use-service-account-credentials=true',
      '--leader-elect=false',
      `--cluster-name=${options.clusterName}`,
      '--v=1',
    ],
    logFile: join(dir, 'kube-controller-manager.log'),
  });
  // Ready once its controllers work: the service-account controller has made `default` a service account.
  try {
    await waitUntilHealthy(
      component,
      {
        url: `${apiServer.endpoint}/api/v1/namespaces/default/serviceaccounts/default`,
        caPem: options.pki.servingCaPem,
        certPem: options.pki.adminCertPem,
        keyPem: options.pki.adminKeyPem,
      },
      START_TIMEOUT_MS,
    );
  } catch (error) {
    await component.stop();
    throw error;
  }
  return component;
}
