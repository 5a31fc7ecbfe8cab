// verify-trust's refusals: what they say while istiod has not published the root set everywhere, or a
// proxy with PCDS does not hold it yet, and that a check done refuses nothing.
import { describe, expect, it } from '@jest/globals';
import type { PublishedRootsReview } from '../../../../lambdas/core/istio/published-roots.js';
import {
  proxyRootsRefusal,
  publishedRootsRefusal,
  type TrustCheck,
} from '../../../../lambdas/core/rotation/trust-refusals.js';

const primaryCheck: TrustCheck = { cluster: 'c1', required: ['aaa', 'bbb'] };
const remoteCheck: TrustCheck = { cluster: 'r1', required: ['aaa', 'bbb'], primary: 'c1' };

function review(overrides: Partial<PublishedRootsReview>): PublishedRootsReview {
  return { done: false, behind: [], differing: [], published: 2, ...overrides };
}

describe('publishedRootsRefusal', () => {
  it('refuses nothing once every namespace holds the set', () => {
    // Prepare, Act
    const refusal = publishedRootsRefusal(primaryCheck, review({ done: true, roots: ['aaa', 'bbb'] }));
    // Assess
    expect(refusal).toBeUndefined();
  });

  it('asks whether istiod runs when no namespace has istio-ca-root-cert', () => {
    // Prepare, Act
    const refusal = publishedRootsRefusal(primaryCheck, review({ published: 0 }));
    // Assess
    expect(refusal).toBe(
      'No namespace of cluster c1 has istio-ca-root-cert; is istiod running? Check it, then retry.',
    );
  });

  it('names the primary whose istiod publishes for a remote', () => {
    // Prepare, Act
    const refusal = publishedRootsRefusal(remoteCheck, review({ published: 0 }));
    // Assess
    expect(refusal).toMatch(/is istiod of c1, the primary serving this remote, running\?/);
  });

  it('names the namespaces behind and those on another set, the root set and what to check', () => {
    // Prepare, Act
    const refusal = publishedRootsRefusal(primaryCheck, review({ behind: ['shop'], differing: ['web'] }));
    // Assess
    expect(refusal).toBe(
      'istio-ca-root-cert of cluster c1 does not yet hold the root set aaa + bbb in 2 namespace(s): shop, web. ' +
        'istiod may still be pushing; retry. If it persists, check that istio-system/cacerts root-cert.pem ' +
        'holds both roots (distribute-bundle writes it) and that istiod took it (its log).',
    );
  });

  it('names ten namespaces at most, and the remote’s primary’s cacerts', () => {
    // Prepare
    const behind = Array.from({ length: 12 }, (_, i) => `ns${i}`);
    // Act
    const refusal = publishedRootsRefusal(remoteCheck, review({ behind }));
    // Assess
    expect(refusal).toMatch(/in 12 namespace\(s\): ns0, .*, ns9, \.\.\.\. istiod of c1/);
    expect(refusal).toMatch(/cacerts root-cert\.pem of c1 holds both roots/);
  });

  it('says istiod missed the write, and what makes it read the files, once the write is overdue', () => {
    // Prepare: written 200 s ago; a 60 s kubelet sync makes 120 s the window
    const now = new Date('2026-12-02T10:00:00Z');
    const overdue = { writtenBy: new Date(now.getTime() - 200_000), now, kubeletSyncPeriodSeconds: 60 };
    // Act
    const refusal = publishedRootsRefusal(primaryCheck, review({ behind: ['shop'] }), overdue);
    // Assess
    expect(refusal).toMatch(
      /^istio-ca-root-cert of cluster c1 does not hold the root set aaa \+ bbb in 1 namespace\(s\) \(shop\) 200 s after the write \(istiod takes a changed cacerts within 120 s: .*\): istiod of cluster c1 still serves the roots it had before distribute-bundle wrote istio-system\/cacerts\./,
    );
    expect(refusal).toMatch(
      /restarting istiod \(kubectl -n istio-system rollout restart deployment\/istiod\)/,
    );
    expect(refusal).not.toMatch(/may still be pushing/);
  });

  it('says istiod took an overdue write when other namespaces hold the set, and names those behind', () => {
    // Prepare
    const now = new Date('2026-12-02T10:00:00Z');
    const overdue = { writtenBy: new Date(now.getTime() - 200_000), now, kubeletSyncPeriodSeconds: 60 };
    // Act
    const refusal = publishedRootsRefusal(
      primaryCheck,
      review({ behind: ['shop'], roots: ['aaa', 'bbb'] }),
      overdue,
    );
    // Assess
    expect(refusal).toMatch(
      /\(shop\) 200 s after the write \(.*\): istiod of cluster c1 published the set to the other namespaces, so it took the write, but not to these: /,
    );
    expect(refusal).not.toMatch(/rollout restart/);
  });

  it('names the primary’s istiod for a remote whose write is overdue', () => {
    // Prepare
    const now = new Date('2026-12-02T10:00:00Z');
    const overdue = { writtenBy: new Date(now.getTime() - 200_000), now, kubeletSyncPeriodSeconds: 60 };
    // Act
    const refusal = publishedRootsRefusal(remoteCheck, review({ behind: ['shop'] }), overdue);
    // Assess
    expect(refusal).toMatch(/: istiod of c1, the primary serving this remote, still serves the roots/);
  });
});

describe('proxyRootsRefusal', () => {
  it('refuses nothing once every proxy with PCDS holds the roots', () => {
    // Prepare, Act
    const refusal = proxyRootsRefusal(primaryCheck, { done: true, behind: [], behindCount: 0 });
    // Assess
    expect(refusal).toBeUndefined();
  });

  it('names the proxies behind, and says more are behind than named', () => {
    // Prepare
    const proxies = { done: false, behind: ['shop/web-1 lacks bbb'], behindCount: 3 };
    // Act
    const refusal = proxyRootsRefusal(primaryCheck, proxies);
    // Assess
    expect(refusal).toBe(
      "In cluster c1, 3 running proxy(ies) with PCDS do not hold the root set aaa + bbb in their Envoy's roots " +
        '(ROOTCA) yet: shop/web-1 lacks bbb; .... istiod pushes the bundle to every proxy within seconds; retry. ' +
        "If it persists, the proxy is not connected to istiod: check its pilot-agent's log.",
    );
  });
});
