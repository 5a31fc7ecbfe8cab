// The istio engine's Kubernetes is Kubernetes: a real etcd, kube-apiserver and
// kube-controller-manager per cluster, built from their Go modules (lab/go). EKS tokens made by the
// real `aws eks get-token` pass through the webhook token authenticator; forged and other-cluster
// tokens get 401 from the real server; deploy/kubernetes/rbac.yaml is enforced by real RBAC; the
// controllers create ReplicaSets and Pods. The first run builds the binaries (see lab/binaries).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { type LabControlPlane, startControlPlane } from '../../../lab/control-plane/start-control-plane.js';
import { getTokenWithAwsCli } from '../../../lab/eks/aws-cli-token.js';
import { EKS_TOKEN_PREFIX } from '../../../lab/eks/eks-token-authenticator.js';
import {
  createLabIdentities,
  type LabIdentities,
  type LabIdentity,
} from '../../../lab/eks/lab-identities.js';
import { runKubectl } from '../../../lab/kube/kubectl-runner.js';
import { renderStaticTokenKubeconfig } from '../../../lab/kube/static-token-kubeconfig.js';
import { type LabelSelector, labelSelectorMatches } from '../../../lambdas/core/rotation/label-selector.js';
import { controlPlaneBinaries } from '../../support/lab-binaries.js';

const REGION = 'eu-west-1';
const CLUSTERS = ['lab-1', 'lab-2'];

// The first run on a machine builds Kubernetes, etcd and Istio (tens of minutes on 2 cores).
jest.setTimeout(120_000);

let dir: string;
let identities: LabIdentities;
let controlPlane: LabControlPlane;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshtrust-control-plane-'));
  identities = createLabIdentities({ clusterNames: CLUSTERS });
  controlPlane = await startControlPlane({
    binaries: await controlPlaneBinaries(),
    dir: join(dir, 'fleet'),
    clusterNames: CLUSTERS,
    identities,
    region: REGION,
  });
}, 60 * 60_000);

afterAll(async () => {
  await controlPlane?.stop();
  await rm(dir, { recursive: true, force: true });
});

