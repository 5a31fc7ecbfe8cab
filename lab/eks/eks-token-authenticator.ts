// Validates EKS bearer tokens (`k8s-aws-v1.` + base64url of a presigned STS GetCallerIdentity URL)
// offline, the way EKS does. EKS (aws-iam-authenticator) checks the URL's shape, then sends it to STS
// with the header `x-k8s-aws-id: <its own cluster name>`; STS recomputes the SigV4 signature over that
// header. The lab has no STS, but it knows every secret key, so it recomputes the presign itself: a
// token minted for another cluster signed another header value and fails the comparison, as in AWS.
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  findIdentityByAccessKeyId,
  type KubeIdentity,
  kubeIdentityFor,
  type LabIdentities,
  type LabIdentity,
} from './lab-identities.js';
import { parseAmzDate, signaturesEqual } from './sigv4-helpers.js';

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';

/** STS honours a presigned GetCallerIdentity URL for 15 minutes after X-Amz-Date, whatever X-Amz-Expires says. */
export const PRESIGNED_URL_LIFETIME_MS = 15 * 60 * 1000;

// aws-iam-authenticator's limits: tokens up to 4 KiB, only these query parameters, X-Amz-Expires 0..900.
const MAX_TOKEN_LENGTH = 4096;
const MAX_EXPIRES_SECONDS = 900;
const ALLOWED_QUERY_PARAMETERS = new Set([
  'action',
  'version',
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-security-token',
  'x-amz-signature',
  'x-amz-signedheaders',
]);

export interface EksTokenAuthenticatorOptions {
  /** The cluster this API server is; a token must have signed `x-k8s-aws-id` with this value. */
  readonly clusterName: string;
  readonly identities: LabIdentities;
  /** The lab's region: tokens may name the global STS host or this region's host. */
  readonly region: string;
  /** Clock for expiry checks; tests inject a later time to expire a really signed token. */
  readonly now?: () => Date;
  /** Told why a token was refused (for the API server's log; never includes the token). */
  readonly onRefused?: (reason: string) => void;
}

export type EksTokenVerdict =
  // The caller's ARN, never the lab identity itself: a verdict may end up in a log, its secret must not.
  | { readonly ok: true; readonly callerArn: string; readonly kubeIdentity: KubeIdentity }
  | { readonly ok: false; readonly reason: string };

export type EksTokenAuthenticator = (bearerToken: string) => Promise<KubeIdentity | undefined>;

/** A Kubernetes authenticator for one lab cluster: the identity for a valid token, otherwise undefined (401). */
export function createEksTokenAuthenticator(options: EksTokenAuthenticatorOptions): EksTokenAuthenticator {
  return async (bearerToken) => {
    const verdict = await verifyEksToken(bearerToken, options);
    if (verdict.ok) {
      return verdict.kubeIdentity;
    }
    options.onRefused?.(verdict.reason);
    return undefined;
  };
}

const refuse = (reason: string): EksTokenVerdict => ({ ok: false, reason });

