// preflight against a 2-cluster lab and moto: it passes a healthy fleet and refuses, before any write,
// naming cluster and problem.
import { clientRequestTokenFor } from '../../../lambdas/adapters/secrets/client-request-token.js';
import { PREFLIGHT_KEPT_PATHS } from '../../../lambdas/contract/preflight-answer.js';
import {
  assembleCacerts,
  certificateFingerprint,
  createIntermediateCa,
  createRootCa,
  TrustBundle,
} from '../../../lambdas/core/pki/index.js';
import { handler as preflight } from '../../../lambdas/handlers/preflight.js';
import { expectNoKeyMaterial, type HandlerLab, startHandlerLab, withEnv } from './handler-lab.js';

let h: HandlerLab;
beforeAll(async () => {
  h = await startHandlerLab({ clusters: 2, workloadsPerCluster: 2, pcds: true });
});
afterAll(async () => {
  await h?.stop();
});

/** Runs `act` with lab-2's cacerts replaced, then puts the original back. */
async function withCacertsOfLab2<T>(files: Record<string, string>, act: () => Promise<T>): Promise<T> {
  const original = h.cacertsOf('lab-2');
  h.replaceCacerts('lab-2', files);
  try {
    return await act();
  } finally {
    h.replaceCacerts('lab-2', original);
  }
}

/**
 * Runs `act` with the env of lab-2's istiod Deployment changed by `edit` (and its mesh config's `mesh`
 * text replaced, when given), as an operator's kubectl would, then puts both back.
 */
async function withIstioOfLab2<T>(
  change: {
    readonly env?: (env: { name: string; value?: string }[]) => { name: string; value?: string }[];
    readonly mesh?: string;
  },
  act: () => Promise<T>,
): Promise<T> {
  const store = h.lab.cluster('lab-2').store;
  const deployment = store.get('Deployment', 'istio-system', 'istiod');
  const meshConfig = store.get('ConfigMap', 'istio-system', 'istio');
  const container = deployment.spec.template.spec.containers[0];
  const restore = () => {
    const current = store.get('Deployment', 'istio-system', 'istiod');
    current.spec.template.spec.containers[0].env = container.env;
    store.update(current);
    store.update({ ...store.get('ConfigMap', 'istio-system', 'istio'), data: meshConfig.data });
  };
  if (change.env) {
    const edited = store.get('Deployment', 'istio-system', 'istiod');
    edited.spec.template.spec.containers[0].env = change.env([...container.env]);
    store.update(edited);
  }
  if (change.mesh !== undefined) {
    store.update({ ...store.get('ConfigMap', 'istio-system', 'istio'), data: { mesh: change.mesh } });
  }
  try {
    return await act();
  } finally {
    restore();
  }
}

