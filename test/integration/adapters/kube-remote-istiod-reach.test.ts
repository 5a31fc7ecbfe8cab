// Reading a remote cluster's own Istio on a lab cluster, through the lab's model of
// deploy/kubernetes/rbac.yaml (Role meshtrust-remote-istiod): its mesh config, the istiod Service its
// proxies' discovery address names and that Service's EndpointSlices, as Istio's remote profile leaves
// them; a 403 comes back as a reading for preflight to name the Role, not as a throw.

import { cutRemoteIstiodReach, seedRemoteIstiodService } from '../../../lab/remote-istiod-service.js';
import { seedMeshConfig, seedNamespaces } from '../../../lab/seed-cluster.js';
import { readRemoteIstio } from '../../../lambdas/adapters/kube/remote-istiod-reach.js';
import {
  type RemoteIstiodReachReading,
  reviewRemoteIstiodReach,
} from '../../../lambdas/core/topology/remote-istiod-reach.js';
import { type LabCluster, startLabCluster } from './kube-lab-cluster.js';

const NAMES = { remote: 'lab-remote', primary: 'lab-1' };

/** The one address read: the mesh config's, with no running proxy naming another. */
function only(reaches: readonly RemoteIstiodReachReading[]): RemoteIstiodReachReading {
  expect(reaches).toHaveLength(1);
  return reaches[0] as RemoteIstiodReachReading;
}
let lab: LabCluster;

beforeAll(async () => {
  lab = await startLabCluster({ name: NAMES.remote, podStartDelayMs: 20 });
  seedNamespaces(lab.store);
  seedMeshConfig(lab.store, { workloadCertTtlMs: 10_000, pcds: true });
  seedRemoteIstiodService(lab.store, { primaryAddress: '198.51.100.9' });
});

afterAll(async () => {
  await lab?.stop();
});

describe('readRemoteIstio', () => {
  it.each(['rotator', 'viewer'] as const)(
    "lets the %s read the remote's mesh config, its istiod Service and that Service's slice",
    async (who) => {
      // Act
      const { meshConfig, reaches } = await readRemoteIstio(lab.clientAs(lab.identities[who]), NAMES);
      const reach = only(reaches);
      // Assess
      expect(meshConfig).toMatchObject({
        name: 'istio',
        state: 'read',
        discoveryAddress: 'istiod.istio-system.svc:15012',
      });
      expect(reach).toMatchObject({
        ...NAMES,
        discoveryAddress: 'istiod.istio-system.svc:15012',
        service: { state: 'found', selector: false },
        slices: {
          state: 'read',
          slices: [{ name: 'istiod', endpoints: [{ addresses: ['198.51.100.9'], ready: true }] }],
        },
      });
      expect(reviewRemoteIstiodReach(reach).status).toBe('compliant');
    },
  );

  it('reads a Service left without its slice as such, which the rule refuses', async () => {
    // Prepare
    const restore = cutRemoteIstiodReach(lab.store);
    try {
      // Act
      const reach = only((await readRemoteIstio(lab.clientAs(lab.identities.rotator), NAMES)).reaches);
      // Assess
      expect(reach.slices).toEqual({ state: 'read', slices: [] });
      expect(reviewRemoteIstiodReach(reach)).toMatchObject({ level: 'refusal', status: 'non-compliant' });
    } finally {
      restore();
    }
  });

  it('reads every address the running proxies dial, each with the pods that dial it', async () => {
    // Act: one proxy injected for a revision whose Service the remote lacks
    const { reaches } = await readRemoteIstio(lab.clientAs(lab.identities.rotator), NAMES, [
      { namespace: 'shop', name: 'a-1', discoveryAddress: 'istiod.istio-system.svc:15012' },
      { namespace: 'shop', name: 'b-1', discoveryAddress: 'istiod-canary.istio-system.svc:15012' },
      { namespace: 'shop', name: 'c-1' },
    ]);
    // Assess
    expect(
      reaches.map(({ discoveryAddress, discoveryAddressSource, service }) => [
        discoveryAddress,
        discoveryAddressSource,
        service?.state,
      ]),
    ).toEqual([
      [
        'istiod.istio-system.svc:15012',
        'defaultConfig.discoveryAddress of ConfigMap istio-system/istio; PROXY_CONFIG of running proxy pod(s) shop/a-1',
        'found',
      ],
      ['istiod-canary.istio-system.svc:15012', 'PROXY_CONFIG of running proxy pod(s) shop/b-1', 'forbidden'],
    ]);
  });

  it('returns a 403 as a forbidden reading, for preflight to name the Role to apply', async () => {
    // Act: the expiry check's identity has no Role meshtrust-remote-istiod (nor the mesh config's)
    const { meshConfig, reaches } = await readRemoteIstio(lab.clientAs(lab.identities.expiryCheck), NAMES);
    const reach = only(reaches);
    // Assess
    expect(meshConfig.state).toBe('forbidden');
    expect(reach.service).toMatchObject({ state: 'forbidden', problem: expect.stringMatching(/^403 /) });
    expect(reviewRemoteIstiodReach(reach).reason).toMatch(/Role meshtrust-remote-istiod/);
  });
});
