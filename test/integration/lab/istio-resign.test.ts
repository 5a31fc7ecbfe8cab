// Istio's own zero-restart rotation (tests/integration/security/cacert_rotation: ISTIO_MULTIROOT_MESH
// on, PCDS on), run against real istiod and pilot-agent on two clusters: root-cert.pem A -> A+B, then
// the intermediate signed by B with A+B+B, then B alone; no pod is restarted. It settles what the
// `resign` strategy rests on (lambdas/core/rotation/resign-root-cert-writes.ts):
// - a new intermediate with root-cert.pem unchanged moves no running proxy (istiod pushes nothing:
//   its trust anchor, the whole root-cert.pem as one string, did not change);
// - A+B+B does move them: the string changed, so istiod pushes a bundle of other bytes by PCDS and
//   every pilot-agent drops its certificate and asks for one from the new intermediate;
// - traffic between the clusters holds at every step, judged by real mTLS handshakes and openssl,
//   between the apps and between each app and the other cluster's east-west gateway (router mode).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import type { IstioFleet } from '../../../lab/istio-install/start-istio-fleet.js';
import { type CaMaterial, createIntermediateCa, createRootCa } from '../../../lambdas/core/pki/index.js';
import {
  eventually,
  holdsCertificate,
  type IstioFleetKit,
  sleep,
  startTestFleet,
} from '../../support/istio-fleet-kit.js';
import { opensslVerify } from '../../support/openssl-verify.js';

const CLUSTERS = ['lab-1', 'lab-2'] as const;
/** Long enough for a volume sync, istiod's reload and a push, had there been one. */
const NO_PUSH_WAIT_MS = 15_000;
const MOVE_TIMEOUT_MS = 60_000;

jest.setTimeout(300_000);

let dir: string;
let fleet: IstioFleet;
let kit: IstioFleetKit;
let rootB: CaMaterial;
const intermediatesB = new Map<string, CaMaterial>();
const podsBefore = new Map<string, string>();
/** Each cluster's east-west gateway pod (pilot-agent in router mode) at the start. */
const gatewaysBefore = new Map<string, string>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mt-istio-resign-'));
  ({ fleet, kit } = await startTestFleet({
    dir,
    clusters: CLUSTERS,
    proxyMetadata: { PROXY_CONFIG_XDS_AGENT: 'true' },
    volumeSyncPeriodMs: 2_000,
  }));
  for (const cluster of CLUSTERS) {
    await kit.deployApp(cluster);
    podsBefore.set(cluster, (await kit.appPod(cluster)).metadata?.uid ?? '');
    gatewaysBefore.set(cluster, (await kit.gatewayPod(cluster, 'eastwestgateway')).metadata?.uid ?? '');
  }
  rootB = await createRootCa({ commonName: 'meshtrust lab Root B' });
  for (const cluster of CLUSTERS) {
    intermediatesB.set(
      cluster,
      await createIntermediateCa({ cluster, issuer: rootB, commonName: 'Intermediate B' }),
    );
  }
}, 60 * 60_000);

