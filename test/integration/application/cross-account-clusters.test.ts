// A cluster in another account and region (issue 13), through the lab's EKS API and sts:AssumeRole
// (lab/eks/): the runtime describes it as that account's role, assumed from the cluster role the stack
// names, and presigns its EKS tokens for the cluster's region; the lab's Kubernetes API server checks the
// token as EKS does (region of the STS host and scope, the signed x-k8s-aws-id, the access entry).
import { EKSClient } from '@aws-sdk/client-eks';
import { type EksApiServer, startEksApiServer } from '../../../lab/eks/eks-api-server.js';
import { createEksTokenAuthenticator } from '../../../lab/eks/eks-token-authenticator.js';
import {
  addRoleSession,
  allowAssumeRole,
  createLabIdentities,
  EXPIRY_CHECK_GROUP,
  type KubeIdentity,
  LAB_ACCOUNT_ID,
  ROTATOR_GROUP,
} from '../../../lab/eks/lab-identities.js';
import { type KubeApiServer, startKubeApiServer } from '../../../lab/kube/kube-api-server.js';
import { KubeObjectStore } from '../../../lab/kube/object-store.js';
import { createEksToken } from '../../../lambdas/adapters/eks/eks-token.js';
import { discoverClusters } from '../../../lambdas/adapters/eks/fleet-discovery.js';
import { connectEksCluster } from '../../../lambdas/adapters/kube/eks-cluster-connector.js';
import { NAMESPACES } from '../../../lambdas/adapters/kube/kube-objects.js';
import { readRotationConfig } from '../../../lambdas/application/config.js';
import { createRotationRuntime } from '../../../lambdas/application/runtime.js';

const MESH_REGION = 'eu-west-1';
const FAR_REGION = 'us-east-1';
const FAR_ACCOUNT = '222222222222';
const FAR_ROLE = `arn:aws:iam::${FAR_ACCOUNT}:role/meshtrust-payments-rotator`;
const FAR_ENTRY = `arn:aws:eks:${FAR_REGION}:${FAR_ACCOUNT}:cluster/far-1`;

interface LabCluster {
  readonly server: KubeApiServer;
  /** Who the API server took each request for, and the bearer tokens it got. */
  readonly callers: KubeIdentity[];
  readonly tokens: string[];
}

