// The lab's disruption controller, against the numbers Kubernetes' own computes
// (pkg/controller/disruption/disruption.go: getExpectedPodCount, updatePdbStatus).
import type { KubeObject } from '../../../lab/kube/kube-object.js';
import { disruptionStatus, pdbSelects } from '../../../lab/workloads/disruption-status.js';

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', uid: 'uid-web' },
  spec: { replicas: 4 },
};

function pod(name: string, ready: boolean, labels: Record<string, string> = { app: 'web' }): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'shop', labels },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

function pdb(spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'web', namespace: 'shop', generation: 3 },
    spec: { selector: { matchLabels: { app: 'web' } }, ...spec },
  };
}

const fourPods = [pod('web-1', true), pod('web-2', true), pod('web-3', true), pod('web-4', false)];
const statusOf = (spec: Record<string, unknown>, pods = fourPods) =>
  disruptionStatus(pdb(spec), pods, () => deployment);

describe('disruptionStatus', () => {
  it('minAvailable as a number: expected pods are the selected pods, allowed = healthy - minAvailable', () => {
    expect(statusOf({ minAvailable: 2 })).toMatchObject({
      observedGeneration: 3,
      currentHealthy: 3,
      desiredHealthy: 2,
      expectedPods: 4,
      disruptionsAllowed: 1,
    });
  });

  it('maxUnavailable: scaled by the controller replicas, rounded up', () => {
    // 4 replicas, 25% -> 1 unavailable -> 3 required; 3 healthy -> 0 allowed
    expect(statusOf({ maxUnavailable: '25%' })).toMatchObject({ desiredHealthy: 3, disruptionsAllowed: 0 });
    // 30% of 4 = 1.2 -> 2 -> 2 required; 3 healthy -> 1 allowed
    expect(statusOf({ maxUnavailable: '30%' })).toMatchObject({ desiredHealthy: 2, disruptionsAllowed: 1 });
  });

  it('minAvailable as a percentage: scaled by the controller replicas, rounded up', () => {
    expect(statusOf({ minAvailable: '50%' })).toMatchObject({ expectedPods: 4, desiredHealthy: 2 });
  });

  it('allows nothing with no pod selected, nor below zero', () => {
    expect(statusOf({ minAvailable: 1 }, [pod('other', true, { app: 'db' })])).toMatchObject({
      disruptionsAllowed: 0,
      expectedPods: 0,
    });
    expect(statusOf({ minAvailable: 5 })).toMatchObject({ disruptionsAllowed: 0 });
  });
});

describe('pdbSelects', () => {
  it('selects nothing without a selector and everything with an empty one (policy/v1)', () => {
    expect(pdbSelects(undefined, { app: 'web' })).toBe(false);
    expect(pdbSelects({}, { app: 'web' })).toBe(true);
    expect(
      pdbSelects({ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, { app: 'web' }),
    ).toBe(false);
  });
});
