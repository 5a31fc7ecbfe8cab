// The matrix's istio engine cases: the model cases that apply to real Istio, each with --engine istio
// and an id of its own, and none the istio engine refuses to play.
import type { ChaosCase } from '../../../chaos/chaos-matrix.js';
import { isIstioCase, istioEngineCases } from '../../../chaos/istio-engine-cases.js';

function chaosCase(
  id: string,
  kind: ChaosCase['kind'],
  flags: string[] = [],
  expected: ChaosCase['expected'] = { result: 'SUCCEEDED' },
): ChaosCase {
  return { id, mode: 'scheduled', kind, flags: ['--mode', 'scheduled', ...flags], expected };
}

const CASES: ChaosCase[] = [
  chaosCase('scheduled/baseline', 'baseline'),
  chaosCase('scheduled/fail-at/preflight', 'fail-at', ['--fail-at', 'preflight'], {
    result: 'FAILED',
    error: 'PreconditionFailed',
  }),
  chaosCase(
    'scheduled/fail-at/distribute-bundle:lab-2',
    'fail-at',
    ['--fail-at', 'distribute-bundle:lab-2'],
    {
      result: 'ROLLED_BACK',
    },
  ),
  chaosCase('scheduled/transient/distribute-bundle:once', 'transient', [
    '--fail-at',
    'distribute-bundle:once',
  ]),
  chaosCase('scheduled/fault/kube-5xx', 'fault', ['--fault', 'kube:lab-2:5xx:3@distribute-bundle']),
  chaosCase('scheduled/fault/kube-istiod-drop', 'fault', [
    '--fault',
    'kube:lab-2:istiod-drop:1@distribute-bundle',
  ]),
  chaosCase('scheduled/fault/kube-stuck', 'fault', [
    '--fault',
    'kube:lab-2:stuck:1:deployment@restart-workloads',
  ]),
  chaosCase('scheduled/fault/kube-stuck-statefulset', 'fault', [
    '--fault',
    'kube:lab-2:stuck:1:statefulset@restart-workloads',
  ]),
  chaosCase('scheduled/fault/sts-slow', 'fault', ['--fault', 'sts:slow:3000:3@distribute-bundle']),
  chaosCase('scheduled/rollback/retire-root:lab-2+rollback-trust', 'rollback', [
    '--fail-at',
    'retire-root:lab-2',
    '--fail-at',
    'rollback-trust',
  ]),
  chaosCase('kill/scheduled/distribute-bundle', 'kill'),
];

describe('istioEngineCases', () => {
  it('takes the baseline, the failures that roll back and the faults, each with --engine istio and an istio/ id', () => {
    // Act
    const cases = istioEngineCases(CASES);

    // Assess
    expect(cases.map((chaosCase) => chaosCase.id)).toEqual([
      'istio/scheduled/baseline',
      'istio/scheduled/fail-at/distribute-bundle:lab-2',
      'istio/scheduled/fault/kube-5xx',
      'istio/scheduled/fault/kube-istiod-drop',
      'istio/scheduled/fault/kube-stuck',
      'istio/scheduled/fault/sts-slow',
    ]);
    for (const chaosCase of cases) {
      expect(chaosCase.flags.slice(0, 2)).toEqual(['--engine', 'istio']);
      expect(isIstioCase(chaosCase)).toBe(true);
      const model = CASES.find((original) => `istio/${original.id}` === chaosCase.id);
      expect(chaosCase.flags.slice(2)).toEqual(model?.flags);
      expect(chaosCase.expected).toEqual(model?.expected);
    }
  });

  it('leaves out faults the istio engine refuses, failures that roll nothing back, kills and transient failures', () => {
    // Act
    const ids = istioEngineCases(CASES).map((chaosCase) => chaosCase.id);

    // Assess
    expect(ids).not.toContain('istio/scheduled/fault/kube-stuck-statefulset');
    expect(ids).not.toContain('istio/scheduled/fail-at/preflight');
    expect(ids.some((id) => /transient|kill|rollback/.test(id))).toBe(false);
    expect(CASES.some(isIstioCase)).toBe(false);
  });
});
