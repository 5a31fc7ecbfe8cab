import {
  collectionPath,
  DEPLOYMENTS,
  ENDPOINT_SLICES,
  NAMESPACES,
  objectPath,
  POD_DISRUPTION_BUDGETS,
  PODS,
} from '../../../../lambdas/adapters/kube/kube-objects.js';
import { pathWithQuery } from '../../../../lambdas/adapters/kube/kube-rest.js';

describe('the API paths of kube-objects', () => {
  it('puts the core group under /api/v1 and the others under /apis/GROUP/VERSION', () => {
    // Act
    const paths = [
      objectPath(PODS, 'shop', 'web-1'),
      collectionPath(DEPLOYMENTS, 'shop'),
      collectionPath(POD_DISRUPTION_BUDGETS),
      collectionPath(ENDPOINT_SLICES, 'istio-system'),
      objectPath(NAMESPACES, undefined, 'istio-system'),
    ];
    // Assess
    expect(paths).toEqual([
      '/api/v1/namespaces/shop/pods/web-1',
      '/apis/apps/v1/namespaces/shop/deployments',
      '/apis/policy/v1/poddisruptionbudgets',
      '/apis/discovery.k8s.io/v1/namespaces/istio-system/endpointslices',
      '/api/v1/namespaces/istio-system',
    ]);
  });

  it('escapes a name that would leave its path segment', () => {
    // Act
    const path = objectPath(PODS, 'shop', '../secrets/cacerts');
    // Assess
    expect(path).toBe('/api/v1/namespaces/shop/pods/..%2Fsecrets%2Fcacerts');
  });
});

describe('pathWithQuery', () => {
  it('encodes the parameters given and leaves out the undefined ones', () => {
    // Act
    const path = pathWithQuery('/api/v1/pods', {
      labelSelector: 'app in (a,b)',
      fieldSelector: undefined,
      timeoutSeconds: 30,
      watch: true,
    });
    // Assess
    expect(path).toBe('/api/v1/pods?labelSelector=app+in+%28a%2Cb%29&timeoutSeconds=30&watch=true');
  });

  it('adds no question mark without parameters', () => {
    // Assess
    expect(pathWithQuery('/api/v1/pods', { fieldSelector: undefined })).toBe('/api/v1/pods');
  });
});