describe('a cluster in another account and region', () => {
  const identities = createLabIdentities({ clusterNames: ['home-1'] });
  // The function's own role (preflight's), which may assume the stack's cluster role, which may assume
  // the rotator role of the other account: that account's trust policy names the stack's RotatorRole.
  const fn = addRoleSession(identities, {
    name: 'preflight',
    principalArn: `arn:aws:iam::${LAB_ACCOUNT_ID}:role/PreflightRole`,
    sessionName: 'lambda',
  });
  allowAssumeRole(identities, identities.rotator.principalArn, [fn.principalArn]);
  allowAssumeRole(identities, FAR_ROLE, [identities.rotator.principalArn]);
  // far-1's access entry maps that account's role to meshtrust-rotator (docs/deploy.md).
  (identities.accessEntries as Map<string, ReadonlyMap<string, KubeIdentity>>).set(
    'far-1',
    new Map([[FAR_ROLE, { username: FAR_ROLE, groups: [ROTATOR_GROUP] }]]),
  );
  const clusters: Record<string, LabCluster> = {};
  let eks: EksApiServer;
  const savedEnv = { ...process.env };

  const startCluster = async (name: string, region: string): Promise<LabCluster> => {
    const callers: KubeIdentity[] = [];
    const tokens: string[] = [];
    const authenticate = createEksTokenAuthenticator({ clusterName: name, identities, region });
    const store = new KubeObjectStore();
    store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } });
    const server = await startKubeApiServer({
      clusterName: name,
      store,
      authenticate: async (token) => {
        tokens.push(token);
        const identity = await authenticate(token);
        if (identity !== undefined) callers.push(identity);
        return identity;
      },
      authorize: (identity) => identity.groups.length > 0,
    });
    return { server, callers, tokens };
  };

  beforeAll(async () => {
    clusters['home-1'] = await startCluster('home-1', MESH_REGION);
    clusters['far-1'] = await startCluster('far-1', FAR_REGION);
    const lab = (name: string) => ({
      name,
      endpoint: clusters[name].server.url,
      caPem: clusters[name].server.caPem,
      version: '1.32',
      tags: { 'meshtrust.io/mesh': 'payments' },
    });
    eks = await startEksApiServer({
      region: MESH_REGION,
      clusters: [lab('home-1'), { ...lab('far-1'), region: FAR_REGION, accountId: FAR_ACCOUNT }],
      identities,
    });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_EKS: eks.url,
      AWS_ENDPOINT_URL_STS: eks.url,
      AWS_ACCESS_KEY_ID: fn.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: fn.credentials.secretAccessKey,
      AWS_SESSION_TOKEN: fn.credentials.sessionToken,
      AWS_REGION: MESH_REGION,
      MESH_ID: 'payments',
      CLUSTER_ROLE_ARN: identities.rotator.principalArn,
      MESH_ACCOUNT_ID: LAB_ACCOUNT_ID,
    });
  });

  afterAll(async () => {
    process.env = savedEnv;
    await eks.stop();
    for (const cluster of Object.values(clusters)) await cluster.server.stop();
  });

  const runtimeFor = (clustersEnv: string, accountRoles = `${FAR_ACCOUNT}=${FAR_ROLE}`) => {
    process.env.CLUSTERS = clustersEnv;
    process.env.CLUSTER_ACCOUNT_ROLES = accountRoles;
    return createRotationRuntime(readRotationConfig(), {
      sessionName: 'meshtrust-preflight',
      connectCluster: connectEksCluster,
    });
  };

  it("is described in its account and region, and reached as that account's role with a token for its region", async () => {
    // Prepare
    const runtime = runtimeFor(`home-1,${FAR_ENTRY}`);
    try {
      // Act
      const fleet = await runtime.fleet();
      await (await runtime.clusterClient('far-1')).api.read(NAMESPACES, undefined, 'istio-system');
      await (await runtime.clusterClient('home-1')).api.read(NAMESPACES, undefined, 'istio-system');

      // Assess: DescribeCluster answered in the other account and region
      expect(fleet.map((cluster) => [cluster.name, cluster.arn])).toEqual([
        ['far-1', FAR_ENTRY],
        ['home-1', `arn:aws:eks:${MESH_REGION}:${LAB_ACCOUNT_ID}:cluster/home-1`],
      ]);
      // far-1 took the request for a session of its own account's role, in group meshtrust-rotator
      expect(clusters['far-1'].callers).toEqual([
        {
          username: `arn:aws:sts::${FAR_ACCOUNT}:assumed-role/meshtrust-payments-rotator/meshtrust-preflight`,
          groups: [ROTATOR_GROUP],
        },
      ]);
      expect(clusters['home-1'].callers).toEqual([
        {
          username: `arn:aws:sts::${LAB_ACCOUNT_ID}:assumed-role/meshtrust-rotator/meshtrust-preflight`,
          groups: [ROTATOR_GROUP],
        },
      ]);
      // The token is a GetCallerIdentity presigned for the cluster's region
      const url = new URL(
        Buffer.from(clusters['far-1'].tokens[0].slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'),
      );
      expect(url.host).toBe(`sts.${FAR_REGION}.amazonaws.com`);
      expect(url.searchParams.get('X-Amz-Credential')).toMatch(
        new RegExp(`/${FAR_REGION}/sts/aws4_request$`),
      );
    } finally {
      runtime.close();
    }
  });

  it("is refused to a token presigned for the mesh's region, and is not described by the function's own account", async () => {
    // Prepare: the same other-account session, but a token for eu-west-1 (what the runtime made before)
    const authenticate = createEksTokenAuthenticator({
      clusterName: 'far-1',
      identities,
      region: FAR_REGION,
    });
    const session = await (await import('@aws-sdk/credential-providers')).fromTemporaryCredentials({
      masterCredentials: fn.credentials,
      params: { RoleArn: identities.rotator.principalArn, RoleSessionName: 'meshtrust-preflight' },
      clientConfig: { region: MESH_REGION },
    })();
    const wrongRegion = await createEksToken({
      clusterName: 'far-1',
      region: MESH_REGION,
      credentials: session,
    });
    const ownAccount = new EKSClient({ region: FAR_REGION });

    // Act, Assess
    expect(await authenticate(wrongRegion.token)).toBeUndefined();
    await expect(
      discoverClusters({ eks: ownAccount, meshId: 'payments', explicitClusters: ['far-1'] }),
    ).rejects.toMatchObject({
      name: 'PreconditionFailed',
      message: expect.stringContaining('does not exist'),
    });
    ownAccount.destroy();
  });

  it("discovers by tag in the other account's region as that account's role, beside its own account's", async () => {
    // Prepare
    const runtime = runtimeFor(`*,arn:aws:eks:${FAR_REGION}:${FAR_ACCOUNT}:cluster/*`);
    const before = clusters['far-1'].callers.length;
    try {
      // Act
      const fleet = await runtime.fleet();
      await (await runtime.clusterClient('far-1')).api.read(NAMESPACES, undefined, 'istio-system');

      // Assess
      expect(fleet.map((cluster) => cluster.arn)).toEqual([
        FAR_ENTRY,
        `arn:aws:eks:${MESH_REGION}:${LAB_ACCOUNT_ID}:cluster/home-1`,
      ]);
      expect(clusters['far-1'].callers.slice(before)).toEqual([
        {
          username: `arn:aws:sts::${FAR_ACCOUNT}:assumed-role/meshtrust-payments-rotator/meshtrust-preflight`,
          groups: [ROTATOR_GROUP],
        },
      ]);
    } finally {
      runtime.close();
    }
  });

  it("without a cluster role (check-expiry), assumes the other account's expiry-check role as itself", async () => {
    // Prepare: check-expiry runs as the lab's expiry-check role, which that account's role trusts
    const expiryRole = `arn:aws:iam::${FAR_ACCOUNT}:role/meshtrust-payments-expiry-check`;
    allowAssumeRole(identities, expiryRole, [identities.expiryCheck.principalArn]);
    (identities.accessEntries.get('far-1') as Map<string, KubeIdentity>).set(expiryRole, {
      username: expiryRole,
      groups: [EXPIRY_CHECK_GROUP],
    });
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: identities.expiryCheck.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: identities.expiryCheck.credentials.secretAccessKey,
      AWS_SESSION_TOKEN: identities.expiryCheck.credentials.sessionToken,
      CLUSTERS: FAR_ENTRY,
      CLUSTER_ACCOUNT_ROLES: `${FAR_ACCOUNT}=${expiryRole}`,
    });
    delete process.env.CLUSTER_ROLE_ARN;
    const runtime = createRotationRuntime(readRotationConfig(), {
      sessionName: 'meshtrust-check-expiry',
      connectCluster: connectEksCluster,
    });
    const before = clusters['far-1'].callers.length;
    try {
      // Act
      await (await runtime.clusterClient('far-1')).api.read(NAMESPACES, undefined, 'istio-system');

      // Assess
      expect(clusters['far-1'].callers.slice(before)).toEqual([
        {
          username: `arn:aws:sts::${FAR_ACCOUNT}:assumed-role/meshtrust-payments-expiry-check/meshtrust-check-expiry`,
          groups: [EXPIRY_CHECK_GROUP],
        },
      ]);
    } finally {
      runtime.close();
      process.env = saved;
    }
  });

  it('refuses at preflight a cluster of an account it has no role for (a mistyped account id), naming the entry', async () => {
    // Prepare
    const typo = `arn:aws:eks:${FAR_REGION}:222222222223:cluster/far-1`;
    const runtime = runtimeFor(`home-1,${typo}`);
    try {
      // Act, Assess
      await expect(runtime.fleet()).rejects.toMatchObject({
        name: 'PreconditionFailed',
        message: expect.stringContaining(`"${typo}" is in account 222222222223`),
      });
    } finally {
      runtime.close();
    }
  });

  it("fails when the other account's role does not trust the cluster role", async () => {
    // Prepare: the account's trust names another role
    allowAssumeRole(identities, FAR_ROLE, [fn.principalArn]);
    const runtime = runtimeFor(FAR_ENTRY);
    try {
      // Act, Assess
      await expect(runtime.fleet()).rejects.toThrow(/not authorized to perform: sts:AssumeRole/);
    } finally {
      runtime.close();
      allowAssumeRole(identities, FAR_ROLE, [identities.rotator.principalArn]);
    }
  });
});
