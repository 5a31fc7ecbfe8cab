// The fault plan: faults wait for their phase, then answer requests in place of the lab's Kubernetes
// APIs and of AWS, as many times as they say, and count what they did.
import {
  AWS_SERVICE_UNAVAILABLE,
  AWS_THROTTLING,
  type AwsError,
  EKS_SERVICE_UNAVAILABLE,
  EKS_THROTTLING,
  STS_ACCESS_DENIED,
  STS_SERVICE_UNAVAILABLE,
  STS_THROTTLING,
} from '../../../lab/aws-fault-proxy.js';
import type { KubeFaultRequest } from '../../../lab/kube/kube-api-server.js';
import { createFaultPlan } from '../../../rehearsal/fault-plan.js';
import { parseFault } from '../../../rehearsal/fault-spec.js';

const readCacerts: KubeFaultRequest = {
  method: 'GET',
  path: '/api/v1/namespaces/istio-system/secrets/cacerts',
  resource: { plural: 'secrets', group: '', namespace: 'istio-system', name: 'cacerts' },
};
const writeCacerts: KubeFaultRequest = { ...readCacerts, method: 'PUT' };
const patchDeployment: KubeFaultRequest = {
  method: 'PATCH',
  path: '/apis/apps/v1/namespaces/shop/deployments/app-01',
  resource: { plural: 'deployments', group: 'apps', namespace: 'shop', name: 'app-01' },
};

