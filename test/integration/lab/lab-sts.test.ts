// The lab's sts:AssumeRole, called the way the handlers call it (the SDK's fromTemporaryCredentials,
// the STS endpoint from AWS_ENDPOINT_URL_STS): a trusted role gets a session of the cluster role that the
// lab's Kubernetes authenticator maps to that role's groups; anyone else is refused as STS refuses.
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { type EksApiServer, startEksApiServer } from '../../../lab/eks/eks-api-server.js';
import { createEksTokenAuthenticator } from '../../../lab/eks/eks-token-authenticator.js';
import {
  addRoleSession,
  allowAssumeRole,
  createLabIdentities,
  type LabCredentials,
  ROTATOR_GROUP,
} from '../../../lab/eks/lab-identities.js';
import { createEksToken } from '../../../lambdas/adapters/eks/eks-token.js';

const REGION = 'eu-west-1';

describe("the lab's sts:AssumeRole", () => {
  const identities = createLabIdentities({ clusterNames: ['alpha'] });
  const fn = addRoleSession(identities, {
    name: 'verify-trust',
    principalArn: 'arn:aws:iam::000000000000:role/VerifyTrustRole',
    sessionName: 'meshtrust-payments-verify-trust',
  });
  allowAssumeRole(identities, identities.rotator.principalArn, [fn.principalArn]);
  let server: EksApiServer;
  const saved = process.env.AWS_ENDPOINT_URL_STS;
  const assume = (credentials: LabCredentials, sessionName = 'meshtrust-verify-trust') =>
    fromTemporaryCredentials({
      masterCredentials: credentials,
      params: { RoleArn: identities.rotator.principalArn, RoleSessionName: sessionName },
      clientConfig: { region: REGION, maxAttempts: 1 },
    })();

  beforeAll(async () => {
    server = await startEksApiServer({ region: REGION, clusters: [], identities });
    process.env.AWS_ENDPOINT_URL_STS = server.url;
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_STS;
    else process.env.AWS_ENDPOINT_URL_STS = saved;
    await server.stop();
  });

  it('gives a trusted role a session of the cluster role, which the cluster maps to meshtrust-rotator', async () => {
    // Act
    const credentials = await assume(fn.credentials);
    const { token } = await createEksToken({ clusterName: 'alpha', region: REGION, credentials });
    const kubeIdentity = await createEksTokenAuthenticator({
      clusterName: 'alpha',
      identities,
      region: REGION,
    })(token);

    // Assess
    expect(credentials.accessKeyId).not.toBe(fn.credentials.accessKeyId);
    expect(credentials.accessKeyId).not.toBe(identities.rotator.credentials.accessKeyId);
    expect(kubeIdentity).toEqual({
      username: 'arn:aws:sts::000000000000:assumed-role/meshtrust-rotator/meshtrust-verify-trust',
      groups: [ROTATOR_GROUP],
    });
  });

  it("refuses a role the cluster role's trust does not name, and a session name STS would refuse", async () => {
    // Act, Assess
    await expect(assume(identities.outsider.credentials)).rejects.toMatchObject({
      name: 'AccessDenied',
      message: expect.stringContaining('is not authorized to perform: sts:AssumeRole'),
    });
    await expect(assume(fn.credentials, 'a/b')).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('refuses a caller whose signature it cannot verify', async () => {
    // Act
    const forged = await assume({ ...fn.credentials, secretAccessKey: 'not-the-secret' }).catch(
      (e: Error) => e,
    );

    // Assess
    expect(forged).toBeInstanceOf(Error);
    expect((forged as Error).message).toMatch(/signature/i);
  });
});
