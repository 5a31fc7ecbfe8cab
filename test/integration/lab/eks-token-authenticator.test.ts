import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { getTokenWithAwsCli } from '../../../lab/eks/aws-cli-token.js';
import {
  createEksTokenAuthenticator,
  type EksTokenAuthenticatorOptions,
  verifyEksToken,
} from '../../../lab/eks/eks-token-authenticator.js';
import { createLabIdentities, ROTATOR_GROUP, VIEWER_GROUP } from '../../../lab/eks/lab-identities.js';

const REGION = 'eu-west-1';
const identities = createLabIdentities({ clusterNames: ['alpha', 'beta'] });
const alpha: EksTokenAuthenticatorOptions = { clusterName: 'alpha', identities, region: REGION };

const decodeTokenUrl = (token: string): URL =>
  new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
const encodeTokenUrl = (url: URL): string =>
  `k8s-aws-v1.${Buffer.from(url.toString()).toString('base64url')}`;
const signingDateOf = (token: string): Date => {
  const amzDate = decodeTokenUrl(token).searchParams.get('X-Amz-Date') ?? '';
  return new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
};

describe('EKS token authenticator (lab)', () => {
  let rotatorToken: string;
  let viewerToken: string;
  let outsiderToken: string;
  let rotatorTokenForBeta: string;
  let rotatorTokenOtherRegion: string;
  let strangerToken: string;

  beforeAll(async () => {
    const stranger = createLabIdentities({ clusterNames: ['alpha'] }).rotator;
    const tokens = await Promise.all([
      getTokenWithAwsCli({ identity: identities.rotator, region: REGION, clusterName: 'alpha' }),
      getTokenWithAwsCli({ identity: identities.viewer, region: REGION, clusterName: 'alpha' }),
      getTokenWithAwsCli({ identity: identities.outsider, region: REGION, clusterName: 'alpha' }),
      getTokenWithAwsCli({ identity: identities.rotator, region: REGION, clusterName: 'beta' }),
      getTokenWithAwsCli({ identity: identities.rotator, region: 'us-west-2', clusterName: 'alpha' }),
      getTokenWithAwsCli({ identity: stranger, region: REGION, clusterName: 'alpha' }),
    ]);
    [rotatorToken, viewerToken, outsiderToken, rotatorTokenForBeta, rotatorTokenOtherRegion, strangerToken] =
      tokens.map((credential) => credential.status.token);
  }, 60_000);

  it('accepts a token from `aws eks get-token` and maps the rotator to its group', async () => {
    // Prepare
    const authenticate = createEksTokenAuthenticator(alpha);

    // Act
    const identity = await authenticate(rotatorToken);

    // Assess
    expect(identity).toEqual({ username: identities.rotator.arn, groups: [ROTATOR_GROUP] });
  });

  it('maps the viewer to the viewer group and an identity without access entry to no group', async () => {
    // Prepare
    const authenticate = createEksTokenAuthenticator(alpha);

    // Act
    const viewer = await authenticate(viewerToken);
    const outsider = await authenticate(outsiderToken);

    // Assess
    expect(viewer).toEqual({ username: identities.viewer.arn, groups: [VIEWER_GROUP] });
    expect(outsider).toEqual({ username: identities.outsider.arn, groups: [] });
  });

  it('accepts a token 14 minutes after signing although awscli presigns for 60 seconds, as EKS does', async () => {
    // Prepare
    const fourteenMinutesLater = new Date(signingDateOf(rotatorToken).getTime() + 14 * 60_000);

    // Act
    const verdict = await verifyEksToken(rotatorToken, { ...alpha, now: () => fourteenMinutesLater });

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it('refuses a token more than 15 minutes after its X-Amz-Date', async () => {
    // Prepare
    const justExpired = new Date(signingDateOf(rotatorToken).getTime() + 15 * 60_000 + 1_000);
    const refused: string[] = [];
    const authenticate = createEksTokenAuthenticator({
      ...alpha,
      now: () => justExpired,
      onRefused: (reason) => refused.push(reason),
    });

    // Act
    const identity = await authenticate(rotatorToken);

    // Assess
    expect(identity).toBeUndefined();
    expect(refused).toEqual([expect.stringMatching(/expired/)]);
  });

  it('refuses a token whose signature was tampered with', async () => {
    // Prepare
    const url = decodeTokenUrl(rotatorToken);
    const signature = url.searchParams.get('X-Amz-Signature') ?? '';
    url.searchParams.set('X-Amz-Signature', `${signature[0] === '0' ? '1' : '0'}${signature.slice(1)}`);

    // Act
    const verdict = await verifyEksToken(encodeTokenUrl(url), alpha);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: expect.stringMatching(/signature does not match/) });
  });

  it('refuses a token made for another cluster (x-k8s-aws-id signed as beta)', async () => {
    // Act
    const verdict = await verifyEksToken(rotatorTokenForBeta, alpha);
    const sameTokenAtBeta = await verifyEksToken(rotatorTokenForBeta, { ...alpha, clusterName: 'beta' });

    // Assess
    expect(verdict).toEqual({ ok: false, reason: expect.stringMatching(/signature does not match/) });
    expect(sameTokenAtBeta.ok).toBe(true);
  });

  it('refuses a token signed with an access key the lab does not know', async () => {
    // Act
    const verdict = await verifyEksToken(strangerToken, alpha);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: expect.stringMatching(/access key is not known/) });
  });

  it('refuses a token presigned for an STS host outside the lab region', async () => {
    // Act
    const verdict = await verifyEksToken(rotatorTokenOtherRegion, alpha);

    // Assess
    expect(verdict).toEqual({
      ok: false,
      reason: expect.stringMatching(/unexpected STS host sts\.us-west-2/),
    });
  });

  it('refuses a correctly signed token that did not sign the x-k8s-aws-id header', async () => {
    // Prepare
    const hostname = `sts.${REGION}.amazonaws.com`;
    const signer = new SignatureV4({
      credentials: identities.rotator.credentials,
      region: REGION,
      service: 'sts',
      sha256: Sha256,
    });
    const presigned = await signer.presign(
      new HttpRequest({
        method: 'GET',
        protocol: 'https:',
        hostname,
        path: '/',
        headers: { host: hostname },
        query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      }),
      { expiresIn: 60 },
    );
    const url = new URL(`https://${hostname}/`);
    for (const [key, value] of Object.entries(presigned.query ?? {})) {
      url.searchParams.set(key, String(value));
    }

    // Act
    const verdict = await verifyEksToken(encodeTokenUrl(url), alpha);

    // Assess
    expect(verdict).toEqual({
      ok: false,
      reason: expect.stringMatching(/did not sign the x-k8s-aws-id header/),
    });
  });

  it('refuses tokens that are not EKS tokens at all', async () => {
    // Prepare
    const authenticate = createEksTokenAuthenticator(alpha);

    // Act
    const results = await Promise.all([
      authenticate('not-a-token'),
      authenticate('k8s-aws-v1.!!!'),
      authenticate(`k8s-aws-v1.${'A'.repeat(5000)}`),
      authenticate(rotatorToken.replace('k8s-aws-v1.', 'k8s-aws-v2.')),
    ]);

    // Assess
    expect(results).toEqual([undefined, undefined, undefined, undefined]);
  });
});
