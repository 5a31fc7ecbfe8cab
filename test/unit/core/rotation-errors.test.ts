import {
  PreconditionFailed,
  RotationError,
  TransientError,
  VerificationFailed,
} from '../../../lambdas/core/rotation-errors.js';

describe('rotation errors', () => {
  it.each([
    [TransientError, 'TransientError'],
    [PreconditionFailed, 'PreconditionFailed'],
    [VerificationFailed, 'VerificationFailed'],
  ])('%p carries the name the state machine matches on, its cause and its context', (ErrorClass, name) => {
    // Prepare
    const cause = new Error('socket hang up');
    // Act
    const error = new ErrorClass('cacerts of east changed meanwhile; run the step again', {
      cause,
      cluster: 'east',
      phase: 'distribute-bundle',
    });
    // Assess
    expect(error.name).toBe(name);
    expect(error).toBeInstanceOf(RotationError);
    expect(error).toBeInstanceOf(Error);
    expect(error.cause).toBe(cause);
    expect(error.cluster).toBe('east');
    expect(error.phase).toBe('distribute-bundle');
    expect(String(error)).toBe(`${name}: cacerts of east changed meanwhile; run the step again`);
  });

  it('leaves the context out when none is given', () => {
    // Act
    const error = new PreconditionFailed('no current root; import it first');
    // Assess
    expect(error.cluster).toBeUndefined();
    expect(error.phase).toBeUndefined();
    expect(error.cause).toBeUndefined();
  });
});
