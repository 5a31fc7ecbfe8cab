import { App, Duration, Stack } from 'aws-cdk-lib';
import { MeshTrustConfigError } from '../../lib/mesh-trust-config-error.js';
import { MeshTrustRotation, type MeshTrustRotationProps } from '../../lib/mesh-trust-rotation.js';

/** Constructs (never synthesizes) a MeshTrustRotation, so a rejected prop throws here. */
function construct(props: Partial<MeshTrustRotationProps>): MeshTrustRotation {
  // No bundling: the props are checked before any function exists, and bundling is slow.
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'ValidationTest');
  return new MeshTrustRotation(stack, 'Rotation', { meshId: 'payments', ...props });
}

function errorOf(props: Partial<MeshTrustRotationProps>): MeshTrustConfigError {
  try {
    construct(props);
  } catch (error) {
    if (error instanceof MeshTrustConfigError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(props)} to be rejected`);
}

describe('MeshTrustRotation props validation', () => {
  it('accepts the defaults and a full explicit configuration', () => {
    // WHEN / THEN
    expect(() => construct({})).not.toThrow();
    expect(() =>
      construct({
        meshId: 'a',
        clusters: ['eu-central-1_prod', 'us-east-1-prod'],
        soak: Duration.hours(2),
        maxConcurrency: 40,
        approval: true,
        schedule: 'rate(365 days)',
        alarmEmail: 'oncall@example.com',
        keyAlgorithm: 'rsa-4096',
        rootValidityDays: 3650,
        intermediateValidityDays: 365,
        rolloutTimeout: Duration.minutes(14),
        restartWaveSize: 1,
        verifyTimeout: Duration.minutes(14),
        minIntermediateHeadroomDays: 0,
        minRootHeadroomDays: 30,
        rotationStrategy: 'resign',
      }),
    ).not.toThrow();
  });

  it('lets a run without approval last longer than an approval counts, and one with approval 59 days', () => {
    // WHEN / THEN
    expect(() => construct({ timeout: Duration.days(90) })).not.toThrow();
    expect(() => construct({ approval: true, timeout: Duration.days(59) })).not.toThrow();
  });

  it.each([
    ['an uppercase mesh id', { meshId: 'Payments' }, 'meshId', '"Payments"'],
    ['a mesh id ending in a dash', { meshId: 'payments-' }, 'meshId', '"payments-"'],
    ['a mesh id too long for the function names', { meshId: 'a'.repeat(33) }, 'meshId', 'a'.repeat(33)],
    ['a cluster name with a slash', { clusters: ['eu/prod'] }, 'clusters', '"eu/prod"'],
    ['a cluster listed twice', { clusters: ['eu', 'eu'] }, 'clusters', '"eu" is listed twice'],
    [
      'a cluster ARN with a mistyped account id',
      { clusters: ['eu', 'arn:aws:eks:us-east-1:22222222222:cluster/us'] },
      'clusters',
      '"arn:aws:eks:us-east-1:22222222222:cluster/us": the account id must be 12 digits',
    ],
    [
      'one cluster name in two accounts',
      { clusters: ['eu', 'arn:aws:eks:us-east-1:222222222222:cluster/eu'] },
      'clusters',
      'are both named eu',
    ],
    ['an empty cluster list', { clusters: [] }, 'clusters', 'empty list'],
    [
      'clusters and a tag together',
      { clusters: ['eu'], clusterTag: { key: 'k', value: 'v' } },
      'clusterTag',
      'not both',
    ],
    ['maxConcurrency 0', { maxConcurrency: 0 }, 'maxConcurrency', 'got 0'],
    ['maxConcurrency above the inline Map limit', { maxConcurrency: 41 }, 'maxConcurrency', 'got 41'],
    ['a schedule that is not an expression', { schedule: 'yearly' }, 'schedule', '"yearly"'],
    [
      'a timeout shorter than the soak',
      { soak: Duration.days(2), timeout: Duration.days(1) },
      'timeout',
      'got 1 day',
    ],
    [
      'with approval on, a timeout longer than an approval counts',
      { approval: true, timeout: Duration.days(60) },
      'timeout',
      'at most 59 days with approval on, since an approval counts for 60 days, got 60 days',
    ],
    [
      'with approval on, approval timeouts that make the default timeout longer than an approval counts',
      { approval: true, approvalTimeout: Duration.days(29) },
      'timeout',
      '(the default timeout is the soak, both approval timeouts and 2 days), got 61 days',
    ],
    ['a mail address without a domain', { alarmEmail: 'oncall' }, 'alarmEmail', '"oncall"'],
    ['an unknown key algorithm', { keyAlgorithm: 'dsa-1024' as never }, 'keyAlgorithm', '"dsa-1024"'],
    [
      'an intermediate outliving its root',
      { rootValidityDays: 365, intermediateValidityDays: 365 },
      'intermediateValidityDays',
      '(365)',
    ],
    [
      'a rollout timeout beyond the Lambda limit',
      { rolloutTimeout: Duration.minutes(15) },
      'rolloutTimeout',
      '15 minutes',
    ],
    ['a restart wave of 0.5 workloads', { restartWaveSize: 0.5 }, 'restartWaveSize', 'got 0.5'],
    [
      'a root key deletion window shorter than KMS allows',
      { rootKeyDeletionWindow: Duration.days(3) },
      'rootKeyDeletionWindow',
      '3 days',
    ],
    [
      'a root key deletion window of part days',
      { rootKeyDeletionWindow: Duration.hours(200) },
      'rootKeyDeletionWindow',
      '8 days 8 hours',
    ],
    [
      'a verify timeout beyond the Lambda limit',
      { verifyTimeout: Duration.minutes(15) },
      'verifyTimeout',
      '15 minutes',
    ],
    [
      'a verify timeout of part seconds',
      { verifyTimeout: Duration.millis(1500) },
      'verifyTimeout',
      '1 second 500 millis',
    ],
    [
      'a kubelet sync period longer than any kubelet is set to',
      { kubeletSyncPeriod: Duration.minutes(11) },
      'kubeletSyncPeriod',
      '11 minutes',
    ],
    [
      'a kubelet sync period of part seconds',
      { kubeletSyncPeriod: Duration.millis(500) },
      'kubeletSyncPeriod',
      '500 millis',
    ],
    [
      'a negative intermediate headroom',
      { minIntermediateHeadroomDays: -1 },
      'minIntermediateHeadroomDays',
      'got -1',
    ],
    ['a root headroom of part days', { minRootHeadroomDays: 2.5 }, 'minRootHeadroomDays', 'got 2.5'],
    [
      'a remote cluster that is its own primary',
      { remoteClusters: [{ name: 'eu-1', primary: 'eu-1' }] },
      'remoteClusters',
      'eu-1 is declared its own primary',
    ],
    [
      'a remote cluster named as the primary of another',
      {
        remoteClusters: [
          { name: 'eu-2', primary: 'eu-1' },
          { name: 'eu-3', primary: 'eu-2' },
        ],
      },
      'remoteClusters',
      'eu-2 is a remote (of eu-1) and the primary of eu-3',
    ],
    [
      'an unknown rotation strategy',
      { rotationStrategy: 'rolling' as never },
      'rotationStrategy',
      '"rolling"',
    ],
  ] as const)('rejects %s, naming the property and the value', (_case, props, property, shown) => {
    // WHEN
    const error = errorOf(props as Partial<MeshTrustRotationProps>);

    // THEN
    expect(error.property).toBe(property);
    expect(error.constructPath).toBe('ValidationTest/Rotation');
    expect(error.message).toContain('ValidationTest/Rotation: ');
    expect(error.message).toContain(shown);
  });
});
