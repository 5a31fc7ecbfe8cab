import {
  isTransientAwsError,
  isTransientKubeError,
  type RetryAttempt,
  withRetry,
} from '../../../lambdas/adapters/retry.js';
import { TransientError } from '../../../lambdas/core/rotation-errors.js';

/** A function that fails with `error` the first `failures` times, then returns 'done'. */
function failingTimes(failures: number, error: () => unknown) {
  let calls = 0;
  const fn = async (): Promise<string> => {
    calls += 1;
    if (calls <= failures) throw error();
    return 'done';
  };
  return { fn, calls: () => calls };
}

const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
const fast = { baseDelayMs: 1, maxDelayMs: 4 };

describe('withRetry', () => {
  it('retries a transient failure until it succeeds', async () => {
    // Prepare
    const { fn, calls } = failingTimes(2, throttled);
    // Act
    const result = await withRetry(fn, { attempts: 3, ...fast });
    // Assess
    expect(result).toBe('done');
    expect(calls()).toBe(3);
  });

  it('gives up after the last attempt with a TransientError whose cause is the last error', async () => {
    // Prepare
    const last = throttled();
    const { fn, calls } = failingTimes(10, () => last);
    // Act
    const running = withRetry(fn, { attempts: 3, ...fast, operation: 'read secret x' });
    // Assess
    await expect(running).rejects.toThrow(TransientError);
    await expect(running).rejects.toMatchObject({
      cause: last,
      message: expect.stringContaining('read secret x still failed after 3 attempts'),
    });
    expect(calls()).toBe(3);
  });

  it('rethrows an error that is not retryable at once, unchanged', async () => {
    // Prepare
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    const { fn, calls } = failingTimes(5, () => denied);
    // Act
    const running = withRetry(fn, { attempts: 5, ...fast });
    // Assess
    await expect(running).rejects.toBe(denied);
    expect(calls()).toBe(1);
  });

  it('reports each retry with a full-jitter delay within the doubling ceiling', async () => {
    // Prepare
    const { fn } = failingTimes(4, throttled);
    const retries: RetryAttempt[] = [];
    // Act
    await withRetry(fn, { attempts: 5, baseDelayMs: 2, maxDelayMs: 5, onRetry: (r) => retries.push(r) });
    // Assess
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3, 4]);
    const ceilings = [2, 4, 5, 5];
    retries.forEach((r, i) => {
      expect(r.delayMs).toBeGreaterThanOrEqual(0);
      expect(r.delayMs).toBeLessThanOrEqual(ceilings[i] as number);
      expect(r.error).toMatchObject({ name: 'ThrottlingException' });
    });
  });

  it('uses the given isRetryable instead of the default', async () => {
    // Prepare
    const { fn, calls } = failingTimes(1, () => new Error('flaky'));
    // Act
    const result = await withRetry(fn, {
      attempts: 2,
      ...fast,
      isRetryable: (e) => (e as Error).message === 'flaky',
    });
    // Assess
    expect(result).toBe('done');
    expect(calls()).toBe(2);
  });

  it('refuses fewer than one attempt', async () => {
    // Act / Assess
    await expect(withRetry(async () => 1, { attempts: 0, ...fast })).rejects.toThrow(
      /attempts must be an integer >= 1, got 0/,
    );
  });
});

describe('isTransientAwsError', () => {
  it.each([
    ['throttling', throttled()],
    ['TooManyRequestsException', Object.assign(new Error('x'), { name: 'TooManyRequestsException' })],
    [
      'a 503',
      Object.assign(new Error('x'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } }),
    ],
    [
      'an InternalServiceError',
      Object.assign(new Error('x'), { name: 'InternalServiceError', $metadata: { httpStatusCode: 500 } }),
    ],
    ['a connection reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    [
      'a reset as cause of a fetch failure',
      new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) }),
    ],
  ])('treats %s as transient', (_what, error) => {
    // Act / Assess
    expect(isTransientAwsError(error)).toBe(true);
  });

  it.each([
    [
      'access denied',
      Object.assign(new Error('x'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }),
    ],
    [
      'a missing secret',
      Object.assign(new Error('x'), {
        name: 'ResourceNotFoundException',
        $metadata: { httpStatusCode: 400 },
      }),
    ],
    [
      'a quota',
      Object.assign(new Error('x'), { name: 'LimitExceededException', $metadata: { httpStatusCode: 400 } }),
    ],
    ['a string', 'boom'],
  ])('does not treat %s as transient', (_what, error) => {
    // Act / Assess
    expect(isTransientAwsError(error)).toBe(false);
  });
});

describe('isTransientKubeError', () => {
  const apiError = (code: number) => Object.assign(new Error(`HTTP-Code: ${code}`), { code });

  it.each([409, 429, 500, 503])('treats HTTP %i as transient', (code) => {
    // Act / Assess
    expect(isTransientKubeError(apiError(code))).toBe(true);
  });

  it.each([400, 401, 403, 404, 422])('does not treat HTTP %i as transient', (code) => {
    // Act / Assess
    expect(isTransientKubeError(apiError(code))).toBe(false);
  });

  it('treats a connection reset as transient', () => {
    // Act / Assess
    expect(isTransientKubeError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(
      true,
    );
  });
});
