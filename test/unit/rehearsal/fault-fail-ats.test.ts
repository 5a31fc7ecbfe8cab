// What a run with --fault must end in: absorbed faults change nothing, a rollout held unready or a write
// istiod ignores fails the run from its phase, and a StatefulSet's pod held unready fails its rollback's
// restart too, so the run ends FAILED with the cacerts backups kept for the operator.
import { parseFault } from '../../../rehearsal/fault-spec.js';
import { expectedCacertsBackups, expectedResult, faultFailAts } from '../../../rehearsal/rehearsal-report.js';

const failAtsOf = (...specs: string[]) => faultFailAts(specs.map(parseFault));

describe('faultFailAts', () => {
  it('takes absorbed faults for no failure', () => {
    // Act
    const failAts = failAtsOf(
      'kube:lab-2:5xx:3@distribute-bundle',
      'aws:lost:4@stage-root',
      'eks:throttle:3@distribute-bundle',
    );

    // Assess
    expect(failAts).toEqual([]);
    expect(expectedResult('scheduled', failAts)).toBe('SUCCEEDED');
  });

  it('fails the run from the phase of a stuck rollout or a dropped write, which then rolls back', () => {
    // Act
    const stuck = failAtsOf('kube:lab-2:stuck:1:deployment@restart-workloads');
    const dropped = failAtsOf('kube:lab-2:istiod-drop:1@distribute-bundle');

    // Assess
    expect(stuck).toEqual([{ state: 'restart-workloads', once: false }]);
    expect(expectedResult('scheduled', stuck)).toBe('ROLLED_BACK');
    expect(expectedResult('scheduled', dropped)).toBe('ROLLED_BACK');
    expect(expectedCacertsBackups('ROLLED_BACK', stuck)).toBe('deleting');
  });

  it('fails the run from the phase where STS refuses an AssumeRole (denied), which then rolls back', () => {
    // Act
    const denied = failAtsOf('sts:222222222222:denied:1@distribute-bundle');
    const throttled = failAtsOf('sts:222222222222:throttle:5@distribute-bundle');

    // Assess
    expect(denied).toEqual([{ state: 'distribute-bundle', once: false }]);
    expect(expectedResult('scheduled', denied)).toBe('ROLLED_BACK');
    expect(throttled).toEqual([]);
  });

  it("fails a StatefulSet's rollback restart too: FAILED, with the backups kept", () => {
    // Act
    const failAts = failAtsOf('kube:lab-2:stuck:1:statefulset@restart-workloads');

    // Assess
    expect(failAts).toEqual([
      { state: 'restart-workloads', once: false },
      { state: 'rollback-restart', once: false },
    ]);
    expect(expectedResult('scheduled', failAts)).toBe('FAILED');
    expect(expectedCacertsBackups('FAILED', failAts)).toBe('kept');
  });
});
