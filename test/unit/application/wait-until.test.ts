// waitUntilDue: a wait that also ends when what it waits for is overdue, and never reports done early.
import { describe, expect, it } from '@jest/globals';
import { waitUntilDue } from '../../../lambdas/application/wait-until.js';

const never = async () => ({ done: false, value: 'behind' });

describe('waitUntilDue', () => {
  it('stops at the due time, long before its timeout, and says it was overdue', async () => {
    // Act
    const outcome = await waitUntilDue(10_000, new Date(Date.now() + 150), never, 50);
    // Assess
    expect(outcome).toEqual({ done: false, value: 'behind', overdue: true });
  });

  it('looks once and says overdue when the due time has passed already', async () => {
    // Prepare
    let checks = 0;
    const check = async () => {
      checks += 1;
      return { done: false, value: checks };
    };
    // Act
    const outcome = await waitUntilDue(10_000, new Date(Date.now() - 1), check, 50);
    // Assess
    expect(outcome).toEqual({ done: false, value: 1, overdue: true });
  });

  it('reports done only when a check says so, overdue or not', async () => {
    // Act
    const outcome = await waitUntilDue(10_000, new Date(Date.now() - 1), async () => ({
      done: true,
      value: 'ok',
    }));
    // Assess
    expect(outcome).toEqual({ done: true, value: 'ok', overdue: false });
  });

  it('waits out its timeout, not overdue, when the due time is later or unknown', async () => {
    // Act
    const later = await waitUntilDue(200, new Date(Date.now() + 60_000), never, 50);
    const unknown = await waitUntilDue(200, undefined, never, 50);
    // Assess
    expect(later.overdue).toBe(false);
    expect(unknown.overdue).toBe(false);
  });
});
