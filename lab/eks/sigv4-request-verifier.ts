// Checks the SigV4 Authorization header of a request to a lab AWS API, as AWS does: the access key
// must be known, the date within 15 minutes, and the signature must be the one the lab computes with
// that key's secret over the same request. Recomputed with @smithy/signature-v4 (the signer the SDK
// itself uses), never by hand.
import type { IncomingHttpHeaders } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { findIdentityByAccessKeyId, type LabIdentities, type LabIdentity } from './lab-identities.js';
import { parseAmzDate, signaturesEqual } from './sigv4-helpers.js';

const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

export interface ReceivedRequest {
  readonly method: string;
  /** The request target as received (path and raw query), e.g. `/clusters?maxResults=2`. */
  readonly target: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** An AWS error code (as in `x-amzn-ErrorType`) and its message, for a refused request. */
export interface SigV4Refusal {
  readonly ok: false;
  readonly errorType: string;
  readonly message: string;
}

/** An accepted request: who signed it, and for which region (its credential scope's, as AWS routes it). */
export type SigV4Verdict =
  | { readonly ok: true; readonly identity: LabIdentity; readonly region: string }
  | SigV4Refusal;

const refuse = (errorType: string, message: string): SigV4Refusal => ({ ok: false, errorType, message });

const AUTHORIZATION_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

export async function verifySigV4Request(
  request: ReceivedRequest,
  options: { readonly identities: LabIdentities; readonly service: string; readonly now?: () => Date },
): Promise<SigV4Verdict> {
  const authorization = request.headers.authorization;
  if (!authorization) {
    return refuse('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const match = AUTHORIZATION_PATTERN.exec(authorization);
  if (!match) {
    return refuse(
      'IncompleteSignatureException',
      'The Authorization header is not a SigV4 AWS4-HMAC-SHA256 header.',
    );
  }
  const [, accessKeyId, scopeDate, region, service, signedHeaderList, signature] = match;
  const identity = findIdentityByAccessKeyId(options.identities, accessKeyId);
  if (!identity) {
    return refuse('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  const amzDate = firstHeader(request.headers['x-amz-date']);
  const signingDate = amzDate ? parseAmzDate(amzDate) : undefined;
  if (!signingDate || amzDate?.slice(0, 8) !== scopeDate) {
    return refuse(
      'IncompleteSignatureException',
      'X-Amz-Date is missing or does not match the credential scope.',
    );
  }
  const now = (options.now ?? (() => new Date()))().getTime();
  if (Math.abs(now - signingDate.getTime()) > MAX_CLOCK_SKEW_MS) {
    return refuse('InvalidSignatureException', 'Signature expired: X-Amz-Date is more than 15 minutes off.');
  }
  if (service !== options.service) {
    return refuse(
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${options.service}'.`,
    );
  }

  const signedHeaders = signedHeaderList.split(';');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = request.headers[name];
    if (value === undefined) {
      return refuse('InvalidSignatureException', `Signed header ${name} is missing from the request.`);
    }
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const [path, rawQuery = ''] = request.target.split('?', 2);
  // applyChecksum off: the signer must not add an x-amz-content-sha256 header the client never sent
  // (awscli does not send it; the JS SDK does, and then it is among the signed headers passed here).
  const signer = new SignatureV4({
    credentials: identity.credentials,
    region,
    service,
    sha256: Sha256,
    applyChecksum: false,
  });
  const resigned = await signer.sign(
    new HttpRequest({
      method: request.method,
      protocol: 'http:',
      hostname: (headers.host ?? '').split(':')[0],
      path,
      query: parseQuery(rawQuery),
      headers,
      body: request.body.length > 0 ? request.body : undefined,
    }),
    { signingDate, signingRegion: region, signingService: service, signableHeaders: new Set(signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]{64})$/.exec(String(resigned.headers.authorization ?? ''))?.[1] ?? '';
  const expectedHeaders = /SignedHeaders=([^,]+),/.exec(String(resigned.headers.authorization ?? ''))?.[1];
  if (expectedHeaders !== signedHeaderList || !signaturesEqual(signature, expected)) {
    return refuse(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
  return { ok: true, identity, region };
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseQuery(rawQuery: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(rawQuery)) {
    const previous = query[key];
    query[key] =
      previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return query;
}
