// The per-cluster handlers against a 2-cluster lab and moto, one rotation walked forward on lab-1 and
// lab-2 test by test: each handler's success, its refusal when run out of order, an idempotent re-run,
// and a concurrent write to cacerts that the handler re-reads past without overwriting it.
import { jest } from '@jest/globals';
import { awsEnvironmentFor } from '../../../lab/eks/lab-identities.js';
import { connectEksCluster } from '../../../lambdas/adapters/kube/eks-cluster-connector.js';
import { readClusterCacerts } from '../../../lambdas/application/cluster-cacerts.js';
import { createRotationRuntime } from '../../../lambdas/application/runtime.js';
import { certificateFingerprint, describeCertificate, TrustBundle } from '../../../lambdas/core/pki/index.js';
import { executionNameOf } from '../../../lambdas/core/rotation/execution-name.js';
import { DAY_MS } from '../../../lambdas/core/rotation/expiry-headroom.js';
import { handler as checkExpiry } from '../../../lambdas/handlers/check-expiry.js';
import { handler as distributeBundleHandler } from '../../../lambdas/handlers/distribute-bundle.js';
import { handler as recordApproval } from '../../../lambdas/handlers/record-approval.js';
import { handler as reissueIntermediateHandler } from '../../../lambdas/handlers/reissue-intermediate.js';
import { handler as restartWorkloads } from '../../../lambdas/handlers/restart-workloads.js';
import { handler as retireRootHandler } from '../../../lambdas/handlers/retire-root.js';
import { handler as rollback } from '../../../lambdas/handlers/rollback.js';
import { handler as stageRoot } from '../../../lambdas/handlers/stage-root.js';
import { handler as verifyTrust } from '../../../lambdas/handlers/verify-trust.js';
import { handler as verifyWorkloads } from '../../../lambdas/handlers/verify-workloads.js';
import { expectNoKeyMaterial, type HandlerLab, onPrimary, startHandlerLab, withEnv } from './handler-lab.js';

const distributeBundle = onPrimary(distributeBundleHandler);
const reissueIntermediate = onPrimary(reissueIntermediateHandler);
const retireRoot = onPrimary(retireRootHandler);

jest.setTimeout(120_000);

let h: HandlerLab;
let executionId: string;
let stagedRoot: Awaited<ReturnType<typeof stageRoot>>;
const item = (cluster: string) => ({
  executionId,
  mode: 'scheduled' as const,
  cluster,
  currentRoot: h.currentRoot,
  stagedRoot,
});

beforeAll(async () => {
  h = await startHandlerLab({ clusters: 2, workloadsPerCluster: 3, workloadCertTtlMs: 10_000 });
  executionId = h.executionId('phases');
  stagedRoot = await stageRoot({ executionId });
});
afterAll(async () => {
  await h?.stop();
});

/**
 * Makes someone else write lab `cluster`'s cacerts (an annotation, as an operator's kubectl might)
 * right after the API server served it the `afterGets`-th time during `act`: the handler's write then
 * meets a newer resourceVersion.
 */
async function withConcurrentWrite<T>(cluster: string, afterGets: number, act: () => Promise<T>): Promise<T> {
  const store = h.lab.cluster(cluster).store;
  const originalGet = store.get.bind(store);
  let gets = 0;
  store.get = (kind, namespace, name) => {
    const found = originalGet(kind, namespace, name);
    if (kind === 'Secret' && name === 'cacerts' && ++gets === afterGets) {
      store.update({
        ...found,
        metadata: {
          ...found.metadata,
          annotations: { ...found.metadata.annotations, 'ops.example/touched': 'yes' },
        },
      });
    }
    return found;
  };
  try {
    return await act();
  } finally {
    store.get = originalGet;
  }
}

