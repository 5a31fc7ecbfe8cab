import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError } from '../core/rotation-errors.js';

export interface RetryAttempt {
  /** The attempt that just failed, starting at 1. */
  readonly attempt: number;
  /** How long the next attempt waits. */
  readonly delayMs: number;
  readonly error: unknown;
}

/** How often and how long an adapter retries; the callers add what is retryable and what is done. */
export type RetryPolicy = Pick<RetryOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs'>;

/** Every adapter's default: 4 attempts, backoff from 200 ms, no wait over 5 s. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 4, baseDelayMs: 200, maxDelayMs: 5000 };

export interface RetryOptions {
  /** How many times fn runs at most, first try included (>= 1). */
  readonly attempts: number;
  /** Backoff ceiling of the first retry; doubles per retry. */
  readonly baseDelayMs: number;
  /** Upper bound of any single wait. */
  readonly maxDelayMs: number;
  /**
   * Which errors are worth another attempt.
   * @default isTransient: a TransientError, or a transient AWS or Kubernetes error
   */
  readonly isRetryable?: (error: unknown) => boolean;
  /** Called before each wait, e.g. to log the retry. */
  readonly onRetry?: (attempt: RetryAttempt) => void;
  /** What is being done, for the message of the error thrown when every attempt failed. */
  readonly operation?: string;
}

/**
 * Runs fn until it succeeds, an error is not retryable (rethrown as is), or the attempts are used up
 * (then a TransientError with the last error as cause, so the state machine can retry the whole step
 * later). Waits use exponential backoff with full jitter: uniform in [0, min(max, base * 2^(n-1))],
 * which spreads the retries of many concurrent callers.
 *
 * fn must be safe to run again: wrap a whole read-modify-write, not just its write.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { attempts, baseDelayMs, maxDelayMs, isRetryable = isTransient, onRetry, operation } = options;
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new RangeError(`withRetry attempts must be an integer >= 1, got ${attempts}`);
  }
  if (!(baseDelayMs >= 0) || !(maxDelayMs >= 0)) {
    throw new RangeError(`withRetry delays must be >= 0, got base ${baseDelayMs} and max ${maxDelayMs}`);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!isRetryable(error)) throw error;
      if (attempt >= attempts) {
        const what = operation ?? 'the operation';
        throw new TransientError(
          `${what} still failed after ${attempts} attempts (${summarise(error)}); the step can be retried later`,
          { cause: error },
        );
      }
      const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      const delayMs = Math.floor(Math.random() * (ceiling + 1));
      onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs);
    }
  }
}

/** The default of withRetry: errors that say "try again". */
export function isTransient(error: unknown): boolean {
  return error instanceof TransientError || isTransientAwsError(error) || isTransientKubeError(error);
}

// Mirrors the AWS SDK's own classification (@smithy service-error-classification), minus
// LimitExceededException, which Secrets Manager uses for quotas that waiting does not fix.
const AWS_THROTTLING_NAMES = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
const AWS_TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalServiceError',
  'InternalFailure',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);
const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
]);

/** Throttling, 5xx, timeouts and network resets from the AWS SDK v3 (or anything in the cause chain). */
export function isTransientAwsError(error: unknown): boolean {
  return someInCauseChain(error, (e) => {
    const status = e.$metadata?.httpStatusCode;
    return (
      (typeof e.name === 'string' && (AWS_THROTTLING_NAMES.has(e.name) || AWS_TRANSIENT_NAMES.has(e.name))) ||
      e.$retryable !== undefined ||
      status === 429 ||
      (typeof status === 'number' && status >= 500 && status <= 599) ||
      isNetworkError(e)
    );
  });
}

/**
 * 429, 5xx and 409 Conflict from the Kubernetes API (kube-rest.ts's KubeApiError carries the status in
 * `code`), and network resets. A 409 is worth retrying only if fn re-reads the object first.
 */
export function isTransientKubeError(error: unknown): boolean {
  return someInCauseChain(error, (e) => {
    const status = [e.code, e.statusCode, e.response?.statusCode].find((s) => typeof s === 'number');
    return (
      status === 409 ||
      status === 429 ||
      (typeof status === 'number' && status >= 500 && status <= 599) ||
      isNetworkError(e)
    );
  });
}

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  response?: { statusCode?: unknown };
  $metadata?: { httpStatusCode?: unknown };
  $retryable?: unknown;
  cause?: unknown;
}

function isNetworkError(e: ErrorLike): boolean {
  return typeof e.code === 'string' && NETWORK_ERROR_CODES.has(e.code);
}

function someInCauseChain(error: unknown, test: (e: ErrorLike) => boolean): boolean {
  let current: unknown = error;
  // Bounded: a cause chain can be circular.
  for (let depth = 0; depth < 10 && typeof current === 'object' && current !== null; depth++) {
    const candidate = current as ErrorLike;
    if (test(candidate)) return true;
    current = candidate.cause;
  }
  return false;
}

/** An error as `Name: first line of its message` (at most 200 characters), for messages that quote it. */
export function summarise(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${firstLine(error.message)}`;
  return String(error);
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
