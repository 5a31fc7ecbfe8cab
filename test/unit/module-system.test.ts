// The module system decision (docs/architecture.md): native ESM everywhere. This proves jest loads
// the ESM-only packages we depend on and the CommonJS ones side by side.
import * as k8s from '@kubernetes/client-node';
import { Stack } from 'aws-cdk-lib';
import * as sfnLocal from 'aws-local-stepfunctions';

describe('module system', () => {
  it('loads ESM-only @kubernetes/client-node', () => {
    // Prepare
    const config = new k8s.KubeConfig();
    // Act
    config.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
      currentContext: 'ctx',
    });
    // Assess
    expect(config.getCurrentCluster()?.server).toBe('https://127.0.0.1:1');
    expect(typeof config.makeApiClient).toBe('function');
  });

  it('loads ESM-only aws-local-stepfunctions', () => {
    expect(typeof sfnLocal.StateMachine).toBe('function');
  });

  it('loads CommonJS aws-cdk-lib', () => {
    expect(typeof Stack).toBe('function');
  });
});
