// verifyReport judges what was read; here the reading is built by hand, because the lab's istiod puts
// an edited istio-ca-root-cert back at once: a namespace bundle that differs from the cluster's root set
// is a problem naming the namespaces, an absent one in every namespace says to check istiod.
import type { FleetReading } from '../../../bin/cli/fleet-reading.js';
import { verifyReport } from '../../../bin/commands/verify.js';
import type { DiscoveredCluster } from '../../../lambdas/adapters/eks/fleet-discovery.js';
import type { RotationConfig } from '../../../lambdas/application/config.js';
import { createRootCa, describeCertificate } from '../../../lambdas/core/pki/index.js';

const now = new Date();

async function readingWithBundles(
  bundles: { namespace: string; rootCertPem?: string }[],
): Promise<FleetReading> {
  const rootA = await createRootCa({ commonName: 'root A' });
  const info = describeCertificate(rootA.certificatePem);
  return {
    config: {
      meshId: 'm',
      clusterTagKey: 'meshtrust.io/mesh',
      clusterTagValue: 'm',
      expiryWarningDays: 90,
    } as RotationConfig,
    stages: { current: 'v1' },
    currentRoot: { ...info, pem: rootA.certificatePem },
    clusters: [{ name: 'c1' } as DiscoveredCluster],
    readings: [
      {
        cluster: 'c1',
        snapshot: { files: { 'root-cert.pem': rootA.certificatePem }, otherKeys: [], resourceVersion: '1' },
        bundles,
        review: {
          cluster: 'c1',
          problems: [],
          trustState: {
            name: 'c1',
            trustedRoots: [info.fingerprint],
            intermediate: 'i1',
            intermediateIssuerRoot: info.fingerprint,
            namespaces: bundles.map((b) => b.namespace),
          },
          intermediateNotAfter: new Date(now.getTime() + 400 * 86_400_000),
        },
      },
    ],
  };
}

describe('verifyReport', () => {
  it("names the namespaces whose istio-ca-root-cert is not the cluster's root set", async () => {
    // Prepare
    const rootX = await createRootCa({ commonName: 'root X' });
    const fleet = await readingWithBundles([]);
    const rootA = fleet.currentRoot?.pem as string;
    const reading = fleet.readings[0];
    const withBundles = {
      ...fleet,
      readings: [
        {
          ...reading,
          bundles: [
            { namespace: 'shop', rootCertPem: rootA },
            { namespace: 'payments', rootCertPem: rootX.certificatePem },
            { namespace: 'kube-system' },
          ],
        },
      ],
    } as FleetReading;
    // Act
    const report = verifyReport(withBundles, now);
    // Assess
    expect(report.ok).toBe(false);
    expect(report.clusters[0]).toMatchObject({ name: 'c1', ok: false, namespaces: 2 });
    expect(report.problems).toEqual([
      expect.stringMatching(
        /^cluster c1: istio-ca-root-cert does not hold the cluster's root set \{[0-9a-f]{64}\} in 1 namespace\(s\): payments\./,
      ),
    ]);
  });

  it('says to check istiod when no namespace has istio-ca-root-cert', async () => {
    // Prepare
    const fleet = await readingWithBundles([{ namespace: 'shop' }]);
    // Act
    const report = verifyReport(fleet, now);
    // Assess
    expect(report.problems).toEqual([
      expect.stringContaining('no namespace has istio-ca-root-cert; is istiod running?'),
    ]);
  });

  it('passes when every published bundle is the root set, and warns of nothing beyond 90 days', async () => {
    // Prepare
    const fleet = await readingWithBundles([]);
    const pem = fleet.currentRoot?.pem as string;
    const reading = { ...fleet.readings[0], bundles: [{ namespace: 'shop', rootCertPem: pem }] };
    // Act
    const report = verifyReport({ ...fleet, readings: [reading] } as FleetReading, now);
    // Assess
    expect(report).toMatchObject({ ok: true, problems: [], warnings: [] });
  });
});
