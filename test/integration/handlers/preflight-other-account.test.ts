// preflight with one cluster in another account (issue 13), against moto (the CA store, in the mesh's
// account) and the lab: lab-2 is moved into account 222222222222 behind an EKS API that answers for it
// only to that account's callers, and only that account's role is mapped in it. preflight reads it as
// that role, assumed from its own through the lab's sts:AssumeRole, exactly as a deployed function would.
import { LAB_ACCOUNT_ID } from '../../../lab/eks/lab-identities.js';
import { handler as preflight } from '../../../lambdas/handlers/preflight.js';
import { expectNoKeyMaterial, type HandlerLab, startHandlerLab, withEnv } from './handler-lab.js';
import { moveToOtherAccount, type OtherAccountCluster } from './other-account-cluster.js';

const FAR_ACCOUNT = '222222222222';

let h: HandlerLab;
let far: OtherAccountCluster;
let farRole: string;
let farEntry: string;
let eks: OtherAccountCluster['eks'];

beforeAll(async () => {
  h = await startHandlerLab({ clusters: 2, workloadsPerCluster: 1, pcds: true });
  // The other account's rotator role trusts the function's cluster role (here the lab's rotator, which
  // the handlers run as), and lab-2's only rotator access entry is that role's.
  farRole = `arn:aws:iam::${FAR_ACCOUNT}:role/meshtrust-${h.meshId}-rotator`;
  far = await moveToOtherAccount(h, { cluster: 'lab-2', account: FAR_ACCOUNT, roleArn: farRole });
  farEntry = far.entry;
  eks = far.eks;
});

afterAll(async () => {
  await far?.stop();
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
