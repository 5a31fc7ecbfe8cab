// verify-trust's data-plane half (issue 12): after every istio-ca-root-cert holds A+B, each running
// proxy whose agent has PCDS in its own env must hold A+B in its Envoy's roots (ROOTCA), read through
// pods/portforward as the verifier. On a lab with PCDS off and 10-minute certificates, no proxy learns
// B before its renewal; one pod made to claim PCDS in its env (as a proxy cut off from istiod would)
// then holds the gate, named.
import { jest } from '@jest/globals';
import { awsEnvironmentFor } from '../../../lab/eks/lab-identities.js';
import { handler as verifyTrust } from '../../../lambdas/handlers/verify-trust.js';
import { type HandlerLab, startHandlerLab, withEnv } from './handler-lab.js';
import { rotationByHand } from './rotation-steps.js';

jest.setTimeout(120_000);

const PCDS = 'PROXY_CONFIG_XDS_AGENT';

interface LabPod {
  metadata: { namespace: string; name: string };
  spec: {
    initContainers?: { name: string; env?: { name: string; value?: string }[] }[];
    containers?: { name: string }[];
  };
}

let h: HandlerLab;
beforeAll(async () => {
  h = await startHandlerLab({ clusters: 1, workloadsPerCluster: 2, pcds: false, workloadCertTtlMs: 600_000 });
});
afterAll(async () => {
  await h?.stop();
});

/** Runs `act` with the gates' credentials: group meshtrust-verifier, as deployed. */
async function asVerifier<T>(act: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  Object.assign(process.env, awsEnvironmentFor(h.lab.identities.verifier, h.lab.region));
  try {
    return await act();
  } finally {
    process.env = saved;
  }
}

describe('verify-trust reads the roots of every proxy that takes pushes', () => {
  it('passes with every proxy left to renewal, and holds a proxy with PCDS that lacks the new root', async () => {
    // Prepare: a scheduled rotation up to distribute-bundle on lab-1
    const rotation = rotationByHand(h, { executionId: h.executionId('proxy-roots'), mode: 'scheduled' });
    await rotation.walk({ through: 'distribute-bundle' });
    const { checked, stagedRoot } = rotation;
    const item = rotation.item('lab-1');
    const pods = h.lab.cluster('lab-1').store.list('Pod').items as unknown as LabPod[];
    // Injected pods (native sidecar) and the gateways (istio-proxy is their own container).
    const proxied = pods.filter((pod) =>
      [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])].some(
        (container) => container.name === 'istio-proxy',
      ),
    );
    const sidecars = proxied.filter((pod) =>
      (pod.spec.initContainers ?? []).some((container) => container.name === 'istio-proxy'),
    );

    // Act: no proxy has PCDS
    const passed = await asVerifier(() => verifyTrust(item));

    // Assess: the ConfigMaps hold A+B; no proxy was read, all are left to their renewal
    expect(passed.roots).toEqual([checked.currentRoot.fingerprint, stagedRoot.fingerprint]);
    expect(passed.proxies).toEqual({ confirmed: 0, atRenewal: proxied.length });
    expect(sidecars.length).toBeGreaterThan(1);
    expect(proxied.length).toBe(sidecars.length + 2);

    // Prepare: one pod's istio-proxy env now says PCDS, but its agent (the lab's, PCDS off) got no push
    const store = h.lab.cluster('lab-1').store;
    const target = sidecars[0] as LabPod;
    const current = store.get('Pod', target.metadata.namespace, target.metadata.name) as unknown as LabPod;
    for (const container of current.spec.initContainers ?? []) {
      if (container.name === 'istio-proxy')
        container.env = [...(container.env ?? []), { name: PCDS, value: 'true' }];
    }
    store.update(current as never);

    // Act
    const held = asVerifier(() => withEnv({ VERIFY_TIMEOUT_SECONDS: '2' }, () => verifyTrust(item)));

    // Assess: refused, naming the pod and the root it lacks; the roots it holds are A alone
    await expect(held).rejects.toMatchObject({ name: 'VerificationFailed', cluster: 'lab-1' });
    await expect(held).rejects.toThrow(
      new RegExp(
        `1 running proxy\\(ies\\) with PCDS do not hold the root set .*: ${target.metadata.namespace}/${target.metadata.name} lacks ${stagedRoot.fingerprint.slice(0, 12)}`,
      ),
    );
  });
});
