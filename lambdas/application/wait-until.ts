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

/** What waitUntilDue saw last, and whether it stopped because the check was overdue. */
export interface DueOutcome<T> {
  readonly done: boolean;
  readonly value: T;
  /** Not done at `dueAt`: what it waits for should have happened by then. */
  readonly overdue: boolean;
}

/**
 * waitUntil that also stops at `dueAt`, when what it waits for should have happened: a check not done
 * by then will not be done by waiting out `timeoutMs` either. Without `dueAt` it is waitUntil. It never
 * reports done early: only a check that says so does.
 */
export async function waitUntilDue<T>(
  timeoutMs: number,
  dueAt: Date | undefined,
  check: () => Promise<{ readonly done: boolean; readonly value: T }>,
  intervalMs = 500,
): Promise<DueOutcome<T>> {
  const deadline = Date.now() + timeoutMs;
  const due = dueAt?.getTime();
  for (;;) {
    const result = await check();
    const now = Date.now();
    if (result.done) return { ...result, overdue: false };
    if (due !== undefined && now >= due) return { ...result, overdue: true };
    if (now + intervalMs > deadline) return { ...result, overdue: false };
    // Wake at the due time rather than a whole interval past it.
    await sleep(due === undefined ? intervalMs : Math.max(1, Math.min(intervalMs, due - now)));
  }
}
