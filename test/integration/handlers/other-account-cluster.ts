// A handler lab's lab-2 moved into another account (issue 13): an EKS API that answers for it only to
// that account's callers, a role of that account the lab's rotator may assume, and lab-2's rotator
// access entry given to that role alone, as a cluster of another account is set up (docs/deploy.md).
import { type EksApiServer, startEksApiServer } from '../../../lab/eks/eks-api-server.js';
import { placeClustersInAccount, ROTATOR_GROUP } from '../../../lab/eks/lab-identities.js';
import type { HandlerLab } from './handler-lab.js';

export interface OtherAccountCluster {
  readonly eks: EksApiServer;
  /** The cluster's ARN in the other account: how a cluster list names it. */
  readonly entry: string;
  /** Gives the access entry back to the lab's rotator and stops the EKS API. */
  stop(): Promise<void>;
}

export async function moveToOtherAccount(
  h: HandlerLab,
  options: { readonly cluster: string; readonly account: string; readonly roleArn: string },
): Promise<OtherAccountCluster> {
  const { lab } = h;
  const { cluster: moved, account, roleArn } = options;
  const described = (name: string) => ({
    name,
    endpoint: lab.cluster(name).endpoint,
    caPem: lab.cluster(name).caPem,
    version: '1.32',
    tags: {},
    ...(name === moved && { accountId: account }),
  });
  const eks = await startEksApiServer({
    region: lab.region,
    identities: lab.identities,
    clusters: lab.clusters.map(({ name }) => described(name)),
  });
  // The role trusts the lab's rotator (the handlers' cluster role, and the CLI's credentials here).
  const putBack = placeClustersInAccount(lab.identities, {
    clusterNames: [moved],
    roles: [{ roleArn, trustedBy: [lab.identities.rotator.principalArn], groups: [ROTATOR_GROUP] }],
    replaces: [lab.identities.rotator.principalArn],
  });
  return {
    eks,
    entry: `arn:aws:eks:${lab.region}:${account}:cluster/${moved}`,
    stop: async () => {
      putBack();
      await eks.stop();
    },
  };
}
