// Runs the real `aws eks get-token` (awscli) as a lab identity. The lab uses it to prove that tokens
// made by the tool operators use every day are accepted exactly as EKS accepts them. It works offline:
// get-token only signs, it sends nothing.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { awsEnvironmentFor, type LabIdentity } from './lab-identities.js';

const execFileAsync = promisify(execFile);

export interface AwsCliTokenOptions {
  readonly identity: LabIdentity;
  readonly region: string;
  readonly clusterName: string;
}

export interface ExecCredential {
  readonly kind: 'ExecCredential';
  readonly apiVersion: string;
  readonly status: { readonly expirationTimestamp: string; readonly token: string };
}

/** The ExecCredential `aws eks get-token --cluster-name <name>` prints for this identity. */
export async function getTokenWithAwsCli(options: AwsCliTokenOptions): Promise<ExecCredential> {
  const { stdout } = await execFileAsync('aws', ['eks', 'get-token', '--cluster-name', options.clusterName], {
    env: awsCliEnvironment(options.identity, options.region),
    timeout: 30_000,
  });
  return JSON.parse(stdout) as ExecCredential;
}

/**
 * This process's environment without any AWS setting of the machine (profiles, keys, endpoints), then
 * the identity's credentials and region: awscli then signs as that identity and nothing else.
 */
export function awsCliEnvironment(identity: LabIdentity, region: string): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_')) {
      environment[key] = value;
    }
  }
  return {
    ...environment,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    ...awsEnvironmentFor(identity, region),
  };
}