function cluster(name: string) {
  const found = controlPlane.clusters.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no cluster ${name}`);
  return found;
}

/** kubectl against `clusterName` with a bearer token, as the EKS exec plugin hands it to kubectl. */
async function kubectlWithToken(clusterName: string, token: string, ...args: string[]) {
  const target = cluster(clusterName);
  const kubeconfig = join(dir, `${clusterName}-${Math.random().toString(36).slice(2)}.kubeconfig`);
  await writeFile(
    kubeconfig,
    renderStaticTokenKubeconfig({ clusterName, server: target.endpoint, caPem: target.caPem, token }),
    { mode: 0o600 },
  );
  return runKubectl(args, { kubeconfig, cacheDir: join(dir, 'kube-cache') });
}

async function tokenOf(identity: LabIdentity, clusterName: string): Promise<string> {
  return (await getTokenWithAwsCli({ identity, region: REGION, clusterName })).status.token;
}

function kubectlAsAdmin(clusterName: string, args: string[], input?: string) {
  return runKubectl(args, {
    kubeconfig: cluster(clusterName).adminKubeconfig,
    cacheDir: join(dir, 'kube-cache'),
    input,
  });
}

describe('EKS tokens through the webhook token authenticator of a real kube-apiserver', () => {
  it('lets the rotator in with a token from aws eks get-token, as the user of its access entry', async () => {
    // Prepare
    const token = await tokenOf(identities.rotator, 'lab-1');

    // Act
    const result = await kubectlWithToken('lab-1', token, 'auth', 'whoami', '-o', 'json');

    // Assess
    expect(result).toMatchObject({ exitCode: 0 });
    const review = JSON.parse(result.stdout) as {
      status: { userInfo: { username: string; groups: string[] } };
    };
    expect(review.status.userInfo.username).toBe(identities.rotator.arn);
    expect(review.status.userInfo.groups).toContain('meshtrust-rotator');
  });

  it('answers 401 to a token minted for another cluster', async () => {
    // Prepare
    const token = await tokenOf(identities.rotator, 'lab-2');

    // Act
    const result = await kubectlWithToken('lab-1', token, 'get', 'namespaces');

    // Assess
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/Unauthorized|must be logged in/);
    expect(controlPlane.webhook.refusals.some((refusal) => refusal.cluster === 'lab-1')).toBe(true);
  });

  it('answers 401 to a forged token whose signature was changed', async () => {
    // Prepare
    const token = await tokenOf(identities.rotator, 'lab-1');
    const url = Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8');
    const forgedUrl = url.replace(
      /X-Amz-Signature=([0-9a-f])/,
      (_, first: string) => `X-Amz-Signature=${first === '0' ? '1' : '0'}`,
    );
    const forged = `${EKS_TOKEN_PREFIX}${Buffer.from(forgedUrl, 'utf8').toString('base64url')}`;

    // Act
    const result = await kubectlWithToken('lab-1', forged, 'get', 'namespaces');

    // Assess
    expect(forged).not.toBe(token);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/Unauthorized|must be logged in/);
  });
});

describe('deploy/kubernetes/rbac.yaml enforced by real RBAC', () => {
  beforeAll(async () => {
    const created = await kubectlAsAdmin('lab-2', [
      '-n',
      'istio-system',
      'create',
      'secret',
      'generic',
      'cacerts',
      '--from-literal=root-cert.pem=placeholder',
    ]);
    expect(created.exitCode).toBe(0);
  });

  it('lets the rotator read cacerts in istio-system', async () => {
    // Act
    const result = await kubectlWithToken(
      'lab-2',
      await tokenOf(identities.rotator, 'lab-2'),
      '-n',
      'istio-system',
      'get',
      'secret',
      'cacerts',
      '-o',
      'name',
    );

    // Assess
    expect(result).toMatchObject({ exitCode: 0, stdout: 'secret/cacerts\n' });
  });

  it('refuses the rotator any other secret, and the viewer every secret', async () => {
    // Act
    const rotatorList = await kubectlWithToken(
      'lab-2',
      await tokenOf(identities.rotator, 'lab-2'),
      '-n',
      'kube-system',
      'get',
      'secrets',
    );
    const viewerRead = await kubectlWithToken(
      'lab-2',
      await tokenOf(identities.viewer, 'lab-2'),
      '-n',
      'istio-system',
      'get',
      'secret',
      'cacerts',
    );

    // Assess
    expect(rotatorList.exitCode).not.toBe(0);
    expect(rotatorList.stderr).toMatch(/forbidden/i);
    expect(viewerRead.exitCode).not.toBe(0);
    expect(viewerRead.stderr).toMatch(/forbidden/i);
  });

  it("lets the expiry check list istio-system's pods and nothing else: no secret, no other namespace", async () => {
    // Prepare
    const token = await tokenOf(identities.expiryCheck, 'lab-2');
    // Act
    const pods = await kubectlWithToken('lab-2', token, '-n', 'istio-system', 'get', 'pods', '-o', 'name');
    const cacerts = await kubectlWithToken('lab-2', token, '-n', 'istio-system', 'get', 'secret', 'cacerts');
    const elsewhere = await kubectlWithToken('lab-2', token, '-n', 'default', 'get', 'pods');

    // Assess
    expect(pods.exitCode).toBe(0);
    for (const refused of [cacerts, elsewhere]) {
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toMatch(/forbidden/i);
    }
  });

  it('gives the outsider, who has no access entry, nothing', async () => {
    // Act
    const result = await kubectlWithToken(
      'lab-2',
      await tokenOf(identities.outsider, 'lab-2'),
      'get',
      'namespaces',
    );

    // Assess
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/forbidden/i);
  });
});

describe("Kubernetes' own controllers, with the lab's node agent as the kubelet", () => {
  const deployment = (replicas: number) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'lab/web:1' }] },
      },
    },
  });

  interface PodView {
    readonly name: string;
    readonly uid: string;
    readonly phase: string;
    readonly podIP?: string;
    readonly nodeName?: string;
    readonly deleting: boolean;
  }

  async function webPods(): Promise<PodView[]> {
    const listed = await kubectlAsAdmin('lab-1', [
      '-n',
      'default',
      'get',
      'pods',
      '-l',
      'app=web',
      '-o',
      'json',
    ]);
    const items = (JSON.parse(listed.stdout) as { items: V1Pod[] }).items;
    return items.map((pod) => ({
      name: pod.metadata?.name ?? '',
      uid: pod.metadata?.uid ?? '',
      phase: pod.status?.phase ?? '',
      podIP: pod.status?.podIP,
      nodeName: pod.spec?.nodeName,
      deleting: pod.metadata?.deletionTimestamp !== undefined,
    }));
  }

  async function waitFor(condition: (pods: PodView[]) => boolean): Promise<PodView[]> {
    let pods: PodView[] = [];
    for (let attempt = 0; attempt < 60; attempt++) {
      pods = await webPods();
      if (condition(pods)) return pods;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return pods;
  }

  it('schedule and run the pods of a Deployment, each on its own loopback address', async () => {
    // Act
    const applied = await kubectlAsAdmin('lab-1', ['apply', '-f', '-'], JSON.stringify(deployment(2)));
    const pods = await waitFor((current) => current.filter((pod) => pod.phase === 'Running').length === 2);

    // Assess
    expect(applied.exitCode).toBe(0);
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod).toMatchObject({ phase: 'Running', nodeName: 'lab-1-node' });
      // Kubernetes sees the pod network address standing for the pod's loopback one (lab-addresses.ts).
      expect(pod.podIP).toMatch(/^10\.101\.\d+\.\d+$/);
    }
    expect(new Set(pods.map((pod) => pod.podIP)).size).toBe(2);
  });

  it('roll a Deployment out again on kubectl rollout restart, and kubectl rollout status sees it finish', async () => {
    // Prepare
    const before = await waitFor(
      (current) => current.length === 2 && current.every((pod) => pod.phase === 'Running'),
    );

    // Act
    const restarted = await kubectlAsAdmin('lab-1', [
      '-n',
      'default',
      'rollout',
      'restart',
      'deployment/web',
    ]);
    const status = await runKubectl(
      ['-n', 'default', 'rollout', 'status', 'deployment/web', '--timeout=60s'],
      {
        kubeconfig: cluster('lab-1').adminKubeconfig,
        cacheDir: join(dir, 'kube-cache'),
        timeoutMs: 90_000,
      },
    );
    const after = await waitFor((current) => current.length === 2 && current.every((pod) => !pod.deleting));

    // Assess
    expect(restarted.exitCode).toBe(0);
    expect(status).toMatchObject({ exitCode: 0 });
    expect(status.stdout).toContain('successfully rolled out');
    expect(after).toHaveLength(2);
    const oldUids = new Set(before.map((pod) => pod.uid));
    for (const pod of after) expect(oldUids.has(pod.uid)).toBe(false);
  });

  it('issue service-account tokens through the TokenRequest API', async () => {
    // Act
    const result = await kubectlAsAdmin('lab-1', [
      '-n',
      'default',
      'create',
      'token',
      'default',
      '--audience',
      'istio-ca',
    ]);

    // Assess
    expect(result.exitCode).toBe(0);
    const payload = JSON.parse(
      Buffer.from(result.stdout.trim().split('.')[1], 'base64url').toString('utf8'),
    ) as {
      aud: string[];
      iss: string;
      sub: string;
    };
    expect(payload).toMatchObject({
      aud: ['istio-ca'],
      iss: 'https://oidc.lab.meshtrust.local/id/lab-1',
      sub: 'system:serviceaccount:default:default',
    });
  });
});

describe("meshtrust's label selector matching against the real kube-apiserver's", () => {
  // verify-workloads picks each workload's pods out of one list of the cluster's pods by the workload's
  // selector (lambdas/core/rotation/label-selector.ts): it must pick what the API server's labelSelector
  // would have returned. ConfigMaps, since any kind is selected the same way and they need no node.
  const objects: Record<string, Record<string, string>> = {
    'web-front': { app: 'web', tier: 'front' },
    'web-back-z1': { app: 'web', tier: 'back', zone: 'z1' },
    db: { app: 'db' },
    'front-z2': { tier: 'front', zone: 'z2' },
    'web-bare': { app: 'web' },
    'empty-value': { app: '', tier: 'front' },
    unlabelled: {},
  };
  // Each selector as an object (a workload's spec.selector) and as the query kubectl sends for it.
  const cases: { selector: LabelSelector; query: string }[] = [
    { selector: { matchLabels: { app: 'web' } }, query: 'app=web' },
    { selector: { matchLabels: { app: '' } }, query: 'app=' },
    {
      selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] },
      query: 'tier in (front,back)',
    },
    {
      selector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] },
      query: 'tier notin (front)',
    },
    { selector: { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, query: 'zone' },
    { selector: { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, query: '!zone' },
    {
      selector: {
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'NotIn', values: ['back'] },
          { key: 'zone', operator: 'DoesNotExist' },
        ],
      },
      query: 'app=web,tier notin (back),!zone',
    },
  ];

  async function namesIn(query?: string): Promise<{ name: string; labels: Record<string, string> }[]> {
    const listed = await kubectlAsAdmin('lab-2', [
      '-n',
      'selectors',
      'get',
      'configmaps',
      ...(query === undefined ? [] : ['-l', query]),
      '-o',
      'json',
    ]);
    expect(listed.exitCode).toBe(0);
    const items = (
      JSON.parse(listed.stdout) as {
        items: { metadata: { name: string; labels?: Record<string, string> } }[];
      }
    ).items;
    return items.map((item) => ({ name: item.metadata.name, labels: item.metadata.labels ?? {} }));
  }

  it('selects, for each operator and their combination, exactly the objects the API server returns', async () => {
    // Prepare
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'selectors' } },
        ...Object.entries(objects).map(([name, labels]) => ({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name, namespace: 'selectors', labels },
        })),
      ],
    };
    const applied = await kubectlAsAdmin('lab-2', ['apply', '-f', '-'], JSON.stringify(list));
    expect(applied.exitCode).toBe(0);
    const all = await namesIn();

    for (const { selector, query } of cases) {
      // Act
      const ours = all.filter((item) => labelSelectorMatches(selector, item.labels)).map((item) => item.name);
      const theirs = (await namesIn(query)).map((item) => item.name);
      // Assess
      expect({ query, names: ours.sort() }).toEqual({ query, names: theirs.sort() });
    }
    expect(all.map((item) => item.name)).toEqual(expect.arrayContaining(Object.keys(objects)));
  });
});
