// restart-workloads restarts no pod before every istiod replica signs with the intermediate now in
// cacerts (issue 12, finding 2). The lab's istiod model sees a cacerts change only a volume sync later,
// as real istiod does, and certificates live long enough that no renewal hides a pod that came back on
// the old intermediate. Without the gate every restarted pod would hold the old intermediate here.
import { jest } from '@jest/globals';
import {
  certificateFingerprint,
  createIntermediateCa,
  createRootCa,
} from '../../../lambdas/core/pki/index.js';
import { handler as restartWorkloads } from '../../../lambdas/handlers/restart-workloads.js';
import { type HandlerLab, startHandlerLab } from './handler-lab.js';
import { ON_PRIMARIES, rotationByHand } from './rotation-steps.js';

jest.setTimeout(120_000);

const VOLUME_SYNC_MS = 3_000;
let h: HandlerLab;

beforeAll(async () => {
  h = await startHandlerLab({
    clusters: 1,
    workloadsPerCluster: 3,
    workloadCertTtlMs: 10 * 60_000,
    volumeSyncDelayMs: VOLUME_SYNC_MS,
  });
  await h.lab.waitForSettled();
});
afterAll(async () => {
  await h?.stop();
});

/** The intermediate each of the cluster's workloads holds a certificate from, by pod. */
function issuersByPod(): Map<string, string> {
  const istiod = h.lab.cluster('lab-1').istiod;
  return new Map(istiod.identities().map((id) => [`${id.namespace}/${id.podName}`, id.issuerFingerprint]));
}

describe('restart-workloads waits for istiod to load the new intermediate', () => {
  it('restarts only once istiod signs with it, so every pod comes back on the new intermediate', async () => {
    // Prepare
    const rotation = rotationByHand(h, {
      executionId: h.executionId('gate'),
      mode: 'intermediate',
      writers: ON_PRIMARIES,
    });
    await rotation.preflight('lab-1');
    const before = new Set(issuersByPod().values());

    // Act: the restart follows the write at once, well inside the volume sync
    const [reissued] = await rotation.reissueIntermediate();
    const [restarted] = await rotation.restartWorkloads('rotation');
    await h.lab.waitForSettled();

    // Assess
    const newIntermediate = certificateFingerprint(h.cacertsOf('lab-1')['ca-cert.pem']);
    expect(reissued.intermediateAfter).toBe(newIntermediate);
    expect(restarted.restarted).toBe(restarted.workloads);
    const after = issuersByPod();
    expect(after.size).toBeGreaterThanOrEqual(3);
    expect(before.has(newIntermediate)).toBe(false);
    expect([...new Set(after.values())]).toEqual([newIntermediate]);
  });

  it('restarts nothing and says which istiod is behind when istiod never takes the files', async () => {
    // Prepare: an intermediate under another root, which istiod refuses (it does not chain to root A)
    const executionId = h.executionId('refused');
    const stranger = await createRootCa({ commonName: 'not the mesh root' });
    const intermediate = await createIntermediateCa({ cluster: 'lab-1', issuer: stranger });
    const files = h.cacertsOf('lab-1');
    h.replaceCacerts('lab-1', {
      ...files,
      'ca-cert.pem': intermediate.certificatePem,
      'ca-key.pem': intermediate.privateKeyPem,
      'cert-chain.pem': `${intermediate.certificatePem}${stranger.certificatePem}`,
    });
    const before = issuersByPod();
    const item = {
      executionId,
      mode: 'intermediate' as const,
      cluster: 'lab-1',
      currentRoot: h.currentRoot,
      stagedRoot: null,
    };

    // Act
    const act = restartWorkloads({ ...item, purpose: 'rotation' });

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'VerificationFailed', cluster: 'lab-1' });
    await expect(act).rejects.toThrow(
      /istiod in cluster lab-1 has not loaded the intermediate .*istiod-\S+ signs with/,
    );
    expect(issuersByPod()).toEqual(before);
    expect(h.lab.cluster('lab-1').istiod.rejections().length).toBeGreaterThan(0);
  });
});
