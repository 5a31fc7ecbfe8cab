// The soak of a scheduled rotation: at least the longest workload certificate lifetime, with the
// execution's soakSeconds as the floor, and refused when the state machine's timeout cannot hold it.
import { describe, expect, it } from '@jest/globals';
import {
  ISTIO_DEFAULT_CERT_TTL_SECONDS,
  soakPlan,
  soakTooLong,
} from '../../../../lambdas/core/istio/index.js';

const cluster = (name: string, ttl?: number) => ({
  cluster: name,
  multiRoot: 'on' as const,
  pcds: true,
  ...(ttl === undefined ? {} : { workloadCertTtlSeconds: ttl }),
});

describe('soakPlan', () => {
  it('keeps the floor when it covers every lifetime', () => {
    expect(soakPlan(86_400, [cluster('a', 3_600), cluster('b', 86_400)])).toEqual({
      seconds: 86_400,
      reason: 'soakSeconds 24h covers every workload certificate lifetime',
    });
  });

  it('raises the soak to the longest lifetime, naming its cluster', () => {
    expect(soakPlan(60, [cluster('a', 30), cluster('b', 7_200)])).toEqual({
      seconds: 7_200,
      reason: 'raised from soakSeconds 1m to the longest workload certificate lifetime, 2h in b',
    });
  });

  it("takes Istio's 24 h default where a cluster's lifetime is unknown", () => {
    expect(soakPlan(0, [cluster('a')]).seconds).toBe(ISTIO_DEFAULT_CERT_TTL_SECONDS);
  });
});

describe('soakTooLong', () => {
  it('accepts a soak up to a day beyond the floor and refuses a longer one, saying what to set', () => {
    expect(soakTooLong(86_400, soakPlan(86_400, [cluster('a', 2 * 86_400)]))).toBeUndefined();
    const refusal = soakTooLong(3_600, soakPlan(3_600, [cluster('a', 3 * 86_400)]));
    expect(refusal).toMatch(/soakHours to at least 72 and deploy again$/);
  });
});
