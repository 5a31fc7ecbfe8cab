import {
  backupSecretName,
  intermediateSecretName,
  rootSecretName,
} from '../../../../lambdas/adapters/secrets/secret-names.js';
import { PreconditionFailed } from '../../../../lambdas/core/rotation-errors.js';

describe('secret names', () => {
  it('lays out root, intermediate and backup secrets under the mesh', () => {
    // Act / Assess
    expect(rootSecretName('prod')).toBe('meshtrust/prod/root');
    expect(intermediateSecretName('prod', 'eu-west-1a')).toBe('meshtrust/prod/intermediate/eu-west-1a');
    expect(backupSecretName('prod', 'run-2026', 'east')).toBe('meshtrust/prod/backup/run-2026/east');
  });

  it.each([
    ['a slash, which would nest the layout', 'a/b'],
    ['a space', 'a b'],
    ['nothing', ''],
  ])('refuses a name part with %s', (_what, value) => {
    // Act / Assess
    expect(() => intermediateSecretName('prod', value)).toThrow(PreconditionFailed);
    expect(() => intermediateSecretName('prod', value)).toThrow(/cannot be part of a secret name/);
  });
});
