import {
  createMetrics,
  DEFAULT_METRICS_NAMESPACE,
  recordStateChange,
  STATE_CHANGES_METRIC,
} from '../../../../lambdas/adapters/audit/metrics.js';
import { captureOutput } from '../../../support/capture-output.js';

describe('metrics', () => {
  it('writes one EMF line per state change, dimensioned by phase and outcome, in namespace MeshTrust', () => {
    // Prepare
    const metrics = createMetrics();
    // Act
    const lines = captureOutput(() =>
      recordStateChange(metrics, { phase: 'stage-root', outcome: 'succeeded' }),
    );
    // Assess
    expect(lines).toHaveLength(1);
    const emf = JSON.parse(lines[0] as string);
    expect(emf._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: DEFAULT_METRICS_NAMESPACE,
      Dimensions: [expect.arrayContaining(['phase', 'outcome'])],
      Metrics: [{ Name: STATE_CHANGES_METRIC, Unit: 'Count' }],
    });
    expect(emf).toMatchObject({ phase: 'stage-root', outcome: 'succeeded', [STATE_CHANGES_METRIC]: 1 });
  });

  it('uses the namespace it is given', () => {
    // Prepare
    const metrics = createMetrics({ namespace: 'MeshTrustLab' });
    // Act
    const lines = captureOutput(() => recordStateChange(metrics, { phase: 'rollback', outcome: 'failed' }));
    // Assess
    expect(JSON.parse(lines[0] as string)._aws.CloudWatchMetrics[0].Namespace).toBe('MeshTrustLab');
  });
});
