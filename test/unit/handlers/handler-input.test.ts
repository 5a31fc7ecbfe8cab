import { clusterStepSchema, parseInput } from '../../../lambdas/handlers/handler-input.js';
import { assertNoPem } from '../../../lambdas/handlers/run-handler.js';

const root = {
  secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:r',
  versionId: 'v1',
  fingerprint: 'a'.repeat(64),
};

describe('parseInput', () => {
  it('accepts a Map item and drops fields the handler does not use', () => {
    // Prepare
    const event = {
      executionId: 'arn:x',
      mode: 'scheduled',
      cluster: 'c1',
      currentRoot: root,
      stagedRoot: null,
      extra: 1,
    };
    // Act
    const input = parseInput(clusterStepSchema, event, 'distribute-bundle');
    // Assess
    expect(input).toEqual({
      executionId: 'arn:x',
      mode: 'scheduled',
      cluster: 'c1',
      currentRoot: root,
      stagedRoot: null,
    });
  });

  it('names every wrong field without echoing its value', () => {
    // Prepare
    const secretLooking = 'not-a-fingerprint-but-could-be-anything';
    const event = {
      executionId: '',
      mode: 'yearly',
      cluster: 'c1',
      currentRoot: { ...root, fingerprint: secretLooking },
    };
    // Act
    const act = () => parseInput(clusterStepSchema, event, 'distribute-bundle');
    // Assess
    expect(act).toThrow(/The distribute-bundle handler got an invalid event/);
    expect(act).toThrow(/executionId: .*mode: .*currentRoot\.fingerprint: .*stagedRoot: /);
    expect(act).not.toThrow(new RegExp(secretLooking));
  });

  it('says what is wrong with each field, in the English of the full zod build', () => {
    // Prepare: zod/mini says only "Invalid input" unless its English locale is loaded (adapters/zod.ts)
    const event = { executionId: '', mode: 'yearly', cluster: 7, currentRoot: root };
    // Act
    const act = () => parseInput(clusterStepSchema, event, 'distribute-bundle');
    // Assess
    expect(act).toThrow(/executionId: Too small: expected string to have >=1 characters/);
    expect(act).toThrow(/mode: Invalid option: expected one of "scheduled"/);
    expect(act).toThrow(/cluster: Invalid input: expected string, received number/);
    expect(act).toThrow(/stagedRoot: Invalid input: expected object, received undefined/);
  });

  it('raises PreconditionFailed, which stops the run before any write', () => {
    // Prepare, Act
    let caught: unknown;
    try {
      parseInput(clusterStepSchema, undefined, 'verify-trust');
    } catch (error) {
      caught = error;
    }
    // Assess
    expect(caught).toMatchObject({ name: 'PreconditionFailed', phase: 'verify-trust' });
  });
});

describe('assertNoPem', () => {
  it('lets ids and fingerprints through', () => {
    // Prepare, Act, Assess
    expect(() => assertNoPem({ cluster: 'c1', roots: ['a'.repeat(64)] }, 'retire-root')).not.toThrow();
  });

  it('refuses an output that carries a certificate PEM', () => {
    // Prepare
    const output = { chain: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' };
    // Act, Assess
    expect(() => assertNoPem(output, 'retire-root')).toThrow(/output of retire-root holds a PEM block/);
  });

  it('refuses an output that carries a private key, even base64-encoded', () => {
    // Prepare: the marker assembled at run time, never a key literal in the source
    const marker = ['-----BEGIN', 'PRIVATE KEY-----'].join(' ');
    const output = { data: Buffer.from(`${marker}\nAAAA\n`).toString('base64') };
    // Act, Assess
    expect(() => assertNoPem(output, 'reissue-intermediate')).toThrow(/private key/);
  });
});
