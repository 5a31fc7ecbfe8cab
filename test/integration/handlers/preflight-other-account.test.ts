// preflight with one cluster in another account (issue 13), against moto (the CA store, in the mesh's
// account) and the lab: lab-2 is moved into account 222222222222 behind an EKS API that answers for it
// only to that account's callers, and only that account's role is mapped in it. preflight reads it as
// that role, assumed from its own through the lab's sts:AssumeRole, exactly as a deployed function would.
import { type EksApiServer, startEksApiServer } from '../../../lab/eks/eks-api-server.js';
import {
  allowAssumeRole,
  type KubeIdentity,
  LAB_ACCOUNT_ID,
  ROTATOR_GROUP,
} from '../../../lab/eks/lab-identities.js';
import { handler as preflight } from '../../../lambdas/handlers/preflight.js';
import { expectNoKeyMaterial, type HandlerLab, startHandlerLab, withEnv } from './handler-lab.js';

const FAR_ACCOUNT = '222222222222';

let h: HandlerLab;
let eks: EksApiServer;
let farRole: string;
let farEntry: string;
let restoreEntries: () => void;

beforeAll(async () => {
  h = await startHandlerLab({ clusters: 2, workloadsPerCluster: 1, pcds: true });
  const { lab } = h;
  farRole = `arn:aws:iam::${FAR_ACCOUNT}:role/meshtrust-${h.meshId}-rotator`;
  farEntry = `arn:aws:eks:${lab.region}:${FAR_ACCOUNT}:cluster/lab-2`;
  const cluster = (name: string) => ({
    name,
    endpoint: lab.cluster(name).endpoint,
    caPem: lab.cluster(name).caPem,
    version: '1.32',
    tags: {},
  });
  eks = await startEksApiServer({
    region: lab.region,
    identities: lab.identities,
    clusters: [cluster('lab-1'), { ...cluster('lab-2'), accountId: FAR_ACCOUNT }],
  });
  // The other account's rotator role trusts the function's cluster role (here the lab's rotator, which
  // the handlers run as), and lab-2's only rotator access entry is that role's.
  allowAssumeRole(lab.identities, farRole, [lab.identities.rotator.principalArn]);
  const entries = lab.identities.accessEntries.get('lab-2') as Map<string, KubeIdentity>;
  const own = entries.get(lab.identities.rotator.principalArn) as KubeIdentity;
  entries.delete(lab.identities.rotator.principalArn);
  entries.set(farRole, { username: farRole, groups: [ROTATOR_GROUP] });
  restoreEntries = () => {
    entries.delete(farRole);
    entries.set(lab.identities.rotator.principalArn, own);
  };
});

afterAll(async () => {
  restoreEntries?.();
  await eks?.stop();
  await h?.stop();
});

const inOtherAccount = <T>(act: () => Promise<T>, accountRoles = `${FAR_ACCOUNT}=${farRole}`) =>
  withEnv(
    {
      AWS_ENDPOINT_URL_EKS: eks.url,
      AWS_ENDPOINT_URL_STS: eks.url,
      CLUSTERS: `lab-1,${farEntry}`,
      CLUSTER_ACCOUNT_ROLES: accountRoles,
      MESH_ACCOUNT_ID: LAB_ACCOUNT_ID,
    },
    act,
  );

describe('preflight with a cluster in another account', () => {
  it("reads it as that account's role and plans the rotation of both clusters", async () => {
    // Act
    const output = await inOtherAccount(() =>
      preflight({ executionId: h.executionId(), mode: 'scheduled', cluster: null }),
    );

    // Assess
    expect(output.clusters).toEqual([
      { name: 'lab-1', strategy: 'resign' },
      { name: 'lab-2', strategy: 'resign' },
    ]);
    expect(output.currentRoot).toEqual(h.currentRoot);
    expect(output.plan).toMatchObject({ clusters: ['lab-1', 'lab-2'] });
    expectNoKeyMaterial(output);
  });

  it('refuses a cluster entry that is no cluster ARN, naming it, before reading any cluster', async () => {
    // Prepare
    const typo = `arn:aws:eks:${h.lab.region}:22222222222:cluster/lab-2`;

    // Act
    const error = await withEnv({ AWS_ENDPOINT_URL_EKS: eks.url, CLUSTERS: `lab-1,${typo}` }, () =>
      preflight({ executionId: h.executionId(), mode: 'scheduled', cluster: null }),
    ).catch((e: Error) => e);

    // Assess
    expect(error).toMatchObject({ name: 'PreconditionFailed', phase: 'preflight' });
    expect((error as Error).message).toContain(`CLUSTERS: "${typo}": the account id must be 12 digits`);
  });

  it('is refused, naming the entry, when that account has no role to assume, and writes nothing', async () => {
    // Prepare
    const before = await h.writableState();

    // Act
    const error = await inOtherAccount(
      () => preflight({ executionId: h.executionId(), mode: 'scheduled', cluster: null }),
      '',
    ).catch((e: Error) => e);

    // Assess
    expect(error).toMatchObject({ name: 'PreconditionFailed', phase: 'preflight' });
    expect((error as Error).message).toContain(`"${farEntry}" is in account ${FAR_ACCOUNT}`);
    expect(await h.writableState()).toEqual(before);
  });
});
