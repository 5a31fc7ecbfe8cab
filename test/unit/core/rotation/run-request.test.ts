import { REQUEST_TEXT_MAX, runRequestOf } from '../../../../lambdas/core/rotation/run-request.js';

describe('runRequestOf', () => {
  it('gives the actor and the reason the execution input names', () => {
    // Act
    const request = runRequestOf({ requestedBy: 'alice@example.com', reason: 'yearly rotation' });
    // Assess
    expect(request).toEqual({ actor: { actor: 'alice@example.com' }, detail: { reason: 'yearly rotation' } });
  });

  it('leaves out what the input does not say: absent, null or empty', () => {
    // Act, Assess
    expect(runRequestOf({})).toEqual({ actor: {}, detail: {} });
    expect(runRequestOf({ requestedBy: null, reason: null })).toEqual({ actor: {}, detail: {} });
    expect(runRequestOf({ requestedBy: '', reason: '' })).toEqual({ actor: {}, detail: {} });
  });

  it('cuts free text longer than REQUEST_TEXT_MAX instead of refusing it', () => {
    // Prepare
    const long = 'x'.repeat(REQUEST_TEXT_MAX + 100);
    // Act
    const request = runRequestOf({ requestedBy: long, reason: long });
    // Assess
    expect(request.actor.actor).toHaveLength(REQUEST_TEXT_MAX);
    expect(request.detail.reason).toHaveLength(REQUEST_TEXT_MAX);
  });
});