describe('preflight handler', () => {
  it('finds the clusters, the current root and a safe plan, and returns no key material', async () => {
    // Prepare
    const executionId = h.executionId();
    // Act
    const output = await preflight({ executionId, mode: 'scheduled', cluster: null });
    // Assess
    // PCDS on in the lab's mesh and proxies: each cluster re-signs rather than restarts.
    expect(output.clusters).toEqual([
      { name: 'lab-1', strategy: 'resign' },
      { name: 'lab-2', strategy: 'resign' },
    ]);
    expect(output.currentRoot).toEqual(h.currentRoot);
    expect(output.plan).toMatchObject({
      mode: 'scheduled',
      currentRoot: h.currentRoot.fingerprint,
      clusters: ['lab-1', 'lab-2'],
      restart: 'waves',
    });
    expect(output.plan.phases.map((phase) => phase.name)).toContain('retire-root');
    // The lab's istiod: Istio 1.29, multi-root on, PCDS on, SECRET_TTL = the model's 8 s certificates.
    expect(output.plan.istio).toEqual(
      ['lab-1', 'lab-2'].map((cluster) => ({
        cluster,
        istioVersion: '1.29',
        multiRoot: 'on',
        workloadCertTtlSeconds: 8,
        pcds: true,
      })),
    );
    expect(output.plan.notes).toEqual([]);
    // Every part the state keeps is there: a ResultSelector path it lacked would fail the run.
    const valueAt = (path: string) =>
      path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown>)?.[key], output);
    expect(PREFLIGHT_KEPT_PATHS.filter((path) => valueAt(path) === undefined)).toEqual([]);
    expect(output.plan.historyEvents.worstCase).toBeGreaterThan(output.plan.historyEvents.fewest);
    expectNoKeyMaterial(output);
  });

  it('refuses a root rotation when lab-2 runs istiod without ISTIO_MULTIROOT_MESH, naming both, and writes nothing', async () => {
    // Prepare
    const before = await h.writableState();
    // Act
    const error = await withIstioOfLab2(
      { env: (env) => env.filter((variable) => variable.name !== 'ISTIO_MULTIROOT_MESH') },
      () => preflight({ executionId: h.executionId(), mode: 'scheduled', cluster: null }),
    ).catch((e: Error) => e);
    // Assess
    expect(error).toMatchObject({ name: 'PreconditionFailed', phase: 'preflight', cluster: 'lab-2' });
    expect((error as Error).message).toContain(
      'nothing was written. cluster lab-2: istiod Deployment istio-system/istiod has ISTIO_MULTIROOT_MESH unset; ' +
        'a root rotation needs it true on every istiod',
    );
    expect((error as Error).message).not.toContain('cluster lab-1');
    expect(await h.writableState()).toEqual(before);
  });

  it('refuses ISTIO_MULTIROOT_MESH=false in emergency mode too, and lets an intermediate rekey through with a note', async () => {
    // Prepare
    const off = (env: { name: string; value?: string }[]) =>
      env.map((variable) =>
        variable.name === 'ISTIO_MULTIROOT_MESH' ? { ...variable, value: 'false' } : variable,
      );
    // Act
    const emergency = await withIstioOfLab2({ env: off }, () =>
      preflight({ executionId: h.executionId(), mode: 'emergency' }),
    ).catch((e: Error) => e);
    const rekey = await withIstioOfLab2({ env: off }, () =>
      preflight({ executionId: h.executionId(), mode: 'intermediate', cluster: 'lab-2' }),
    );
    // Assess
    expect((emergency as Error).message).toContain('has ISTIO_MULTIROOT_MESH set to "false"');
    expect(rekey.plan.istio.find((settings) => settings.cluster === 'lab-2')?.multiRoot).toBe('off');
    expect(rekey.plan.notes).toEqual([
      expect.stringMatching(/^cluster lab-2: .*an intermediate rekey keeps root-cert\.pem/),
    ]);
  });

  it("records lab-2's own TTL and PCDS off from its mesh config, as a note, not a refusal", async () => {
    // Prepare
    const mesh = 'defaultConfig:\n  proxyMetadata:\n    SECRET_TTL: 1h30m\n';
    // Act
    const output = await withIstioOfLab2({ mesh }, () =>
      preflight({ executionId: h.executionId(), mode: 'scheduled' }),
    );
    // Assess
    expect(output.plan.istio.find((settings) => settings.cluster === 'lab-2')).toEqual({
      cluster: 'lab-2',
      istioVersion: '1.29',
      multiRoot: 'on',
      workloadCertTtlSeconds: 5400,
      pcds: false,
    });
    expect(output.plan.notes).toEqual([
      expect.stringContaining('cluster lab-2: PCDS is off for revision default'),
    ]);
  });

  it('plans an intermediate rekey of one named cluster and hands only that cluster to the Maps', async () => {
    // Prepare, Act
    const output = await preflight({ executionId: h.executionId(), mode: 'intermediate', cluster: 'lab-2' });
    // Assess
    expect(output.plan).toMatchObject({
      mode: 'intermediate',
      cluster: 'lab-2',
      targetRoot: h.currentRoot.fingerprint,
    });
    // An intermediate rekey leaves root-cert.pem alone, so nothing is pushed: it restarts.
    expect(output.clusters).toEqual([{ name: 'lab-2', strategy: 'restart' }]);
  });

  it('refuses an input without mode', async () => {
    // Prepare, Act
    const act = preflight({ executionId: h.executionId(), mode: null, cluster: null });
    // Assess
    await expect(act).rejects.toMatchObject({ name: 'PreconditionFailed', phase: 'preflight' });
    await expect(act).rejects.toThrow(/no mode/);
  });

  it('refuses a cluster whose cacerts lacks a key, naming cluster and key, and writes nothing', async () => {
    // Prepare
    const { 'ca-key.pem': _key, ...withoutKey } = h.cacertsOf('lab-2');
    const before = await h.store.describeRoot();
    // Act
    const act = withCacertsOfLab2(withoutKey, () =>
      preflight({ executionId: h.executionId(), mode: 'scheduled', cluster: null }),
    );
    // Assess
    await expect(act).rejects.toMatchObject({ name: 'PreconditionFailed', cluster: 'lab-2' });
    await expect(
      withCacertsOfLab2(withoutKey, () => preflight({ executionId: h.executionId(), mode: 'scheduled' })),
    ).rejects.toThrow(/cluster lab-2: ca-key\.pem: ca-key\.pem is missing/);
    expect(await h.store.describeRoot()).toEqual(before);
  });

  it('refuses a key that does not match the intermediate', async () => {
    // Prepare
    const stranger = await createIntermediateCa({ cluster: 'lab-2', issuer: h.lab.rootA });
    // Act
    const act = withCacertsOfLab2({ ...h.cacertsOf('lab-2'), 'ca-key.pem': stranger.privateKeyPem }, () =>
      preflight({ executionId: h.executionId(), mode: 'scheduled' }),
    );
    // Assess
    await expect(act).rejects.toThrow(/cluster lab-2: ca-key\.pem: .*(match|key)/i);
  });

  it('refuses a cluster on another root, whose root-cert lacks the current root', async () => {
    // Prepare
    const rootX = await createRootCa({ commonName: 'root X' });
    const intX = await createIntermediateCa({ cluster: 'lab-2', issuer: rootX });
    const foreign = assembleCacerts({
      intermediate: intX,
      chainAbove: [rootX.certificatePem],
      trustedRoots: TrustBundle.parse(rootX.certificatePem),
    });
    // Act
    const error = await withCacertsOfLab2(foreign, () =>
      preflight({ executionId: h.executionId(), mode: 'scheduled' }),
    ).catch((e: Error) => e);
    // Assess
    expect(error).toMatchObject({ name: 'PreconditionFailed', cluster: 'lab-2' });
    expect((error as Error).message).toMatch(/root-cert\.pem does not hold the mesh's current root/);
    expect((error as Error).message).toContain(
      `chains to root ${certificateFingerprint(rootX.certificatePem)}`,
    );
  });

  it('refuses intermediates that expire within the configured headroom', async () => {
    // Prepare, Act
    const act = withEnv({ MIN_INTERMEDIATE_HEADROOM_DAYS: '400' }, () =>
      preflight({ executionId: h.executionId(), mode: 'scheduled' }),
    );
    // Assess
    await expect(act).rejects.toThrow(/cluster lab-1: the intermediate expires on .* less than the 400/);
  });

  it('refuses while another rotation has a pending root', async () => {
    // Prepare
    const other = await createRootCa({ commonName: 'other rotation' });
    const token = clientRequestTokenFor(h.executionId('other'), 'root');
    await h.store.stageRoot({
      material: {
        certificatePem: other.certificatePem,
        fingerprint: certificateFingerprint(other.certificatePem),
        key: { kind: 'kms', keyArn: 'arn:aws:kms:us-east-1:123456789012:key/never-signs' },
      },
      token,
    });
    // Act
    const act = preflight({ executionId: h.executionId(), mode: 'scheduled' });
    // Assess
    try {
      await expect(act).rejects.toThrow(new RegExp(`Another rotation is running.*version ${token}`));
    } finally {
      await h.store.dropPendingRoot({ versionId: token });
    }
  });

  it('says how to import the root when the CA store holds none', async () => {
    // Prepare, Act
    const act = withEnv({ MESH_ID: `${h.meshId}-never-imported` }, () =>
      preflight({ executionId: h.executionId(), mode: 'scheduled' }),
    );
    // Assess
    await expect(act).rejects.toThrow(/No current root CA is stored .*meshtrust import-root/);
  });

  it('refuses a listed cluster that does not exist, naming it', async () => {
    // Prepare, Act
    const act = withEnv({ CLUSTERS: 'lab-1,lab-9' }, () =>
      preflight({ executionId: h.executionId(), mode: 'scheduled' }),
    );
    // Assess
    await expect(act).rejects.toMatchObject({ name: 'PreconditionFailed', cluster: 'lab-9' });
  });

  it('refuses clusters that refuse its credentials (a viewer may not read cacerts), naming each cluster', async () => {
    // Prepare: valid AWS credentials whose Kubernetes group may not read secrets
    const viewer = h.lab.identities.viewer.credentials;
    // Act
    const error = await withEnv(
      {
        AWS_ACCESS_KEY_ID: viewer.accessKeyId,
        AWS_SECRET_ACCESS_KEY: viewer.secretAccessKey,
        AWS_SESSION_TOKEN: viewer.sessionToken,
      },
      () => preflight({ executionId: h.executionId(), mode: 'scheduled' }),
    ).catch((e: Error) => e);
    // Assess
    expect(error).toMatchObject({ name: 'PreconditionFailed', phase: 'preflight' });
    expect((error as Error).message).toMatch(/cluster lab-1 is unreachable or refused the request: .*/);
    expect((error as Error).message).toMatch(/cluster lab-2 is unreachable or refused the request/);
  });
});

