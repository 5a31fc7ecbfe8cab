// `meshtrust approve`/`reject` answer a gate through the stack's approval endpoint (lib/approval-endpoint.ts):
// a function URL with AWS_IAM auth. The request is SigV4-signed for service `lambda` with the SDK's
// default credential chain; Lambda verifies it and hands answer-approval the signer's IAM identity,
// which the run records as the approver. The CLI never sends the gate's task token, nor a name.
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { ApprovalAnswer } from '../../lambdas/contract/approval.js';

/** What answer-approval answered: HTTP status and its JSON body (never a task token). */
export interface ApprovalUrlResponse {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

const TIMEOUT_MS = 30_000;

export async function sendApprovalAnswer(input: {
  readonly url: string;
  readonly region: string;
  readonly answer: ApprovalAnswer;
  readonly credentials?: AwsCredentialIdentityProvider;
}): Promise<ApprovalUrlResponse> {
  const endpoint = new URL(input.url);
  const body = JSON.stringify(input.answer);
  const request = new HttpRequest({
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    ...(endpoint.port !== '' && { port: Number(endpoint.port) }),
    path: endpoint.pathname,
    headers: { host: endpoint.host, 'content-type': 'application/json' },
    body,
  });
  const signer = new SignatureV4({
    credentials: input.credentials ?? fromNodeProviderChain(),
    region: input.region,
    service: 'lambda',
    sha256: Sha256,
  });
  const signed = await signer.sign(request);
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: signed.headers,
    body,
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null) parsed = value as Record<string, unknown>;
  } catch {
    parsed = { error: text.slice(0, 500) };
  }
  return { status: response.status, body: parsed };
}
