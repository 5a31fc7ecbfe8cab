import { getTokenWithAwsCli } from '../../../lab/eks/aws-cli-token.js';
import { verifyEksToken } from '../../../lab/eks/eks-token-authenticator.js';
import { createLabIdentities, ROTATOR_GROUP } from '../../../lab/eks/lab-identities.js';
import { createEksToken } from '../../../lambdas/adapters/eks/eks-token.js';

const REGION = 'eu-west-1';
const CLUSTER = 'alpha';
const identities = createLabIdentities({ clusterNames: [CLUSTER] });

const tokenUrl = (token: string): URL => {
  expect(token.startsWith('k8s-aws-v1.')).toBe(true);
  const encoded = token.slice('k8s-aws-v1.'.length);
  expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
  return new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
};
const signingDateOf = (url: URL): Date =>
  new Date(
    (url.searchParams.get('X-Amz-Date') ?? '').replace(
      /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/,
      '$1-$2-$3T$4:$5:$6Z',
    ),
  );
// What does not depend on the moment of signing: the parameters, and the values of all but date and signature.
const shapeOf = (url: URL) => ({
  origin: url.origin,
  path: url.pathname,
  parameterNames: [...url.searchParams.keys()].sort(),
  parameters: Object.fromEntries(
    [...url.searchParams].filter(([key]) => key !== 'X-Amz-Date' && key !== 'X-Amz-Signature'),
  ),
});

describe('createEksToken', () => {
  let awsCliToken: string;

  beforeAll(async () => {
    const credential = await getTokenWithAwsCli({
      identity: identities.rotator,
      region: REGION,
      clusterName: CLUSTER,
    });
    awsCliToken = credential.status.token;
  }, 30_000);

  it('presigns the same STS request as `aws eks get-token`: parameters, signed headers, 60 s', async () => {
    // Prepare
    const awsCliUrl = tokenUrl(awsCliToken);

    // Act
    const ours = await createEksToken({
      clusterName: CLUSTER,
      region: REGION,
      credentials: identities.rotator.credentials,
    });

    // Assess
    const ourUrl = tokenUrl(ours.token);
    expect(shapeOf(ourUrl)).toEqual(shapeOf(awsCliUrl));
    expect(ourUrl.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(ourUrl.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(ourUrl.searchParams.get('Action')).toBe('GetCallerIdentity');
  });

  it('produces the very token awscli produced when signing at the same second', async () => {
    // Prepare
    const awsCliSigningDate = signingDateOf(tokenUrl(awsCliToken));

    // Act
    const ours = await createEksToken({
      clusterName: CLUSTER,
      region: REGION,
      credentials: identities.rotator.credentials,
      now: awsCliSigningDate,
    });

    // Assess
    expect(ours.token).toBe(awsCliToken);
  });

  it('makes a token the lab cluster accepts as the rotator, refreshed 14 minutes after signing', async () => {
    // Prepare
    const now = new Date();

    // Act
    const ours = await createEksToken({
      clusterName: CLUSTER,
      region: REGION,
      credentials: identities.rotator.credentials,
      now,
    });
    const verdict = await verifyEksToken(ours.token, { clusterName: CLUSTER, identities, region: REGION });

    // Assess
    expect(verdict).toEqual({
      ok: true,
      callerArn: identities.rotator.arn,
      kubeIdentity: { username: identities.rotator.arn, groups: [ROTATOR_GROUP] },
    });
    expect(ours.expiresAt.getTime() - now.getTime()).toBe(14 * 60_000);
  });

  it('takes credentials from the default AWS credential chain when none are given', async () => {
    // Prepare
    const saved = { ...process.env };
    process.env.AWS_ACCESS_KEY_ID = identities.rotator.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = identities.rotator.credentials.secretAccessKey;
    process.env.AWS_SESSION_TOKEN = identities.rotator.credentials.sessionToken;

    try {
      // Act
      const ours = await createEksToken({ clusterName: CLUSTER, region: REGION });

      // Assess
      const verdict = await verifyEksToken(ours.token, { clusterName: CLUSTER, identities, region: REGION });
      expect(verdict.ok).toBe(true);
      expect(tokenUrl(ours.token).searchParams.get('X-Amz-Credential')).toMatch(
        new RegExp(`^${identities.rotator.credentials.accessKeyId}/\\d{8}/${REGION}/sts/aws4_request$`),
      );
    } finally {
      process.env = saved;
    }
  });
});
