// The plan's note on injected pods no controller restarts, per mode.
import { describe, expect, it } from '@jest/globals';
import { unmanagedPodsNote } from '../../../../lambdas/core/plan/unmanaged-pods.js';

const pods = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ namespace: 'batch', name: `job-${i}`, owner: 'Job nightly' }));

describe('unmanagedPodsNote', () => {
  it('says nothing when no cluster has such pods', () => {
    expect(unmanagedPodsNote('emergency', [{ cluster: 'a', unmanaged: [] }])).toBeUndefined();
  });

  it('warns an emergency run that they fail once the old root is retired, naming five and counting the rest', () => {
    // Act
    const note = unmanagedPodsNote('emergency', [
      { cluster: 'a', unmanaged: [{ namespace: 'tools', name: 'debug' }] },
      { cluster: 'b', unmanaged: pods(6) },
    ]);
    // Assess
    expect(note).toMatch(
      /^7 injected pod\(s\) that no Deployment, StatefulSet or DaemonSet owns \(a: tools\/debug, b: batch\/job-0 \(Job nightly\), /,
    );
    expect(note).toContain('b: batch/job-3 (Job nightly) and 2 more)');
    expect(note).not.toContain('job-4');
    expect(note).toContain('fail mTLS until replaced');
  });

  it('tells a scheduled run they renew within the soak, and an intermediate rekey that their root stays', () => {
    const clusters = [{ cluster: 'a', unmanaged: pods(1) }];
    expect(unmanagedPodsNote('scheduled', clusters)).toContain(
      'when their certificate renews, within the soak',
    );
    expect(unmanagedPodsNote('intermediate', clusters)).toContain('stay trusted (the root does not change)');
  });
});
