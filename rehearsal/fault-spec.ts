// `--fault SPEC`, repeatable: a fault of the Kubernetes API of one lab cluster, or of AWS (moto, behind a
// fault proxy), that starts when a named phase of the rotation begins, so it lands mid-run. Where
// `--fail-at` makes a step fail, a fault makes what the step talks to misbehave, and the product's own
// retries (the SDK's, the adapters', the state machine's Retry) have to absorb it. The names are checked
// against the synthesized definition and the fleet before anything starts, like --fail-at's: a fault
// that never lands proves nothing.
import { RehearsalOptionsError } from './rehearsal-errors.js';

/** A fault of a lab cluster's Kubernetes API. */
export type KubeFault =
  /** The next `count` requests answer 503 with a Kubernetes Status. */
  | { readonly target: 'kube'; readonly cluster: string; readonly kind: '5xx'; readonly count: number }
  /** The next `count` writes (POST, PUT, PATCH) answer 409 Conflict, as on a stale resourceVersion. */
  | { readonly target: 'kube'; readonly cluster: string; readonly kind: 'conflict'; readonly count: number }
  /** The next `count` requests are answered `delayMs` late. */
  | {
      readonly target: 'kube';
      readonly cluster: string;
      readonly kind: 'slow';
      readonly delayMs: number;
      readonly count: number;
    }
  /** Every request for `seconds` has its connection reset. */
  | { readonly target: 'kube'; readonly cluster: string; readonly kind: 'down'; readonly seconds: number }
  /**
   * The next `count` workload pods the cluster's rollout controller creates (outside istio-system),
   * of workloads of `workload` kind when given, never become ready, so the rollout that made them never
   * completes: restart-workloads times out.
   */
  | {
      readonly target: 'kube';
      readonly cluster: string;
      readonly kind: 'stuck';
      readonly count: number;
      readonly workload?: StuckWorkloadKind;
    }
  /**
   * The cluster's istiod ignores the next `count` cacerts changes it sees, keeping its current CA, as
   * real istiod does when it refuses one: the write is made, and nothing serves it.
   */
  | {
      readonly target: 'kube';
      readonly cluster: string;
      readonly kind: 'istiod-drop';
      readonly count: number;
    };

/**
 * The workload kinds `stuck` may be limited to: a Deployment replaces a pod that is not ready on its next
 * template change, a StatefulSet (OrderedReady) replaces none while one is not ready, so the rollback's
 * restart behaves differently for each.
 */
export const STUCK_WORKLOAD_KINDS = ['deployment', 'statefulset', 'daemonset'] as const;
export type StuckWorkloadKind = (typeof STUCK_WORKLOAD_KINDS)[number];

/**
 * The kinds of each AWS-side target that take a count only (`TARGET:KIND:N`), said once for the types, the
 * parser and the grammar; each target also takes `slow:MS:N` (SlowServiceFault).
 */
const SERVICE_FAULT_KINDS = {
  aws: ['throttle', '5xx', 'lost'],
  eks: ['throttle', '5xx'],
  sts: ['throttle', '5xx', 'denied'],
} as const;
type ServiceTarget = keyof typeof SERVICE_FAULT_KINDS;

/**
 * `slow` of an AWS-side target: its next `count` requests are passed on `delayMs` late, then answered as
 * usual, as `kube:CLUSTER:slow` does for a cluster's Kubernetes API. The functions' AWS clients set no
 * request or connection timeout of their own, and the SDK's default socket timeout (300 s of silence; 900 s
 * for Step Functions) is longer than the longest MS, so the SDK waits for the answer: a delay costs the
 * invocation its time, not an attempt.
 */
export interface SlowServiceFault {
  readonly kind: 'slow';
  readonly delayMs: number;
  readonly count: number;
}

/** A fault of AWS (every request the functions send to moto), for the next `count` requests. */
export type AwsFault = { readonly target: 'aws' } & (
  | {
      /**
       * throttle: 400 ThrottlingException; 5xx: 503 ServiceUnavailable, each instead of moto's answer.
       * lost: the next `count` writes, each of another action (CreateKey, PutSecretValue, PutItem, ...),
       * reach moto, which makes them, and then their answer is lost (503 instead), so the caller retries a
       * write that was made; its retry gets moto's answer.
       */
      readonly kind: (typeof SERVICE_FAULT_KINDS.aws)[number];
      readonly count: number;
    }
  | SlowServiceFault
);

/**
 * A fault of the EKS API (DescribeCluster, ListClusters: what the functions ask EKS for each cluster's
 * endpoint and CA), for the next `count` requests. STS, which the lab serves beside it, answers as usual.
 * throttle: 429 ThrottlingException; 5xx: 503 ServiceUnavailableException, each instead of the answer.
 */
export type EksFault = { readonly target: 'eks' } & (
  | { readonly kind: (typeof SERVICE_FAULT_KINDS.eks)[number]; readonly count: number }
  | SlowServiceFault
);

