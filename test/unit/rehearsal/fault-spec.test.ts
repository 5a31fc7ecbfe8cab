// `--fault SPEC`: the grammar the rehearsal takes, and the names it checks before anything starts.
import {
  checkFault,
  type Fault,
  formatFault,
  istioEngineRefusal,
  parseFault,
} from '../../../rehearsal/fault-spec.js';
import { RehearsalOptionsError } from '../../../rehearsal/rehearsal-errors.js';

const known = {
  phases: ['preflight', 'stage-root', 'distribute-bundle', 'restart-workloads', 'rollback-trust'],
  clusters: ['lab-1', 'lab-2'],
  accounts: ['000000000000', '222222222222'],
};

describe('parseFault', () => {
  it('reads each kind of Kubernetes API fault with its cluster, numbers and phase', () => {
    // Act & Assess
    expect(parseFault('kube:lab-2:5xx:3@distribute-bundle')).toEqual({
      target: 'kube',
      cluster: 'lab-2',
      kind: '5xx',
      count: 3,
      phase: 'distribute-bundle',
    });
    expect(parseFault('kube:lab-1:conflict:2@reissue-intermediate')).toEqual({
      target: 'kube',
      cluster: 'lab-1',
      kind: 'conflict',
      count: 2,
      phase: 'reissue-intermediate',
    });
    expect(parseFault('kube:lab-1:slow:1500:4@verify-trust')).toEqual({
      target: 'kube',
      cluster: 'lab-1',
      kind: 'slow',
      delayMs: 1500,
      count: 4,
      phase: 'verify-trust',
    });
    expect(parseFault('kube:lab-2:down:5@restart-workloads')).toEqual({
      target: 'kube',
      cluster: 'lab-2',
      kind: 'down',
      seconds: 5,
      phase: 'restart-workloads',
    });
    expect(parseFault('kube:lab-1:istiod-drop:1@distribute-bundle')).toEqual({
      target: 'kube',
      cluster: 'lab-1',
      kind: 'istiod-drop',
      count: 1,
      phase: 'distribute-bundle',
    });
    expect(parseFault('kube:lab-2:stuck:1@restart-workloads')).toEqual({
      target: 'kube',
      cluster: 'lab-2',
      kind: 'stuck',
      count: 1,
      phase: 'restart-workloads',
    });
  });

  it('reads AWS throttling and 5xx faults, which name no cluster', () => {
    // Act & Assess
    expect(parseFault('aws:throttle:3@stage-root')).toEqual({
      target: 'aws',
      kind: 'throttle',
      count: 3,
      phase: 'stage-root',
    });
    expect(parseFault('aws:5xx:1@promote-root')).toEqual({
      target: 'aws',
      kind: '5xx',
      count: 1,
      phase: 'promote-root',
    });
    expect(parseFault('aws:lost:4@stage-root')).toEqual({
      target: 'aws',
      kind: 'lost',
      count: 4,
      phase: 'stage-root',
    });
  });

  it.each([['eks'], ['sts']] as const)(
    'reads %s throttling and 5xx faults, which name no cluster',
    (target) => {
      // Act & Assess
      expect(parseFault(`${target}:throttle:4@preflight`)).toEqual({
        target,
        kind: 'throttle',
        count: 4,
        phase: 'preflight',
      });
      expect(parseFault(`${target}:5xx:2@verify-trust`)).toEqual({
        target,
        kind: '5xx',
        count: 2,
        phase: 'verify-trust',
      });
    },
  );

  it('reads an STS fault scoped to the account of the roles it answers, and STS refusing (denied)', () => {
    // Act & Assess
    expect(parseFault('sts:222222222222:throttle:5@distribute-bundle')).toEqual({
      target: 'sts',
      account: '222222222222',
      kind: 'throttle',
      count: 5,
      phase: 'distribute-bundle',
    });
    expect(parseFault('sts:denied:1@preflight')).toEqual({
      target: 'sts',
      kind: 'denied',
      count: 1,
      phase: 'preflight',
    });
  });

  it('reads slow of AWS, the EKS API and STS (one account or all) with its delay, count and phase, as kube slow', () => {
    // Act & Assess
    expect(parseFault('aws:slow:3000:3@stage-root')).toEqual({
      target: 'aws',
      kind: 'slow',
      delayMs: 3000,
      count: 3,
      phase: 'stage-root',
    });
    expect(parseFault('eks:slow:60000:1@preflight')).toEqual({
      target: 'eks',
      kind: 'slow',
      delayMs: 60_000,
      count: 1,
      phase: 'preflight',
    });
    expect(parseFault('sts:slow:1500:2@distribute-bundle')).toEqual({
      target: 'sts',
      kind: 'slow',
      delayMs: 1500,
      count: 2,
      phase: 'distribute-bundle',
    });
    expect(parseFault('sts:222222222222:slow:1500:2@distribute-bundle')).toEqual({
      target: 'sts',
      account: '222222222222',
      kind: 'slow',
      delayMs: 1500,
      count: 2,
      phase: 'distribute-bundle',
    });
  });

  it('names every kind of every target in the grammar it refuses with', () => {
    // Act
    const refusal = () => parseFault('aws:sluggish:3@stage-root');

    // Assess
    for (const form of [
      'kube:CLUSTER:slow:MS:N@PHASE',
      'aws:throttle:N@PHASE',
      'aws:lost:N@PHASE',
      'aws:slow:MS:N@PHASE',
      'eks:5xx:N@PHASE',
      'eks:slow:MS:N@PHASE',
      'sts[:ACCOUNT]:denied:N@PHASE',
      'sts[:ACCOUNT]:slow:MS:N@PHASE',
    ]) {
      expect(refusal).toThrow(form);
    }
    expect(refusal).toThrow(
      /, sts\[:ACCOUNT\]:throttle:N@PHASE, .* or sts\[:ACCOUNT\]:slow:MS:N@PHASE, e\.g\. /,
    );
  });

  it('writes every spec back as it was given, for the report', () => {
    // Prepare
    const specs = [
      'kube:lab-2:5xx:3@distribute-bundle',
      'kube:lab-1:conflict:2@reissue-intermediate',
      'kube:lab-1:slow:1500:4@verify-trust',
      'kube:lab-2:down:5@restart-workloads',
      'kube:lab-2:stuck:2@restart-workloads',
      'kube:lab-2:stuck:1:statefulset@restart-workloads',
      'kube:lab-1:istiod-drop:1@distribute-bundle',
      'aws:throttle:3@stage-root',
      'aws:5xx:1@promote-root',
      'aws:lost:4@stage-root',
      'eks:throttle:4@preflight',
      'eks:5xx:2@verify-trust',
      'sts:throttle:3@distribute-bundle',
      'sts:5xx:1@verify-trust',
      'sts:222222222222:5xx:3@distribute-bundle',
      'sts:222222222222:denied:1@distribute-bundle',
      'aws:slow:3000:3@stage-root',
      'eks:slow:500:1@preflight',
      'sts:slow:2000:2@verify-trust',
      'sts:222222222222:slow:2000:2@distribute-bundle',
    ];

    // Act
    const formatted = specs.map((spec) => formatFault(parseFault(spec)));

    // Assess
    expect(formatted).toEqual(specs);
  });

  it.each([
    ['no phase', 'kube:lab-1:5xx:3', 'no @PHASE'],
    ['an empty phase', 'kube:lab-1:5xx:3@', 'no @PHASE'],
    ['an unknown target', 'iam:throttle:3@stage-root', 'unknown target "iam" (kube, aws, eks or sts)'],
    ['a lost EKS answer (EKS is only read)', 'eks:lost:1@preflight', 'unknown EKS API fault "lost"'],
    ['an EKS fault with a cluster', 'eks:lab-1:5xx:1@preflight', 'unknown EKS API fault "lab-1"'],
    ['a lost STS answer (AssumeRole writes nothing)', 'sts:lost:1@preflight', 'unknown STS fault "lost"'],
    ['an STS fault with a cluster', 'sts:lab-1:throttle:1@preflight', 'unknown STS fault "lab-1"'],
    ['an STS fault with no count', 'sts:5xx@preflight', 'sts:5xx takes 3 parts before @'],
    ['an STS fault with parts left over', 'sts:5xx:1:2@preflight', 'sts:5xx:1 takes 3 parts before @'],
    [
      'an unknown Kubernetes fault',
      'kube:lab-1:timeout:3@stage-root',
      'unknown Kubernetes API fault "timeout"',
    ],
    ['an unknown AWS fault', 'aws:sluggish:3@stage-root', 'unknown AWS fault "sluggish"'],
    ['AWS slow without its count', 'aws:slow:3000@stage-root', 'aws:slow:3000 takes 4 parts before @'],
    [
      'AWS slow with a delay that is no whole number',
      'aws:slow:3s:3@stage-root',
      'MS (delay) must be a whole number',
    ],
    ['EKS slow with a zero delay', 'eks:slow:0:3@preflight', 'MS (delay) must be 1..60000, got 0'],
    ['STS slow beyond a minute', 'sts:slow:60001:1@preflight', 'MS (delay) must be 1..60000, got 60001'],
    [
      'STS slow of an account with a negative delay',
      'sts:222222222222:slow:-1:1@preflight',
      'MS (delay) must be a whole number',
    ],
    ['STS slow of an account without its count', 'sts:222222222222:slow:10@preflight', 'takes 5 parts'],
    ['EKS slow of zero requests', 'eks:slow:100:0@preflight', 'N (requests) must be 1..1000, got 0'],
    ['no cluster', 'kube::5xx:3@stage-root', 'no CLUSTER'],
    [
      'a count that is no whole number',
      'kube:lab-1:5xx:two@stage-root',
      'N (requests) must be a whole number',
    ],
    ['a zero count', 'aws:throttle:0@stage-root', 'N (requests) must be 1..1000, got 0'],
    ['a negative delay', 'kube:lab-1:slow:-5:2@stage-root', 'MS (delay) must be a whole number'],
    ['a down time beyond 10 minutes', 'kube:lab-1:down:601@stage-root', 'SECONDS (down) must be 1..600'],
    ['slow without its count', 'kube:lab-1:slow:500@stage-root', 'takes 5 parts'],
    ['a count too many', 'kube:lab-1:5xx:3:4@stage-root', 'takes 4 parts'],
    ['lost without its count', 'aws:lost@stage-root', 'takes 3 parts'],
    ['lost of 0 writes', 'aws:lost:0@stage-root', 'N (requests) must be 1..1000, got 0'],
    ['istiod-drop without its count', 'kube:lab-1:istiod-drop@distribute-bundle', 'takes 4 parts'],
    ['stuck without its count', 'kube:lab-1:stuck@restart-workloads', 'takes 4 or 5 parts'],
    [
      'stuck on an unknown workload kind',
      'kube:lab-1:stuck:1:replicaset@restart-workloads',
      'unknown workload kind "replicaset" (deployment, statefulset, daemonset)',
    ],
    ['stuck with a part too many', 'kube:lab-1:stuck:1:deployment:2@restart-workloads', 'takes 4 or 5 parts'],
    [
      'stuck with a zero count',
      'kube:lab-1:stuck:0@restart-workloads',
      'N (requests) must be 1..1000, got 0',
    ],
    ['an AWS fault with a cluster', 'aws:lab-1:throttle:3@stage-root', 'unknown AWS fault "lab-1"'],
    [
      'an STS account one digit short',
      'sts:22222222222:throttle:3@distribute-bundle',
      'unknown STS fault "22222222222" (or ACCOUNT not a 12-digit account id)',
    ],
    ['an STS fault with a cluster', 'sts:lab-2:throttle:3@distribute-bundle', 'unknown STS fault "lab-2"'],
    ['an STS account without its count', 'sts:222222222222:throttle@distribute-bundle', 'takes 4 parts'],
    ['denied on EKS (only STS refuses)', 'eks:denied:1@preflight', 'unknown EKS API fault "denied"'],
  ])('refuses %s, naming the grammar', (_, spec, why) => {
    // Act
    const parse = () => parseFault(spec);

    // Assess
    expect(parse).toThrow(RehearsalOptionsError);
    expect(parse).toThrow(why);
    expect(parse).toThrow('expected kube:CLUSTER:5xx:N@PHASE');
  });
});

