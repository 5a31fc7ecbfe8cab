// The CA store key's policy and the CA secrets' resource policies, from the synthesized template: the key
// names the functions' roles, each only through Secrets Manager and for the mesh's secrets; the handlers
// are given, per kind of secret, the roles its resource policy exempts; and the roles that create secrets
// may put that policy on their own part of the store only.
import { CA_SECRET_POLICY_ENV, type CaSecretGrant } from '../../lambdas/contract/ca-store.js';
import {
  resourcesOfType,
  type SynthesizedMeshTrustStack,
  synthMeshTrustStack,
} from './synth-mesh-trust-stack.js';

interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Principal?: { AWS?: unknown };
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

const ROLE_ID = /RotationFunctions\w+Role[0-9A-F]{8}/g;
const actionsOf = (statement: Statement) => [statement.Action].flat();
/** The logical ids of the roles a value names (a principal, an environment value). */
const rolesNamedIn = (value: unknown) =>
  [...new Set(JSON.stringify(value ?? '').match(ROLE_ID) ?? [])].sort();

/** The logical id of the role function `meshtrust-payments-<name>` runs as. */
function roleOf(synthesized: SynthesizedMeshTrustStack, name: string): string {
  const fn = resourcesOfType(synthesized.template, 'AWS::Lambda::Function').find(
    ([, props]) => props.FunctionName === `meshtrust-payments-${name}`,
  );
  if (fn === undefined) throw new Error(`no function meshtrust-payments-${name} in the template`);
  return (fn[1].Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
}

/** A CloudFormation value as text, `Ref`s written `<Name>` (e.g. `<AWS::Partition>`). */
function text(node: unknown): string {
  if (typeof node === 'string') return node;
  const record = node as Record<string, unknown>;
  const join = record['Fn::Join'] as [string, unknown[]] | undefined;
  if (join !== undefined) return join[1].map(text).join(join[0]);
  if (typeof record.Ref === 'string') return `<${record.Ref}>`;
  return JSON.stringify(node);
}

describe('the CA store key policy', () => {
  let synthesized: SynthesizedMeshTrustStack;
  let statements: Statement[];
  const roles = (...names: string[]) => names.map((name) => roleOf(synthesized, name)).sort();

  beforeAll(() => {
    synthesized = synthMeshTrustStack();
    const keys = resourcesOfType(synthesized.template, 'AWS::KMS::Key').filter(([id]) =>
      id.startsWith('RotationCaStoreKey'),
    );
    expect(keys).toHaveLength(1);
    const [[, key] = ['', {}]] = keys;
    statements = (key.KeyPolicy as { Statement: Statement[] }).Statement;
  });

  const bySid = (sid: string) => {
    const found = statements.filter((s) => s.Sid === sid);
    expect(found).toHaveLength(1);
    return found[0] as Statement;
  };

  it("keeps the account's administration of the key (kms:* for the account root), and no other unconditioned grant", () => {
    // WHEN
    const unconditioned = statements.filter((s) => s.Condition === undefined);
    // THEN
    expect(unconditioned).toHaveLength(1);
    expect(unconditioned[0]).toMatchObject({ Effect: 'Allow', Action: 'kms:*', Resource: '*' });
    expect(text(unconditioned[0]?.Principal?.AWS)).toBe('arn:<AWS::Partition>:iam::123456789012:root');
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
  });

  it('lets the roles that read CA secrets decrypt, only through Secrets Manager and only for the mesh secrets', () => {
    // GIVEN
    const decrypt = bySid('FunctionsDecryptMeshSecretsViaSecretsManager');
    // THEN
    expect(actionsOf(decrypt)).toEqual(['kms:Decrypt']);
    expect(rolesNamedIn(decrypt.Principal)).toEqual(
      roles(
        'check-expiry',
        'distribute-bundle',
        'preflight',
        'promote-root',
        'reissue-intermediate',
        'restart-workloads',
        'rollback',
        'stage-root',
      ),
    );
    expect(Object.keys(decrypt.Condition ?? {}).sort()).toEqual(['StringEquals', 'StringLike']);
    expect(text(decrypt.Condition?.StringEquals?.['kms:ViaService'])).toBe(
      'secretsmanager.eu-west-1.<AWS::URLSuffix>',
    );
    expect(text(decrypt.Condition?.StringLike?.['kms:EncryptionContext:SecretARN'])).toBe(
      'arn:<AWS::Partition>:secretsmanager:eu-west-1:123456789012:secret:meshtrust/payments/*',
    );
  });

  it('lets only the roles that write CA secrets generate data keys, under the same conditions', () => {
    // GIVEN
    const encrypt = bySid('FunctionsEncryptMeshSecretsViaSecretsManager');
    const decrypt = bySid('FunctionsDecryptMeshSecretsViaSecretsManager');
    // THEN
    expect(actionsOf(encrypt)).toEqual(['kms:GenerateDataKey']);
    expect(rolesNamedIn(encrypt.Principal)).toEqual(
      roles('distribute-bundle', 'promote-root', 'reissue-intermediate', 'rollback', 'stage-root'),
    );
    expect(encrypt.Condition).toEqual(decrypt.Condition);
  });

  it('lets them describe the key through Secrets Manager, and names no role that reads no CA secret', () => {
    // GIVEN
    const describe = bySid('FunctionsDescribeKeyViaSecretsManager');
    const named = rolesNamedIn(statements);
    // THEN
    expect(actionsOf(describe)).toEqual(['kms:DescribeKey']);
    expect(Object.keys(describe.Condition ?? {})).toEqual(['StringEquals']);
    expect(rolesNamedIn(describe.Principal)).toEqual(
      rolesNamedIn(bySid('FunctionsDecryptMeshSecretsViaSecretsManager').Principal),
    );
    for (const name of [
      'acquire-lock',
      'release-lock',
      'record-approval',
      'verify-trust',
      'verify-workloads',
      'retire-root',
    ]) {
      expect({ name, named: named.includes(roleOf(synthesized, name)) }).toEqual({ name, named: false });
    }
  });

  it('is matched in IAM: each role may use the key only through Secrets Manager, decrypt and encrypt only for the mesh secrets', () => {
    // GIVEN
    const onKey = resourcesOfType(synthesized.template, 'AWS::IAM::Policy')
      .flatMap(([, props]) => (props.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((s) => JSON.stringify(s.Resource).includes('CaStoreKey'));
    // THEN
    expect(onKey.length).toBeGreaterThan(0);
    for (const statement of onKey) {
      expect(text(statement.Condition?.StringEquals?.['kms:ViaService'])).toBe(
        'secretsmanager.eu-west-1.<AWS::URLSuffix>',
      );
      if (actionsOf(statement).some((a) => a === 'kms:Decrypt' || a === 'kms:GenerateDataKey')) {
        expect(text(statement.Condition?.StringLike?.['kms:EncryptionContext:SecretARN'])).toBe(
          'arn:<AWS::Partition>:secretsmanager:eu-west-1:123456789012:secret:meshtrust/payments/*',
        );
      }
    }
  });
});

describe("the CA secrets' resource policies, as the stack hands them to the handlers", () => {
  let synthesized: SynthesizedMeshTrustStack;
  let functions: [string, Record<string, unknown>][];
  const roles = (...names: string[]) => names.map((name) => roleOf(synthesized, name)).sort();

  beforeAll(() => {
    synthesized = synthMeshTrustStack();
    functions = resourcesOfType(synthesized.template, 'AWS::Lambda::Function');
  });

  const variablesOf = (props: Record<string, unknown>) =>
    (props.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};

  it('names, for each kind of secret and access, the roles of the functions that have it', () => {
    // GIVEN
    const expected: Record<CaSecretGrant, string[]> = {
      rootRead: roles('check-expiry', 'preflight', 'reissue-intermediate'),
      rootWrite: roles('promote-root', 'rollback', 'stage-root'),
      intermediatesRead: roles('restart-workloads'),
      intermediatesWrite: roles('reissue-intermediate'),
      backupsRead: roles('rollback'),
      backupsWrite: roles('distribute-bundle', 'reissue-intermediate'),
      backupsDelete: roles('promote-root', 'release-lock', 'rollback'),
      importedRootKeysRead: roles('reissue-intermediate'),
      importedRootKeysDelete: roles('promote-root'),
    };
    // THEN: the same on every function that reads them (all of them run readRotationConfig)
    for (const [, props] of functions) {
      if (props.FunctionName === 'meshtrust-payments-answer-approval') continue;
      const variables = variablesOf(props);
      for (const grant of Object.keys(CA_SECRET_POLICY_ENV) as CaSecretGrant[]) {
        expect({ grant, roles: rolesNamedIn(variables[CA_SECRET_POLICY_ENV[grant]]) }).toEqual({
          grant,
          roles: expected[grant],
        });
      }
    }
  });

  it('lets a role put a resource policy only on the parts of the store it writes (creates)', () => {
    // GIVEN
    const putters = resourcesOfType(synthesized.template, 'AWS::IAM::Policy').flatMap(([, props]) =>
      (props.PolicyDocument as { Statement: Statement[] }).Statement.filter(
        (s) => s.Effect === 'Allow' && actionsOf(s).includes('secretsmanager:PutResourcePolicy'),
      ).map((s) => ({ roles: rolesNamedIn(props.Roles), resource: text(s.Resource), actions: actionsOf(s) })),
    );
    // THEN
    const where = (part: RegExp) =>
      [...new Set(putters.filter((p) => part.test(p.resource)).flatMap((p) => p.roles))].sort();
    expect(where(/secret:meshtrust\/payments\/root-\?{6}$/)).toEqual(
      roles('promote-root', 'rollback', 'stage-root'),
    );
    expect(where(/intermediate\/\*$/)).toEqual(roles('reissue-intermediate'));
    expect(where(/backup\/\*$/)).toEqual(roles('distribute-bundle', 'reissue-intermediate'));
    expect(putters.length).toBe(
      putters.filter((p) => p.actions.includes('secretsmanager:CreateSecret')).length,
    );
    expect(
      putters.map((p) => p.resource).filter((r) => !/(root-\?{6}|intermediate\/\*|backup\/\*)$/.test(r)),
    ).toEqual([]);
  });

  it("keeps every function's environment under Lambda's 4 KB, with the longest role ARNs IAM allows", () => {
    // GIVEN: a role name has at most 64 characters; the key ARN and every other reference at their longest
    const longestRoleArn = `arn:aws-us-gov:iam::123456789012:role/${'r'.repeat(64)}`;
    const resolve = (node: unknown): string => {
      if (typeof node === 'string') return node;
      const record = node as Record<string, unknown>;
      const join = record['Fn::Join'] as [string, unknown[]] | undefined;
      if (join !== undefined) return join[1].map(resolve).join(join[0]);
      const getAtt = record['Fn::GetAtt'] as [string, string] | undefined;
      if (getAtt !== undefined && new RegExp(ROLE_ID.source).test(getAtt[0])) return longestRoleArn;
      return 'x'.repeat(128);
    };
    // THEN
    for (const [, props] of functions) {
      const size = Object.entries(variablesOf(props)).reduce(
        (total, [key, value]) => total + key.length + resolve(value).length,
        0,
      );
      expect({ fn: props.FunctionName, fits: size < 4096 }).toEqual({ fn: props.FunctionName, fits: true });
    }
  });
});
