// The rotator's RBAC grants `patch` on every Deployment, StatefulSet and DaemonSet; the admission policy
// meshtrust-rotator-restart-only in deploy/kubernetes/rbac.yaml narrows that to a restart. Proven on
// the istio engine's real kube-apiserver (Kubernetes of lab/go), with the rotator authenticated the way
// EKS does it (its EKS token through the webhook authenticator, group meshtrust-rotator): only the
// control plane is started, no istiod. startControlPlane applies rbac.yaml with kubectl, as an operator
// does.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { V1DaemonSet, V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import {
  type ControlPlaneCluster,
  type LabControlPlane,
  startControlPlane,
} from '../../../lab/control-plane/start-control-plane.js';
import { createLabIdentities, type LabIdentities } from '../../../lab/eks/lab-identities.js';
import { runKubectl } from '../../../lab/kube/kubectl-runner.js';
import { type LabKubeResponse, labKubeRequest } from '../../../lab/lab-kube-request.js';
import { type ClusterClient, createClusterClient } from '../../../lambdas/adapters/kube/cluster-client.js';
import { createEksTokenProvider } from '../../../lambdas/adapters/kube/eks-token-provider.js';
import { callKube } from '../../../lambdas/adapters/kube/kube-call.js';
import { DEPLOYMENTS } from '../../../lambdas/adapters/kube/kube-objects.js';
import { watchRollouts } from '../../../lambdas/adapters/kube/rollout-watch.js';
import {
  awaitRollouts,
  RESTART_ID_ANNOTATION,
  RESTARTED_AT_ANNOTATION,
  restartWorkload,
} from '../../../lambdas/adapters/kube/workload-restart.js';
import { PreconditionFailed } from '../../../lambdas/core/rotation-errors.js';
import { controlPlaneBinaries } from '../../support/lab-binaries.js';

const REGION = 'eu-west-1';
const CLUSTER = 'lab-1';
const NAMESPACE = 'shop';
const POLICY = 'meshtrust-rotator-restart-only';
const STRATEGIC = 'application/strategic-merge-patch+json';
const DEPLOYMENT_PATH = `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/web`;

jest.setTimeout(120_000);

let dir: string;
let identities: LabIdentities;
let controlPlane: LabControlPlane;
let cluster: ControlPlaneCluster;

const web: V1Deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: NAMESPACE, labels: { app: 'web' } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' }, annotations: { 'example.com/owner': 'shop-team' } },
      spec: { containers: [{ name: 'web', image: 'lab/web:1' }] },
    },
  },
};

const agent: V1DaemonSet = {
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'agent', namespace: NAMESPACE },
  spec: {
    selector: { matchLabels: { app: 'agent' } },
    template: {
      metadata: { labels: { app: 'agent' } },
      spec: { containers: [{ name: 'agent', image: 'lab/agent:1' }] },
    },
  },
};

const db: V1StatefulSet = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'db', namespace: NAMESPACE },
  spec: {
    replicas: 1,
    serviceName: 'db',
    selector: { matchLabels: { app: 'db' } },
    template: {
      metadata: { labels: { app: 'db' } },
      spec: { containers: [{ name: 'db', image: 'lab/db:1' }] },
    },
  },
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshtrust-restart-policy-'));
  identities = createLabIdentities({ clusterNames: [CLUSTER] });
  controlPlane = await startControlPlane({
    binaries: await controlPlaneBinaries(),
    dir: join(dir, 'fleet'),
    clusterNames: [CLUSTER],
    identities,
    region: REGION,
  });
  cluster = controlPlane.clusters[0] as ControlPlaneCluster;
  const created = await kubectlAsAdmin(['create', 'namespace', NAMESPACE]);
  const applied = await kubectlAsAdmin(
    ['apply', '-f', '-'],
    JSON.stringify({ kind: 'List', apiVersion: 'v1', items: [web, agent, db] }),
  );
  expect([created.exitCode, applied.exitCode]).toEqual([0, 0]);
  await policyInForce();
}, 60 * 60_000);

afterAll(async () => {
  await controlPlane?.stop();
  await rm(dir, { recursive: true, force: true });
});

function kubectlAsAdmin(args: string[], input?: string) {
  return runKubectl(args, { kubeconfig: cluster.adminKubeconfig, cacheDir: join(dir, 'kube-cache'), input });
}

/** A PATCH of Deployment shop/web as the rotator (its EKS token, so group meshtrust-rotator). */
function patchAsRotator(body: object, query = ''): Promise<LabKubeResponse> {
  return labKubeRequest({
    cluster: { name: cluster.name, endpoint: cluster.endpoint, caPem: cluster.caPem },
    region: REGION,
    identity: identities.rotator,
    method: 'PATCH',
    path: `${DEPLOYMENT_PATH}${query}`,
    body,
    contentType: STRATEGIC,
  });
}

