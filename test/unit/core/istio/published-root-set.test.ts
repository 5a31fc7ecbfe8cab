// rollback's restore-trust waits for every istio-ca-root-cert to hold the root set it wrote: the same
// roots in any order, a namespace without the ConfigMap not judged.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { namespacesOffRootSet } from '../../../../lambdas/core/istio/published-root-set.js';
import { createRootCa } from '../../../../lambdas/core/pki/index.js';

let rootA: string;
let rootB: string;
beforeAll(async () => {
  [rootA, rootB] = await Promise.all(['A', 'B'].map(async () => (await createRootCa()).certificatePem));
});

describe('namespacesOffRootSet', () => {
  it('finds none when every published ConfigMap holds the set, in any order, ignoring namespaces istiod skips', () => {
    // Prepare
    const configMaps = [
      { namespace: 'default', rootCertPem: rootA + rootB },
      { namespace: 'kube-system' },
      { namespace: 'shop', rootCertPem: rootB + rootA },
    ];
    // Act
    const off = namespacesOffRootSet(configMaps, rootA + rootB, 'c1');
    // Assess
    expect(off).toEqual([]);
  });

  it('names a namespace still on B alone and one holding more than the set', async () => {
    // Prepare
    const rootX = (await createRootCa()).certificatePem;
    const configMaps = [
      { namespace: 'default', rootCertPem: rootA + rootB },
      { namespace: 'shop', rootCertPem: rootB },
      { namespace: 'billing', rootCertPem: rootA + rootB + rootX },
    ];
    // Act
    const off = namespacesOffRootSet(configMaps, rootA + rootB, 'c1');
    // Assess
    expect(off).toEqual(['shop', 'billing']);
  });

  it('names the cluster and the ConfigMap when a published bundle does not parse', () => {
    // Prepare, Act
    const act = () => namespacesOffRootSet([{ namespace: 'shop', rootCertPem: 'garbage' }], rootA, 'c1');
    // Assess
    expect(act).toThrow(/istio-ca-root-cert of cluster c1/);
  });
});
