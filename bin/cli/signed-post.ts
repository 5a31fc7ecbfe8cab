// A POST signed with SigV4 by the SDK's default credential chain (or given credentials), for the two
// AWS endpoints the CLI calls without an SDK client: STS's query API (who am I) and the approval
// endpoint's function URL (AWS_IAM auth).
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

export async function signedPost(input: {
  readonly url: URL;
  /** The SigV4 service name, e.g. `sts` or `lambda`. */
  readonly service: string;
  readonly region: string;
  readonly contentType: string;
  readonly body: string;
  readonly timeoutMs: number;
  readonly credentials?: AwsCredentialIdentityProvider;
}): Promise<{ readonly status: number; readonly ok: boolean; readonly text: string }> {
  const { url, body } = input;
  const request = new HttpRequest({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port !== '' && { port: Number(url.port) }),
    path: url.pathname,
    headers: { host: url.host, 'content-type': input.contentType },
    body,
  });
  const signer = new SignatureV4({
    credentials: input.credentials ?? fromNodeProviderChain(),
    region: input.region,
    service: input.service,
    sha256: Sha256,
  });
  const signed = await signer.sign(request);
  const response = await fetch(url, {
    method: 'POST',
    headers: signed.headers,
    body,
    signal: AbortSignal.timeout(input.timeoutMs),
  });
  return { status: response.status, ok: response.ok, text: await response.text() };
}