const containerImage = (image: string) => ({
  spec: { template: { spec: { containers: [{ name: 'web', image }] } } },
});

/**
 * The API server loads a new policy from its informer a moment after kubectl applied it. Ask with a
 * server-side dry run (admission runs, nothing is stored) until a change of the replica count is
 * refused: that check is not the one the image tests exercise, so a weakened pod-spec check fails
 * those tests and not this wait.
 */
async function policyInForce(): Promise<void> {
  let answer: LabKubeResponse | undefined;
  for (let attempt = 0; attempt < 60; attempt++) {
    answer = await patchAsRotator({ spec: { replicas: 3 } }, '?dryRun=All');
    if (answer.status === 403 && String(answer.body?.message).includes(POLICY)) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(
    `policy ${POLICY} never refused the rotator's change of replicas on ${cluster.name}; last answer ${answer?.status}: ${answer?.body?.message ?? 'no message'}`,
  );
}

async function readDeployment(): Promise<V1Deployment> {
  const read = await kubectlAsAdmin(['-n', NAMESPACE, 'get', 'deployment', 'web', '-o', 'json']);
  expect(read.exitCode).toBe(0);
  return JSON.parse(read.stdout) as V1Deployment;
}

function rotatorClient(): ClusterClient {
  return createClusterClient({
    cluster: { name: cluster.name, endpoint: cluster.endpoint, caPem: cluster.caPem },
    tokenProvider: createEksTokenProvider({
      clusterName: cluster.name,
      region: REGION,
      credentials: identities.rotator.credentials,
    }),
  });
}

describe(`ValidatingAdmissionPolicy ${POLICY} on a real kube-apiserver`, () => {
  it('is loaded by the API server and type-checks against the workloads without a warning', async () => {
    // Act: the policy status controller (kube-controller-manager) type-checks each expression
    let status: { observedGeneration?: number; typeChecking?: { expressionWarnings?: unknown[] } } = {};
    for (let attempt = 0; attempt < 60 && status.typeChecking === undefined; attempt++) {
      const read = await kubectlAsAdmin(['get', 'validatingadmissionpolicy', POLICY, '-o', 'json']);
      status = (JSON.parse(read.stdout) as { status?: typeof status }).status ?? {};
      if (status.typeChecking === undefined) await new Promise((resolve) => setTimeout(resolve, 500));
    }

    // Assess
    expect(status.typeChecking).toBeDefined();
    expect(status.typeChecking?.expressionWarnings ?? []).toEqual([]);
  });

  it("refuses the rotator's patch that changes a container image, with 403 and the policy's message", async () => {
    // Act
    const answer = await patchAsRotator(containerImage('evil/miner:1'));

    // Assess
    expect(answer.status).toBe(403);
    expect(answer.body).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
    expect(answer.body.message).toContain(`ValidatingAdmissionPolicy '${POLICY}'`);
    expect(answer.body.message).toContain('may not change the pod spec');
    expect((await readDeployment()).spec?.template.spec?.containers[0]?.image).toBe('lab/web:1');
  });

  it('is reported by the adapters as the policy, not as missing RBAC, when the rotator is refused', async () => {
    // Prepare
    const client = rotatorClient();

    // Act
    const refused = callKube(client, 'change the image of Deployment shop/web', () =>
      client.api.strategicPatch(DEPLOYMENTS, NAMESPACE, 'web', containerImage('evil/miner:1')),
    );

    // Assess
    await expect(refused).rejects.toThrow(PreconditionFailed);
    await expect(refused).rejects.toThrow(`refused by admission policy ${POLICY}`);
  });

  it.each([
    [
      'a privileged securityContext',
      {
        spec: {
          template: { spec: { containers: [{ name: 'web', securityContext: { privileged: true } }] } },
        },
      },
      'may not change the pod spec',
    ],
    [
      'another pod template annotation',
      { spec: { template: { metadata: { annotations: { 'sidecar.istio.io/inject': 'false' } } } } },
      'may not add, change or remove any other pod template annotation',
    ],
    [
      'the removal of an existing pod template annotation',
      { spec: { template: { metadata: { annotations: { 'example.com/owner': null } } } } },
      'may not add, change or remove any other pod template annotation',
    ],
    [
      'a pod template label',
      { spec: { template: { metadata: { labels: { tier: 'debug' } } } } },
      "may not change the pod template's labels",
    ],
    ['the replica count', { spec: { replicas: 5 } }, 'may not change the rest of the spec'],
    [
      "the workload's own annotations",
      { metadata: { annotations: { 'example.com/note': 'x' } } },
      "may not change the workload's own labels",
    ],
    [
      'a restart that also changes the image',
      {
        spec: {
          template: {
            metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: '2026-01-01T00:00:00Z' } },
            spec: { containers: [{ name: 'web', image: 'evil/miner:1' }] },
          },
        },
      },
      'may not change the pod spec',
    ],
  ])('refuses the rotator %s', async (_what, patch, message) => {
    // Prepare
    const before = await readDeployment();

    // Act
    const answer = await patchAsRotator(patch);

    // Assess
    expect(answer.status).toBe(403);
    expect(answer.body.message).toContain(`ValidatingAdmissionPolicy '${POLICY}'`);
    expect(answer.body.message).toContain(message);
    expect((await readDeployment()).metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it('allows the rotator a patch of the restart annotation, as kubectl rollout restart sends it', async () => {
    // Act
    const answer = await patchAsRotator({
      spec: {
        template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: '2026-11-30T21:00:00Z' } } },
      },
    });

    // Assess
    expect(answer.status).toBe(200);
    const after = await readDeployment();
    expect(after.spec?.template.metadata?.annotations).toEqual({
      'example.com/owner': 'shop-team',
      [RESTARTED_AT_ANNOTATION]: '2026-11-30T21:00:00Z',
    });
  });

  it("lets restart-workloads' own restart (restartWorkload) through, on each kind it restarts", async () => {
    // Prepare
    const client = rotatorClient();
    const restartId = 'policy-test-restart-1';
    const refs = [
      { kind: 'Deployment', namespace: NAMESPACE, name: 'web' },
      { kind: 'DaemonSet', namespace: NAMESPACE, name: 'agent' },
      { kind: 'StatefulSet', namespace: NAMESPACE, name: 'db' },
    ] as const;

    // Act
    const results = [];
    for (const ref of refs) results.push(await restartWorkload(client, ref, { restartId, at: new Date() }));
    const behind = await awaitRollouts(client, refs, { timeoutMs: 60_000, pollMs: 500 });

    // Assess
    expect(results).toEqual([{ restarted: true }, { restarted: true }, { restarted: true }]);
    expect(behind).toEqual([]);
    const deployment = await readDeployment();
    expect(deployment.spec?.template.metadata?.annotations?.[RESTART_ID_ANNOTATION]).toBe(restartId);
    expect(deployment.spec?.template.spec?.containers[0]?.image).toBe('lab/web:1');
  });

  it('lets the rotator watch a workload it waits on, and the watch tells when its rollout is over', async () => {
    // Prepare
    const client = rotatorClient();
    const ref = { kind: 'Deployment', namespace: NAMESPACE, name: 'web' } as const;
    await restartWorkload(client, ref, { restartId: 'policy-test-restart-2', at: new Date() });
    const watch = watchRollouts(client, [ref], 600_000);
    try {
      // Act: only an event of the watch ends this wait within the test's time.
      await watch.next(600_000, [ref], watch.mark());

      // Assess: the watch is still open (a refused or failed one ends, and wakes the wait too).
      expect(watch.live).toBe(true);
      expect(await awaitRollouts(client, [ref], { timeoutMs: 1_000 })).toEqual([]);
    } finally {
      watch.close();
    }
  });

  it("answers docs/deploy.md's check: an administrator's dry run as the rotator group is refused", async () => {
    // Act
    const listed = await kubectlAsAdmin([
      'get',
      'validatingadmissionpolicy,validatingadmissionpolicybinding',
      POLICY,
      '-o',
      'name',
    ]);
    const dryRun = await kubectlAsAdmin([
      '-n',
      NAMESPACE,
      'patch',
      'deployment',
      'web',
      '--dry-run=server',
      '--as=meshtrust-check',
      '--as-group=meshtrust-rotator',
      '-p',
      '{"spec":{"replicas":0}}',
    ]);

    // Assess
    expect(listed.stdout.trim().split('\n')).toHaveLength(2);
    expect(dryRun.exitCode).not.toBe(0);
    expect(dryRun.stderr).toContain('Forbidden');
    expect(dryRun.stderr).toContain(`ValidatingAdmissionPolicy '${POLICY}'`);
  });

  it('binds to the rotator group only: cluster-admin may still change the image', async () => {
    // Act
    const patched = await kubectlAsAdmin([
      '-n',
      NAMESPACE,
      'patch',
      'deployment',
      'web',
      '--type',
      'strategic',
      '-p',
      JSON.stringify(containerImage('lab/web:2')),
    ]);

    // Assess
    expect(patched).toMatchObject({ exitCode: 0 });
    expect((await readDeployment()).spec?.template.spec?.containers[0]?.image).toBe('lab/web:2');
  });
});
