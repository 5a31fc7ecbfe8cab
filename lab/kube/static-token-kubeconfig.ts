// A kubeconfig for one lab cluster with a static bearer token user, for tests and scripts that run
// kubectl against a lab API server directly. (The lab's real kubeconfig uses the `aws eks get-token`
// exec plugin and is written elsewhere.)
import { writeFile } from 'node:fs/promises';

export interface StaticTokenKubeconfigOptions {
  readonly clusterName: string;
  /** The API server URL, https://127.0.0.1:<port>. */
  readonly server: string;
  /** The serving CA (PEM) the client must trust. */
  readonly caPem: string;
  readonly token: string;
  /** @default 'lab-user' */
  readonly userName?: string;
  /** Default namespace of the context. */
  readonly namespace?: string;
}

/** Renders the kubeconfig as JSON, which is valid YAML and what kubectl reads. */
export function renderStaticTokenKubeconfig(options: StaticTokenKubeconfigOptions): string {
  const user = options.userName ?? 'lab-user';
  return `${JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: options.clusterName,
          cluster: {
            server: options.server,
            'certificate-authority-data': Buffer.from(options.caPem, 'utf8').toString('base64'),
          },
        },
      ],
      users: [{ name: user, user: { token: options.token } }],
      contexts: [
        {
          name: options.clusterName,
          context: {
            cluster: options.clusterName,
            user,
            ...(options.namespace ? { namespace: options.namespace } : {}),
          },
        },
      ],
      'current-context': options.clusterName,
      preferences: {},
    },
    null,
    2,
  )}\n`;
}

/** Writes the kubeconfig to `file` readable by its owner only (it holds a token). */
export async function writeStaticTokenKubeconfig(
  file: string,
  options: StaticTokenKubeconfigOptions,
): Promise<void> {
  await writeFile(file, renderStaticTokenKubeconfig(options), { mode: 0o600 });
}