describe('distribute-bundle handler', () => {
  it('refuses to run without a staged root', async () => {
    // Prepare, Act
    const act = distributeBundle({ ...item('lab-1'), stagedRoot: null });
    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'PreconditionFailed',
      cluster: 'lab-1',
      phase: 'distribute-bundle',
    });
  });

  it('backs up cacerts and adds the new root; a re-run changes nothing and keeps the first backup', async () => {
    // Prepare
    const start = h.cacertsOf('lab-1');
    // Act
    const first = await distributeBundle(item('lab-1'));
    const again = await distributeBundle(item('lab-1'));
    // Assess
    expect(first).toMatchObject({
      cluster: 'lab-1',
      changed: true,
      rootsBefore: [h.currentRoot.fingerprint],
    });
    expect(first.rootsAfter).toEqual([h.currentRoot.fingerprint, stagedRoot.fingerprint]);
    expect(again).toMatchObject({ changed: false, backupVersionId: first.backupVersionId });
    expect((await h.store.readCacertsBackup(executionNameOf(executionId), 'lab-1'))?.files).toEqual(start);
    expectNoKeyMaterial([first, again]);
  });

  it("re-reads past someone else's concurrent write and keeps it", async () => {
    // Prepare: the 2nd get is the read the change is computed from; the write then conflicts
    // Act
    const output = await withConcurrentWrite('lab-2', 2, () => distributeBundle(item('lab-2')));
    // Assess
    expect(output.changed).toBe(true);
    const secret = h.lab.cluster('lab-2').store.get('Secret', 'istio-system', 'cacerts');
    expect(secret.metadata.annotations?.['ops.example/touched']).toBe('yes');
    expect(TrustBundle.parse(h.cacertsOf('lab-2')['root-cert.pem']).has(stagedRoot.fingerprint)).toBe(true);
  });
});

describe('verify-trust handler', () => {
  it('passes once every namespace publishes both roots', async () => {
    // Prepare, Act
    const outputs = await Promise.all(['lab-1', 'lab-2'].map((c) => verifyTrust(item(c))));
    // Assess
    for (const output of outputs) {
      expect(output.roots).toEqual([h.currentRoot.fingerprint, stagedRoot.fingerprint]);
      expect(output.namespaces).toBeGreaterThan(0);
    }
    expectNoKeyMaterial(outputs);
  });

  it('passes as the read-only verifier role, which cannot read cacerts', async () => {
    // Prepare: the gates' credentials, mapped to group meshtrust-verifier (no secret in any cluster)
    const saved = { ...process.env };
    Object.assign(process.env, awsEnvironmentFor(h.lab.identities.verifier, h.lab.region));
    try {
      // Act
      const output = await verifyTrust(item('lab-1'));
      const cacerts = readClusterCacerts(
        await createRotationRuntime(undefined, { connectCluster: connectEksCluster }).clusterClient('lab-1'),
        'verify-trust',
      );
      // Assess
      expect(output.roots).toEqual([h.currentRoot.fingerprint, stagedRoot.fingerprint]);
      await expect(cacerts).rejects.toThrow(/forbidden|403/i);
    } finally {
      process.env = saved;
    }
  });

  it('fails, naming the namespaces, while istiod publishes only the current root', async () => {
    // Prepare: lab-2 back on its start state, as if distribute-bundle had not reached it, and istiod's
    // push of it done (the ConfigMaps hold the current root alone)
    const istiod = h.lab.cluster('lab-2').istiod;
    const distributed = h.cacertsOf('lab-2');
    const backup = await h.store.readCacertsBackup(executionNameOf(executionId), 'lab-2');
    const pushed = (files: Readonly<Record<string, string>> | undefined) => async () => {
      for (let waited = 0; waited < 20_000; waited += 100) {
        await istiod.idle();
        if (istiod.pushedRootCertPem() === files?.['root-cert.pem']) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('istiod did not push lab-2 root-cert.pem');
    };
    h.replaceCacerts('lab-2', backup?.files ?? {});
    await pushed(backup?.files)();
    try {
      // Act
      const act = withEnv({ VERIFY_TIMEOUT_SECONDS: '1' }, () => verifyTrust(item('lab-2')));
      // Assess
      await expect(act).rejects.toMatchObject({ name: 'VerificationFailed', cluster: 'lab-2' });
      await expect(act).rejects.toThrow(
        /does not yet hold the root set .* in \d+ namespace\(s\): .*distribute-bundle/,
      );
    } finally {
      h.replaceCacerts('lab-2', distributed);
      await pushed(distributed)();
    }
  });
});

describe('reissue-intermediate handler', () => {
  it('switches to an intermediate under the new root; a re-run keeps that same intermediate', async () => {
    // Prepare, Act
    const first = await reissueIntermediate(item('lab-1'));
    const again = await reissueIntermediate(item('lab-1'));
    // Assess
    expect(first).toMatchObject({ cluster: 'lab-1', changed: true, issuerRoot: stagedRoot.fingerprint });
    expect(again).toMatchObject({
      changed: false,
      intermediateAfter: first.intermediateAfter,
      intermediateVersionId: first.intermediateVersionId,
    });
    expect(certificateFingerprint(h.cacertsOf('lab-1')['ca-cert.pem'])).toBe(first.intermediateAfter);
    await h.lab.cluster('lab-1').istiod.idle();
    expect(h.lab.cluster('lab-1').istiod.current()?.caCertFingerprint).toBe(first.intermediateAfter);
    expectNoKeyMaterial([first, again]);
  });

  it('refuses a cluster that does not trust the new root yet, storing and writing nothing', async () => {
    // Prepare: lab-2 back on its start state, as if distribute-bundle had not reached it
    const distributed = h.cacertsOf('lab-2');
    const backup = await h.store.readCacertsBackup(executionNameOf(executionId), 'lab-2');
    h.replaceCacerts('lab-2', backup?.files ?? {});
    try {
      // Act
      const act = reissueIntermediate(item('lab-2'));
      // Assess
      await expect(act).rejects.toMatchObject({ name: 'PreconditionFailed', cluster: 'lab-2' });
      await expect(act).rejects.toThrow(/does not hold the issuing root/);
      expect(h.cacertsOf('lab-2')).toEqual(backup?.files);
      await expect(h.store.readIntermediate('lab-2')).rejects.toThrow(/No intermediate CA is stored/);
    } finally {
      h.replaceCacerts('lab-2', distributed);
    }
  });
});

describe('retire-root handler', () => {
  it('refuses a cluster whose intermediate does not chain to the new root', async () => {
    // Prepare: lab-2 trusts both roots but still issues under root A
    // Act
    const act = retireRoot(item('lab-2'));
    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'PreconditionFailed',
      cluster: 'lab-2',
      phase: 'retire-root',
    });
  });
});

