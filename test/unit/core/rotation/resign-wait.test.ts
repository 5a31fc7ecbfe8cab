// One round of the resign wait: which pods serve a leaf of the new intermediate, and which workloads
// the fallback must restart.
import { describe, expect, it } from '@jest/globals';
import { workloadKey } from '../../../../lambdas/core/rotation/proxied-pod-owners.js';
import {
  BEHIND_NAMED,
  isBehind,
  judgeResignRound,
  type PodServing,
} from '../../../../lambdas/core/rotation/resign-wait.js';

const INT_A = 'a'.repeat(64);
const INT_B = 'b'.repeat(64);
const web = workloadKey('Deployment', 'shop', 'web');
const db = workloadKey('StatefulSet', 'shop', 'db');
const pods = [
  { namespace: 'shop', name: 'web-1', workload: web },
  { namespace: 'shop', name: 'web-2', workload: web },
  { namespace: 'shop', name: 'db-0', workload: db },
  { namespace: 'tools', name: 'debug' },
];

function readings(entries: Record<string, PodServing>): Map<string, PodServing> {
  return new Map(Object.entries(entries));
}

describe('judgeResignRound', () => {
  it('counts every pod on the intermediate as moved, with nothing behind', () => {
    const all = Object.fromEntries(pods.map((pod) => [`${pod.namespace}/${pod.name}`, { issuer: INT_B }]));

    const round = judgeResignRound(pods, readings(all), INT_B);

    expect(round).toEqual({
      pods: 4,
      moved: 4,
      behindWorkloads: [],
      behindUnmanaged: [],
      behind: [],
      waitable: false,
    });
  });

  it('puts a workload behind when one of its pods still serves the old intermediate', () => {
    const round = judgeResignRound(
      pods,
      readings({
        'shop/web-1': { issuer: INT_B },
        'shop/web-2': { issuer: INT_A, issuerSubject: 'O=lab-1 int A' },
        'shop/db-0': { issuer: INT_B },
        'tools/debug': { issuer: INT_B },
      }),
      INT_B,
    );

    expect(round.moved).toBe(3);
    expect(round.behindWorkloads).toEqual([web]);
    expect(round.behindUnmanaged).toEqual([]);
    expect(round.behind).toEqual([`shop/web-2: serves a leaf of O=lab-1 int A (${INT_A.slice(0, 12)}…)`]);
    expect(round.waitable).toBe(true);
    expect(isBehind(round, { kind: 'Deployment', namespace: 'shop', name: 'web' })).toBe(true);
    expect(isBehind(round, { kind: 'StatefulSet', namespace: 'shop', name: 'db' })).toBe(false);
  });

  it('keeps a pod not read yet, or unreadable for now, behind and worth another round', () => {
    const round = judgeResignRound(
      pods,
      readings({ 'shop/web-1': { issuer: INT_B }, 'shop/web-2': { issuer: INT_B } }),
      INT_B,
    );

    expect(round.behindWorkloads).toEqual([db]);
    expect(round.behindUnmanaged).toEqual(['tools/debug']);
    expect(round.behind).toEqual(['shop/db-0: not read', 'tools/debug: not read']);
    expect(round.waitable).toBe(true);
  });

  it('stops waiting when every pod behind is unreadable for good (gone, forbidden)', () => {
    const round = judgeResignRound(
      pods.slice(0, 3),
      readings({
        'shop/web-1': { issuer: INT_B },
        'shop/web-2': { issuer: INT_B },
        'shop/db-0': { problem: 'forbidden (HTTP 403)', final: true },
      }),
      INT_B,
    );

    expect(round.behindWorkloads).toEqual([db]);
    expect(round.waitable).toBe(false);
  });

  it(`names at most ${BEHIND_NAMED} pods behind, whatever their number`, () => {
    const many = Array.from({ length: 12 }, (_, index) => ({
      namespace: 'shop',
      name: `web-${index}`,
      workload: web,
    }));

    const round = judgeResignRound(many, new Map(), INT_B);

    expect(round.behind).toHaveLength(BEHIND_NAMED);
    expect(round.behindWorkloads).toEqual([web]);
    expect(round.moved).toBe(0);
  });
});
