// The lab is worth something only if a wrong rotation breaks traffic in it as it would in a real mesh,
// and a right one does not. Each control drives the lab through its Kubernetes API over HTTPS with an EKS
// token (as the rotator), then reads what the prober saw.

import type { HandshakeFailure } from '../../../lab/istio/mtls-prober.js';
import { type LabKubeRequest, labKubeRequest } from '../../../lab/lab-kube-request.js';
import { base64Data } from '../../../lab/seed-cluster.js';
import { type Lab, startLab } from '../../../lab/start-lab.js';
import {
  assembleCacerts,
  type CacertsFiles,
  type CaMaterial,
  certificateFingerprint,
  createIntermediateCa,
  createRootCa,
  TrustBundle,
} from '../../../lambdas/core/pki/index.js';

const CACERTS_PATH = '/api/v1/namespaces/istio-system/secrets/cacerts';
const workloadCertTtlMs = 6000;

const labs: Lab[] = [];
let rootB: CaMaterial;

async function newLab(
  clusters: number,
  options: { readonly pcds?: boolean; readonly workloadCertTtlMs?: number } = {},
): Promise<Lab> {
  const lab = await startLab({
    clusters,
    workloadsPerCluster: 4,
    workloadCertTtlMs,
    pushDelayMs: 200,
    podStartDelayMs: 100,
    proberIntervalMs: 250,
    ...options,
  });
  labs.push(lab);
  return lab;
}

function asRotator(
  lab: Lab,
  cluster: string,
  request: Pick<LabKubeRequest, 'method' | 'path' | 'body' | 'contentType'>,
) {
  return labKubeRequest({
    ...request,
    cluster: lab.cluster(cluster),
    region: lab.region,
    identity: lab.identities.rotator,
  });
}

/** Reads cacerts and writes `files` in its place (PUT with the read resourceVersion); returns the new resourceVersion. */
async function writeCacerts(lab: Lab, cluster: string, files: CacertsFiles): Promise<string> {
  const current = await asRotator(lab, cluster, { method: 'GET', path: CACERTS_PATH });
  expect(current.status).toBe(200);
  const written = await asRotator(lab, cluster, {
    method: 'PUT',
    path: CACERTS_PATH,
    body: { ...current.body, data: base64Data(files) },
  });
  expect(written.status).toBe(200);
  await lab.cluster(cluster).istiod.idle();
  return written.body.metadata.resourceVersion;
}

async function writeAccepted(lab: Lab, cluster: string, files: CacertsFiles): Promise<void> {
  const resourceVersion = await writeCacerts(lab, cluster, files);
  expect({ cluster, resourceVersion: lab.cluster(cluster).istiod.current()?.resourceVersion }).toEqual({
    cluster,
    resourceVersion,
  });
}

function bundle(...roots: CaMaterial[]): TrustBundle {
  return TrustBundle.of(roots.map((root) => root.certificatePem));
}

function cacertsWithIntermediateA(lab: Lab, cluster: string, roots: CaMaterial[]): CacertsFiles {
  return assembleCacerts({
    intermediate: lab.cluster(cluster).initialIntermediate,
    chainAbove: [lab.rootA.certificatePem],
    trustedRoots: bundle(...roots),
  });
}