describe('preflight with a root imported without its key', () => {
  let offline: HandlerLab;
  beforeAll(async () => {
    offline = await startHandlerLab({ clusters: 1, workloadsPerCluster: 1, importRoot: false });
    await offline.store.importRoot({
      material: {
        certificatePem: offline.lab.rootA.certificatePem,
        fingerprint: certificateFingerprint(offline.lab.rootA.certificatePem),
      },
      token: clientRequestTokenFor(offline.executionId('adopt'), 'root'),
    });
  });
  afterAll(async () => {
    await offline?.stop();
  });

  it('refuses intermediate mode, which would have to sign with the offline root, and says what to run', async () => {
    // Prepare, Act
    const act = withEnv({ MESH_ID: offline.meshId }, () =>
      preflight({ executionId: offline.executionId(), mode: 'intermediate' }),
    );
    // Assess
    await expect(act).rejects.toMatchObject({ name: 'PreconditionFailed', phase: 'preflight' });
    await expect(act).rejects.toThrow(/imported offline .* Run a scheduled rotation/);
  });

  it('passes a scheduled rotation, which signs only with the new KMS root', async () => {
    // Prepare, Act
    const checked = await withEnv({ MESH_ID: offline.meshId }, () =>
      preflight({ executionId: offline.executionId(), mode: 'scheduled' }),
    );
    // Assess
    expect(checked.currentRoot.fingerprint).toBe(certificateFingerprint(offline.lab.rootA.certificatePem));
  });
});
