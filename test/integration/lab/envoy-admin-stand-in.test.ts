// `istioctl proxy-config secret` against an istio-engine pod, all real but Envoy: the real istioctl
// (lab/go's build) port-forwards through the real kube-apiserver and the node's kubelet-streaming to
// the pod's port 15000, where the Envoy admin stand-in answers from the certificate the pod's real
// pilot-agent holds; istioctl then parses it with Istio's own config dump wrapper
// (istioctl/pkg/util/configdump, sdscompare.GetEnvoySecrets). The real component judges the model:
// it must read the very chain and roots the agent wrote, and the key must stay redacted.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import type { IstioFleet } from '../../../lab/istio-install/start-istio-fleet.js';
import { type IstioFleetKit, startTestFleet } from '../../support/istio-fleet-kit.js';
import { controlPlaneBinaries } from '../../support/lab-binaries.js';

const run = promisify(execFile);
const CLUSTER = 'lab-1';

jest.setTimeout(180_000);

let dir: string;
let fleet: IstioFleet;
let kit: IstioFleetKit;
let istioctl: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mt-envoy-admin-'));
  istioctl = (await controlPlaneBinaries()).path('istioctl');
  ({ fleet, kit } = await startTestFleet({
    dir,
    clusters: [CLUSTER],
    proxyMetadata: { PROXY_CONFIG_XDS_AGENT: 'true' },
    volumeSyncPeriodMs: 2_000,
  }));
  await kit.deployApp(CLUSTER);
}, 60 * 60_000);

afterAll(async () => {
  await fleet?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The real istioctl as the lab's administrator; never rejects, so a failure can be judged. */
async function proxyConfigSecret(pod: V1Pod, ...extra: string[]) {
  const cluster = fleet.controlPlane.clusters[0];
  if (!cluster) throw new Error('no cluster');
  return run(
    istioctl,
    [
      '--kubeconfig',
      cluster.adminKubeconfig,
      'proxy-config',
      'secret',
      `${pod.metadata?.name}.${pod.metadata?.namespace}`,
      ...extra,
    ],
    { timeout: 60_000, env: { ...process.env, KUBECONFIG: '', HOME: dir } },
  ).then(
    ({ stdout, stderr }) => ({ exitCode: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      exitCode: error.code ?? -1,
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
    }),
  );
}

interface DataSource {
  readonly inlineBytes?: string;
  readonly inline_bytes?: string;
}
const bytesOf = (source: DataSource | undefined) =>
  Buffer.from(source?.inlineBytes ?? source?.inline_bytes ?? '', 'base64').toString('utf8');

describe('istioctl proxy-config secret on a lab proxy (through port-forward to the Envoy admin stand-in)', () => {
  it('reads the chain and roots the pod’s pilot-agent holds, with the key redacted', async () => {
    // Prepare: as below, the files read around the dump, again when the agent re-signed meanwhile
    const pod = await kit.appPod(CLUSTER);
    const files = async () =>
      Promise.all(
        ['cert-chain.pem', 'root-cert.pem', 'key.pem'].map((file) => kit.proxyFile(CLUSTER, pod, file)),
      );
    let [chain, roots, key] = await files();
    let result = { exitCode: -1, stdout: '', stderr: '' };
    for (let attempt = 0; attempt < 5; attempt++) {
      [chain, roots, key] = await files();
      // Act
      result = await proxyConfigSecret(pod, '-o', 'json');
      if ((await files()).join() === [chain, roots, key].join()) break;
    }

    // Assess
    expect(result).toMatchObject({ exitCode: 0 });
    const dump = JSON.parse(result.stdout) as {
      dynamicActiveSecrets: Array<{
        name: string;
        secret: {
          tlsCertificate?: { certificateChain?: DataSource; privateKey?: DataSource };
          validationContext?: { trustedCa?: DataSource };
        };
      }>;
    };
    const byName = new Map(dump.dynamicActiveSecrets.map((secret) => [secret.name, secret.secret]));
    expect([...byName.keys()]).toEqual(['default', 'ROOTCA']);
    expect(bytesOf(byName.get('default')?.tlsCertificate?.certificateChain)).toBe(chain);
    expect(bytesOf(byName.get('default')?.tlsCertificate?.privateKey)).toBe('[redacted]');
    expect(bytesOf(byName.get('ROOTCA')?.validationContext?.trustedCa)).toBe(roots);
    expect(result.stdout).not.toContain(Buffer.from(key).toString('base64').slice(0, 40));
  });

  it("summarises the served leaf as istioctl does: ACTIVE, valid, the leaf's serial number", async () => {
    // Prepare: the agent may re-sign at any time (a PCDS push right after start does): read the file
    // around the dump and try again when it changed meanwhile
    const pod = await kit.appPod(CLUSTER);
    let leaf: X509Certificate | undefined;
    let result = { exitCode: -1, stdout: '', stderr: '' };
    for (let attempt = 0; attempt < 5 && leaf === undefined; attempt++) {
      const before = await kit.proxyFile(CLUSTER, pod, 'cert-chain.pem');
      // Act
      result = await proxyConfigSecret(pod);
      if ((await kit.proxyFile(CLUSTER, pod, 'cert-chain.pem')) === before)
        leaf = new X509Certificate(before);
    }

    // Assess
    expect(result).toMatchObject({ exitCode: 0 });
    const line = result.stdout.split('\n').find((row) => row.startsWith('default'));
    expect(line).toMatch(/^default\s+Cert Chain\s+ACTIVE\s+true\s+/);
    expect(line?.toLowerCase()).toContain(leaf?.serialNumber.toLowerCase().padStart(32, '0'));
    expect(result.stdout).toMatch(/^ROOTCA\s+CA\s+ACTIVE\s+true\s+/m);
  });

  it('fails on a pod without a proxy: nothing listens on its port 15000 (negative control)', async () => {
    // Prepare
    const [istiod] = (
      JSON.parse(
        await kit.kubectl(CLUSTER, ['-n', 'istio-system', 'get', 'pods', '-l', 'app=istiod', '-o', 'json']),
      ) as {
        items: V1Pod[];
      }
    ).items;
    if (!istiod) throw new Error('no istiod pod');

    // Act
    const result = await proxyConfigSecret(istiod);

    // Assess
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).not.toMatch(/^default/m);
    // The forward reached the pod; the connection to its port 15000 found nobody (kubelet-streaming's
    // dial was refused), as on a real pod without Envoy.
    expect(result.stderr).toMatch(/failure running port forward process/);
  });
});
