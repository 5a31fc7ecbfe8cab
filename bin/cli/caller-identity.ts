// Who runs the CLI, for the execution input's `requestedBy`: the AWS identity (STS GetCallerIdentity,
// SigV4-signed with the SDK's default credential chain) when STS answers, else the OS user, so a rotation
// is never started anonymously.
import { hostname, userInfo } from 'node:os';
import { signedPost } from './signed-post.js';

/** STS is asked once, briefly: a lab shell points STS at an address that never answers. */
const STS_TIMEOUT_MS = 2000;

export async function callerIdentity(env: NodeJS.ProcessEnv, region: string): Promise<string> {
  try {
    return await stsCallerArn(env, region);
  } catch {
    return `os-user:${userInfo().username}@${hostname()}`;
  }
}

async function stsCallerArn(env: NodeJS.ProcessEnv, region: string): Promise<string> {
  const response = await signedPost({
    url: new URL(env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL || `https://sts.${region}.amazonaws.com`),
    service: 'sts',
    region,
    contentType: 'application/x-www-form-urlencoded',
    body: 'Action=GetCallerIdentity&Version=2011-06-15',
    timeoutMs: STS_TIMEOUT_MS,
  });
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(response.text)?.[1];
  if (!response.ok || arn === undefined) throw new Error(`STS answered ${response.status}`);
  return arn;
}
