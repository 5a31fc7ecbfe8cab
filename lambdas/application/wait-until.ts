import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `check` until it reports done or `timeoutMs` has passed (at least one check either way), for
 * things that settle in seconds, such as istiod pushing a bundle. Returns the last check's value.
 */
export async function waitUntil<T>(
  timeoutMs: number,
  check: () => Promise<{ readonly done: boolean; readonly value: T }>,
  intervalMs = 500,
): Promise<{ readonly done: boolean; readonly value: T }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result.done || Date.now() + intervalMs > deadline) return result;
    await sleep(intervalMs);
  }
}