function cacertsWith(intermediate: CaMaterial, issuer: CaMaterial, roots: CaMaterial[]): CacertsFiles {
  return assembleCacerts({
    intermediate,
    chainAbove: [issuer.certificatePem],
    trustedRoots: bundle(...roots),
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until every workload certificate of `cluster` comes from `intermediate`. */
function waitForIssuer(lab: Lab, cluster: string, intermediate: CaMaterial): Promise<void> {
  const issuer = certificateFingerprint(intermediate.certificatePem);
  return waitFor(() =>
    lab
      .cluster(cluster)
      .istiod.identities()
      .every((identity) => identity.issuerFingerprint === issuer),
  );
}

/**
 * Restarts, as the rotator, every workload with Istio's proxy: those of injected namespaces, and the
 * gateways, whose pod template runs `istio-proxy` itself in istio-system (no injection label there).
 */
async function restartInjectedWorkloads(lab: Lab, cluster: string): Promise<number> {
  const namespaces = await asRotator(lab, cluster, { method: 'GET', path: '/api/v1/namespaces' });
  const injected = new Set(
    namespaces.body.items
      .filter(
        (namespace: { metadata: { labels?: Record<string, string> } }) =>
          namespace.metadata.labels?.['istio-injection'] === 'enabled',
      )
      .map((namespace: { metadata: { name: string } }) => namespace.metadata.name),
  );
  let restarted = 0;
  for (const plural of ['deployments', 'statefulsets', 'daemonsets']) {
    const list = await asRotator(lab, cluster, { method: 'GET', path: `/apis/apps/v1/${plural}` });
    for (const workload of list.body.items) {
      const runsProxy = (workload.spec.template.spec.containers as { name: string }[]).some(
        (container) => container.name === 'istio-proxy',
      );
      if (!injected.has(workload.metadata.namespace) && !runsProxy) continue;
      const patched = await asRotator(lab, cluster, {
        method: 'PATCH',
        path: `/apis/apps/v1/namespaces/${workload.metadata.namespace}/${plural}/${workload.metadata.name}`,
        contentType: 'application/strategic-merge-patch+json',
        body: {
          spec: {
            template: {
              metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } },
            },
          },
        },
      });
      expect(patched.status).toBe(200);
      restarted += 1;
    }
  }
  return restarted;
}

/** A handshake from a pod of `from` to one of `to` whose client found no trusted root for the server. */
function clientRefusesServerOf(from: string, to: string) {
  return expect.objectContaining({
    from: expect.stringMatching(new RegExp(`^${from}/`)),
    to: expect.stringMatching(new RegExp(`^${to}/`)),
    side: 'client',
    error: expect.stringMatching(/UNABLE_TO_GET_ISSUER_CERT/),
  });
}

beforeAll(async () => {
  rootB = await createRootCa({ commonName: 'meshtrust lab Root B' });
});

// One lab at a time: a finished lab's prober and renewals would only take CPU from the next one.
afterEach(async () => {
  await Promise.all(labs.splice(0).map((lab) => lab.stop()));
});

describe('negative controls: wrong rotations break traffic in the lab', () => {
  it('(a) a B-signed intermediate in lab-1 while lab-2 trusts only A fails handshakes between them', async () => {
    // Prepare
    const lab = await newLab(2);
    const intermediateB = await createIntermediateCa({ cluster: 'lab-1', issuer: rootB });
    await writeAccepted(lab, 'lab-1', cacertsWithIntermediateA(lab, 'lab-1', [lab.rootA, rootB]));

    // Act
    lab.prober.setPhase('early-reissue');
    await writeAccepted(lab, 'lab-1', cacertsWith(intermediateB, rootB, [lab.rootA, rootB]));
    await waitForIssuer(lab, 'lab-1', intermediateB);
    const round = await lab.prober.runRound();

    // Assess
    const failures = round.failures;
    expect(failures.length).toBeGreaterThan(0);
    expect(failures).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          from: expect.stringMatching(/^lab-2\//),
          to: expect.stringMatching(/^lab-1\//),
          side: 'client',
        }),
        expect.objectContaining({
          from: expect.stringMatching(/^lab-1\//),
          to: expect.stringMatching(/^lab-2\//),
          side: 'server',
        }),
      ]),
    );
    expect(failures.every((failure) => failure.from.split('/')[0] !== failure.to.split('/')[0])).toBe(true);
    // A trust failure, not a timeout or a reset: the peer's chain does not reach a trusted root.
    expect(failures.every((failure) => /UNABLE_TO_GET_ISSUER_CERT/.test(failure.error))).toBe(true);
    expect(lab.prober.stats().byPhase['early-reissue'].failed).toBeGreaterThan(0);
  }, 60_000);

  it('(b) removing A from lab-1 while lab-2 pods still hold A-chained certificates fails handshakes', async () => {
    // Prepare
    const lab = await newLab(2);
    const intermediateB = await createIntermediateCa({ cluster: 'lab-1', issuer: rootB });
    for (const cluster of ['lab-1', 'lab-2']) {
      await writeAccepted(lab, cluster, cacertsWithIntermediateA(lab, cluster, [lab.rootA, rootB]));
    }
    await writeAccepted(lab, 'lab-1', cacertsWith(intermediateB, rootB, [lab.rootA, rootB]));
    await lab.waitForSettled();

    // Act
    lab.prober.setPhase('early-retire');
    await writeAccepted(lab, 'lab-1', cacertsWith(intermediateB, rootB, [rootB]));
    await lab.waitForSettled();
    const round = await lab.prober.runRound();

    // Assess
    expect(lab.cluster('lab-1').istiod.pushedRootCertPem()).toBe(bundle(rootB).toPem());
    expect(round.failures).toEqual(expect.arrayContaining([clientRefusesServerOf('lab-1', 'lab-2')]));
  }, 60_000);

  it('(c) a root-cert change that is neither subset nor superset is dropped by istiod and counted', async () => {
    // Prepare
    const lab = await newLab(2);
    const rootC = await createRootCa({ commonName: 'meshtrust lab Root C' });
    const intermediateC = await createIntermediateCa({ cluster: 'lab-1', issuer: rootC });
    const istiod = lab.cluster('lab-1').istiod;
    const before = istiod.current();
    lab.prober.setPhase('root-swap');

    // Act
    const resourceVersion = await writeCacerts(lab, 'lab-1', cacertsWith(intermediateC, rootC, [rootC]));
    await lab.waitForSettled();
    const round = await lab.prober.runRound();

    // Assess
    expect(istiod.rejections()).toEqual([
      expect.objectContaining({ resourceVersion, rules: ['istiod-root-bytes-contained'] }),
    ]);
    expect(istiod.current()).toEqual(before);
    expect(lab.snapshotCacerts('lab-1').rootFingerprints).toEqual([
      certificateFingerprint(rootC.certificatePem),
    ]);
    expect(istiod.pushedRootCertPem()).toBe(bundle(lab.rootA).toPem());
    expect(round.attempted).toBeGreaterThan(0);
    expect(round.failures).toEqual([]);
  }, 60_000);
});

