// The rehearsal's --fault specs as they play out: each waits for its phase to begin, then decides,
// request by request, what a lab cluster's Kubernetes API or an AWS fault proxy (moto's, EKS's, STS's) answers
// instead of the usual, and counts how often it fired (a fault that never fired proves nothing, and the report says
// so). Pure: no timers and no I/O, the clock is passed in; the API server and the proxy play the answers.
import {
  AWS_SERVICE_UNAVAILABLE,
  AWS_THROTTLING,
  type AwsRequestFault,
  type AwsRequestInfo,
  EKS_SERVICE_UNAVAILABLE,
  EKS_THROTTLING,
  STS_ACCESS_DENIED,
  STS_SERVICE_UNAVAILABLE,
  STS_THROTTLING,
  type StsRequestInfo,
} from '../lab/aws-fault-proxy.js';
import {
  ConflictError,
  type KubeApiError,
  ServiceUnavailableError,
  STALE_OBJECT_MESSAGE,
} from '../lab/kube/errors.js';
import type { KubeFaultRequest, KubeRequestFault } from '../lab/kube/kube-api-server.js';
import { type Fault, formatFault } from './fault-spec.js';

/** One fault as the report lists it: the spec as given, and how many requests it answered. */
export interface FaultReport {
  readonly spec: string;
  readonly fired: number;
}

export interface FaultPlan {
  /** A phase began: the faults waiting for it start now (each once, however often the phase is entered). */
  enterPhase(phase: string): void;
  /** What a cluster's Kubernetes API does with this request instead of serving it; undefined: serve it. */
  kubeRequest(cluster: string, request: KubeFaultRequest): KubeRequestFault | undefined;
  /** Whether a pod a cluster's rollout controller just created stays unready (`stuck`). */
  podHeldUnready(cluster: string, pod: CreatedPod): boolean;
  /** Whether a cluster's istiod ignores the cacerts change it just saw (`istiod-drop`). */
  istiodDropsUpdate(cluster: string): boolean;
  /** What the AWS fault proxy answers instead of moto, or how late it passes a request on; undefined: moto answers. */
  awsRequest(): AwsRequestFault | undefined;
  /** The same for the fault proxy in front of the lab's EKS API; undefined: EKS answers. */
  eksRequest(): AwsRequestFault | undefined;
  /**
   * The same for the fault proxy in front of the lab's STS; undefined: STS answers. A fault scoped to an
   * account answers only an AssumeRole for a role of that account.
   */
  stsRequest(request: StsRequestInfo): AwsRequestFault | undefined;
  /**
   * Whether moto's answer to this request, once moto made it, is lost (`lost`): only a write, and only
   * the first request of its action, so the caller's retry of it gets its answer.
   */
  awsAnswerLost(request: AwsRequestInfo): boolean;
  report(): FaultReport[];
}

/** A pod the rollout controller created, with the kind of the workload it belongs to (Deployment, ...). */
export interface CreatedPod {
  readonly namespace: string;
  readonly name: string;
  readonly workloadKind: string;
}

const ISTIO_SYSTEM = 'istio-system';

/**
 * An action that changes nothing (reads, and KMS Sign/Verify, which use a key): its answer lost and
 * retried proves nothing of idempotency. The rest of the functions' AWS calls write.
 */
const AWS_READ = /^(Get|Describe|List|BatchGet|Query|Scan|Sign|Verify)/;

export function isAwsWrite(action: string): boolean {
  return action !== '' && !AWS_READ.test(action);
}

/**
 * What an `aws`, `eks` or `sts` fault answers, by kind: each service's own throttling and 5xx (STS: and
 * refusal). `slow` answers nothing: the proxy passes the request on late.
 */
const SERVICE_ERRORS = {
  aws: { throttle: AWS_THROTTLING, '5xx': AWS_SERVICE_UNAVAILABLE },
  eks: { throttle: EKS_THROTTLING, '5xx': EKS_SERVICE_UNAVAILABLE },
  sts: { throttle: STS_THROTTLING, '5xx': STS_SERVICE_UNAVAILABLE, denied: STS_ACCESS_DENIED },
} as const;

/** The account of a role ARN (`arn:aws:iam::<account>:role/...`); undefined for anything else. */
function accountOfRole(roleArn: string | undefined): string | undefined {
  return /^arn:[\w-]+:iam::(\d{12}):role\//.exec(roleArn ?? '')?.[1];
}

/** Writes, which a stale resourceVersion makes conflict. */
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH']);

interface PlannedFault {
  readonly fault: Fault;
  /** `lost`: the actions whose answer it lost already. */
  readonly lostActions?: Set<string>;
  /** When its phase began (the clock's ms); undefined: not yet. */
  startedAt?: number;
  fired: number;
}

/**
 * Faults that start at the same time and match the same request take turns in the order given: the
 * first with requests left answers.
 */