/** What the AWS-side proxies answer instead of the service. */
const answered = (error: AwsError) => ({ kind: 'error', error }) as const;

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('createFaultPlan', () => {
  it('does nothing before the phase of a fault begins', () => {
    // Prepare
    const plan = createFaultPlan([parseFault('kube:lab-2:5xx:3@distribute-bundle')]);
    plan.enterPhase('stage-root');

    // Act
    const answer = plan.kubeRequest('lab-2', readCacerts);

    // Assess
    expect(answer).toBeUndefined();
    expect(plan.report()).toEqual([{ spec: 'kube:lab-2:5xx:3@distribute-bundle', fired: 0 }]);
  });

  it('answers the next N requests of its cluster with a 503 Status, then lets them through', () => {
    // Prepare
    const plan = createFaultPlan([parseFault('kube:lab-2:5xx:2@distribute-bundle')]);
    plan.enterPhase('distribute-bundle');

    // Act
    const otherCluster = plan.kubeRequest('lab-1', readCacerts);
    const answers = [1, 2, 3].map(() => plan.kubeRequest('lab-2', readCacerts));

    // Assess
    expect(otherCluster).toBeUndefined();
    for (const answer of answers.slice(0, 2)) {
      expect(answer?.kind === 'error' && answer.error.toStatus()).toMatchObject({
        kind: 'Status',
        status: 'Failure',
        code: 503,
        reason: 'ServiceUnavailable',
      });
    }
    expect(answers[2]).toBeUndefined();
    expect(plan.report()).toEqual([{ spec: 'kube:lab-2:5xx:2@distribute-bundle', fired: 2 }]);
  });

  it('answers writes only with 409 Conflict, naming the object as a stale resourceVersion would', () => {
    // Prepare
    const plan = createFaultPlan([parseFault('kube:lab-1:conflict:2@reissue-intermediate')]);
    plan.enterPhase('reissue-intermediate');

    // Act
    const read = plan.kubeRequest('lab-1', readCacerts);
    const put = plan.kubeRequest('lab-1', writeCacerts);
    const patch = plan.kubeRequest('lab-1', patchDeployment);
    const third = plan.kubeRequest('lab-1', writeCacerts);

    // Assess
    expect(read).toBeUndefined();
    expect(put?.kind === 'error' && put.error.toStatus()).toMatchObject({
      code: 409,
      reason: 'Conflict',
      details: { name: 'cacerts', kind: 'secrets' },
    });
    expect(put?.kind === 'error' && put.error.message).toContain('the object has been modified');
    expect(patch?.kind === 'error' && patch.error.message).toContain(
      'Operation cannot be fulfilled on deployments.apps "app-01"',
    );
    expect(third).toBeUndefined();
  });

  it('delays N requests by the given time', () => {
    // Prepare
    const plan = createFaultPlan([parseFault('kube:lab-3:slow:1500:2@verify-trust')]);
    plan.enterPhase('verify-trust');

    // Act
    const answers = [1, 2, 3].map(() => plan.kubeRequest('lab-3', readCacerts));

    // Assess
    expect(answers).toEqual([{ kind: 'delay', ms: 1500 }, { kind: 'delay', ms: 1500 }, undefined]);
  });

  it('passes the next N requests of AWS, the EKS API and STS on late, each apart from the others, as kube slow', () => {
    // Prepare
    const plan = createFaultPlan([
      parseFault('aws:slow:3000:2@stage-root'),
      parseFault('eks:slow:500:1@stage-root'),
      parseFault('sts:222222222222:slow:800:1@stage-root'),
    ]);
    const home = { action: 'AssumeRole', roleArn: 'arn:aws:iam::000000000000:role/meshtrust-rotator' };
    const far = { action: 'AssumeRole', roleArn: 'arn:aws:iam::222222222222:role/meshtrust-lab-rotator' };
    const before = plan.awsRequest();
    plan.enterPhase('stage-root');

    // Act
    const aws = [1, 2, 3].map(() => plan.awsRequest());
    const eks = [plan.eksRequest(), plan.eksRequest()];
    const sts = [plan.stsRequest(home), plan.stsRequest(far), plan.stsRequest(far)];

    // Assess
    expect(before).toBeUndefined();
    expect(aws).toEqual([{ kind: 'delay', ms: 3000 }, { kind: 'delay', ms: 3000 }, undefined]);
    expect(eks).toEqual([{ kind: 'delay', ms: 500 }, undefined]);
    expect(sts).toEqual([undefined, { kind: 'delay', ms: 800 }, undefined]);
    expect(plan.report().map((fault) => fault.fired)).toEqual([2, 1, 1]);
  });

  it('resets every request for the seconds it is down, counted from the start of its phase', () => {
    // Prepare
    const clock = manualClock();
    const plan = createFaultPlan([parseFault('kube:lab-2:down:5@restart-workloads')], clock.now);
    clock.advance(60_000);
    plan.enterPhase('restart-workloads');

    // Act
    const atStart = plan.kubeRequest('lab-2', readCacerts);
    clock.advance(4_999);
    const justBefore = plan.kubeRequest('lab-2', patchDeployment);
    clock.advance(1);
    const after = plan.kubeRequest('lab-2', readCacerts);

    // Assess
    expect(atStart).toEqual({ kind: 'reset' });
    expect(justBefore).toEqual({ kind: 'reset' });
    expect(after).toBeUndefined();
    expect(plan.report()).toEqual([{ spec: 'kube:lab-2:down:5@restart-workloads', fired: 2 }]);
  });

  it('starts a fault once, at the first start of its phase, however often the phase is entered', () => {
    // Prepare
    const clock = manualClock();
    const plan = createFaultPlan([parseFault('kube:lab-1:down:2@distribute-bundle')], clock.now);
    plan.enterPhase('distribute-bundle');
    clock.advance(1_500);
    plan.enterPhase('distribute-bundle');
    clock.advance(1_000);

    // Act
    const answer = plan.kubeRequest('lab-1', readCacerts);

    // Assess
    expect(answer).toBeUndefined();
  });

  it('answers AWS requests with throttling, then a 503, each as many times as it says', () => {
    // Prepare
    const plan = createFaultPlan([
      parseFault('aws:throttle:2@stage-root'),
      parseFault('aws:5xx:1@stage-root'),
    ]);
    plan.enterPhase('stage-root');

    // Act
    const answers = [1, 2, 3, 4].map(() => plan.awsRequest());

    // Assess
    expect(answers).toEqual([
      answered(AWS_THROTTLING),
      answered(AWS_THROTTLING),
      answered(AWS_SERVICE_UNAVAILABLE),
      undefined,
    ]);
    expect(plan.report()).toEqual([
      { spec: 'aws:throttle:2@stage-root', fired: 2 },
      { spec: 'aws:5xx:1@stage-root', fired: 1 },
    ]);
  });

  it("answers EKS API requests with EKS's throttling, then its 503, apart from the AWS faults", () => {
    // Prepare
    const plan = createFaultPlan([
      parseFault('eks:throttle:2@preflight'),
      parseFault('aws:throttle:1@preflight'),
      parseFault('eks:5xx:1@preflight'),
    ]);
    const before = plan.eksRequest();
    plan.enterPhase('preflight');

    // Act
    const answers = [1, 2, 3, 4].map(() => plan.eksRequest());
    const aws = [plan.awsRequest(), plan.awsRequest()];

    // Assess
    expect(before).toBeUndefined();
    expect(answers).toEqual([
      answered(EKS_THROTTLING),
      answered(EKS_THROTTLING),
      answered(EKS_SERVICE_UNAVAILABLE),
      undefined,
    ]);
    expect(aws).toEqual([answered(AWS_THROTTLING), undefined]);
    expect(plan.report()).toEqual([
      { spec: 'eks:throttle:2@preflight', fired: 2 },
      { spec: 'aws:throttle:1@preflight', fired: 1 },
      { spec: 'eks:5xx:1@preflight', fired: 1 },
    ]);
  });

  it("answers STS requests with STS's throttling, then its 503, apart from the EKS API faults", () => {
    // Prepare
    const plan = createFaultPlan([
      parseFault('sts:throttle:2@distribute-bundle'),
      parseFault('eks:throttle:1@distribute-bundle'),
      parseFault('sts:5xx:1@distribute-bundle'),
    ]);
    const assumeRole = { action: 'AssumeRole', roleArn: 'arn:aws:iam::000000000000:role/meshtrust-rotator' };
    const before = plan.stsRequest(assumeRole);
    plan.enterPhase('distribute-bundle');

    // Act
    const answers = [1, 2, 3, 4].map(() => plan.stsRequest(assumeRole));
    const eks = [plan.eksRequest(), plan.eksRequest()];

    // Assess: STS's own codes, written as its query protocol's XML
    expect(before).toBeUndefined();
    expect(answers).toEqual([
      answered(STS_THROTTLING),
      answered(STS_THROTTLING),
      answered(STS_SERVICE_UNAVAILABLE),
      undefined,
    ]);
    expect(STS_THROTTLING).toMatchObject({ status: 400, type: 'Throttling', protocol: 'query' });
    expect(STS_SERVICE_UNAVAILABLE).toMatchObject({
      status: 503,
      type: 'ServiceUnavailable',
      protocol: 'query',
    });
    expect(eks).toEqual([answered(EKS_THROTTLING), undefined]);
    expect(plan.report()).toEqual([
      { spec: 'sts:throttle:2@distribute-bundle', fired: 2 },
      { spec: 'eks:throttle:1@distribute-bundle', fired: 1 },
      { spec: 'sts:5xx:1@distribute-bundle', fired: 1 },
    ]);
  });

  it("answers only AssumeRole for a role of its account when scoped to one, and STS's refusal for denied", () => {
    // Prepare
    const plan = createFaultPlan([
      parseFault('sts:222222222222:throttle:1@distribute-bundle'),
      parseFault('sts:222222222222:denied:1@distribute-bundle'),
    ]);
    const home = { action: 'AssumeRole', roleArn: 'arn:aws:iam::000000000000:role/meshtrust-rotator' };
    const far = { action: 'AssumeRole', roleArn: 'arn:aws:iam::222222222222:role/meshtrust-lab-rotator' };
    plan.enterPhase('distribute-bundle');

    // Act
    const answers = [
      plan.stsRequest(home),
      plan.stsRequest(far),
      plan.stsRequest(home),
      plan.stsRequest({ action: 'GetCallerIdentity' }),
      plan.stsRequest(far),
      plan.stsRequest(far),
    ];

    // Assess: the lab account's cluster role and a call naming no role are never answered
    expect(answers).toEqual([
      undefined,
      answered(STS_THROTTLING),
      undefined,
      undefined,
      answered(STS_ACCESS_DENIED),
      undefined,
    ]);
    expect(STS_ACCESS_DENIED).toMatchObject({ status: 403, type: 'AccessDenied', protocol: 'query' });
    expect(plan.report()).toEqual([
      { spec: 'sts:222222222222:throttle:1@distribute-bundle', fired: 1 },
      { spec: 'sts:222222222222:denied:1@distribute-bundle', fired: 1 },
    ]);
  });

  it('holds the next N workload pods of its cluster unready once its phase began, never istiod', () => {
    // Prepare
    const plan = createFaultPlan([parseFault('kube:lab-2:stuck:1@restart-workloads')]);
    const pod = { namespace: 'shop', name: 'app-01-abcde', workloadKind: 'Deployment' };
    const before = plan.podHeldUnready('lab-2', pod);
    plan.enterPhase('restart-workloads');

    // Act
    const istiod = plan.podHeldUnready('lab-2', {
      namespace: 'istio-system',
      name: 'istiod-xyz',
      workloadKind: 'Deployment',
    });
    const otherCluster = plan.podHeldUnready('lab-1', pod);
    const held = [1, 2].map(() => plan.podHeldUnready('lab-2', pod));

    // Assess
    expect([before, istiod, otherCluster]).toEqual([false, false, false]);
    expect(held).toEqual([true, false]);
    expect(plan.kubeRequest('lab-2', readCacerts)).toBeUndefined();
    expect(plan.report()).toEqual([{ spec: 'kube:lab-2:stuck:1@restart-workloads', fired: 1 }]);
  });

  it('holds only pods of the workload kind it names, when it names one', () => {
    // Prepare
    const plan = createFaultPlan([parseFault('kube:lab-2:stuck:1:deployment@restart-workloads')]);
    plan.enterPhase('restart-workloads');
    const ofKind = (workloadKind: string) => ({ namespace: 'shop', name: 'app-01-x', workloadKind });

    // Act
    const held = ['StatefulSet', 'DaemonSet', 'Deployment', 'Deployment'].map((kind) =>
      plan.podHeldUnready('lab-2', ofKind(kind)),
    );

    // Assess
    expect(held).toEqual([false, false, true, false]);
    expect(plan.report()).toEqual([{ spec: 'kube:lab-2:stuck:1:deployment@restart-workloads', fired: 1 }]);
  });

  it('loses the answer of the next N writes, each of another action, never a read and never a retry', () => {
    // Prepare
    const plan = createFaultPlan([parseFault('aws:lost:2@stage-root')]);
    const before = plan.awsAnswerLost({ action: 'CreateKey' });
    plan.enterPhase('stage-root');

    // Act
    const answers = ['GetSecretValue', 'Sign', 'CreateKey', 'CreateKey', 'PutSecretValue', 'CreateAlias'].map(
      (action) => [action, plan.awsAnswerLost({ action })],
    );

    // Assess
    expect(before).toBe(false);
    expect(answers).toEqual([
      ['GetSecretValue', false],
      ['Sign', false],
      ['CreateKey', true],
      ['CreateKey', false],
      ['PutSecretValue', true],
      ['CreateAlias', false],
    ]);
    expect(plan.awsRequest()).toBeUndefined();
    expect(plan.report()).toEqual([{ spec: 'aws:lost:2@stage-root', fired: 2 }]);
  });

  it("drops the next N cacerts changes of its cluster's istiod once its phase began", () => {
    // Prepare
    const plan = createFaultPlan([parseFault('kube:lab-2:istiod-drop:1@distribute-bundle')]);
    const before = plan.istiodDropsUpdate('lab-2');
    plan.enterPhase('distribute-bundle');

    // Act
    const otherCluster = plan.istiodDropsUpdate('lab-1');
    const drops = [1, 2].map(() => plan.istiodDropsUpdate('lab-2'));

    // Assess
    expect([before, otherCluster]).toEqual([false, false]);
    expect(drops).toEqual([true, false]);
    expect(
      plan.podHeldUnready('lab-2', { namespace: 'shop', name: 'app-01-x', workloadKind: 'Deployment' }),
    ).toBe(false);
    expect(plan.report()).toEqual([{ spec: 'kube:lab-2:istiod-drop:1@distribute-bundle', fired: 1 }]);
  });

  it('keeps AWS and Kubernetes faults apart', () => {
    // Prepare
    const plan = createFaultPlan([
      parseFault('aws:throttle:1@preflight'),
      parseFault('kube:lab-1:5xx:1@preflight'),
    ]);
    plan.enterPhase('preflight');

    // Act
    const kube = plan.kubeRequest('lab-1', readCacerts);
    const aws = plan.awsRequest();
    const nothingLeft = [plan.kubeRequest('lab-1', readCacerts), plan.awsRequest()];

    // Assess
    expect(kube?.kind).toBe('error');
    expect(aws).toEqual(answered(AWS_THROTTLING));
    expect(nothingLeft).toEqual([undefined, undefined]);
  });
});