describe('proxies learn new roots only at renewal, or at once with PCDS', () => {
  // Long-lived certificates: nobody renews while the test acts, so only a PCDS push can teach the roots.
  const longTtlMs = 60_000;

  /** A+B in both clusters, then lab-1 moves to a B-signed intermediate and restarts its workloads. */
  async function restartOntoBBeforePeersRenew(lab: Lab): Promise<void> {
    for (const cluster of ['lab-1', 'lab-2']) {
      await writeAccepted(lab, cluster, cacertsWithIntermediateA(lab, cluster, [lab.rootA, rootB]));
    }
    await waitFor(() => lab.cluster('lab-2').istiod.pushedRootCertPem() === bundle(lab.rootA, rootB).toPem());
    const intermediateB = await createIntermediateCa({ cluster: 'lab-1', issuer: rootB });
    await writeAccepted(lab, 'lab-1', cacertsWith(intermediateB, rootB, [lab.rootA, rootB]));
    expect(await restartInjectedWorkloads(lab, 'lab-1')).toBeGreaterThan(0);
    await waitForIssuer(lab, 'lab-1', intermediateB);
  }

  it('(e) PCDS off: a pod restarted onto a B-chained certificate fails against a peer that has not renewed', async () => {
    // Prepare
    const lab = await newLab(2, { pcds: false, workloadCertTtlMs: longTtlMs });
    lab.prober.setPhase('restart-before-renewal');

    // Act
    await restartOntoBBeforePeersRenew(lab);
    const round = await lab.prober.runRound();

    // Assess
    expect(lab.cluster('lab-2').istiod.podsOnStaleRoots().length).toBeGreaterThan(0);
    expect(round.failures).toEqual(expect.arrayContaining([clientRefusesServerOf('lab-2', 'lab-1')]));
  }, 60_000);

  it('(f) PCDS on: the same restart breaks nothing, the push taught every proxy A+B and made it re-sign', async () => {
    // Prepare
    const lab = await newLab(2, { pcds: true, workloadCertTtlMs: longTtlMs });
    const before = new Map(
      lab
        .cluster('lab-2')
        .istiod.identities()
        .map((identity) => [identity.podName, identity.issuedAt]),
    );
    lab.prober.setPhase('restart-after-push');

    // Act
    await restartOntoBBeforePeersRenew(lab);
    await waitFor(() => lab.cluster('lab-2').istiod.podsOnStaleRoots().length === 0);
    const round = await lab.prober.runRound();

    // Assess
    expect(round.attempted).toBeGreaterThan(0);
    expect(round.failures).toEqual([]);
    // Re-signed on the push, long before half of a 60 s life.
    const after = lab.cluster('lab-2').istiod.identities();
    expect(after.length).toBe(before.size);
    for (const identity of after) expect(identity.issuedAt).not.toEqual(before.get(identity.podName));
  }, 60_000);
});

