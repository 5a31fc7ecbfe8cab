import * as z from '../adapters/zod.js';
import type { ApprovalAnswer } from '../contract/approval.js';

const REASON_MAX = 512;

/**
 * A Lambda function URL request (payload 2.0) with AWS_IAM auth: Lambda checked the SigV4 signature
 * and `lambda:InvokeFunctionUrl` before invoking, and wrote the signer's identity into
 * `requestContext.authorizer.iam`. Only that identity is read, never one from the body.
 */
const functionUrlEventSchema = z.object({
  requestContext: z.object({
    http: z.object({ method: z.string() }),
    authorizer: z.optional(
      z.object({
        iam: z.optional(
          z.object({ userArn: z.string().check(z.minLength(1)), accountId: z.optional(z.string()) }),
        ),
      }),
    ),
  }),
  body: z.optional(z.string()),
  isBase64Encoded: z.optional(z.boolean()),
});

const answerSchema = z.strictObject({
  execution: z.string().check(z.minLength(1), z.maxLength(2048)),
  verdict: z.enum(['approve', 'reject']),
  reason: z.optional(z.string().check(z.maxLength(REASON_MAX))),
}) satisfies z.ZodMiniType<ApprovalAnswer>;

export interface FunctionUrlResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The approver Lambda verified and the answer the body holds, or the response that refuses the request. */
export type ApprovalRequest =
  | { readonly ok: true; readonly approver: string; readonly answer: ApprovalAnswer }
  | { readonly ok: false; readonly response: FunctionUrlResponse };

/**
 * answer-approval's event read: 400 not a function URL request or an invalid answer, 403 no verified
 * identity (without AWS_IAM auth there is none: refused rather than record a claim), 405 not a POST.
 */
export function parseApprovalRequest(event: unknown): ApprovalRequest {
  const request = functionUrlEventSchema.safeParse(event);
  if (!request.success) return refused(400, 'not a function URL request');
  const approver = request.data.requestContext.authorizer?.iam?.userArn;
  if (approver === undefined) {
    return refused(403, 'no IAM identity: call the approval URL with a SigV4-signed request');
  }
  if (request.data.requestContext.http.method !== 'POST') return refused(405, 'POST only');
  const answer = answerSchema.safeParse(parseBody(request.data.body, request.data.isBase64Encoded));
  if (!answer.success) {
    const problems = answer.error.issues.map(
      (issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`,
    );
    return refused(400, `invalid answer (${problems.join('; ')})`);
  }
  return { ok: true, approver, answer: answer.data };
}

export function respond(statusCode: number, body: Readonly<Record<string, unknown>>): FunctionUrlResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function refused(statusCode: number, error: string): ApprovalRequest {
  return { ok: false, response: respond(statusCode, { error }) };
}

function parseBody(body: string | undefined, base64: boolean | undefined): unknown {
  if (body === undefined) return undefined;
  try {
    return JSON.parse(base64 === true ? Buffer.from(body, 'base64').toString('utf8') : body);
  } catch {
    return undefined;
  }
}
