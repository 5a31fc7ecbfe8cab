// The cluster list and role map the rehearsal gives the functions for a fleet across accounts
// (rehearsal/cluster-accounts.ts): named clusters by ARN, or with --discover-clusters a `*` entry per
// account, as a stack with those entries would write CLUSTERS.
import { createLabIdentities, LAB_OTHER_ACCOUNT_ID } from '../../../lab/eks/lab-identities.js';
import {
  CLUSTER_ACCOUNT_ROLES_ENV,
  MESH_ACCOUNT_ID_ENV,
} from '../../../lambdas/contract/cluster-reference.js';
import { CLUSTER_ROLE_ARN_ENV, CLUSTERS_ENV } from '../../../lambdas/contract/function-environment.js';
import { discoveryEntries, otherAccountEnvironment } from '../../../rehearsal/cluster-accounts.js';

const REGION = 'us-east-1';
const identities = createLabIdentities({ clusterNames: ['lab-1', 'lab-2'] });
const acrossAccounts = {
  meshId: 'lab',
  region: REGION,
  identities,
  clusters: [
    { name: 'lab-1', arn: `arn:aws:eks:${REGION}:000000000000:cluster/lab-1` },
    { name: 'lab-2', arn: `arn:aws:eks:${REGION}:${LAB_OTHER_ACCOUNT_ID}:cluster/lab-2` },
  ],
};
const oneAccount = { ...acrossAccounts, clusters: [{ name: 'lab-1' }, { name: 'lab-2' }] };
/** A function of the writing phases: the stack names the rotator's cluster role for it. */
const distributeBundle = {
  handlerName: 'distribute-bundle',
  environment: { [CLUSTER_ROLE_ARN_ENV]: identities.rotator.principalArn, [CLUSTERS_ENV]: '' },
};

describe('otherAccountEnvironment', () => {
  it('names the other account’s cluster by its ARN and that account’s rotator role', () => {
    // Act
    const environment = otherAccountEnvironment(acrossAccounts, distributeBundle);

    // Assess
    expect(environment).toEqual({
      [CLUSTERS_ENV]: `lab-1,arn:aws:eks:${REGION}:${LAB_OTHER_ACCOUNT_ID}:cluster/lab-2`,
      [CLUSTER_ACCOUNT_ROLES_ENV]: `${LAB_OTHER_ACCOUNT_ID}=arn:aws:iam::${LAB_OTHER_ACCOUNT_ID}:role/meshtrust-lab-rotator`,
      [MESH_ACCOUNT_ID_ENV]: '000000000000',
    });
  });

  it('with discover, lists a `*` entry for each account instead, with the same roles', () => {
    // Act
    const environment = otherAccountEnvironment(acrossAccounts, distributeBundle, { discover: true });

    // Assess: without the other account's entry its cluster would never be found, nor rotated
    expect(environment).toEqual({
      [CLUSTERS_ENV]: `*,arn:aws:eks:${REGION}:${LAB_OTHER_ACCOUNT_ID}:cluster/*`,
      [CLUSTER_ACCOUNT_ROLES_ENV]: `${LAB_OTHER_ACCOUNT_ID}=arn:aws:iam::${LAB_OTHER_ACCOUNT_ID}:role/meshtrust-lab-rotator`,
      [MESH_ACCOUNT_ID_ENV]: '000000000000',
    });
  });

  it('names a cluster of another region by its ARN, and discovers in each account and region apart', () => {
    // Prepare: lab-2 in the second region of the stack's account, lab-3 there in the other account
    const acrossRegions = {
      ...acrossAccounts,
      clusters: [
        { name: 'lab-1', arn: `arn:aws:eks:${REGION}:000000000000:cluster/lab-1` },
        { name: 'lab-2', arn: 'arn:aws:eks:eu-west-1:000000000000:cluster/lab-2' },
        { name: 'lab-3', arn: `arn:aws:eks:eu-west-1:${LAB_OTHER_ACCOUNT_ID}:cluster/lab-3` },
      ],
    };

    // Act
    const named = otherAccountEnvironment(acrossRegions, distributeBundle);
    const discovered = otherAccountEnvironment(acrossRegions, distributeBundle, { discover: true });

    // Assess: the stack's own account in another region needs no role, only its place
    expect(named?.[CLUSTERS_ENV]).toBe(
      `lab-1,arn:aws:eks:eu-west-1:000000000000:cluster/lab-2,arn:aws:eks:eu-west-1:${LAB_OTHER_ACCOUNT_ID}:cluster/lab-3`,
    );
    expect(discovered?.[CLUSTERS_ENV]).toBe(
      `*,arn:aws:eks:eu-west-1:000000000000:cluster/*,arn:aws:eks:eu-west-1:${LAB_OTHER_ACCOUNT_ID}:cluster/*`,
    );
    expect(discovered?.[CLUSTER_ACCOUNT_ROLES_ENV]).toBe(
      `${LAB_OTHER_ACCOUNT_ID}=arn:aws:iam::${LAB_OTHER_ACCOUNT_ID}:role/meshtrust-lab-rotator`,
    );
  });

  it("leaves one account's fleet to the template's CLUSTERS, or with discover lists `*` alone", () => {
    // Act
    const named = otherAccountEnvironment(oneAccount, distributeBundle);
    const discovered = otherAccountEnvironment(oneAccount, distributeBundle, { discover: true });

    // Assess
    expect(named).toBeUndefined();
    expect(discovered).toEqual({ [CLUSTERS_ENV]: '*' });
    expect(discoveryEntries(oneAccount)).toEqual(['*']);
  });
});
