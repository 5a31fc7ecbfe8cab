// `meshtrust approve`/`reject` answer a gate through the stack's approval endpoint (lib/approval-endpoint.ts):
// a function URL with AWS_IAM auth. The request is SigV4-signed for service `lambda` with the SDK's
// default credential chain; Lambda verifies it and hands answer-approval the signer's IAM identity,
// which the run records as the approver. The CLI never sends the gate's task token, nor a name.
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { ApprovalAnswer } from '../../lambdas/contract/approval.js';
import { signedPost } from './signed-post.js';

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
  const response = await signedPost({
    url: new URL(input.url),
    service: 'lambda',
    region: input.region,
    contentType: 'application/json',
    body: JSON.stringify(input.answer),
    timeoutMs: TIMEOUT_MS,
    ...(input.credentials !== undefined && { credentials: input.credentials }),
  });
  const text = response.text;
  let parsed: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null) parsed = value as Record<string, unknown>;
  } catch {
    parsed = { error: text.slice(0, 500) };
  }
  return { status: response.status, body: parsed };
}