describe('checkFault', () => {
  it('takes a fault on a phase the rehearsal enters, in a cluster of the fleet', () => {
    // Prepare
    const faults: Fault[] = [
      parseFault('kube:lab-2:5xx:3@distribute-bundle'),
      parseFault('aws:throttle:3@stage-root'),
      parseFault('kube:lab-1:conflict:1@rollback-trust'),
    ];

    // Act & Assess
    for (const fault of faults) expect(() => checkFault(fault, known)).not.toThrow();
  });

  it('refuses a phase the definition does not have, listing the valid ones', () => {
    // Act
    const check = () => checkFault(parseFault('aws:5xx:2@stage-rooot'), known);

    // Assess
    expect(check).toThrow(RehearsalOptionsError);
    expect(check).toThrow(`the rehearsal has no phase "stage-rooot"; valid: ${known.phases.join(', ')}`);
  });

  it('refuses an STS account no cluster of the lab is in, listing the accounts', () => {
    // Act
    const check = () => checkFault(parseFault('sts:333333333333:throttle:3@distribute-bundle'), known);
    const inLab = () => checkFault(parseFault('sts:222222222222:throttle:3@distribute-bundle'), known);

    // Assess
    expect(check).toThrow(RehearsalOptionsError);
    expect(check).toThrow(
      'no cluster of the lab is in account 333333333333; valid: 000000000000, 222222222222',
    );
    expect(inLab).not.toThrow();
  });

  it('refuses a cluster the fleet does not have, listing the fleet', () => {
    // Act
    const check = () => checkFault(parseFault('kube:lab-3:down:5@restart-workloads'), known);

    // Assess
    expect(check).toThrow('the lab has no cluster "lab-3"; valid: lab-1, lab-2');
  });
});

