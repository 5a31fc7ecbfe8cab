// The lab Kubernetes API's fault hook, driven by the rehearsal's fault plan (--fault kube:...): over real
// HTTPS, a 503 and a 409 are answered as a real API server writes them, a slow request comes late, a
// cluster that is down resets the connection, and each time normal service follows.
import type { KubeApiServer } from '../../../lab/kube/kube-api-server.js';
import { createFaultPlan, type FaultPlan } from '../../../rehearsal/fault-plan.js';
import { parseFault } from '../../../rehearsal/fault-spec.js';
import { type HttpResult, kubeHttpJson, startTestKubeApi } from '../../support/lab-kube-api.js';

const SECRET_PATH = '/api/v1/namespaces/istio-system/secrets/cacerts';
let server: KubeApiServer;
let token: string;
let plan: FaultPlan;

beforeEach(async () => {
  plan = createFaultPlan([]);
  // As start-lab.ts wires it for the rehearsal: this cluster's name and the request.
  ({ server, token } = await startTestKubeApi({
    clusterName: 'lab-1',
    fault: (faultRequest) => plan.kubeRequest('lab-1', faultRequest),
  }));
});

afterEach(async () => {
  await server.stop();
});

/** Sets off the given faults, as the rehearsal does when their phase begins. */
function faultsAtPhase(...specs: string[]): void {
  plan = createFaultPlan(specs.map(parseFault));
  plan.enterPhase('distribute-bundle');
}

function httpJson(method: string, path: string, body?: unknown): Promise<HttpResult> {
  return kubeHttpJson(server, method, path, { token, body });
}

async function currentSecret(): Promise<Record<string, unknown>> {
  const { body } = await httpJson('GET', SECRET_PATH);
  return body;
}

describe('lab Kubernetes API under --fault', () => {
  it('answers the next requests 503 with a ServiceUnavailable Status, then serves again', async () => {
    // Prepare
    faultsAtPhase('kube:lab-1:5xx:2@distribute-bundle');

    // Act
    const first = await httpJson('GET', SECRET_PATH);
    const second = await httpJson('GET', '/api/v1/namespaces/istio-system/secrets');
    const third = await httpJson('GET', SECRET_PATH);

    // Assess
    for (const answer of [first, second]) {
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'ServiceUnavailable',
        code: 503,
      });
    }
    expect(third.status).toBe(200);
    expect(third.body).toMatchObject({ kind: 'Secret', metadata: { name: 'cacerts' } });
    expect(plan.report()).toEqual([{ spec: 'kube:lab-1:5xx:2@distribute-bundle', fired: 2 }]);
  });

  it('answers a write 409 Conflict as on a stale resourceVersion, leaves the object alone, then takes the write', async () => {
    // Prepare
    faultsAtPhase('kube:lab-1:conflict:1@distribute-bundle');
    const secret = await currentSecret();
    const metadata = secret.metadata as { resourceVersion: string };
    const update = { ...secret, stringData: { 'root-cert.pem': 'ROOT-A+B' } };

    // Act
    const conflicted = await httpJson('PUT', SECRET_PATH, update);
    const unchanged = await currentSecret();
    const accepted = await httpJson('PUT', SECRET_PATH, update);

    // Assess
    expect(conflicted.status).toBe(409);
    expect(conflicted.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'Operation cannot be fulfilled on secrets "cacerts": the object has been modified; please apply your changes to the latest version and try again',
      reason: 'Conflict',
      details: { name: 'cacerts', kind: 'secrets' },
      code: 409,
    });
    expect((unchanged.metadata as { resourceVersion: string }).resourceVersion).toBe(
      metadata.resourceVersion,
    );
    expect(accepted.status).toBe(200);
    const data = (accepted.body.data ?? {}) as Record<string, string>;
    expect(Buffer.from(data['root-cert.pem'] ?? '', 'base64').toString()).toBe('ROOT-A+B');
  });

  it('lets reads through while a conflict fault waits for a write', async () => {
    // Prepare
    faultsAtPhase('kube:lab-1:conflict:1@distribute-bundle');

    // Act
    const read = await httpJson('GET', SECRET_PATH);

    // Assess
    expect(read.status).toBe(200);
    expect(plan.report()[0]?.fired).toBe(0);
  });

  it('serves a slow request late, and the next one at once', async () => {
    // Prepare
    faultsAtPhase('kube:lab-1:slow:600:1@distribute-bundle');

    // Act
    const slowStart = Date.now();
    const slow = await httpJson('GET', SECRET_PATH);
    const slowMs = Date.now() - slowStart;
    const nextStart = Date.now();
    await httpJson('GET', SECRET_PATH);
    const nextMs = Date.now() - nextStart;

    // Assess
    expect(slow.status).toBe(200);
    expect(slowMs).toBeGreaterThanOrEqual(600);
    expect(nextMs).toBeLessThan(600);
  });

  it('resets every connection while the cluster is down, then serves again', async () => {
    // Prepare
    faultsAtPhase('kube:lab-1:down:1@distribute-bundle');

    // Act
    const whileDown = await httpJson('GET', SECRET_PATH).catch((error: NodeJS.ErrnoException) => error);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const after = await httpJson('GET', SECRET_PATH);

    // Assess
    // No answer at all, as from a server that is not there (node:http's errors come from another realm
    // than jest's Error, so the code is what is compared).
    expect(whileDown).toMatchObject({ code: 'ECONNRESET' });
    expect(after.status).toBe(200);
  });
});
