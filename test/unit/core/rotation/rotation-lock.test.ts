import {
  decideTakeover,
  holderRunOf,
  type LockHolding,
  lockHeldMessage,
} from '../../../../lambdas/core/rotation/index.js';

const HOLDER =
  'arn:aws:states:eu-west-1:123456789012:execution:meshtrust-payments-rotation:scheduled-20260310T090000Z';
const holding: LockHolding = { holder: HOLDER, acquiredAt: '2026-03-10T09:00:01.000Z' };
const now = new Date('2026-03-10T12:00:00.000Z');
const minutesBefore = (minutes: number) => new Date(now.getTime() - minutes * 60_000);
const GRACE = 900;

describe('holderRunOf', () => {
  it('counts RUNNING and PENDING_REDRIVE (about to run again) as running', () => {
    // Act, Assess
    expect(holderRunOf('RUNNING')).toEqual({ state: 'running', status: 'RUNNING' });
    expect(holderRunOf('PENDING_REDRIVE')).toEqual({ state: 'running', status: 'PENDING_REDRIVE' });
  });

  it('counts every closed status as stopped, with its stop date', () => {
    // Prepare
    const stoppedAt = minutesBefore(5);
    // Act, Assess
    for (const status of ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']) {
      expect(holderRunOf(status, stoppedAt)).toEqual({ state: 'stopped', status, stoppedAt });
    }
  });
});

describe('decideTakeover', () => {
  it('never takes the lock of a running execution', () => {
    // Act
    const decision = decideTakeover({ holding, run: holderRunOf('RUNNING'), now, graceSeconds: 0 });
    // Assess
    expect(decision).toEqual({ takeover: false, reason: 'execution scheduled-20260310T090000Z is RUNNING' });
  });

  it('waits out the grace after the holder stopped: a function it started may still be writing', () => {
    // Prepare: aborted 5 minutes ago, functions run up to 15
    const run = holderRunOf('ABORTED', minutesBefore(5));
    // Act
    const decision = decideTakeover({ holding, run, now, graceSeconds: GRACE });
    // Assess
    expect(decision.takeover).toBe(false);
    expect(decision.reason).toContain('ended ABORTED at 2026-03-10T11:55:00.000Z');
    expect(decision.reason).toContain('may still be writing until 2026-03-10T12:10:00.000Z');
  });

  it('takes over a holder that stopped longer ago than the grace', () => {
    // Prepare
    const run = holderRunOf('TIMED_OUT', minutesBefore(16));
    // Act
    const decision = decideTakeover({ holding, run, now, graceSeconds: GRACE });
    // Assess
    expect(decision).toEqual({
      takeover: true,
      reason:
        'execution scheduled-20260310T090000Z ended TIMED_OUT at 2026-03-10T11:44:00.000Z without releasing the lock',
    });
  });

  it('takes over a holder Step Functions no longer knows (closed more than 90 days ago)', () => {
    // Act
    const decision = decideTakeover({ holding, run: { state: 'gone' }, now, graceSeconds: GRACE });
    // Assess
    expect(decision.takeover).toBe(true);
    expect(decision.reason).toMatch(/unknown to Step Functions/);
  });
});

describe('lockHeldMessage', () => {
  it('names the holding execution by name and ARN, says nothing was written and what to do', () => {
    // Act
    const message = lockHeldMessage('payments', holding, 'execution scheduled-20260310T090000Z is RUNNING');
    // Assess
    expect(message).toContain('Another rotation of mesh payments holds the rotation lock');
    expect(message).toContain(`execution scheduled-20260310T090000Z (${HOLDER})`);
    expect(message).toContain('lock taken at 2026-03-10T09:00:01.000Z');
    expect(message).toContain('stopped before writing anything');
    expect(message).toContain('meshtrust status scheduled-20260310T090000Z');
  });
});
