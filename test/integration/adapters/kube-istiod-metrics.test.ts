// Reading istiod's CA gauges through the API server's pod proxy (pods/NAME:15014/proxy/metrics) on a
// model lab cluster: the rotator may (Role meshtrust-istiod-monitoring), the viewer may not, and the
// gauge says which intermediate istiod signs with. The same read against real istiod is in
// test/integration/lab/istio-engine.test.ts.
import { X509Certificate } from 'node:crypto';
import type { LabIdentity } from '../../../lab/eks/lab-identities.js';
import { type Lab, startLab } from '../../../lab/start-lab.js';
import { createClusterClient } from '../../../lambdas/adapters/kube/cluster-client.js';
import { createEksTokenProvider } from '../../../lambdas/adapters/kube/eks-token-provider.js';
import { readIstiodCaGauges } from '../../../lambdas/adapters/kube/istiod-metrics.js';
import { PreconditionFailed } from '../../../lambdas/core/rotation-errors.js';

let lab: Lab;

beforeAll(async () => {
  lab = await startLab({ clusters: 1, workloadsPerCluster: 1 });
  await lab.waitForSettled();
});

afterAll(async () => {
  await lab?.stop();
});

function clientAs(identity: LabIdentity) {
  const cluster = lab.cluster('lab-1');
  return createClusterClient({
    cluster: { name: cluster.name, endpoint: cluster.endpoint, caPem: cluster.caPem },
    tokenProvider: createEksTokenProvider({
      clusterName: cluster.name,
      region: lab.region,
      credentials: identity.credentials,
    }),
    retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
  });
}

describe('readIstiodCaGauges', () => {
  it("gives the rotator each istiod pod's gauges: the intermediate it signs with and the first root", async () => {
    // Act
    const gauges = await readIstiodCaGauges(clientAs(lab.identities.rotator));

    // Assess
    const cluster = lab.cluster('lab-1');
    const seconds = (pem: string) => Date.parse(new X509Certificate(pem).validTo) / 1000;
    expect(gauges).toHaveLength(1);
    expect(gauges[0]?.pod).toMatch(/^istiod-/);
    expect(gauges[0]?.certChainExpiry).toBe(seconds(cluster.initialIntermediate.certificatePem));
    expect(gauges[0]?.rootCertExpiry).toBe(seconds(lab.rootA.certificatePem));
  });

  it('refuses the viewer with a 403 that names the RBAC to apply', async () => {
    // Act
    const reading = readIstiodCaGauges(clientAs(lab.identities.viewer));

    // Assess
    await expect(reading).rejects.toThrow(PreconditionFailed);
    await expect(reading).rejects.toThrow(/forbidden.*pods\/proxy|pods\/proxy.*forbidden/s);
  });
});