/**
 * A fault of STS (AssumeRole: how each function reaches its cluster role, and a cluster of another
 * account that account's role), for the next `count` requests, or with `account` the next `count`
 * AssumeRole requests for a role of that account only. The lab's EKS API server answers STS beside EKS;
 * an `eks` fault leaves it alone, and this one leaves EKS alone.
 * throttle: 400 Throttling; 5xx: 503 ServiceUnavailable; denied: 403 AccessDenied (a trust policy that
 * does not name the caller, which no retry fixes), each written as STS writes them (query XML).
 */
export type StsFault = {
  readonly target: 'sts';
  /**
   * The account whose roles' AssumeRole requests it answers (a role ARN's account), e.g. the one of the
   * clusters `--other-account-clusters` places; undefined: every AssumeRole.
   */
  readonly account?: string;
} & ({ readonly kind: (typeof SERVICE_FAULT_KINDS.sts)[number]; readonly count: number } | SlowServiceFault);

/** A fault and the phase whose start sets it off. */
export type Fault = (KubeFault | AwsFault | EksFault | StsFault) & { readonly phase: string };

/** How each AWS-side target is written before its kind. */
const SERVICE_PREFIX: Record<ServiceTarget, string> = { aws: 'aws', eks: 'eks', sts: 'sts[:ACCOUNT]' };

export const FAULT_GRAMMAR = [
  'kube:CLUSTER:5xx:N@PHASE',
  'kube:CLUSTER:conflict:N@PHASE',
  'kube:CLUSTER:slow:MS:N@PHASE',
  'kube:CLUSTER:down:SECONDS@PHASE',
  'kube:CLUSTER:stuck:N[:deployment|statefulset|daemonset]@PHASE',
  'kube:CLUSTER:istiod-drop:N@PHASE',
  ...Object.entries(SERVICE_FAULT_KINDS).flatMap(([target, kinds]) => {
    const prefix = SERVICE_PREFIX[target as ServiceTarget];
    return [...kinds.map((kind) => `${prefix}:${kind}:N@PHASE`), `${prefix}:slow:MS:N@PHASE`];
  }),
]
  .join(', ')
  .replace(/, ([^,]*)$/, ' or $1');

const LIMITS = {
  count: { what: 'N (requests)', max: 1000 },
  delayMs: { what: 'MS (delay)', max: 60_000 },
  seconds: { what: 'SECONDS (down)', max: 600 },
} as const;

export function parseFault(text: string): Fault {
  const refuse = (why: string): never => {
    throw new RehearsalOptionsError(
      '--fault',
      `--fault ${JSON.stringify(text)}: ${why}; expected ${FAULT_GRAMMAR}, e.g. kube:lab-2:5xx:3@distribute-bundle`,
    );
  };
  const at = text.lastIndexOf('@');
  const phase = at < 0 ? '' : text.slice(at + 1);
  if (phase === '') refuse('no @PHASE (the phase whose start sets the fault off)');
  const parts = text.slice(0, at).split(':');
  const number = (value: string | undefined, limit: keyof typeof LIMITS): number => {
    const { what, max } = LIMITS[limit];
    if (value === undefined || !/^[0-9]+$/.test(value)) return refuse(`${what} must be a whole number`);
    const parsed = Number(value);
    if (parsed < 1 || parsed > max) return refuse(`${what} must be 1..${max}, got ${parsed}`);
    return parsed;
  };
  const arity = (expected: number) => {
    if (parts.length !== expected) refuse(`${parts.slice(0, 3).join(':')} takes ${expected} parts before @`);
  };
  const [target, ...rest] = parts;
  // An AWS-side target: `slow:MS:N` or one of its kinds with `N`, after its prefix (`sts`: an optional account).
  const serviceFault = <S extends ServiceTarget>(
    service: S,
    prefixParts: number,
    unknown: (kind: string) => string,
  ) => {
    const [kind, first, second] = rest.slice(prefixParts - 1);
    if (kind === 'slow') {
      arity(prefixParts + 3);
      return { kind, delayMs: number(first, 'delayMs'), count: number(second, 'count') } as const;
    }
    const kinds: readonly (typeof SERVICE_FAULT_KINDS)[S][number][] = SERVICE_FAULT_KINDS[service];
    const known = kinds.find((candidate) => candidate === kind);
    if (known === undefined) return refuse(unknown(JSON.stringify(kind)));
    arity(prefixParts + 2);
    return { kind: known, count: number(first, 'count') };
  };
  if (target === 'aws') {
    return { target, ...serviceFault(target, 1, (kind) => `unknown AWS fault ${kind}`), phase };
  }
  if (target === 'eks') {
    return { target, ...serviceFault(target, 1, (kind) => `unknown EKS API fault ${kind}`), phase };
  }
  if (target === 'sts') {
    // An account id (12 digits) scopes it to the AssumeRole requests for that account's roles.
    const account = /^[0-9]{12}$/.test(rest[0] ?? '') ? rest[0] : undefined;
    const fault = serviceFault(
      target,
      account === undefined ? 1 : 2,
      (kind) => `unknown STS fault ${kind} (or ACCOUNT not a 12-digit account id)`,
    );
    return { target, ...fault, ...(account !== undefined && { account }), phase };
  }
  if (target !== 'kube') return refuse(`unknown target ${JSON.stringify(target)} (kube, aws, eks or sts)`);
  const [cluster = '', kind, first, second] = rest;
  if (cluster === '') refuse('no CLUSTER');
  switch (kind) {
    case '5xx':
    case 'conflict':
    case 'istiod-drop':
      arity(4);
      return { target, cluster, kind, count: number(first, 'count'), phase };
    case 'stuck': {
      if (parts.length !== 4 && parts.length !== 5)
        refuse(`${parts.slice(0, 3).join(':')} takes 4 or 5 parts before @`);
      const count = number(first, 'count');
      if (second === undefined) return { target, cluster, kind, count, phase };
      const workload = STUCK_WORKLOAD_KINDS.find((known) => known === second);
      if (workload === undefined) {
        return refuse(`unknown workload kind ${JSON.stringify(second)} (${STUCK_WORKLOAD_KINDS.join(', ')})`);
      }
      return { target, cluster, kind, count, workload, phase };
    }
    case 'slow':
      arity(5);
      return {
        target,
        cluster,
        kind,
        delayMs: number(first, 'delayMs'),
        count: number(second, 'count'),
        phase,
      };
    case 'down':
      arity(4);
      return { target, cluster, kind, seconds: number(first, 'seconds'), phase };
    default:
      return refuse(`unknown Kubernetes API fault ${JSON.stringify(kind)}`);
  }
}