export function createFaultPlan(faults: readonly Fault[], now: () => number = Date.now): FaultPlan {
  const planned: PlannedFault[] = faults.map((fault) => ({
    fault,
    fired: 0,
    ...(fault.target === 'aws' && fault.kind === 'lost' ? { lostActions: new Set<string>() } : {}),
  }));
  const fire = <T>(entry: PlannedFault, answer: T): T => {
    entry.fired += 1;
    return answer;
  };
  // The AWS, EKS API and STS fault proxies: the next answer of a fault of that service, in its own words,
  // or how late to pass the request on.
  const serviceRequest = (
    target: 'aws' | 'eks' | 'sts',
    request?: StsRequestInfo,
  ): AwsRequestFault | undefined => {
    for (const entry of planned) {
      const { fault, startedAt, fired } = entry;
      if (startedAt === undefined || fault.target !== target || fired >= fault.count) continue;
      // `lost` answers once moto made the write (awsAnswerLost), not instead of it.
      if (fault.kind === 'lost') continue;
      if (fault.target === 'sts' && fault.account !== undefined) {
        if (accountOfRole(request?.roleArn) !== fault.account) continue;
      }
      if (fault.kind === 'slow') return fire(entry, { kind: 'delay', ms: fault.delayMs });
      if (fault.target === 'aws')
        return fire(entry, { kind: 'error', error: SERVICE_ERRORS.aws[fault.kind] });
      if (fault.target === 'eks')
        return fire(entry, { kind: 'error', error: SERVICE_ERRORS.eks[fault.kind] });
      if (fault.target === 'sts')
        return fire(entry, { kind: 'error', error: SERVICE_ERRORS.sts[fault.kind] });
    }
    return undefined;
  };
  return {
    enterPhase(phase) {
      for (const entry of planned) {
        if (entry.fault.phase === phase && entry.startedAt === undefined) entry.startedAt = now();
      }
    },
    kubeRequest(cluster, request) {
      for (const entry of planned) {
        const { fault, startedAt, fired } = entry;
        if (startedAt === undefined || fault.target !== 'kube' || fault.cluster !== cluster) continue;
        switch (fault.kind) {
          case 'down':
            if (now() - startedAt < fault.seconds * 1000) return fire(entry, { kind: 'reset' });
            break;
          case '5xx':
            if (fired < fault.count) return fire(entry, { kind: 'error', error: unavailable(cluster) });
            break;
          case 'conflict':
            if (fired < fault.count && WRITE_METHODS.has(request.method)) {
              return fire(entry, { kind: 'error', error: conflict(request) });
            }
            break;
          case 'slow':
            if (fired < fault.count) return fire(entry, { kind: 'delay', ms: fault.delayMs });
            break;
          case 'stuck':
          case 'istiod-drop':
            break;
        }
      }
      return undefined;
    },
    podHeldUnready(cluster, pod) {
      // istiod's own pods are the control plane, not a workload the rotation restarts.
      if (pod.namespace === ISTIO_SYSTEM) return false;
      for (const entry of planned) {
        const { fault, startedAt, fired } = entry;
        if (startedAt === undefined || fault.target !== 'kube' || fault.cluster !== cluster) continue;
        if (fault.kind !== 'stuck' || fired >= fault.count) continue;
        if (fault.workload === undefined || fault.workload === pod.workloadKind.toLowerCase()) {
          return fire(entry, true);
        }
      }
      return false;
    },
    istiodDropsUpdate(cluster) {
      for (const entry of planned) {
        const { fault, startedAt, fired } = entry;
        if (startedAt === undefined || fault.target !== 'kube' || fault.cluster !== cluster) continue;
        if (fault.kind === 'istiod-drop' && fired < fault.count) return fire(entry, true);
      }
      return false;
    },
    awsRequest: () => serviceRequest('aws'),
    eksRequest: () => serviceRequest('eks'),
    stsRequest: (request) => serviceRequest('sts', request),
    awsAnswerLost(request) {
      if (!isAwsWrite(request.action)) return false;
      for (const entry of planned) {
        const { fault, startedAt, fired, lostActions } = entry;
        if (startedAt === undefined || lostActions === undefined || fault.target !== 'aws') continue;
        if (fired >= fault.count || lostActions.has(request.action)) continue;
        lostActions.add(request.action);
        return fire(entry, true);
      }
      return false;
    },
    report: () => planned.map(({ fault, fired }) => ({ spec: formatFault(fault), fired })),
  };
}

function unavailable(cluster: string): KubeApiError {
  return new ServiceUnavailableError(
    `the server is currently unable to handle the request (lab cluster ${cluster}: --fault)`,
  );
}

/** The Status a real API server answers a write made over a stale resourceVersion with. */
function conflict(request: KubeFaultRequest): KubeApiError {
  const resource = request.resource;
  const plural =
    resource === undefined ? request.path : `${resource.plural}${resource.group ? `.${resource.group}` : ''}`;
  return new ConflictError(plural, resource?.name ?? '', STALE_OBJECT_MESSAGE);
}
