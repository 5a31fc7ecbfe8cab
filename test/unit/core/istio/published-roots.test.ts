// verify-trust's judgement of what istiod published: every istio-ca-root-cert holds the required roots,
// and all hold one and the same set.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { judgePublishedRoots } from '../../../../lambdas/core/istio/published-roots.js';
import { certificateFingerprint, createRootCa } from '../../../../lambdas/core/pki/index.js';

let rootA: string;
let rootB: string;
let rootX: string;
let required: string[];
beforeAll(async () => {
  [rootA, rootB, rootX] = await Promise.all(
    ['A', 'B', 'X'].map(async () => (await createRootCa()).certificatePem),
  );
  required = [certificateFingerprint(rootA), certificateFingerprint(rootB)];
});

describe('judgePublishedRoots', () => {
  it('passes when every published ConfigMap holds A+B, ignoring namespaces istiod skips', () => {
    const review = judgePublishedRoots(
      [
        { namespace: 'default', rootCertPem: rootA + rootB },
        { namespace: 'kube-system' },
        { namespace: 'shop', rootCertPem: rootB + rootA },
      ],
      required,
      'c1',
    );
    expect(review).toEqual({ done: true, behind: [], differing: [], published: 2, roots: required });
  });

  it('names the namespaces still on A alone', () => {
    const review = judgePublishedRoots(
      [
        { namespace: 'default', rootCertPem: rootA + rootB },
        { namespace: 'shop', rootCertPem: rootA },
      ],
      required,
      'c1',
    );
    expect(review.done).toBe(false);
    expect(review.behind).toEqual(['shop']);
  });

  it('holds while two complete sets are published: a push under way', () => {
    const review = judgePublishedRoots(
      [
        { namespace: 'default', rootCertPem: rootA + rootB },
        { namespace: 'shop', rootCertPem: rootA + rootB + rootX },
      ],
      required,
      'c1',
    );
    expect(review).toMatchObject({ done: false, behind: [], differing: ['shop'] });
  });

  it('is not done with no ConfigMap at all', () => {
    const review = judgePublishedRoots([{ namespace: 'default' }], required, 'c1');
    expect(review).toEqual({ done: false, behind: [], differing: [], published: 0 });
  });
});
