// Who can reach the CA, read from the synthesized template: per role, the Secrets Manager and KMS
// actions its IAM policies allow (or deny) and on what, plus what each root key's own policy grants
// (stage-root writes it, so it is not in the template). docs/security.md holds the table this makes,
// and test/infra/role-reach.test.ts fails when the two differ.
import { ROOT_KEY_USER_ACTIONS } from '../../lambdas/contract/root-keys.js';
import { resourcesOfType, type SynthesizedMeshTrustStack } from './synth-mesh-trust-stack.js';

interface Statement {
  readonly Effect: string;
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

/** The roles of the stack by logical id prefix, as docs/security.md names them. */
const ROLES: Readonly<Record<string, string>> = {
  RotationFunctionsRotatorRole: 'rotator (every rotation phase)',
  RotationFunctionsLockRole: 'lock (acquire-lock, release-lock)',
  RotationFunctionsExpiryCheckRole: 'expiry check (daily)',
};

export function roleReach(synthesized: SynthesizedMeshTrustStack): ReachRow[] {
  const rows: ReachRow[] = [];
  for (const [prefix, role] of Object.entries(ROLES)) {
    const statements = resourcesOfType(synthesized.template, 'AWS::IAM::Policy')
      .filter(([, props]) => JSON.stringify(props.Roles).includes(prefix))
      .flatMap(([, props]) => (props.PolicyDocument as { Statement: Statement[] }).Statement);
    const byTarget = new Map<string, string[]>();
    for (const statement of statements) {
      const actions = [statement.Action].flat().filter((a) => /^(secretsmanager|kms):/.test(a));
      if (actions.length === 0) continue;
      for (const resource of [statement.Resource].flat()) {
        const target = `${statement.Effect === 'Deny' ? 'DENY ' : ''}${readable(resource)}${conditionNote(statement)}`;
        byTarget.set(target, [...(byTarget.get(target) ?? []), ...actions]);
      }
    }
    for (const [reaches, actions] of [...byTarget].sort(([a], [b]) => a.localeCompare(b))) {
      rows.push({ role, reaches, actions: [...new Set(actions)].sort().join(', ') });
    }
    if (prefix === 'RotationFunctionsRotatorRole') {
      rows.push({
        role,
        reaches: 'each root key it created (its key policy)',
        actions: [...ROOT_KEY_USER_ACTIONS, 'kms:PutKeyPolicy (denied by IAM)'].join(', '),
      });
    }
  }
  return rows;
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
  const secret = /:secretsmanager:[^:]+:\d+:secret:(.+)$/.exec(arn);
  if (secret) return `secret ${secret[1]}`;
  const alias = /:kms:[^:]+:\d+:(alias\/.+)$/.exec(arn);
  if (alias) return alias[1] as string;
  return arn;
}

function conditionNote(statement: Statement): string {
  const via = statement.Condition?.StringEquals?.['kms:ViaService'];
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
