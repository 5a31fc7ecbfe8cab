// How long the rotation waits after verify-trust for every running proxy to hold the new root: a PCDS
// push, or one renewal window of pilot-agent's rotateTime (lifetime x (1 - 0.5 + 0.01) by default).
import { describe, expect, it } from '@jest/globals';
import {
  ISTIO_DEFAULT_CERT_TTL_SECONDS,
  PCDS_PUSH_SETTLE_SECONDS,
  proxyTrustWait,
  RENEWAL_SLACK_SECONDS,
} from '../../../../lambdas/core/istio/index.js';

const cluster = (name: string, pcds: boolean, ttl?: number) => ({
  cluster: name,
  multiRoot: 'on' as const,
  pcds,
  ...(ttl === undefined ? {} : { workloadCertTtlSeconds: ttl }),
});

describe('proxyTrustWait', () => {
  it('waits for the push where every cluster has PCDS', () => {
    const wait = proxyTrustWait([cluster('a', true, 86_400), cluster('b', true, 60)], ['a', 'b']);
    expect(wait.seconds).toBe(PCDS_PUSH_SETTLE_SECONDS);
    expect(wait.reason).toContain('PCDS on');
  });

  it('waits a renewal window where the mesh config has PCDS but a running proxy does not take pushes', () => {
    // b's mesh config has PCDS, but a proxy injected before that runs without it (not in pushReaches).
    const wait = proxyTrustWait([cluster('a', true, 86_400), cluster('b', true, 60)], ['a']);
    expect(wait.seconds).toBe(Math.ceil(60 * 0.51) + RENEWAL_SLACK_SECONDS);
    expect(wait.reason).toMatch(/^b: PCDS on in the mesh config but not in every running proxy/);
  });

  it('waits one renewal window of the slowest cluster without PCDS', () => {
    const wait = proxyTrustWait(
      [cluster('a', true, 60), cluster('b', false, 60), cluster('c', false, 3_600)],
      ['a'],
    );
    expect(wait.seconds).toBe(Math.ceil(3_600 * 0.51) + RENEWAL_SLACK_SECONDS);
    expect(wait.reason).toMatch(
      /^c: PCDS off, proxies learn new roots at renewal, within 30m36s of a 1h certificate$/,
    );
  });

  it("takes Istio's default lifetime when a cluster's TTL is unknown, and says so", () => {
    const wait = proxyTrustWait([cluster('a', false)], []);
    expect(wait.seconds).toBe(Math.ceil(ISTIO_DEFAULT_CERT_TTL_SECONDS * 0.51) + RENEWAL_SLACK_SECONDS);
    expect(wait.reason).toContain('TTL unknown');
  });

  it("waits longer when the mesh config's grace ratio makes proxies renew later, and says why", () => {
    const wait = proxyTrustWait(
      [{ ...cluster('a', false, 3_600), latestRenewalFraction: 0.9 }, cluster('b', false, 3_600)],
      [],
    );
    expect(wait.seconds).toBe(3_240 + RENEWAL_SLACK_SECONDS);
    expect(wait.reason).toBe(
      "a: PCDS off, proxies learn new roots at renewal, within 54m of a 1h certificate (renewal by 90% of its life, as the mesh config's grace ratio says)",
    );
  });

  it('needs no wait without clusters', () => {
    expect(proxyTrustWait([], []).seconds).toBe(0);
  });
});
