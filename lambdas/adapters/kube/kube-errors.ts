// Turns what the cluster client throws (kube-rest.ts's KubeApiError with the HTTP status in `code` and
// the Status JSON as body text; a Node error with its code when no answer came) into the rotation's error
// hierarchy, naming the cluster and what was being done. Messages quote the API server's Status message
// (which names users and resources, never Secret data) and never the request.
import { PreconditionFailed, TransientError } from '../../core/rotation-errors.js';
import { isTransientAwsError, isTransientKubeError, summarise } from '../retry.js';

/** Where the rotator's Kubernetes permissions are defined, for the hint in 401/403 messages. */
export const RBAC_MANIFEST = 'deploy/kubernetes/rbac.yaml';

/** The admission policy of RBAC_MANIFEST that lets the rotator change only a workload's restart annotations. */
export const RESTART_ONLY_POLICY = 'meshtrust-rotator-restart-only';

/**
 * `cacerts` changed since it was read (409 Conflict, AlreadyExists, or a resourceVersion that no longer
 * matches): re-read it and recompute. The name stays `TransientError`, so the state machine retries the
 * step like any transient error if the handler does not catch it; handlers tell it apart with
 * `instanceof CacertsConflict`.
 */
export class CacertsConflict extends TransientError {
  /** The resourceVersion the writer expected (undefined: it expected no secret). */
  readonly expectedResourceVersion?: string;

  constructor(
    message: string,
    options: ErrorOptions & { cluster: string; expectedResourceVersion?: string | undefined },
  ) {
    const { expectedResourceVersion, ...rest } = options;
    super(message, rest);
    this.name = 'TransientError';
    if (expectedResourceVersion !== undefined) this.expectedResourceVersion = expectedResourceVersion;
  }
}

/** What the Kubernetes API said, read from a cluster client's error. */
export interface KubeApiFailure {
  /** HTTP status, or undefined when no answer came (network, TLS). */
  readonly status?: number;
  /** Status.reason, e.g. Forbidden, Conflict, AlreadyExists, NotFound. */
  readonly reason?: string;
  /** Status.message, or the Node error code for a failure without answer. */
  readonly message: string;
}

const TLS_ERROR_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL/;

/** The HTTP status of a KubeApiError (or any error carrying a numeric `code`), if the error is one. */
export function kubeStatusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function describeKubeFailure(error: unknown): KubeApiFailure {
  const status = kubeStatusOf(error);
  if (status !== undefined) {
    const body = parseStatusBody((error as { body?: unknown }).body);
    return {
      status,
      ...(body.reason === undefined ? {} : { reason: body.reason }),
      message: body.message ?? `HTTP ${status}`,
    };
  }
  const code = nodeErrorCodeOf(error);
  return { message: code ?? (error instanceof Error ? error.message : String(error)) };
}

/** A TLS failure (the server's certificate does not verify against the cluster's CA, or wrong name). */
export function isTlsVerificationError(error: unknown): boolean {
  const code = nodeErrorCodeOf(error);
  return code !== undefined && TLS_ERROR_CODE.test(code);
}

export interface KubeErrorContext {
  readonly cluster: string;
  /** What was being done, as a verb phrase: `read secret istio-system/cacerts`. */
  readonly action: string;
}

/**
 * Maps a failed call to the hierarchy: 401/403 and TLS failures -> PreconditionFailed with the fix;
 * 409, 429, 5xx, no answer, a passing AWS fault while fetching the cluster role's credentials ->
 * TransientError; other 4xx -> PreconditionFailed. An error that is already a RotationError, or that did
 * not come from the API (a bug, a token provider failing for good), is returned unchanged.
 */
export function toClusterError(error: unknown, context: KubeErrorContext): unknown {
  if (error instanceof TransientError || error instanceof PreconditionFailed) return error;
  const { cluster, action } = context;
  const failure = describeKubeFailure(error);
  const options = { cause: error, cluster };
  const where = `Could not ${action} in cluster ${cluster}`;
  switch (failure.status) {
    case undefined:
      if (isTlsVerificationError(error)) {
        return new PreconditionFailed(
          `${where}: the API server's TLS certificate does not verify against the cluster's CA (${failure.message}). Check that the endpoint and certificateAuthority of DescribeCluster belong to the same cluster; nothing was sent.`,
          options,
        );
      }
      if (isRequestFailure(error) || isTransientKubeError(error)) {
        return new TransientError(
          `${where}: no answer from the API server (${failure.message}); retry later.`,
          options,
        );
      }
      // The request never left: its token needs the cluster role's credentials (sts:AssumeRole), and
      // STS throttled or failed past the SDK's own attempts. A passing fault, as the SDK classifies it.
      if (isTransientAwsError(error)) {
        return new TransientError(
          `${where}: AWS did not hand out the credentials for it (${summarise(error)}), a passing fault of STS; retry later.`,
          options,
        );
      }
      return error;
    case 401:
      return new PreconditionFailed(
        `${where}: the API server did not accept the rotator's token (401 Unauthorized). Give the rotator role an EKS access entry in cluster ${cluster} (Kubernetes group meshtrust-rotator, bound by ${RBAC_MANIFEST}) and check the token is made for this cluster.`,
        options,
      );
    case 403:
      if (failure.message.includes(`ValidatingAdmissionPolicy '${RESTART_ONLY_POLICY}'`)) {
        // The rotator sends only the restart annotations, so the change the policy saw came from
        // somewhere else: mutating admission runs before validating admission, on the same request.
        return new PreconditionFailed(
          `${where}: refused by admission policy ${RESTART_ONLY_POLICY} of ${RBAC_MANIFEST} (${failure.message}). The rotator changes only the pod template's restart annotations; if a mutating admission webhook of this cluster changes workloads on update, exempt group meshtrust-rotator from it, or restart the workload yourself (kubectl rollout restart), then run the step again.`,
          options,
        );
      }
      return new PreconditionFailed(
        `${where}: forbidden (${failure.message}). The rotator role needs an EKS access entry in cluster ${cluster} mapped to group meshtrust-rotator, and that group the permissions of ${RBAC_MANIFEST}; apply it to this cluster.`,
        options,
      );
    case 409:
    case 429:
      return new TransientError(
        `${where}: ${failure.reason ?? failure.status} (${failure.message}); retry.`,
        options,
      );
    default:
      if (failure.status >= 500) {
        return new TransientError(
          `${where}: the API server failed (${failure.status}: ${failure.message}); retry later.`,
          options,
        );
      }
      return new PreconditionFailed(
        `${where}: ${failure.status}${failure.reason ? ` ${failure.reason}` : ''} (${failure.message}).`,
        options,
      );
  }
}

function parseStatusBody(body: unknown): { reason?: string; message?: string } {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return {};
    }
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const { reason, message } = parsed as { reason?: unknown; message?: unknown };
  return {
    ...(typeof reason === 'string' ? { reason } : {}),
    ...(typeof message === 'string' ? { message } : {}),
  };
}

// node:https reports a request that got no answer (no such host, connection refused or reset) as a
// system error: a string code and the syscall that failed.
function isRequestFailure(error: unknown): boolean {
  const { code, syscall } = (error ?? {}) as { code?: unknown; syscall?: unknown };
  return typeof code === 'string' && typeof syscall === 'string';
}

function nodeErrorCodeOf(error: unknown): string | undefined {
  let current: unknown = error;
  // Bounded: a cause chain can be circular.
  for (let depth = 0; depth < 10 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