describe('positive control: a correct manual rotation', () => {
  // Each step ends when the lab has settled: istiod took the write, and (without PCDS) every proxy renewed
  // onto istiod's roots, as the product's await-proxy-trust waits for.
  it('(d) A -> A+B everywhere, B intermediates, restarts, one TTL, then B: no failed handshake in any step', async () => {
    // Prepare
    const lab = await newLab(3);
    const clusters = lab.clusters.map((cluster) => cluster.name);
    const intermediatesB = new Map<string, CaMaterial>();
    for (const cluster of clusters) {
      intermediatesB.set(cluster, await createIntermediateCa({ cluster, issuer: rootB }));
    }
    const rounds: { phase: string; attempted: number; failures: readonly HandshakeFailure[] }[] = [];
    const step = async (phase: string, act: () => Promise<void>) => {
      lab.prober.setPhase(phase);
      await act();
      await lab.waitForSettled();
      const round = await lab.prober.runRound();
      rounds.push({ phase, attempted: round.attempted, failures: round.failures });
    };

    // Act
    await step('distribute-bundle', async () => {
      for (const cluster of clusters) {
        await writeAccepted(lab, cluster, cacertsWithIntermediateA(lab, cluster, [lab.rootA, rootB]));
      }
    });
    await step('reissue-intermediate', async () => {
      for (const cluster of clusters) {
        await writeAccepted(
          lab,
          cluster,
          cacertsWith(intermediatesB.get(cluster) as CaMaterial, rootB, [lab.rootA, rootB]),
        );
      }
    });
    await step('restart-workloads', async () => {
      for (const cluster of clusters) expect(await restartInjectedWorkloads(lab, cluster)).toBeGreaterThan(0);
      // Let the controller see the new templates before waitForSettled judges the rollout.
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    await step('soak', () => new Promise((resolve) => setTimeout(resolve, workloadCertTtlMs)));
    await step('retire-root', async () => {
      for (const cluster of clusters) {
        await writeAccepted(
          lab,
          cluster,
          cacertsWith(intermediatesB.get(cluster) as CaMaterial, rootB, [rootB]),
        );
      }
    });

    // Assess
    expect(rounds.map((round) => round.phase)).toEqual([
      'distribute-bundle',
      'reissue-intermediate',
      'restart-workloads',
      'soak',
      'retire-root',
    ]);
    for (const round of rounds) {
      expect(round).toEqual({ phase: round.phase, attempted: expect.any(Number), failures: [] });
      expect(round.attempted).toBeGreaterThan(0);
    }
    expect(lab.prober.failures()).toEqual([]);
    const rootBFingerprint = certificateFingerprint(rootB.certificatePem);
    for (const cluster of lab.clusters) {
      expect(cluster.istiod.rejections()).toEqual([]);
      expect(
        cluster.istiod.identities().every((identity) => identity.rootFingerprint === rootBFingerprint),
      ).toBe(true);
      expect(cluster.istiod.pushedRootCertPem()).toBe(bundle(rootB).toPem());
    }
  }, 90_000);
});
