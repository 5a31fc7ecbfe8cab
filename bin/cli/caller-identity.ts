// Who runs the CLI, for the execution input's `requestedBy`: the AWS identity (STS GetCallerIdentity,
// SigV4-signed with the SDK's default credential chain) when STS answers, else the OS user, so a rotation
// is never started anonymously.
import { hostname, userInfo } from 'node:os';
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

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
  const endpoint = new URL(
    env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL || `https://sts.${region}.amazonaws.com`,
  );
  const body = 'Action=GetCallerIdentity&Version=2011-06-15';
  const request = new HttpRequest({
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    ...(endpoint.port !== '' && { port: Number(endpoint.port) }),
    path: endpoint.pathname,
    headers: { host: endpoint.host, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  const signer = new SignatureV4({
    credentials: fromNodeProviderChain(),
    region,
    service: 'sts',
    sha256: Sha256,
  });
  const signed = await signer.sign(request);
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: signed.headers,
    body,
    signal: AbortSignal.timeout(STS_TIMEOUT_MS),
  });
  const text = await response.text();
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(text)?.[1];
  if (!response.ok || arn === undefined) throw new Error(`STS answered ${response.status}`);
  return arn;
}