afterAll(async () => {
  await fleet?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function proxyChain(cluster: string): Promise<{ pod: V1Pod; chain: string }> {
  const pod = await kit.appPod(cluster);
  return { pod, chain: await kit.proxyFile(cluster, pod, 'cert-chain.pem') };
}

function intermediateB(cluster: string): CaMaterial {
  const intermediate = intermediatesB.get(cluster);
  if (!intermediate) throw new Error(`no intermediate B for ${cluster}`);
  return intermediate;
}

async function handshakesBothWays(): Promise<unknown[]> {
  return [await kit.handshake('lab-1', 'lab-2'), await kit.handshake('lab-2', 'lab-1')];
}

/** Each cluster's app to the other cluster's east-west gateway, and each gateway to the other app. */
async function gatewayHandshakes(): Promise<Record<string, unknown>> {
  const outcomes: Record<string, unknown> = {};
  for (const [here, there] of [
    ['lab-1', 'lab-2'],
    ['lab-2', 'lab-1'],
  ] as const) {
    const app = { cluster: here, pod: await kit.appPod(here) };
    const gateway = { cluster: there, pod: await kit.gatewayPod(there, 'eastwestgateway') };
    outcomes[`${here} app -> ${there} east-west gateway`] = await kit.handshakeBetween(app, gateway);
    outcomes[`${there} east-west gateway -> ${here} app`] = await kit.handshakeBetween(gateway, app);
  }
  return outcomes;
}

const ALL_OK = {
  'lab-1 app -> lab-2 east-west gateway': { ok: true },
  'lab-2 east-west gateway -> lab-1 app': { ok: true },
  'lab-2 app -> lab-1 east-west gateway': { ok: true },
  'lab-1 east-west gateway -> lab-2 app': { ok: true },
};

describe("Istio's zero-restart rotation on real istiod and pilot-agent, PCDS on", () => {
  it("starts with each east-west gateway's agent holding a root-A certificate that the other cluster's app accepts", async () => {
    // Act
    const outcomes = await gatewayHandshakes();

    // Assess
    expect(outcomes).toEqual(ALL_OK);
  });

  it('step 1, A -> A+B: every running proxy learns B by the push, with no restart', async () => {
    // Act
    for (const cluster of CLUSTERS) await kit.appendRoot(cluster, rootB.certificatePem);

    // Assess
    for (const cluster of CLUSTERS) {
      const learned = await eventually(async () => {
        const pod = await kit.appPod(cluster);
        return holdsCertificate(await kit.proxyFile(cluster, pod, 'root-cert.pem'), rootB.certificatePem);
      }, MOVE_TIMEOUT_MS);
      expect(learned).toBe(true);
      expect((await kit.appPod(cluster)).metadata?.uid).toBe(podsBefore.get(cluster));
    }
    expect(await handshakesBothWays()).toEqual([{ ok: true }, { ok: true }]);
  });

  it('a new intermediate with root-cert.pem unchanged moves no running proxy (negative control)', async () => {
    // Prepare
    const current = await kit.cacerts('lab-1');
    const intermediate = intermediateB('lab-1');

    // Act: int_B with the same A+B bytes
    await kit.writeCacerts('lab-1', {
      ...current,
      'ca-cert.pem': intermediate.certificatePem,
      'ca-key.pem': intermediate.privateKeyPem,
      'cert-chain.pem': `${intermediate.certificatePem}${rootB.certificatePem}`,
    });
    await sleep(NO_PUSH_WAIT_MS);

    // Assess: istiod signs with int_B from now on, but nobody asked it to sign
    const { chain } = await proxyChain('lab-1');
    expect(holdsCertificate(chain, intermediate.certificatePem)).toBe(false);
    expect(await opensslVerify({ pem: chain }, fleet.rootA.certificatePem, dir)).toMatch(/: OK$/);
  });

  it('step 2, int_B with A+B+B: every running proxy re-signs from int_B, with no restart', async () => {
    // Act
    for (const cluster of CLUSTERS) {
      const current = await kit.cacerts(cluster);
      const intermediate = intermediateB(cluster);
      await kit.writeCacerts(cluster, {
        ...current,
        'ca-cert.pem': intermediate.certificatePem,
        'ca-key.pem': intermediate.privateKeyPem,
        'cert-chain.pem': `${intermediate.certificatePem}${rootB.certificatePem}`,
        'root-cert.pem': `${current['root-cert.pem']}${rootB.certificatePem}`,
      });
    }

    // Assess
    for (const cluster of CLUSTERS) {
      const moved = await eventually(
        async () =>
          holdsCertificate((await proxyChain(cluster)).chain, intermediateB(cluster).certificatePem),
        MOVE_TIMEOUT_MS,
      );
      expect(moved).toBe(true);
      const { pod, chain } = await proxyChain(cluster);
      expect(pod.metadata?.uid).toBe(podsBefore.get(cluster));
      expect(await opensslVerify({ pem: chain }, rootB.certificatePem, dir)).toMatch(/: OK$/);
      // The east-west gateway's agent (router mode) re-signed from int_B too, on the same push.
      const gatewayMoved = await eventually(async () => {
        const gateway = await kit.gatewayPod(cluster, 'eastwestgateway');
        const gatewayChain = await kit.proxyFile(cluster, gateway, 'cert-chain.pem');
        return holdsCertificate(gatewayChain, intermediateB(cluster).certificatePem);
      }, MOVE_TIMEOUT_MS);
      expect({ cluster, gatewayMoved }).toEqual({ cluster, gatewayMoved: true });
      const gateway = await kit.gatewayPod(cluster, 'eastwestgateway');
      expect(gateway.metadata?.uid).toBe(gatewaysBefore.get(cluster));
    }
    expect(await handshakesBothWays()).toEqual([{ ok: true }, { ok: true }]);
    expect(await gatewayHandshakes()).toEqual(ALL_OK);
  });

  it('step 3, B alone: istiod takes it, proxies drop A, traffic holds, still no restart', async () => {
    // Act
    for (const cluster of CLUSTERS) {
      await kit.writeCacerts(cluster, {
        ...(await kit.cacerts(cluster)),
        'root-cert.pem': rootB.certificatePem,
      });
    }

    // Assess
    for (const cluster of CLUSTERS) {
      const droppedA = await eventually(async () => {
        const pod = await kit.appPod(cluster);
        return !holdsCertificate(
          await kit.proxyFile(cluster, pod, 'root-cert.pem'),
          fleet.rootA.certificatePem,
        );
      }, MOVE_TIMEOUT_MS);
      expect(droppedA).toBe(true);
      const { pod, chain } = await proxyChain(cluster);
      expect(pod.metadata?.uid).toBe(podsBefore.get(cluster));
      expect(await opensslVerify({ pem: chain }, rootB.certificatePem, dir)).toMatch(/: OK$/);
      expect(await opensslVerify({ pem: chain }, fleet.rootA.certificatePem, dir)).not.toMatch(/: OK$/);
    }
    expect(await handshakesBothWays()).toEqual([{ ok: true }, { ok: true }]);
    expect(await gatewayHandshakes()).toEqual(ALL_OK);
  });
});
