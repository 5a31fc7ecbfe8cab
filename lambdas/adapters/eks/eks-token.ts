// An EKS bearer token, made the way `aws eks get-token` makes it (awscli
// customizations/eks/get_token.py): a SigV4-presigned `GET https://sts.<region>.amazonaws.com/
// ?Action=GetCallerIdentity&Version=2011-06-15` with the header `x-k8s-aws-id: <cluster name>` signed
// (it stays a header, so the cluster can only check it by sending the same value to STS), presigned
// for 60 seconds, then `k8s-aws-v1.` + base64url of the URL without padding. Nothing is sent: the
// cluster forwards the URL to STS, which answers with the caller's identity.
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';

/** X-Amz-Expires as awscli sets it; STS ignores it and honours the URL for 15 minutes. */
const PRESIGN_EXPIRES_SECONDS = 60;
/** awscli and client-go refresh a token 14 minutes after signing, one minute before STS stops honouring it. */
const TOKEN_LIFETIME_MS = 14 * 60 * 1000;

const QUERY_ORDER = [
  'Action',
  'Version',
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Security-Token',
  'X-Amz-Signature',
];

export interface CreateEksTokenOptions {
  /** The cluster name (what EKS puts in `x-k8s-aws-id` when it checks the token). */
  readonly clusterName: string;
  /** Region of the STS endpoint to presign for; use the cluster's region. */
  readonly region: string;
  /** @default the AWS SDK's default Node.js credential chain (environment, profile, container, instance) */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** @default the current time */
  readonly now?: Date;
}

export interface EksToken {
  readonly token: string;
  /** When to make a new token (as `aws eks get-token` reports it): 14 minutes after signing. */
  readonly expiresAt: Date;
}

/** Makes a bearer token for the Kubernetes API of an EKS cluster. */
export async function createEksToken(options: CreateEksTokenOptions): Promise<EksToken> {
  const signingDate = options.now ?? new Date();
  const hostname = stsHostname(options.region);
  const signer = new SignatureV4({
    credentials: options.credentials ?? fromNodeProviderChain(),
    region: options.region,
    service: 'sts',
    sha256: Sha256,
  });
  const presigned = await signer.presign(
    new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      headers: { host: hostname, [CLUSTER_ID_HEADER]: options.clusterName },
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    }),
    { signingDate, expiresIn: PRESIGN_EXPIRES_SECONDS },
  );
  // Percent-encoding (not form encoding, which turns spaces into '+') in botocore's parameter order,
  // so that the URL reads like awscli's; the order does not matter to the signature.
  const parameters = presigned.query ?? {};
  const query = [...QUERY_ORDER, ...Object.keys(parameters).filter((key) => !QUERY_ORDER.includes(key))]
    .filter((key) => typeof parameters[key] === 'string')
    .map((key) => `${encodeURIComponent(key)}=${encodeURIComponent(parameters[key] as string)}`)
    .join('&');
  const url = `https://${hostname}/?${query}`;
  return {
    token: EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url'),
    expiresAt: new Date(signingDate.getTime() + TOKEN_LIFETIME_MS),
  };
}

/** The regional STS endpoint (awscli v1 >= 1.x and v2 presign against it, not the global one). */
function stsHostname(region: string): string {
  const dnsSuffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `sts.${region}.${dnsSuffix}`;
}
