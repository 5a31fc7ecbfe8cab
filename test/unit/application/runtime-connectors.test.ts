// The runtime makes only the CA store's and the fleet's AWS clients; the root keys, the rotation lock,
// the executions and cluster clients come from connectors its caller hands in (docs/architecture.md,
// "Lambda bundles"). No AWS call is made here: connectors are fakes and nothing is read.
import type { RootKeysConnector } from '../../../lambdas/adapters/kms/connect-root-keys.js';
import type { RootKeys } from '../../../lambdas/adapters/kms/root-keys.js';
import type { RotationLockConnector } from '../../../lambdas/adapters/lock/connect-rotation-lock.js';
import type { RotationLock } from '../../../lambdas/adapters/lock/rotation-lock.js';
import type { ExecutionsConnector } from '../../../lambdas/adapters/stepfunctions/connect-executions.js';
import type { RotationExecutions } from '../../../lambdas/adapters/stepfunctions/rotation-executions.js';
import { type RotationConfig, readRotationConfig } from '../../../lambdas/application/config.js';
import { createRotationRuntime } from '../../../lambdas/application/runtime.js';

let config: RotationConfig;

beforeAll(() => {
  const saved = { MESH_ID: process.env.MESH_ID, AWS_REGION: process.env.AWS_REGION };
  Object.assign(process.env, { MESH_ID: 'prod', AWS_REGION: 'eu-west-1' });
  try {
    config = {
      ...readRotationConfig(),
      lock: { tableName: 'meshtrust-lock', takeoverGraceSeconds: 900 },
    };
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
});

describe('a runtime made without a connector', () => {
  it.each([
    ['rootKeys', 'connectRootKeys'],
    ['lock()', 'connectLock'],
    ['executions()', 'connectExecutions'],
  ] as const)('throws a TypeError naming the option when asked for %s', (part, option) => {
    // Prepare
    const runtime = createRotationRuntime(config);
    // Act
    const act = () =>
      part === 'rootKeys' ? runtime.rootKeys : part === 'lock()' ? runtime.lock() : runtime.executions();
    // Assess
    try {
      expect(act).toThrow(TypeError);
      expect(act).toThrow(`from a runtime made without ${option}`);
    } finally {
      runtime.close();
    }
  });

  it('refuses a cluster client with a TypeError naming connectCluster, before reading the fleet', async () => {
    // Prepare
    const runtime = createRotationRuntime(config);
    // Act, Assess
    try {
      await expect(runtime.clusterClient('lab-1')).rejects.toThrow(
        new TypeError('asked for a client of cluster lab-1 from a runtime made without connectCluster'),
      );
    } finally {
      runtime.close();
    }
  });
});

describe('a runtime made with connectors', () => {
  it('connects each part once, with the configuration, and releases them on close', () => {
    // Prepare
    const calls: string[] = [];
    const rootKeys = {} as RootKeys;
    const lock = {} as RotationLock;
    const executions = {} as RotationExecutions;
    const connectRootKeys: RootKeysConnector = (connection) => {
      calls.push(`root keys ${connection.meshId} ${connection.region}`);
      return { rootKeys, close: () => calls.push('close root keys') };
    };
    const connectLock: RotationLockConnector = (connection) => {
      calls.push(`lock ${connection.tableName} ${connection.takeoverGraceSeconds}`);
      return { lock, close: () => calls.push('close lock') };
    };
    const connectExecutions: ExecutionsConnector = (region) => {
      calls.push(`executions ${region}`);
      return { executions, close: () => calls.push('close executions') };
    };
    const runtime = createRotationRuntime(config, { connectRootKeys, connectLock, connectExecutions });
    // Act
    const got = [runtime.rootKeys, runtime.rootKeys, runtime.lock(), runtime.lock()];
    const gotExecutions = [runtime.executions(), runtime.executions()];
    runtime.close();
    runtime.close();
    // Assess
    expect(got).toEqual([rootKeys, rootKeys, lock, lock]);
    expect(gotExecutions[0]).toBe(executions);
    expect(gotExecutions[1]).toBe(executions);
    expect(calls).toEqual([
      'root keys prod eu-west-1',
      'lock meshtrust-lock 900',
      'executions eu-west-1',
      'close root keys',
      'close lock',
      'close executions',
    ]);
  });

  it('connects nothing it is not asked for', () => {
    // Prepare
    const calls: string[] = [];
    const runtime = createRotationRuntime(config, {
      connectRootKeys: () => {
        calls.push('root keys');
        return { rootKeys: {} as RootKeys, close: () => calls.push('close root keys') };
      },
    });
    // Act
    runtime.close();
    // Assess
    expect(calls).toEqual([]);
  });
});