/** Checks one token and says why it is refused; exported so tests can tell one refusal from another. */
export async function verifyEksToken(
  bearerToken: string,
  options: EksTokenAuthenticatorOptions,
): Promise<EksTokenVerdict> {
  const url = decodeToken(bearerToken);
  if (typeof url === 'string') {
    return refuse(url);
  }
  const hostProblem = checkHost(url, options.region);
  if (hostProblem) {
    return refuse(hostProblem);
  }

  const query = new Map<string, string>();
  for (const [key, value] of url.searchParams) {
    if (!ALLOWED_QUERY_PARAMETERS.has(key.toLowerCase())) {
      return refuse(`query parameter ${key} is not allowed in an EKS token`);
    }
    if (query.has(key)) {
      return refuse(`query parameter ${key} appears more than once`);
    }
    query.set(key, value);
  }
  if (query.get('Action') !== 'GetCallerIdentity' || query.get('Version') !== '2011-06-15') {
    return refuse('the presigned request is not sts:GetCallerIdentity version 2011-06-15');
  }
  if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') {
    return refuse('X-Amz-Algorithm is not AWS4-HMAC-SHA256');
  }
  const signedHeaders = (query.get('X-Amz-SignedHeaders') ?? '').split(';');
  if (!signedHeaders.includes(CLUSTER_ID_HEADER)) {
    return refuse(`the token did not sign the ${CLUSTER_ID_HEADER} header`);
  }
  const expiresText = query.get('X-Amz-Expires') ?? '';
  const expires = Number(expiresText);
  if (!/^\d+$/.test(expiresText) || expires > MAX_EXPIRES_SECONDS) {
    return refuse(`X-Amz-Expires must be 0..${MAX_EXPIRES_SECONDS}, got "${expiresText}"`);
  }
  const signingDate = parseAmzDate(query.get('X-Amz-Date') ?? '');
  if (!signingDate) {
    return refuse('X-Amz-Date is missing or not in the form YYYYMMDDTHHMMSSZ');
  }
  const now = (options.now ?? (() => new Date()))().getTime();
  if (now > signingDate.getTime() + PRESIGNED_URL_LIFETIME_MS) {
    return refuse('the token is expired (15 minutes after X-Amz-Date)');
  }
  if (signingDate.getTime() > now + PRESIGNED_URL_LIFETIME_MS) {
    return refuse('X-Amz-Date is more than 15 minutes in the future');
  }

  const scope = parseCredentialScope(query.get('X-Amz-Credential') ?? '');
  if (!scope) {
    return refuse('X-Amz-Credential is not <access key>/<date>/<region>/sts/aws4_request');
  }
  const expectedScopeRegion = url.hostname === 'sts.amazonaws.com' ? 'us-east-1' : options.region;
  if (scope.region !== expectedScopeRegion || scope.date !== query.get('X-Amz-Date')?.slice(0, 8)) {
    return refuse('the credential scope does not match the STS host region or the signing date');
  }
  const identity = findIdentityByAccessKeyId(options.identities, scope.accessKeyId);
  if (!identity) {
    return refuse('the access key is not known to the lab');
  }

  const expected = await presignAsIdentity(identity, {
    hostname: url.hostname,
    clusterName: options.clusterName,
    region: scope.region,
    signingDate,
    expiresIn: expires,
  });
  // Every parameter the token carries must be one we would produce, with the same value; the
  // signature is then the only thing left to compare.
  for (const [key, value] of query) {
    if (key === 'X-Amz-Signature') {
      continue;
    }
    if (expected[key] !== value) {
      return refuse(`query parameter ${key} differs from what the lab credentials produce`);
    }
  }
  for (const key of Object.keys(expected)) {
    if (!query.has(key)) {
      return refuse(`query parameter ${key} is missing`);
    }
  }
  if (!signaturesEqual(query.get('X-Amz-Signature') ?? '', expected['X-Amz-Signature'] ?? '')) {
    return refuse(
      `the signature does not match (forged, or made for a cluster other than ${options.clusterName})`,
    );
  }
  return {
    ok: true,
    callerArn: identity.arn,
    kubeIdentity: kubeIdentityFor(options.identities, options.clusterName, identity),
  };
}

function decodeToken(bearerToken: string): URL | string {
  if (bearerToken.length > MAX_TOKEN_LENGTH) {
    return 'the token is longer than 4096 characters';
  }
  if (!bearerToken.startsWith(EKS_TOKEN_PREFIX)) {
    return `the token does not start with ${EKS_TOKEN_PREFIX}`;
  }
  const encoded = bearerToken.slice(EKS_TOKEN_PREFIX.length);
  // Node's base64url decoder skips invalid characters; EKS uses strict unpadded base64url.
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) {
    return 'the token is not unpadded base64url';
  }
  try {
    return new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return 'the token does not decode to a URL';
  }
}

function checkHost(url: URL, region: string): string | undefined {
  if (url.protocol !== 'https:') {
    return 'the presigned URL is not https';
  }
  const allowedHosts = ['sts.amazonaws.com', `sts.${region}.amazonaws.com`];
  if (!allowedHosts.includes(url.host) || url.username || url.password) {
    return `unexpected STS host ${url.host}; expected one of ${allowedHosts.join(', ')}`;
  }
  if (url.pathname !== '/' || url.hash) {
    return 'the presigned URL has a path other than /';
  }
  return undefined;
}

function parseCredentialScope(
  credential: string,
): { accessKeyId: string; date: string; region: string } | undefined {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[3] !== 'sts' || parts[4] !== 'aws4_request') {
    return undefined;
  }
  return { accessKeyId: parts[0], date: parts[1], region: parts[2] };
}

async function presignAsIdentity(
  identity: LabIdentity,
  request: { hostname: string; clusterName: string; region: string; signingDate: Date; expiresIn: number },
): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    credentials: identity.credentials,
    region: request.region,
    service: 'sts',
    sha256: Sha256,
  });
  const presigned = await signer.presign(
    new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname: request.hostname,
      path: '/',
      headers: { host: request.hostname, [CLUSTER_ID_HEADER]: request.clusterName },
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    }),
    { signingDate: request.signingDate, expiresIn: request.expiresIn },
  );
  const query: Record<string, string> = {};
  for (const [key, value] of Object.entries(presigned.query ?? {})) {
    if (typeof value === 'string') {
      query[key] = value;
    }
  }
  return query;
}
