// One error family for lambdas/: every error class the handlers, the core and the adapters declare
// extends MeshTrustError and names itself, so a caller tells a refusal from a bug with one instanceof
// and Lambda reports each by its own name (the state machine matches some: state-machine-error-names).
// The classes are found by importing every module under lambdas/ and by reading its sources.
import { readFileSync } from 'node:fs';
import { MeshTrustError } from '../../../lambdas/core/meshtrust-error.js';
import {
  declaredClasses,
  type ExportedErrorClass,
  exportedErrorClasses,
  lambdaModules,
} from '../../support/lambda-error-classes.js';

let exported: ExportedErrorClass[];
beforeAll(async () => {
  exported = await exportedErrorClasses();
}, 60_000);

/** The class and its ancestors up to Error, nearest first. */
function lineage(errorClass: unknown): string[] {
  const names: string[] = [];
  for (let current = errorClass; typeof current === 'function' && current !== Error; ) {
    names.push(current.name);
    current = Object.getPrototypeOf(current);
  }
  return names;
}

describe('the error family of lambdas/', () => {
  it('finds the error classes of the core and the adapters', () => {
    // Assess: the scan sees the branches (a scan that found nothing would pass everything below)
    const names = exported.map((found) => found.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'MeshTrustError',
        'RotationError',
        'TransientError',
        'PkiError',
        'PlanError',
        'EnvironmentVariableError',
        'StepFunctionsError',
        'PrivateKeyInLogError',
        'PemInOutputError',
      ]),
    );
  });

  it('has every exported error class extend MeshTrustError', () => {
    // Act
    const outside = exported
      .filter(
        ({ errorClass }) =>
          errorClass !== MeshTrustError && !(errorClass.prototype instanceof MeshTrustError),
      )
      .map(({ name, errorClass }) => `${name} (${lineage(errorClass).join(' < ')} < Error)`);
    // Assess
    expect(outside).toEqual([]);
  });

  it('has every error class declared under lambdas/, exported or not, inside the family', () => {
    // Prepare: what the family's classes are called; a class extending one of them is in it too
    const family = new Set(exported.map((found) => found.name));
    // Act
    const outside = declaredClasses()
      .filter(({ name, base }) => name !== MeshTrustError.name && /Error$/.test(base) && !family.has(base))
      .map(({ name, base, module }) => `${name} extends ${base} in ${module}`);
    // Assess
    expect(outside).toEqual([]);
  });

  it("has every class set its name to its own or to an ancestor's that the state machine matches", () => {
    // Prepare
    const byName = new Map(exported.map((found) => [found.name, found.errorClass]));
    // Act
    const unnamed = declaredClasses()
      .filter(({ name }) => byName.has(name))
      .filter(({ name, body }) => {
        const assigned = /this\.name = '(\w+)'/.exec(body)?.[1];
        return assigned === undefined || !lineage(byName.get(name)).includes(assigned);
      })
      .map(({ name, module }) => `${name} in ${module}`);
    // Assess
    expect(unnamed).toEqual([]);
  });

  it('throws no plain Error from a handler, the core or an adapter', () => {
    // Act
    const plain = lambdaModules().filter((file) => /throw new Error\(/.test(readFileSync(file, 'utf8')));
    // Assess
    expect(plain).toEqual([]);
  });

  it('passes the cause through from the root', () => {
    // Prepare
    const cause = new Error('socket hang up');
    // Act
    const error = new MeshTrustError('KMS returned no signature for key k', { cause });
    // Assess
    expect(error.name).toBe('MeshTrustError');
    expect(error.cause).toBe(cause);
    expect(String(error)).toBe('MeshTrustError: KMS returned no signature for key k');
  });
});
