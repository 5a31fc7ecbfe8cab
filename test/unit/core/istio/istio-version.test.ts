// The Istio minor version an istiod image names.
import { compareIstioVersions, istioVersionOfImage } from '../../../../lambdas/core/istio/istio-version.js';

describe('istioVersionOfImage', () => {
  it('reads the minor version of release, dev, distroless and v-prefixed tags', () => {
    // Act
    const versions = [
      'docker.io/istio/pilot:1.29.2',
      'gcr.io/istio-release/pilot:1.31-dev',
      'docker.io/istio/pilot:1.22.3-distroless',
      'istio/pilot:v1.30.0',
      'docker.io/istio/pilot:1.29',
    ].map(istioVersionOfImage);
    // Assess
    expect(versions).toEqual(['1.29', '1.31', '1.22', '1.30', '1.29']);
  });

  it('looks past a registry port and a digest', () => {
    // Act
    const versions = [
      'localhost:5000/istio/pilot:1.28.1',
      'registry.internal:443/mirror/pilot:1.28.1@sha256:0123456789abcdef',
    ].map(istioVersionOfImage);
    // Assess
    expect(versions).toEqual(['1.28', '1.28']);
  });

  it('names no version for a tag of another form, a digest alone, no tag or no image', () => {
    // Act
    const versions = [
      'docker.io/istio/pilot:latest',
      'docker.io/istio/pilot:master-abc123',
      'docker.io/istio/pilot@sha256:0123456789abcdef',
      'localhost:5000/istio/pilot',
      'docker.io/istio/pilot:1.x',
      undefined,
    ].map(istioVersionOfImage);
    // Assess
    expect(versions).toEqual(Array(6).fill(undefined));
  });
});

describe('compareIstioVersions', () => {
  it('orders minor versions as numbers, not as text', () => {
    // Act
    const sorted = ['1.30', '1.9', '1.29', '2.0'].sort(compareIstioVersions);
    // Assess
    expect(sorted).toEqual(['1.9', '1.29', '1.30', '2.0']);
  });
});
