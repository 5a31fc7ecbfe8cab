// The state machine's Retry and Catch match errors by name (what Lambda reports as errorType): each name
// it matches, other than those of Step Functions and Lambda themselves, must be the name of a class of
// lambdas/' error family (MeshTrustError), or a rename on either side would silently stop a retry or a
// catch. The classes are found by importing every module under lambdas/ (test/support), not listed.
import { MeshTrustError } from '../../lambdas/core/meshtrust-error.js';
import { type ExportedErrorClass, exportedErrorClasses } from '../support/lambda-error-classes.js';
import { type AslState, aslOf, synthMeshTrustStack } from './synth-mesh-trust-stack.js';

/** Error names of the service itself: States.ALL, States.Timeout, Lambda.ServiceException, Sandbox.Timedout... */
const SERVICE_ERROR = /^(States|Lambda|Sandbox)\./;

/**
 * Every error name the states match (Retry and Catch, inside Map item processors too), and the error a
 * Pass state puts where a handler's error would be (unsupported-mode's `PreconditionFailed`).
 */
function matchedErrorNames(states: Record<string, AslState>): string[] {
  const names: string[] = [];
  for (const state of Object.values(states)) {
    for (const rule of [...(state.Retry ?? []), ...(state.Catch ?? [])]) names.push(...rule.ErrorEquals);
    const result = state.Type === 'Pass' ? (state.Result as { Error?: unknown } | undefined) : undefined;
    if (typeof result?.Error === 'string') names.push(result.Error);
    if (state.ItemProcessor !== undefined) names.push(...matchedErrorNames(state.ItemProcessor.States));
  }
  return names;
}

/** The name an instance of the class carries (what Lambda reports), for classes built from a message. */
function instanceName(errorClass: ExportedErrorClass['errorClass']): string | undefined {
  try {
    return (new (errorClass as unknown as new (message: string) => Error)('probe') as Error).name;
  } catch {
    return undefined;
  }
}

describe("the state machine's error names", () => {
  let familyNames: Map<string, string>;

  beforeAll(async () => {
    const family = (await exportedErrorClasses()).filter(
      ({ errorClass }) => errorClass === MeshTrustError || errorClass.prototype instanceof MeshTrustError,
    );
    // The class name, and the name its instances carry: Lambda reports the second.
    familyNames = new Map(family.map(({ name, errorClass }) => [name, instanceName(errorClass) ?? '']));
  }, 60_000);

  it.each([
    ['without approval gates', false],
    ['with approval gates', true],
  ])('%s: every error name a state matches is the name of a class of the family', (_variant, approval) => {
    // GIVEN
    const asl = aslOf(synthMeshTrustStack({ approval }));
    // WHEN
    const ours = [...new Set(matchedErrorNames(asl.States).filter((name) => !SERVICE_ERROR.test(name)))];
    // THEN: the state machine matches some of ours (a definition matching only States.ALL proves nothing)
    expect(ours).toEqual(
      expect.arrayContaining(['TransientError', 'VerificationFailed', 'PreconditionFailed']),
    );
    const unknown = ours.filter((name) => familyNames.get(name) !== name);
    expect(unknown).toEqual([]);
  });
});