/** The spec as the grammar writes it: what the report lists. */
export function formatFault(fault: Fault): string {
  const prefix =
    fault.target === 'kube'
      ? ['kube', fault.cluster]
      : fault.target === 'sts' && fault.account !== undefined
        ? [fault.target, fault.account]
        : [fault.target];
  const body =
    fault.kind === 'slow'
      ? [...prefix, fault.kind, fault.delayMs, fault.count]
      : fault.target !== 'kube'
        ? [...prefix, fault.kind, fault.count]
        : fault.kind === 'down'
          ? [...prefix, fault.kind, fault.seconds]
          : fault.kind === 'stuck' && fault.workload !== undefined
            ? [...prefix, fault.kind, fault.count, fault.workload]
            : [...prefix, fault.kind, fault.count];
  return `${body.join(':')}@${fault.phase}`;
}

/**
 * Why the istio engine does not play a fault; undefined when it does. It plays every fault of AWS, EKS
 * and STS (the same proxies as on the model engine, in front of the same moto and EKS API), the
 * Kubernetes API's request faults, `5xx`, `conflict`, `slow` and `down`, through a fault proxy in front
 * of each real kube-apiserver (lab/kube-fault-proxy.ts) asking the same fault plan, `stuck` of
 * Deployments, whose new pod the node agent (the lab's kubelet) reports never ready, and `istiod-drop`,
 * a cacerts change the node agent's volume sync keeps from real istiod's files
 * (lab/node-agent/missed-secret-change.ts).
 */
export function istioEngineRefusal(fault: Fault): string | undefined {
  if (fault.target !== 'kube') return undefined;
  switch (fault.kind) {
    case 'stuck':
      // The node agent holds any pod back; the istio lab's workloads are all Deployments.
      if (fault.workload === undefined || fault.workload === 'deployment') return undefined;
      return (
        `the istio engine's workloads are all Deployments, so no ${fault.workload} pod would ever be ` +
        'held and the fault would never fire. Use --engine model for it'
      );
    default:
      return undefined;
  }
}

/**
 * Refuses a PHASE the rehearsal never enters (phases: the definition's Task states, a Map standing for
 * its per-cluster Task), a CLUSTER the fleet does not have, or an ACCOUNT none of its clusters is in
 * (a typo would scope the fault to requests that never come), naming the valid ones.
 */
export function checkFault(
  fault: Fault,
  known: {
    readonly phases: readonly string[];
    readonly clusters: readonly string[];
    readonly accounts: readonly string[];
  },
): void {
  if (!known.phases.includes(fault.phase)) {
    throw new RehearsalOptionsError(
      '--fault',
      `--fault ${formatFault(fault)}: the rehearsal has no phase ${JSON.stringify(fault.phase)}; ` +
        `valid: ${known.phases.join(', ')}`,
    );
  }
  if (fault.target === 'sts' && fault.account !== undefined && !known.accounts.includes(fault.account)) {
    throw new RehearsalOptionsError(
      '--fault',
      `--fault ${formatFault(fault)}: no cluster of the lab is in account ${fault.account}; ` +
        `valid: ${known.accounts.join(', ')} (--other-account-clusters places clusters in a second account)`,
    );
  }
  if (fault.target === 'kube' && !known.clusters.includes(fault.cluster)) {
    throw new RehearsalOptionsError(
      '--fault',
      `--fault ${formatFault(fault)}: the lab has no cluster ${JSON.stringify(fault.cluster)}; ` +
        `valid: ${known.clusters.join(', ')}`,
    );
  }
}
