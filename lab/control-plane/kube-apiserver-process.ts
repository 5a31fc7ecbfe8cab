// One cluster's real kube-apiserver, started like envtest starts it: generated serving and
// service-account keys, etcd under the cluster's own prefix, readiness by /readyz. What EKS adds is
// here too: bearer tokens go to the EKS token webhook, authorization is RBAC only (no Node
// authorizer: the lab's nodes are not kubelets with node credentials), admission is the default set.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ControlPlanePki } from './control-plane-pki.js';
import { freePort } from './free-port.js';
import { type LabProcess, startLabProcess } from './lab-process.js';
import { waitUntilHealthy } from './readiness.js';

const START_TIMEOUT_MS = 120_000;

export interface KubeApiServerProcessOptions {
  readonly binary: string;
  readonly clusterName: string;
  /** Folder for the cluster's keys, kubeconfigs and logs. */
  readonly dir: string;
  readonly address: string;
  readonly etcdUrl: string;
  readonly pki: ControlPlanePki;
  /** The cluster's Service range; its first address is the `kubernetes` Service. */
  readonly serviceCidr: string;
  readonly tokenWebhook: { readonly url: string; readonly caPem: string };
  /** The pod network proxy's Unix socket (pod-network-proxy.ts): the API server's egress to the cluster. */
  readonly podNetworkSocket: string;
}

export interface KubeApiServerProcess {
  /** https://<address>:<port> */
  readonly endpoint: string;
  readonly process: LabProcess;
  /** A kubeconfig for the lab's administrator (system:masters), for setting the cluster up. */
  readonly adminKubeconfig: string;
  stop(): Promise<void>;
}

/** The issuer of the cluster's service-account tokens, as EKS names its OIDC issuer per cluster. */
export function serviceAccountIssuer(clusterName: string): string {
  return `https://oidc.lab.meshtrust.local/id/${clusterName}`;
}

/**
 * The API server's serving certificate and key in its cluster's folder; the fault proxy in front of it
 * (lab/kube-fault-proxy.ts) serves the same pair.
 */
export const API_SERVER_SERVING_FILES = { cert: 'apiserver.crt', key: 'apiserver.key' } as const;

export async function startKubeApiServerProcess(
  options: KubeApiServerProcessOptions,
): Promise<KubeApiServerProcess> {
  const { dir, pki } = options;
  const file = (name: string) => join(dir, name);
  await Promise.all([
    writeFile(file('serving-ca.crt'), pki.servingCaPem),
    writeFile(file(API_SERVER_SERVING_FILES.cert), pki.apiServerCertPem),
    writeFile(file(API_SERVER_SERVING_FILES.key), pki.apiServerKeyPem, { mode: 0o600 }),
    writeFile(file('client-ca.crt'), pki.clientCaPem),
    writeFile(file('admin.crt'), pki.adminCertPem),
    writeFile(file('admin.key'), pki.adminKeyPem, { mode: 0o600 }),
    writeFile(file('kubelet-client.crt'), pki.kubeletClientCertPem),
    writeFile(file('kubelet-client.key'), pki.kubeletClientKeyPem, { mode: 0o600 }),
    writeFile(file('service-account.key'), pki.serviceAccountKeyPem, { mode: 0o600 }),
    writeFile(file('service-account.pub'), pki.serviceAccountPublicKeyPem),
    writeFile(file('egress-selector.json'), egressSelectorConfiguration(options.podNetworkSocket)),
    writeFile(
      file('token-webhook.kubeconfig'),
      kubeconfig({ server: options.tokenWebhook.url, caPem: options.tokenWebhook.caPem, user: {} }),
    ),
  ]);
  const port = await freePort(options.address);
  const endpoint = `https://${options.address}:${port}`;
  const adminKubeconfig = file('admin.kubeconfig');
  await writeFile(
    adminKubeconfig,
    kubeconfig({
      server: endpoint,
      caPem: pki.servingCaPem,
      user: {
        'client-certificate-data': base64(pki.adminCertPem),
        'client-key-data': base64(pki.adminKeyPem),
      },
    }),
    { mode: 0o600 },
  );
  const component = startLabProcess({
    name: `${options.clusterName} kube-apiserver`,
    command: options.binary,
    args: [
      `--advertise-address=${options.address}`,
      `--bind-address=${options.address}`,
      `--secure-port=${port}`,
      `--etcd-servers=${options.etcdUrl}`,
      `--etcd-prefix=/registry/${options.clusterName}`,
      `--tls-cert-file=${file(API_SERVER_SERVING_FILES.cert)}`,
      `--tls-private-key-file=${file(API_SERVER_SERVING_FILES.key)}`,
      `--client-ca-file=${file('client-ca.crt')}`,
      `--service-account-issuer=${serviceAccountIssuer(options.clusterName)}`,
      `--service-account-key-file=${file('service-account.pub')}`,
      `--service-account-signing-key-file=${file('service-account.key')}`,
      `--service-cluster-ip-range=${options.serviceCidr}`,
      '--authorization-mode=RBAC',
      `--authentication-token-webhook-config-file=${file('token-webhook.kubeconfig')}`,
      '--authentication-token-webhook-version=v1',
      // EKS caches an authenticator answer briefly; short here so a test sees a refusal at once.
      '--authentication-token-webhook-cache-ttl=10s',
      '--allow-privileged=true',
      `--egress-selector-config-file=${file('egress-selector.json')}`,
      // pods/portforward goes to the node's kubelet streaming server (kubelet-streaming-process.ts):
      // by its InternalIP only (the lab has no DNS for node names), verified against the serving CA
      // that issued its certificate, with a client certificate it checks in turn.
      '--kubelet-preferred-address-types=InternalIP',
      `--kubelet-certificate-authority=${file('serving-ca.crt')}`,
      `--kubelet-client-certificate=${file('kubelet-client.crt')}`,
      `--kubelet-client-key=${file('kubelet-client.key')}`,
      '--v=1',
    ],
    logFile: file('kube-apiserver.log'),
  });
  try {
    await waitUntilHealthy(
      component,
      {
        url: `${endpoint}/readyz`,
        caPem: pki.servingCaPem,
        certPem: pki.adminCertPem,
        keyPem: pki.adminKeyPem,
      },
      START_TIMEOUT_MS,
    );
  } catch (error) {
    await component.stop();
    throw error;
  }
  return { endpoint, process: component, adminKubeconfig, stop: () => component.stop() };
}

/** Everything the API server opens towards the cluster goes through the pod network proxy. */
function egressSelectorConfiguration(socketPath: string): string {
  return `${JSON.stringify(
    {
      apiVersion: 'apiserver.k8s.io/v1beta1',
      kind: 'EgressSelectorConfiguration',
      egressSelections: [
        {
          name: 'cluster',
          connection: { proxyProtocol: 'HTTPConnect', transport: { uds: { udsName: socketPath } } },
        },
      ],
    },
    null,
    2,
  )}\n`;
}

/** A one-context kubeconfig as JSON (kubectl and client-go read JSON as well as YAML). */
export function kubeconfig(input: {
  readonly server: string;
  readonly caPem: string;
  readonly user: Readonly<Record<string, unknown>>;
}): string {
  return `${JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'lab', cluster: { server: input.server, 'certificate-authority-data': base64(input.caPem) } },
      ],
      users: [{ name: 'lab', user: input.user }],
      contexts: [{ name: 'lab', context: { cluster: 'lab', user: 'lab' } }],
      'current-context': 'lab',
    },
    null,
    2,
  )}\n`;
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}
