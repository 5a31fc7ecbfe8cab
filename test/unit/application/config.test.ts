import { readRotationConfig } from '../../../lambdas/application/config.js';
import {
  AWS_REGION_ENV,
  LAMBDA_SET_ENV_KEYS,
  ROTATION_FUNCTION_ENV_KEYS,
} from '../../../lambdas/contract/function-environment.js';

// Every key readRotationConfig may read, from the contract: cleared before each case, restored after.
const KEYS = [...ROTATION_FUNCTION_ENV_KEYS, ...LAMBDA_SET_ENV_KEYS];
let saved: Record<string, string | undefined>;

beforeEach(() => {
  saved = Object.fromEntries(KEYS.map((key) => [key, process.env[key]]));
  for (const key of KEYS) delete process.env[key];
});
afterEach(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('readRotationConfig', () => {
  it('applies the documented defaults when only MESH_ID and AWS_REGION are set', () => {
    // Prepare
    Object.assign(process.env, { MESH_ID: 'prod', AWS_REGION: 'eu-west-1' });
    // Act
    const config = readRotationConfig();
    // Assess
    expect(config).toEqual({
      meshId: 'prod',
      clusters: [],
      clusterAccountRoles: new Map(),
      clusterTagKey: 'meshtrust.io/mesh',
      clusterTagValue: 'prod',
      region: 'eu-west-1',
      rolloutTimeoutSeconds: 600,
      restartWaveSize: 5,
      distributedMaps: false,
      intermediateValidityDays: 730,
      rootKeyDeletionWindowDays: 30,
      rootValidityDays: 1825,
      keyAlgorithm: 'ecdsa-p256',
      minIntermediateHeadroomDays: 7,
      minRootHeadroomDays: 7,
      expiryWarningDays: 90,
      verifyTimeoutSeconds: 60,
      kubeletSyncPeriodSeconds: 60,
      rotationStrategy: 'auto',
      remoteClusters: [],
    });
  });

  it('reads the remote clusters and their primaries from REMOTE_CLUSTERS', () => {
    // Prepare
    Object.assign(process.env, {
      MESH_ID: 'prod',
      AWS_REGION: 'eu-west-1',
      REMOTE_CLUSTERS: 'eu-remote=eu-1,us-remote=us-1',
    });
    // Act, Assess
    expect(readRotationConfig().remoteClusters).toEqual([
      { name: 'eu-remote', primary: 'eu-1' },
      { name: 'us-remote', primary: 'us-1' },
    ]);
  });

  it('names REMOTE_CLUSTERS when it declares a remote as a primary', () => {
    // Prepare
    Object.assign(process.env, { MESH_ID: 'prod', AWS_REGION: 'eu-west-1', REMOTE_CLUSTERS: 'r=p,s=r' });
    // Act, Assess
    expect(() => readRotationConfig()).toThrow(
      /Environment variable REMOTE_CLUSTERS: cluster r is a remote \(of p\) and the primary of s/,
    );
  });

  it('reads what the stack sets, including an empty CLUSTERS as tag discovery', () => {
    // Prepare
    Object.assign(process.env, {
      MESH_ID: 'prod',
      AWS_REGION: 'eu-west-1',
      CLUSTERS: '',
      CLUSTER_TAG_KEY: 'team/mesh',
      CLUSTER_TAG_VALUE: 'payments',
      KMS_KEY_ID: 'arn:aws:kms:eu-west-1:123456789012:key/abc',
      LOCK_TABLE_NAME: 'meshtrust-prod-RotationLockTable-1A2B3C',
      LOCK_TAKEOVER_GRACE_SECONDS: '900',
      RESTART_WAVE_SIZE: '3',
      KEY_ALGORITHM: 'rsa-3072',
    });
    // Act
    const config = readRotationConfig();
    // Assess
    expect(config).toMatchObject({
      clusters: [],
      clusterTagKey: 'team/mesh',
      clusterTagValue: 'payments',
      kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/abc',
      lock: { tableName: 'meshtrust-prod-RotationLockTable-1A2B3C', takeoverGraceSeconds: 900 },
      restartWaveSize: 3,
      keyAlgorithm: 'rsa-3072',
    });
  });

  it("reads the roles each CA secret's resource policy names, and leaves the grants the stack left empty empty", () => {
    // Prepare
    const role = (name: string) => `arn:aws:iam::123456789012:role/${name}`;
    Object.assign(process.env, {
      MESH_ID: 'prod',
      AWS_REGION: 'eu-west-1',
      CA_INTERMEDIATE_SECRET_READER_ARNS: role('restart'),
      CA_INTERMEDIATE_SECRET_WRITER_ARNS: role('reissue'),
      CA_BACKUP_SECRET_DELETER_ARNS: `${role('promote')},${role('release')}`,
      CA_ROOT_SECRET_READER_ARNS: '',
    });
    // Act
    const { caSecretPolicy } = readRotationConfig();
    // Assess
    expect(caSecretPolicy).toEqual({
      rootRead: [],
      rootWrite: [],
      intermediatesRead: [role('restart')],
      intermediatesWrite: [role('reissue')],
      backupsRead: [],
      backupsWrite: [],
      backupsDelete: [role('promote'), role('release')],
      importedRootKeysRead: [],
      importedRootKeysDelete: [],
    });
  });

  it('splits an explicit cluster list', () => {
    // Prepare
    Object.assign(process.env, { MESH_ID: 'prod', AWS_REGION: 'eu-west-1', CLUSTERS: 'a, b ,c' });
    // Act, Assess
    expect(readRotationConfig().clusters).toEqual(['a', 'b', 'c']);
  });

  it('names a missing LOCK_TAKEOVER_GRACE_SECONDS when the lock table is set', () => {
    // Prepare
    Object.assign(process.env, { MESH_ID: 'prod', AWS_REGION: 'eu-west-1', LOCK_TABLE_NAME: 'locks' });
    // Act, Assess
    expect(() => readRotationConfig()).toThrow(
      /Environment variable LOCK_TAKEOVER_GRACE_SECONDS is missing .* It goes with LOCK_TABLE_NAME/,
    );
  });

  it('names a missing MESH_ID', () => {
    // Prepare
    process.env.AWS_REGION = 'eu-west-1';
    // Act, Assess
    expect(() => readRotationConfig()).toThrow(/Environment variable MESH_ID is missing/);
  });

  it('names an unknown key algorithm and lists the known ones', () => {
    // Prepare
    Object.assign(process.env, { MESH_ID: 'prod', AWS_REGION: 'eu-west-1', KEY_ALGORITHM: 'dsa' });
    // Act, Assess
    expect(() => readRotationConfig()).toThrow(/KEY_ALGORITHM must be one of ecdsa-p256, .*got "dsa"/);
  });

  it.each(['resign', 'restart'])('reads a rotation strategy forced to %s', (strategy) => {
    // Prepare
    Object.assign(process.env, { MESH_ID: 'prod', AWS_REGION: 'eu-west-1', ROTATION_STRATEGY: strategy });
    // Act, Assess
    expect(readRotationConfig().rotationStrategy).toBe(strategy);
  });

  it('names an unknown rotation strategy and lists the known ones', () => {
    // Prepare
    Object.assign(process.env, { MESH_ID: 'prod', AWS_REGION: 'eu-west-1', ROTATION_STRATEGY: 'rolling' });
    // Act, Assess
    expect(() => readRotationConfig()).toThrow(
      /ROTATION_STRATEGY must be one of auto, resign, restart, got "rolling"/,
    );
  });

  it('reads the headroom and verify timeout the stack sets', () => {
    // Prepare
    Object.assign(process.env, {
      MESH_ID: 'prod',
      AWS_REGION: 'eu-west-1',
      VERIFY_TIMEOUT_SECONDS: '0',
      MIN_INTERMEDIATE_HEADROOM_DAYS: '14',
      MIN_ROOT_HEADROOM_DAYS: '30',
    });
    // Act
    const config = readRotationConfig();
    // Assess
    expect(config).toMatchObject({
      verifyTimeoutSeconds: 0,
      minIntermediateHeadroomDays: 14,
      minRootHeadroomDays: 30,
    });
  });

  it('reads the kubelet sync period the stack sets, and refuses one of no time', () => {
    // Prepare
    Object.assign(process.env, {
      MESH_ID: 'prod',
      AWS_REGION: 'eu-west-1',
      KUBELET_SYNC_PERIOD_SECONDS: '2',
    });
    // Act, Assess
    expect(readRotationConfig().kubeletSyncPeriodSeconds).toBe(2);
    process.env.KUBELET_SYNC_PERIOD_SECONDS = '0';
    expect(() => readRotationConfig()).toThrow(/KUBELET_SYNC_PERIOD_SECONDS must be a whole number >= 1/);
  });

  it('refuses a verify timeout the 15 minute Lambda could not wait out', () => {
    // Prepare
    Object.assign(process.env, { MESH_ID: 'prod', AWS_REGION: 'eu-west-1', VERIFY_TIMEOUT_SECONDS: '900' });
    // Act, Assess
    expect(() => readRotationConfig()).toThrow(
      /VERIFY_TIMEOUT_SECONDS must be a whole number >= 0 <= 840, got "900"/,
    );
  });

  it("reads exactly the contract's rotation function keys and the region", () => {
    // Prepare: every key set, so that no read is skipped (the lock's grace is read only with its table)
    const values: Record<string, string> = {
      ...Object.fromEntries(KEYS.map((key) => [key, '1'])),
      MESH_ID: 'prod',
      [AWS_REGION_ENV]: 'eu-west-1',
      KEY_ALGORITHM: 'ecdsa-p256',
      ROTATION_STRATEGY: 'auto',
      ROOT_KEY_DELETION_WINDOW_DAYS: '30',
      REMOTE_CLUSTERS: 'r=p',
      CLUSTER_ACCOUNT_ROLES: '222222222222=arn:aws:iam::222222222222:role/meshtrust-prod-rotator',
    };
    const read = new Set<string>();
    const original = process.env;
    process.env = new Proxy(values, {
      get: (target, key) => {
        if (typeof key === 'string') read.add(key);
        return target[key as string];
      },
    });
    // Act
    try {
      readRotationConfig();
    } finally {
      process.env = original;
    }
    // Assess
    expect([...read].sort()).toEqual([...KEYS].sort());
  });

  it('reads the role of each other account and the mesh account, and refuses a role map the stack would not write', () => {
    // Prepare
    const rotator = 'arn:aws:iam::222222222222:role/meshtrust-prod-rotator';
    Object.assign(process.env, {
      MESH_ID: 'prod',
      AWS_REGION: 'eu-west-1',
      MESH_ACCOUNT_ID: '111111111111',
      CLUSTER_ACCOUNT_ROLES: `222222222222=${rotator}`,
    });
    // Act
    const config = readRotationConfig();
    // Assess
    expect(config.clusterAccountRoles).toEqual(new Map([['222222222222', rotator]]));
    expect(config.meshAccountId).toBe('111111111111');
    process.env.CLUSTER_ACCOUNT_ROLES = `333333333333=${rotator}`;
    expect(() => readRotationConfig()).toThrow(
      expect.objectContaining({
        name: 'EnvironmentVariableError',
        message: expect.stringMatching(/^CLUSTER_ACCOUNT_ROLES: /),
      }),
    );
  });

  it('reads DISTRIBUTED_MAPS as a boolean, false when unset, and names a value that is not one', () => {
    // Arrange
    Object.assign(process.env, { MESH_ID: 'prod', AWS_REGION: 'eu-west-1' });
    // Act / Assert
    expect(readRotationConfig().distributedMaps).toBe(false);
    process.env.DISTRIBUTED_MAPS = 'true';
    expect(readRotationConfig().distributedMaps).toBe(true);
    process.env.DISTRIBUTED_MAPS = 'sometimes';
    expect(() => readRotationConfig()).toThrow(/DISTRIBUTED_MAPS/);
  });

  it('refuses a wave size below one', () => {
    // Prepare
    Object.assign(process.env, { MESH_ID: 'prod', AWS_REGION: 'eu-west-1', RESTART_WAVE_SIZE: '0' });
    // Act, Assess
    expect(() => readRotationConfig()).toThrow(/RESTART_WAVE_SIZE must be a whole number >= 1, got "0"/);
  });

  it('refuses a rollout timeout longer than restart-workloads may run, as the construct does', () => {
    // Prepare
    Object.assign(process.env, { MESH_ID: 'prod', AWS_REGION: 'eu-west-1', ROLLOUT_TIMEOUT_SECONDS: '900' });
    // Act, Assess
    expect(() => readRotationConfig()).toThrow(
      /ROLLOUT_TIMEOUT_SECONDS must be a whole number >= 1 <= 840, got "900"/,
    );
  });
});
