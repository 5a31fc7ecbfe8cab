// What verify-workloads finds wrong with a workload that should hold certificates of the new
// intermediate: one describe per finding, the workload that passes beside the one that does not.
import { describe, expect, it } from '@jest/globals';
import {
  newRootMissingFinding,
  notRestartedFinding,
  resignedPodFindings,
  restartedPodFindings,
  uncheckedFinding,
  workloadsRefusal,
} from '../../../../lambdas/core/rotation/workload-move-findings.js';

const web = { what: 'Deployment shop/web', namespace: 'shop' };
const RESTARTED_AT = '2026-12-01T03:00:00Z';
const after = new Date('2026-12-01T03:00:00.400Z');
const before = new Date('2026-12-01T02:59:59Z');
const INT_A = 'a'.repeat(64);

describe('restartedPodFindings', () => {
  it('passes ready pods created at or after the restart, within its second', () => {
    expect(
      restartedPodFindings(web, [{ name: 'web-1', ready: true, createdAt: after }], RESTARTED_AT),
    ).toEqual([]);
  });

  it('finds a pod that is not ready, and one older than the restart', () => {
    // Act
    const findings = restartedPodFindings(
      web,
      [
        { name: 'web-1', ready: false, createdAt: after },
        { name: 'web-2', ready: true, createdAt: before },
      ],
      RESTARTED_AT,
    );

    // Assess
    expect(findings).toEqual([
      'pod shop/web-1 of Deployment shop/web is not ready',
      'pod shop/web-2 of Deployment shop/web started before the restart',
    ]);
  });

  it('counts every pod as older than a restart without a readable time', () => {
    expect(restartedPodFindings(web, [{ name: 'web-1', ready: true, createdAt: after }], undefined)).toEqual([
      'pod shop/web-1 of Deployment shop/web started before the restart',
    ]);
  });
});

describe('resignedPodFindings', () => {
  it('passes ready pods whose proxies serve a leaf the new root signed', () => {
    expect(
      resignedPodFindings(web, [{ name: 'web-1', ready: true, createdAt: before, served: { signed: true } }]),
    ).toEqual([]);
  });

  it('finds a pod that is not ready, one serving a leaf of another issuer, and one that could not be read', () => {
    // Act
    const findings = resignedPodFindings(web, [
      { name: 'web-1', ready: false, createdAt: before },
      {
        name: 'web-2',
        ready: true,
        createdAt: before,
        served: { signed: false, issuerSubject: 'O=lab-1 int A', issuerFingerprint: INT_A },
      },
      { name: 'web-3', ready: true, createdAt: before, served: { unreadable: 'port-forward forbidden' } },
    ]);

    // Assess
    expect(findings).toEqual([
      'pod shop/web-1 of Deployment shop/web is not ready',
      `Deployment shop/web was not restarted by this rotation and pod shop/web-2 serves a leaf of O=lab-1 int A (${INT_A.slice(0, 12)}…), which the new root did not sign`,
      'Deployment shop/web was not restarted by this rotation and what pod shop/web-3 serves could not be read: port-forward forbidden',
    ]);
  });

  it('does not pass a ready pod whose proxy was not read', () => {
    expect(resignedPodFindings(web, [{ name: 'web-1', ready: true, createdAt: before }])).toEqual([
      'Deployment shop/web was not restarted by this rotation and what pod shop/web-1 serves could not be read: it was not read',
    ]);
  });
});

describe('a workload this rotation did not restart', () => {
  it('is a finding as such without a new root, saying what to run', () => {
    expect(notRestartedFinding('Deployment shop/web')).toBe(
      'Deployment shop/web was not restarted by this rotation (run restart-workloads)',
    );
  });

  it('cannot be checked when the cluster publishes no new root, which is named', () => {
    expect(uncheckedFinding('Deployment shop/web')).toBe(
      'Deployment shop/web was not restarted by this rotation',
    );
    expect(newRootMissingFinding('lab-1', 'b'.repeat(64))).toBe(
      `no istio-ca-root-cert of cluster lab-1 holds the new root (${'b'.repeat(12)}…), so no served certificate can be checked against it`,
    );
  });
});

describe('workloadsRefusal', () => {
  it('refuses nothing without a problem', () => {
    expect(workloadsRefusal('lab-1', [])).toBeUndefined();
  });

  it('names every problem up to ten', () => {
    expect(workloadsRefusal('lab-1', ['one', 'two'])).toBe(
      'Workloads of cluster lab-1 may still hold certificates from the old intermediate: one; two.',
    );
  });

  it('names the first ten and counts the rest', () => {
    // Prepare
    const problems = Array.from({ length: 13 }, (_, i) => `p${i}`);

    // Act + Assess
    expect(workloadsRefusal('lab-1', problems)).toBe(
      `Workloads of cluster lab-1 may still hold certificates from the old intermediate: ${problems.slice(0, 10).join('; ')}; and 3 more.`,
    );
  });
});
