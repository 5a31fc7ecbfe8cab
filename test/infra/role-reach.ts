// Who can reach the CA, read from the synthesized template: per role, the Secrets Manager, KMS and STS
// actions its IAM policies allow (or deny) and on what (STS: which cluster role, or which role of another
// account, it may assume), what the CA store key's policy grants it, what
// each root key's own policy grants (stage-root writes it, so it is not in the template), and which
// denials of each CA secret's resource policy exempt it (the handlers put those policies, built by
// lambdas/core/access/secret-policy.ts from the role ARNs the stack gives them). docs/security.md holds
// the table this makes, and test/infra/role-reach.test.ts fails when the two differ.
import {
  CA_SECRET_NAMES,
  CA_SECRET_POLICY_ENV,
  type CaSecretGrant,
  type CaSecretKind,
} from '../../lambdas/contract/ca-store.js';
import {
  ROOT_KEY_ACTIONS,
  ROOT_KEY_PRINCIPALS_ENV,
  type RootKeyUse,
} from '../../lambdas/contract/root-keys.js';
import { caSecretPolicy } from '../../lambdas/core/access/secret-policy.js';
import { resourcesOfType, type SynthesizedMeshTrustStack } from './synth-mesh-trust-stack.js';

interface Statement {
  readonly Effect: string;
  readonly Principal?: unknown;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** One row: a role, what it reaches, the allowed (or denied) actions on it. */
export interface ReachRow {
  readonly role: string;
  readonly reaches: string;
  readonly actions: string;
}

/**
 * Every role of the stack that a function runs as, named by its function(s), and the cluster role,
 * named by the roles it trusts: read from the template (Role of each AWS::Lambda::Function, the cluster
 * role's trust policy), never from lib/function-access.ts.
 */
function rolesOf(synthesized: SynthesizedMeshTrustStack): [string, string][] {
  const names = new Map<string, string[]>();
  for (const [, props] of resourcesOfType(synthesized.template, 'AWS::Lambda::Function')) {
    const role = (props.Role as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']?.[0];
    const name = String(props.FunctionName).replace(/^meshtrust-payments-/, '');
    if (role !== undefined) names.set(role, [...(names.get(role) ?? []), name]);
  }
  const rows: [string, string][] = [...names].map(([role, fns]) => [role, fns.join(', ')]);
  for (const [id, props] of resourcesOfType(synthesized.template, 'AWS::IAM::Role')) {
    if (names.has(id)) continue;
    const trusted =
      JSON.stringify(props.AssumeRolePolicyDocument).match(/RotationFunctions\w+Role[0-9A-F]{8}/g) ?? [];
    if (trusted.length === 0) continue;
    rows.push([id, `cluster role (assumed by ${trusted.map((t) => names.get(t)?.join(', ')).join(', ')})`]);
  }
  return rows.sort(([, a], [, b]) => a.localeCompare(b));
}

export function roleReach(synthesized: SynthesizedMeshTrustStack): ReachRow[] {
  const rows: ReachRow[] = [];
  const keyPolicy = rootKeyPolicyRoles(synthesized);
  const caKeyPolicy = caStoreKeyPolicy(synthesized);
  const secretPolicies = secretPolicyRoles(synthesized);
  for (const [roleId, role] of rolesOf(synthesized)) {
    const statements = resourcesOfType(synthesized.template, 'AWS::IAM::Policy')
      .filter(([, props]) => JSON.stringify(props.Roles).includes(`"${roleId}"`))
      .flatMap(([, props]) => (props.PolicyDocument as { Statement: Statement[] }).Statement);
    const byTarget = new Map<string, string[]>();
    for (const statement of statements) {
      const actions = [statement.Action].flat().filter((a) => /^(secretsmanager|kms|sts):/.test(a));
      if (actions.length === 0) continue;
      for (const resource of [statement.Resource].flat()) {
        const target = `${statement.Effect === 'Deny' ? 'DENY ' : ''}${readable(resource)}${conditionNote(statement)}`;
        byTarget.set(target, [...(byTarget.get(target) ?? []), ...actions]);
      }
    }
    for (const [reaches, actions] of [...byTarget].sort(([a], [b]) => a.localeCompare(b))) {
      rows.push({ role, reaches, actions: [...new Set(actions)].sort().join(', ') });
    }
    const caKeyActions = caKeyPolicy
      .filter((statement) => JSON.stringify(statement.Principal ?? '').includes(`"${roleId}"`))
      .map((statement) => ({
        reaches: `the CA store key (its key policy${conditionNote(statement).replace(/^ \(/, ': ').replace(/\)$/, '')})`,
        actions: [statement.Action].flat(),
      }));
    const caKeyRows = new Map<string, string[]>();
    for (const { reaches, actions } of caKeyActions) {
      caKeyRows.set(reaches, [...(caKeyRows.get(reaches) ?? []), ...actions]);
    }
    for (const [reaches, actions] of [...caKeyRows].sort(([a], [b]) => a.localeCompare(b))) {
      rows.push({ role, reaches, actions: [...new Set(actions)].sort().join(', ') });
    }
    for (const [kind, actions] of secretPolicyExemptions(secretPolicies, roleId)) {
      rows.push({
        role,
        reaches: `secret meshtrust/payments/${SECRET_KIND_NAMES[kind]} (its resource policy names it)`,
        actions: actions.join(', '),
      });
    }
    const uses = (Object.keys(ROOT_KEY_PRINCIPALS_ENV) as RootKeyUse[]).filter((use) =>
      keyPolicy[use].includes(roleId),
    );
    if (uses.length > 0) {
      const actions = new Set(uses.flatMap((use) => ROOT_KEY_ACTIONS[use]));
      rows.push({
        role,
        reaches: 'each root key (its key policy, written by stage-root)',
        actions: [...actions]
          .sort()
          .map((action) => (action === 'kms:PutKeyPolicy' ? 'kms:PutKeyPolicy (denied by IAM)' : action))
          .join(', '),
      });
    }
  }
  return rows;
}

/** The roles each root key's policy names, per use: the ARNs stage-root is given in its environment. */
function rootKeyPolicyRoles(synthesized: SynthesizedMeshTrustStack): Record<RootKeyUse, string[]> {
  const stageRoot = resourcesOfType(synthesized.template, 'AWS::Lambda::Function').find(
    ([, props]) => props.FunctionName === 'meshtrust-payments-stage-root',
  );
  const variables =
    (stageRoot?.[1].Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
  const named = (key: string) =>
    JSON.stringify(variables[key] ?? '').match(/RotationFunctions\w+Role[0-9A-F]{8}/g) ?? [];
  return {
    create: named(ROOT_KEY_PRINCIPALS_ENV.create),
    sign: named(ROOT_KEY_PRINCIPALS_ENV.sign),
    retire: named(ROOT_KEY_PRINCIPALS_ENV.retire),
    find: named(ROOT_KEY_PRINCIPALS_ENV.find),
  };
}

/** The CA store key's policy statements (the account root's `kms:*` names no role). */
function caStoreKeyPolicy(synthesized: SynthesizedMeshTrustStack): Statement[] {
  const key = resourcesOfType(synthesized.template, 'AWS::KMS::Key').find(([id]) =>
    id.startsWith('RotationCaStoreKey'),
  );
  return (key?.[1].KeyPolicy as { Statement: Statement[] } | undefined)?.Statement ?? [];
}

const SECRET_KIND_NAMES: Readonly<Record<CaSecretKind, string>> = {
  root: CA_SECRET_NAMES.root,
  intermediates: `${CA_SECRET_NAMES.intermediates}*`,
  backups: `${CA_SECRET_NAMES.backups}*`,
  importedRootKeys: `${CA_SECRET_NAMES.importedRootKeys}*`,
};

/** A stand-in role ARN per logical id, for the policy builder (which takes ARNs). */
const standInArn = (roleId: string) => `arn:aws:iam::123456789012:role/${roleId}`;

/** The roles each CA secret grant names: the ARNs stage-root is given in its environment, as stand-ins. */
function secretPolicyRoles(synthesized: SynthesizedMeshTrustStack): Record<CaSecretGrant, string[]> {
  const stageRoot = resourcesOfType(synthesized.template, 'AWS::Lambda::Function').find(
    ([, props]) => props.FunctionName === 'meshtrust-payments-stage-root',
  );
  const variables =
    (stageRoot?.[1].Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
  return Object.fromEntries(
    (Object.keys(CA_SECRET_POLICY_ENV) as CaSecretGrant[]).map((grant) => [
      grant,
      (
        JSON.stringify(variables[CA_SECRET_POLICY_ENV[grant]] ?? '').match(
          /RotationFunctions\w+Role[0-9A-F]{8}/g,
        ) ?? []
      ).map(standInArn),
    ]),
  ) as Record<CaSecretGrant, string[]>;
}

/** Per kind of CA secret, the actions its resource policy denies to all but the roles it names, this one among them. */
function secretPolicyExemptions(
  principals: Record<CaSecretGrant, string[]>,
  roleId: string,
): [CaSecretKind, string[]][] {
  const kinds: CaSecretKind[] = ['backups', 'importedRootKeys', 'intermediates', 'root'];
  return kinds
    .map((kind): [CaSecretKind, string[]] => [
      kind,
      caSecretPolicy(kind, principals)
        .Statement.filter((s) => s.Condition?.ArnNotEquals['aws:PrincipalArn'].includes(standInArn(roleId)))
        .flatMap((s) => s.Action)
        .sort(),
    ])
    .filter(([, actions]) => actions.length > 0);
}

export function reachTable(rows: readonly ReachRow[]): string {
  return [
    '| role | reaches | actions |',
    '| --- | --- | --- |',
    ...rows.map((row) => `| ${row.role} | ${row.reaches} | ${row.actions} |`),
  ].join('\n');
}

/** An ARN of the template in words: `secret meshtrust/payments/*`, `the CA store key`, `*`. */
function readable(resource: unknown): string {
  const arn = flatten(resource);
  if (arn === '*') return '*';
  if (/^<\w*CaStoreKey[0-9A-F]*>$/.test(arn)) return 'the CA store key';
  const clusterRole = /^<RotationFunctions(RotatorRole|VerifierRole)[0-9A-F]{8}>$/.exec(arn);
  if (clusterRole) return `the cluster role ${clusterRole[1]}`;
  const secret = /:secretsmanager:[^:]+:\d+:secret:(.+)$/.exec(arn);
  if (secret) return `secret ${secret[1]}`;
  const alias = /:kms:[^:]+:\d+:(alias\/.+)$/.exec(arn);
  if (alias) return alias[1] as string;
  return arn;
}

function conditionNote(statement: Statement): string {
  const via = statement.Condition?.StringEquals?.['kms:ViaService'];
  const secrets = statement.Condition?.StringLike?.['kms:EncryptionContext:SecretARN'];
  if (via !== undefined && secrets !== undefined) {
    return ` (via Secrets Manager, for secrets ${readable(secrets).replace(/^secret /, '')} only)`;
  }
  if (via !== undefined) return ' (via Secrets Manager only)';
  const usage = statement.Condition?.StringEquals?.['kms:KeyUsage'];
  if (usage !== undefined) return ` (new ${String(usage)} keys only)`;
  return '';
}

function flatten(node: unknown): string {
  if (typeof node === 'string') return node;
  if (Array.isArray(node)) return node.map(flatten).join('');
  if (typeof node === 'object' && node !== null) {
    const record = node as Record<string, unknown>;
    const join = record['Fn::Join'] as [string, unknown[]] | undefined;
    if (join) return join[1].map(flatten).join(join[0]);
    const ref = record.Ref;
    if (ref === 'AWS::Partition') return 'aws';
    if (typeof ref === 'string') return `<${ref}>`;
    const getAtt = record['Fn::GetAtt'] as [string, string] | undefined;
    if (getAtt) return `<${getAtt[0]}>`;
  }
  return JSON.stringify(node);
}
