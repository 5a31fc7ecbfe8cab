// `meshtrust plan` against a 2-cluster lab and moto: it prints what preflight would do, every write per
// phase and cluster with fingerprints, reports a cluster whose intermediate chains to another root with
// exit 1, and writes nothing (cacerts resourceVersions and root secret versions stay as they were).
import { ListSecretVersionIdsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { EXIT_CODES } from '../../../bin/cli/cli-errors.js';
import type { PlanReport } from '../../../bin/commands/plan.js';
import { awsEnvironmentFor } from '../../../lab/eks/lab-identities.js';
import {
  assembleCacerts,
  certificateFingerprint,
  createIntermediateCa,
  createRootCa,
  TrustBundle,
} from '../../../lambdas/core/pki/index.js';
import { motoClientConfig } from '../../support/moto-endpoint.js';
import { jobOwner, sidecarPod } from '../../support/sidecar-pod.js';
import { type HandlerLab, startHandlerLab } from '../handlers/handler-lab.js';
import { type CliRun, runMeshtrustInProcess } from './in-process-cli.js';

let h: HandlerLab;
beforeAll(async () => {
  h = await startHandlerLab({ clusters: 2, workloadsPerCluster: 2, pcds: true });
});
afterAll(async () => {
  await h?.stop();
});

async function meshtrust(...args: string[]): Promise<CliRun> {
  // The lab's environment, as `source DIR/env` gives a shell (handler-lab sets it in process.env).
  return runMeshtrustInProcess(args, { ...process.env, MESH_ID: '', MESHTRUST_MESH_ID: h.meshId });
}

/** Everything a write would change: the cacerts resourceVersions and the root secret's versions. */
async function writableState(): Promise<unknown> {
  const client = new SecretsManagerClient({ ...motoClientConfig(), region: h.lab.region });
  try {
    const versions = await client.send(new ListSecretVersionIdsCommand({ SecretId: h.store.rootSecretName }));
    return {
      cacerts: h.lab.clusters.map(
        (c) => h.lab.cluster(c.name).store.get('Secret', 'istio-system', 'cacerts').metadata?.resourceVersion,
      ),
      rootVersions: (versions.Versions ?? []).map((v) => [v.VersionId, [...(v.VersionStages ?? [])].sort()]),
    };
  } finally {
    client.destroy();
  }
}

async function withLab2Cacerts<T>(files: Record<string, string>, act: () => Promise<T>): Promise<T> {
  const original = h.cacertsOf('lab-2');
  h.replaceCacerts('lab-2', files);
  try {
    return await act();
  } finally {
    h.replaceCacerts('lab-2', original);
  }
}

describe('meshtrust plan', () => {
  it('prints every phase with each cluster step and the fingerprints it writes, exit 0', async () => {
    // Prepare
    const rootA = h.currentRoot.fingerprint;
    // Act
    const { exitCode, stdout } = await meshtrust('plan', '--mode', 'scheduled');
    // Assess
    expect(exitCode).toBe(EXIT_CODES.ok);
    for (const phase of [
      'preflight',
      'stage-root',
      'distribute-bundle',
      'verify-trust',
      'reissue-intermediate',
    ]) {
      expect(stdout).toMatch(new RegExp(`^${phase}$`, 'm'));
    }
    expect(stdout).toContain(`current root  ${rootA}`);
    expect(stdout).toContain(
      `lab-2: back up cacerts; write root-cert = {${[rootA, 'new-root'].sort().join(', ')}}`,
    );
    expect(stdout).toContain('after: root-cert {new-root}; ca-cert new-intermediate/lab-1 under new-root');
    // PCDS on: both clusters resign, and their reissue and restart steps say what that does
    expect(stdout).toContain(
      'lab-1: issue intermediate new-intermediate/lab-1 signed by new-root; store it; write cacerts with it ' +
        '(root-cert with new-root appended once more, so that istiod pushes it and its proxies re-sign)',
    );
    expect(stdout).toContain(
      'lab-2: wait until every proxy serves a certificate from new-intermediate/lab-2; rollout restart in waves ' +
        'only the workloads whose proxies did not re-sign; wait until ready [writes workloads]',
    );
    expect(stdout).toContain('no problems: preflight would start this rotation');
  });

  it('prints the execution history a run records at worst, counted with the restart wave size asked for', async () => {
    // Act
    const text = await meshtrust('plan', '--mode', 'scheduled');
    const oneByOne = await meshtrust('plan', '--mode', 'scheduled', '--restart-wave-size', '1', '--json');
    // Assess
    expect(text.exitCode).toBe(EXIT_CODES.ok);
    expect(text.stdout).toMatch(
      /^execution history: at worst (\d+) events, within the 20000 preflight allows \(80% of Step Functions' 25000\); most in restart-workloads \d+, rollback-restart \d+; at least \d+ if every check passes at once$/m,
    );
    const report = JSON.parse(oneByOne.stdout) as PlanReport;
    // The lab's 2 workloads and 2 gateways per cluster: four waves of 1 instead of one of 5 (the default).
    expect(report.historyEvents?.mostRestartWaves).toBe(4);
    const worst = Number(/at worst (\d+) events/.exec(text.stdout)?.[1]);
    // Three more waves, each a restart invocation and its Choice in restart-workloads and rollback-restart.
    expect(report.historyEvents?.worstCase).toBe(worst + 3 * 2 * 2 * 7);
  });

  it("prints each cluster's Istio as preflight records it: version, multi-root, certificate TTL, PCDS", async () => {
    // Prepare: lab-2's mesh config asks for 12 h certificates and leaves PCDS off
    const store = h.lab.cluster('lab-2').store;
    const original = store.get('ConfigMap', 'istio-system', 'istio');
    store.update({ ...original, data: { mesh: 'defaultConfig:\n  proxyMetadata:\n    SECRET_TTL: 12h\n' } });
    try {
      // Act
      const text = await meshtrust('plan', '--mode', 'scheduled');
      const json = await meshtrust('plan', '--mode', 'scheduled', '--json');
      // Assess
      expect(text.exitCode).toBe(EXIT_CODES.ok);
      expect(text.stdout).toMatch(
        /^cluster lab-1 .*\n {2}istio 1\.29, multi-root on, workload certificates 8s, PCDS on$/m,
      );
      expect(text.stdout).toMatch(
        /^cluster lab-2 .*\n {2}istio 1\.29, multi-root on, workload certificates 12h, PCDS off$/m,
      );
      expect(text.stdout).toMatch(/^1 note\(s\)\n {2}- cluster lab-2: PCDS is off for revision default/m);
      const report = JSON.parse(json.stdout) as PlanReport;
      expect(
        report.clusters.map(({ name, istioVersion, multiRoot, workloadCertTtlSeconds, pcds }) => ({
          name,
          istioVersion,
          multiRoot,
          workloadCertTtlSeconds,
          pcds,
        })),
      ).toEqual([
        { name: 'lab-1', istioVersion: '1.29', multiRoot: 'on', workloadCertTtlSeconds: 8, pcds: true },
        { name: 'lab-2', istioVersion: '1.29', multiRoot: 'on', workloadCertTtlSeconds: 43200, pcds: false },
      ]);
      expect(report.notes).toEqual([expect.stringContaining('PROXY_CONFIG_XDS_AGENT is unset')]);
      // lab-2's proxies learn root B only at renewal: within 51% of 12 h, plus 10 s.
      expect(report.proxyTrustWait).toEqual({
        seconds: Math.ceil(43_200 * 0.51) + 10,
        reason: expect.stringContaining('lab-2: PCDS off'),
      });
      expect(text.stdout).toMatch(
        /^after verify-trust, wait 6h7m22s for every proxy to hold the new root \(lab-2/m,
      );
    } finally {
      store.update({ ...store.get('ConfigMap', 'istio-system', 'istio'), data: original.data });
    }
  });

  it('lists an istiod without ISTIO_MULTIROOT_MESH as a problem preflight would refuse on, exit 1', async () => {
    // Prepare
    const store = h.lab.cluster('lab-1').store;
    const original = store.get('Deployment', 'istio-system', 'istiod');
    const edited = structuredClone(original);
    edited.spec.template.spec.containers[0].env = [{ name: 'ISTIO_MULTIROOT_MESH', value: 'off' }];
    store.update(edited);
    try {
      // Act
      const { exitCode, stdout } = await meshtrust('plan', '--mode', 'scheduled');
      // Assess
      expect(exitCode).toBe(EXIT_CODES.checkFailed);
      expect(stdout).toMatch(/^ {2}istio 1\.29, multi-root off, workload certificates 8s, PCDS on$/m);
      expect(stdout).toContain(
        '- cluster lab-1: istiod Deployment istio-system/istiod has ISTIO_MULTIROOT_MESH set to "off", which is not a Go boolean',
      );
    } finally {
      const current = store.get('Deployment', 'istio-system', 'istiod');
      current.spec.template.spec.containers[0].env = original.spec.template.spec.containers[0].env;
      store.update(current);
    }
  });

  it('gives the same plan as JSON, with each cluster as read, and writes nothing', async () => {
    // Prepare
    const before = await writableState();
    // Act
    const { exitCode, stdout } = await meshtrust('plan', '--mode', 'emergency', '--json');
    // Assess
    const report = JSON.parse(stdout) as PlanReport;
    expect(exitCode).toBe(EXIT_CODES.ok);
    expect(report.problems).toEqual([]);
    expect(report.plan?.restart).toBe('all-at-once');
    expect(report.plan?.phases.map((p) => p.name)).not.toContain('soak');
    expect(report.clusters.map((c) => [c.name, c.intermediateIssuerRoot])).toEqual([
      ['lab-1', h.currentRoot.fingerprint],
      ['lab-2', h.currentRoot.fingerprint],
    ]);
    expect(report.clusters[0]?.intermediate).toBe(
      certificateFingerprint(h.cacertsOf('lab-1')['ca-cert.pem']),
    );
    expect(await writableState()).toEqual(before);
  });

  it('plans an intermediate rekey of the named cluster only', async () => {
    // Prepare, Act
    const { exitCode, stdout } = await meshtrust(
      'plan',
      '--mode',
      'intermediate',
      '--cluster',
      'lab-2',
      '--json',
    );
    // Assess
    const report = JSON.parse(stdout) as PlanReport;
    expect(exitCode).toBe(EXIT_CODES.ok);
    const writers = report.plan?.phases.flatMap((p) => p.steps).filter((s) => s.writes.length > 0);
    expect(writers?.map((s) => s.id)).toEqual(['reissue-intermediate/lab-2', 'restart-workloads/lab-2']);
  });

  it('reports a cluster whose intermediate chains to another root, exit 1, and writes nothing', async () => {
    // Prepare
    const rootX = await createRootCa({ commonName: 'root X' });
    const intX = await createIntermediateCa({ cluster: 'lab-2', issuer: rootX });
    const rootA = h.cacertsOf('lab-2')['root-cert.pem'];
    const foreign = assembleCacerts({
      intermediate: intX,
      chainAbove: [rootX.certificatePem],
      trustedRoots: TrustBundle.parse(rootA).add(rootX.certificatePem),
    });
    // Act
    const { result, before, after } = await withLab2Cacerts(foreign, async () => {
      const before = await writableState();
      const result = await meshtrust('plan');
      return { result, before, after: await writableState() };
    });
    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.checkFailed);
    expect(result.stdout).toContain('1 problem(s): preflight would refuse');
    expect(result.stdout).toContain(
      `cluster lab-2: the intermediate chains to root ${certificateFingerprint(rootX.certificatePem)}, not to the mesh's current root`,
    );
    expect(result.stdout).not.toMatch(/^distribute-bundle$/m);
    expect(after).toEqual(before);
  });

  it('names the injected pods nothing restarts, and what an emergency run means for them, as the viewer', async () => {
    // Prepare: a bare pod and a Job's pod with Istio's proxy in lab-1 (no Deployment, StatefulSet or
    // DaemonSet owns them), read with the viewer's credentials (meshtrust-viewer may list replicasets).
    const store = h.lab.cluster('lab-1').store;
    store.create(sidecarPod('tools', 'debug'));
    store.create(sidecarPod('tools', 'nightly-x7k2p', jobOwner('nightly')));
    const viewer = awsEnvironmentFor(h.lab.identities.viewer, h.lab.region);
    try {
      // Act
      const text = await runMeshtrustInProcess(['plan', '--mode', 'emergency'], {
        ...process.env,
        ...viewer,
        MESH_ID: '',
        MESHTRUST_MESH_ID: h.meshId,
      });
      const json = await runMeshtrustInProcess(['plan', '--mode', 'scheduled', '--json'], {
        ...process.env,
        ...viewer,
        MESH_ID: '',
        MESHTRUST_MESH_ID: h.meshId,
      });

      // Assess
      expect(text.exitCode).toBe(EXIT_CODES.ok);
      expect(text.stdout).toMatch(
        /^ {2}\d+ workload\(s\) to restart; 2 injected pod\(s\) nothing restarts: tools\/debug, tools\/nightly-x7k2p \(Job nightly\)$/m,
      );
      expect(text.stdout).toContain(
        'the old root is retired right after the restarts, so they fail mTLS until replaced',
      );
      const report = JSON.parse(json.stdout) as PlanReport;
      const lab1 = report.clusters.find((cluster) => cluster.name === 'lab-1');
      expect(lab1?.workloads).toEqual({
        restart: expect.any(Number),
        unmanaged: [
          { namespace: 'tools', name: 'debug' },
          { namespace: 'tools', name: 'nightly-x7k2p', owner: 'Job nightly' },
        ],
      });
      expect(report.clusters.find((cluster) => cluster.name === 'lab-2')?.workloads).toMatchObject({
        unmanaged: [],
      });
      expect(report.notes.join('\n')).toContain(
        'they move to the new intermediate when their certificate renews',
      );
    } finally {
      store.delete('Pod', 'tools', 'debug');
      store.delete('Pod', 'tools', 'nightly-x7k2p');
    }
  });

  it('names the workloads a PodDisruptionBudget allows no disruption now, with the budget, as the viewer', async () => {
    // Prepare: lab-1's app-01 (a Deployment of one replica in shop) under a budget that wants it always up
    const store = h.lab.cluster('lab-1').store;
    store.create({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'app-01', namespace: 'shop' },
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'app-01' } } },
    });
    const viewer = awsEnvironmentFor(h.lab.identities.viewer, h.lab.region);
    try {
      for (let i = 0; i < 200; i++) {
        if (store.get('PodDisruptionBudget', 'shop', 'app-01').status?.observedGeneration === 1) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      // Act
      const text = await runMeshtrustInProcess(['plan', '--mode', 'scheduled'], {
        ...process.env,
        ...viewer,
        MESH_ID: '',
        MESHTRUST_MESH_ID: h.meshId,
      });
      const json = await meshtrust('plan', '--mode', 'scheduled', '--json');

      // Assess
      expect(text.stdout).toMatch(
        /^ {2}\d+ workload\(s\) to restart; 1 held now by a PodDisruptionBudget allowing no disruption \(restart-workloads waits up to ROLLOUT_TIMEOUT_SECONDS\): Deployment shop\/app-01: PodDisruptionBudget shop\/app-01 \(minAvailable: 1\) allows 0 disruption\(s\): 1 of 1 expected pods healthy, 1 required$/m,
      );
      const report = JSON.parse(json.stdout) as PlanReport;
      expect(report.clusters.find((cluster) => cluster.name === 'lab-1')?.workloads).toMatchObject({
        blockedByBudgets: [
          expect.stringContaining('Deployment shop/app-01: PodDisruptionBudget shop/app-01'),
        ],
      });
      expect(report.clusters.find((cluster) => cluster.name === 'lab-2')?.workloads).not.toHaveProperty(
        'blockedByBudgets',
      );
    } finally {
      store.delete('PodDisruptionBudget', 'shop', 'app-01');
    }
  });

  it('refuses --mode intermediate without --cluster as a usage error', async () => {
    // Prepare, Act
    const { exitCode, stderr } = await meshtrust('plan', '--mode', 'intermediate');
    // Assess
    expect(exitCode).toBe(EXIT_CODES.usage);
    expect(stderr).toContain('name it with --cluster NAME');
  });

  it('says how to name the mesh when neither --mesh-id nor the environment does', async () => {
    // Prepare
    const savedMeshId = process.env.MESH_ID;
    delete process.env.MESH_ID;
    // Act
    const { exitCode, stderr } = await runMeshtrustInProcess(['plan'], { AWS_REGION: 'us-east-1' });
    if (savedMeshId !== undefined) process.env.MESH_ID = savedMeshId;
    // Assess
    expect(exitCode).toBe(EXIT_CODES.usage);
    expect(stderr).toContain('--mesh-id ID');
  });

  it('documents its options in --help', async () => {
    // Prepare, Act
    const { exitCode, stdout } = await meshtrust('plan', '--help');
    // Assess
    expect(exitCode).toBe(EXIT_CODES.ok);
    for (const option of [
      '--mode',
      '--cluster',
      '--json',
      '--region',
      '--profile',
      '--mesh-id',
      '--clusters',
      '--rotation-strategy',
      '--restart-wave-size',
    ]) {
      expect(stdout).toContain(option);
    }
    expect(stdout.replace(/\s+/g, ' ')).toContain('how many execution history events it records at worst');
  });
});