describe('istioEngineRefusal', () => {
  it('takes the request faults of the Kubernetes API, stuck of Deployments, and every fault of AWS, EKS and STS', () => {
    // Prepare
    const played = [
      'kube:lab-1:5xx:3@distribute-bundle',
      'kube:lab-1:conflict:2@distribute-bundle',
      'kube:lab-1:slow:500:2@distribute-bundle',
      'kube:lab-1:down:5@distribute-bundle',
      'kube:lab-2:stuck:1@restart-workloads',
      'kube:lab-2:stuck:1:deployment@restart-workloads',
      'aws:lost:1@stage-root',
      'aws:slow:3000:3@stage-root',
      'eks:throttle:3@preflight',
      'eks:slow:3000:3@preflight',
      'sts:slow:3000:3@preflight',
      'sts:222222222222:denied:1@distribute-bundle',
      'kube:lab-2:istiod-drop:1@distribute-bundle',
    ].map(parseFault);

    // Act & Assess
    for (const fault of played) expect(istioEngineRefusal(fault)).toBeUndefined();
  });

  it('refuses stuck of a StatefulSet or DaemonSet, which the istio lab does not run, naming the model engine', () => {
    // Act
    const whys = [
      'kube:lab-2:stuck:1:statefulset@restart-workloads',
      'kube:lab-2:stuck:1:daemonset@restart-workloads',
    ]
      .map(parseFault)
      .map(istioEngineRefusal);

    // Assess
    expect(whys[0]).toContain('no statefulset pod would ever be held');
    expect(whys[1]).toContain('no daemonset pod would ever be held');
    for (const why of whys) expect(why).toContain('Use --engine model');
  });
});
