// Runs the installed kubectl against a lab cluster. The discovery cache goes to a directory of the
// caller's choosing: lab ports change every run, and kubectl would otherwise fill ~/.kube/cache.
import { execFile } from 'node:child_process';

export interface KubectlOptions {
  readonly kubeconfig: string;
  readonly cacheDir: string;
  /** Text for kubectl's stdin (`-f -`). */
  readonly input?: string;
  /** @default 30000 */
  readonly timeoutMs?: number;
  /** @default 'kubectl' */
  readonly binary?: string;
}

export interface KubectlResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Resolves with kubectl's exit code and output; never rejects on a non-zero exit. */
export function runKubectl(args: readonly string[], options: KubectlOptions): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      options.binary ?? 'kubectl',
      ['--kubeconfig', options.kubeconfig, '--cache-dir', options.cacheDir, ...args],
      {
        timeout: options.timeoutMs ?? 30_000,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, KUBECONFIG: '' },
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(error);
          return;
        }
        resolve({ exitCode: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