describe('restart-workloads and verify-workloads handlers', () => {
  it('verify-workloads refuses workloads neither restarted nor serving leaves under the new root', async () => {
    // Prepare: lab-2's intermediate was not reissued, so its proxies serve leaves of the old one.
    // (lab-1's 10-second certificates have renewed under its new intermediate already: the gate
    // accepts what its proxies serve, test/integration/handlers/resign-reissue.test.ts.) An earlier
    // test put lab-2's distributed cacerts back: wait until istiod has published A+B again.
    const istiod = h.lab.cluster('lab-2').istiod;
    const distributed = h.cacertsOf('lab-2')['root-cert.pem'];
    const republished = () =>
      istiod.current()?.rootCertPem === distributed && istiod.pushedRootCertPem() === distributed;
    for (let waited = 0; waited < 20_000 && !republished(); waited += 100) {
      await istiod.idle();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(republished()).toBe(true);
    // Act
    const act = verifyWorkloads(item('lab-2'));
    // Assess
    await expect(act).rejects.toMatchObject({ name: 'VerificationFailed', cluster: 'lab-2' });
    await expect(act).rejects.toThrow(
      /was not restarted by this rotation and pod \S+ serves a leaf of .*, which the new root did not sign/,
    );
  });

  it('restarts every injected workload once; a re-run restarts none; then verify-workloads passes', async () => {
    // Prepare, Act
    const first = await restartWorkloads({ ...item('lab-1'), purpose: 'rotation' });
    const again = await restartWorkloads({ ...item('lab-1'), purpose: 'rotation' });
    const verified = await verifyWorkloads(item('lab-1'));
    // Assess
    expect(first.workloads).toBeGreaterThan(0);
    expect(first.restarted).toBe(first.workloads);
    expect(again).toMatchObject({ restarted: 0, restartId: first.restartId });
    expect(verified).toMatchObject({ cluster: 'lab-1', workloads: first.workloads });
    expect(verified.pods).toBeGreaterThanOrEqual(first.workloads);
    expectNoKeyMaterial([first, again, verified]);
  });

  it('restarts nothing for rollback in a cluster whose intermediate this execution did not switch', async () => {
    // Prepare, Act
    const output = await restartWorkloads({ ...item('lab-2'), purpose: 'rollback' });
    // Assess
    expect(output).toMatchObject({
      restarted: 0,
      waves: 0,
      skipped: expect.stringMatching(/did not switch/),
    });
  });
});

describe('retire-root handler after the switch', () => {
  it('leaves only the new root, past a concurrent write; a re-run changes nothing', async () => {
    // Prepare: the 1st get is the read the change is computed from
    // Act
    const first = await withConcurrentWrite('lab-1', 1, () => retireRoot(item('lab-1')));
    const again = await retireRoot(item('lab-1'));
    // Assess
    expect(first).toMatchObject({ changed: true, rootsAfter: [stagedRoot.fingerprint] });
    expect(again).toMatchObject({ changed: false, rootsAfter: [stagedRoot.fingerprint] });
    expect(
      h.lab.cluster('lab-1').store.get('Secret', 'istio-system', 'cacerts').metadata.annotations,
    ).toMatchObject({
      'ops.example/touched': 'yes',
    });
    expectNoKeyMaterial([first, again]);
  });
});

describe('rollback handler', () => {
  it('changes nothing for an execution that never touched the fleet', async () => {
    // Prepare
    const untouched = h.executionId('untouched');
    // Act
    const outputs = await Promise.all([
      ...['restore-trust', 'restore-intermediate', 'restore-original'].map((stage) =>
        rollback({ executionId: untouched, stage, cluster: 'lab-2' }),
      ),
      rollback({ executionId: untouched, stage: 'drop-pending-root' }),
    ]);
    // Assess
    expect(outputs.map((output) => output.changed)).toEqual([false, false, false, false]);
    expect((await h.store.describeRoot()).pending).toBe(stagedRoot.versionId);
    expectNoKeyMaterial(outputs);
  });

  it('refuses an unknown stage by name', async () => {
    // Prepare, Act
    const act = rollback({ executionId, stage: 'restore-everything', cluster: 'lab-1' });
    // Assess
    await expect(act).rejects.toThrow(/stage/);
  });
});

describe('record-approval and check-expiry handlers', () => {
  it('record-approval returns the gate and never the task token', async () => {
    // Prepare
    const taskToken = 'AQCEAAAAKgAAAAMAAAAAAAAAAcapability-token-value';
    // Act
    const output = await recordApproval({ executionId, gate: 'retire', mode: 'scheduled', taskToken });
    // Assess
    expect(output).toEqual({ gate: 'retire', requestedAt: expect.any(String) });
    expect(JSON.stringify(output)).not.toContain(taskToken);
  });

  it('check-expiry, as its own role, reports the days until the first CA expires from what istiod signs with', async () => {
    // Prepare: the expiry check's credentials, mapped to group meshtrust-expiry-check (no secret in any cluster)
    const saved = { ...process.env };
    Object.assign(process.env, awsEnvironmentFor(h.lab.identities.expiryCheck, h.lab.region));
    const intermediateOf = (cluster: string) =>
      describeCertificate(h.cacertsOf(cluster)['ca-cert.pem']).notAfter.getTime();
    const earliest = ['lab-1', 'lab-2'].reduce((a, b) => (intermediateOf(b) < intermediateOf(a) ? b : a));
    try {
      // Act
      const output = await checkExpiry();
      const cacerts = readClusterCacerts(
        await createRotationRuntime(undefined, { connectCluster: connectEksCluster }).clusterClient('lab-1'),
        'check-expiry',
      );
      // Assess
      expect(output.certificates).toBe(3);
      expect(output.first).toBe(`intermediate/${earliest}`);
      expect(output.days).toBe(Math.floor((intermediateOf(earliest) - Date.now()) / DAY_MS));
      expectNoKeyMaterial(output);
      await expect(cacerts).rejects.toThrow(/forbidden|403/i);
    } finally {
      process.env = saved;
    }
  });
});
