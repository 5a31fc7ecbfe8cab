import { TrustBundle } from '../../../../lambdas/core/pki/index.js';
import { planRotation } from '../../../../lambdas/core/plan/index.js';
import {
  cacertsFingerprints,
  chainRootOf,
  executionNameOf,
  expiryHeadroom,
  restartIdFor,
  restartWaves,
  sameCacerts,
  summarisePlan,
} from '../../../../lambdas/core/rotation/index.js';
import { cacertsOf, makeRotationFixtures, type RotationFixtures } from './rotation-fixtures.js';

let f: RotationFixtures;
beforeAll(async () => {
  f = await makeRotationFixtures();
});

describe('restartIdFor', () => {
  it('is the same for every retry of one execution, cluster and purpose', () => {
    // Prepare, Act
    const first = restartIdFor('arn:exec:1', 'c1', 'rotation');
    const again = restartIdFor('arn:exec:1', 'c1', 'rotation');
    // Assess
    expect(again).toBe(first);
    expect(first).toMatch(/^[0-9a-f]{20}$/);
  });

  it('differs per execution, cluster and purpose', () => {
    // Prepare, Act
    const ids = [
      restartIdFor('arn:exec:1', 'c1', 'rotation'),
      restartIdFor('arn:exec:2', 'c1', 'rotation'),
      restartIdFor('arn:exec:1', 'c2', 'rotation'),
      restartIdFor('arn:exec:1', 'c1', 'rollback'),
    ];
    // Assess
    expect(new Set(ids).size).toBe(4);
  });
});

describe('restartWaves', () => {
  it('cuts the workloads into waves of the given size, in order', () => {
    // Prepare, Act, Assess
    expect(restartWaves([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('restarts everything in one wave in emergency mode', () => {
    // Prepare, Act, Assess
    expect(restartWaves([1, 2, 3], 'all')).toEqual([[1, 2, 3]]);
    expect(restartWaves([], 'all')).toEqual([]);
  });

  it('refuses a wave size below one', () => {
    // Prepare, Act, Assess
    expect(() => restartWaves([1], 0)).toThrow(/>= 1, got 0/);
  });
});

describe('executionNameOf', () => {
  it('takes the name from a Step Functions execution ARN', () => {
    // Prepare, Act, Assess
    expect(
      executionNameOf('arn:aws:states:eu-west-1:123456789012:execution:meshtrust-rotation:run-2026'),
    ).toBe('run-2026');
  });

  it('takes any other id as the name', () => {
    // Prepare, Act, Assess
    expect(executionNameOf('local-run-1')).toBe('local-run-1');
  });
});

describe('expiryHeadroom', () => {
  it('reports the certificate that expires first, in whole days', () => {
    // Prepare
    const now = new Date('2026-01-01T00:00:00Z');
    // Act
    const headroom = expiryHeadroom(
      [
        { name: 'root', notAfter: new Date('2030-01-01T00:00:00Z') },
        { name: 'intermediate/c1', notAfter: new Date('2026-03-01T12:00:00Z') },
      ],
      now,
    );
    // Assess
    expect(headroom).toEqual({ days: 59, first: 'intermediate/c1' });
  });
});

describe('sameCacerts', () => {
  it('treats root-cert as a set and everything else as bytes', () => {
    // Prepare
    const ab = cacertsOf(f.intA, f.rootA, [f.rootA, f.rootB]);
    const ba = cacertsOf(f.intA, f.rootA, [f.rootB, f.rootA]);
    // Act, Assess
    expect(sameCacerts(ab, ba)).toBe(true);
    expect(sameCacerts(ab, { ...ab, 'ca-key.pem': f.intB.privateKeyPem })).toBe(false);
  });
});

describe('chainRootOf and cacertsFingerprints', () => {
  it('finds the root the intermediate chains to, or none', async () => {
    // Prepare
    const switched = cacertsOf(f.intB, f.rootB, [f.rootA, f.rootB]);
    // Act
    const root = await chainRootOf(switched, TrustBundle.parse(switched['root-cert.pem']));
    const none = await chainRootOf(switched, TrustBundle.parse(f.rootA.certificatePem));
    // Assess
    expect(root).toBe(f.fpB);
    expect(none).toBeUndefined();
  });

  it('lists intermediate, chain and roots by fingerprint and nothing secret', () => {
    // Prepare, Act
    const fingerprints = cacertsFingerprints(f.start);
    // Assess
    expect(fingerprints.roots).toEqual([f.fpA]);
    expect(fingerprints.chain).toEqual([fingerprints.intermediate, f.fpA]);
    expect(JSON.stringify(fingerprints)).not.toContain('-----');
  });
});

describe('summarisePlan', () => {
  it("keeps the decisions, counts the steps per phase and records each cluster's Istio with the notes", () => {
    // Prepare
    const plan = planRotation({
      mode: 'scheduled',
      fleet: {
        currentRoot: 'aa',
        clusters: [
          {
            name: 'c1',
            trustedRoots: ['aa'],
            intermediate: 'i1',
            intermediateIssuerRoot: 'aa',
            namespaces: [],
          },
        ],
      },
    });
    const istio = {
      clusters: [
        {
          cluster: 'c1',
          istioVersion: '1.29',
          multiRoot: 'on' as const,
          workloadCertTtlSeconds: 86400,
          pcds: false,
        },
      ],
      findings: [
        {
          rule: 'proxy-config-xds-on',
          level: 'note' as const,
          status: 'non-compliant' as const,
          reason: 'c1: PCDS is off',
        },
        {
          rule: 'istiod-multiroot-on',
          level: 'refusal' as const,
          status: 'compliant' as const,
          reason: 'c1: on',
        },
      ],
    };
    // Act
    const soak = { seconds: 86_400, reason: 'soakSeconds 24h covers every workload certificate lifetime' };
    const summary = summarisePlan(plan, istio, soak);
    // Assess
    expect(summary).toMatchObject({
      mode: 'scheduled',
      currentRoot: 'aa',
      clusters: ['c1'],
      restart: 'waves',
      istio: istio.clusters,
      notes: ['c1: PCDS is off'],
      soak,
    });
    expect(summary.proxyTrustWait.reason).toContain('c1: PCDS off');
    expect(summary.phases.map((phase) => phase.name)).toEqual(plan.phases.map((phase) => phase.name));
    expect(summary.phases.find((phase) => phase.name === 'distribute-bundle')?.steps).toBe(1);
  });
});
