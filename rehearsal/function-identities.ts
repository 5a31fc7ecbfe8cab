// Who each function of the synthesized stack runs as in a rehearsal: a session of its own role, as
// Lambda gives it, read from the template (each function's Role), with the lab standing in for IAM:
// - the roles the functions' CLUSTER_ROLE_ARN names (the stack's cluster roles) are the lab's: the one
//   the writing phases name is the rotator role (group meshtrust-rotator), the one verify-trust names
//   the verifier role (group meshtrust-verifier), as the stack's EKS access entries map them; the roles
//   each one's trust policy names may assume it through the lab's sts:AssumeRole, no other;
// - check-expiry's role is the lab's expiry-check role (group meshtrust-expiry-check);
// - every other role is a role of the lab account that no cluster knows.
// So a function reaches a cluster only the way it would deployed: by assuming the cluster role.

import { addRoleSession, allowAssumeRole, type LabIdentity } from '../lab/eks/lab-identities.js';
import { CLUSTER_ROLE_ARN_ENV } from '../lambdas/contract/function-environment.js';
import type { RehearsalFleet } from './fleet/rehearsal-fleet.js';
import type { CfnTemplate } from './resolve-definition.js';
import type { TemplateFunction } from './template-functions.js';

export interface FunctionIdentitiesOptions {
  readonly lab: Pick<RehearsalFleet, 'identities'>;
  readonly functions: readonly TemplateFunction[];
  readonly template: CfnTemplate;
  /** Logical id -> ARN stand-ins of the rehearsal; the cluster and expiry check roles' entries are replaced here. */
  readonly arns: Record<string, string>;
}

/** Maps the template's roles onto the lab's and returns each function's identity. */
export function functionIdentities(
  options: FunctionIdentitiesOptions,
): (fn: TemplateFunction) => LabIdentity {
  const { lab, functions, template, arns } = options;
  const { identities } = lab;
  const clusterRoleOf = (handler: string) =>
    getAttOf(functions.find((fn) => fn.handlerName === handler)?.environment[CLUSTER_ROLE_ARN_ENV]);
  const clusterRoles = [
    { role: clusterRoleOf('distribute-bundle'), as: identities.rotator },
    { role: clusterRoleOf('verify-trust'), as: identities.verifier },
  ];
  const expiryCheckRole = functions.find((fn) => fn.handlerName === 'check-expiry')?.roleLogicalId;
  for (const { role, as } of clusterRoles) if (role !== undefined) arns[role] = as.principalArn;
  if (expiryCheckRole !== undefined) arns[expiryCheckRole] = identities.expiryCheck.principalArn;
  for (const { role, as } of clusterRoles) {
    if (role === undefined) continue;
    const trustPolicy = template.Resources?.[role]?.Properties?.AssumeRolePolicyDocument;
    const trusted = JSON.stringify(trustPolicy ?? {}).match(/"Fn::GetAtt":\["(\w+)","Arn"\]/g) ?? [];
    allowAssumeRole(
      identities,
      as.principalArn,
      trusted.map((getAtt) => arns[/\["(\w+)"/.exec(getAtt)?.[1] ?? ''] ?? ''),
    );
  }
  const byRole = new Map<string, LabIdentity>();
  return (fn) => {
    const role = fn.roleLogicalId;
    if (role === undefined) return identities.rotator;
    if (role === expiryCheckRole) return identities.expiryCheck;
    const known = byRole.get(role);
    if (known !== undefined) return known;
    const session = addRoleSession(identities, {
      name: fn.handlerName,
      principalArn: arns[role] as string,
      sessionName: fn.functionName.slice(0, 64),
    });
    byRole.set(role, session);
    return session;
  };
}

/** The logical id of `{ "Fn::GetAtt": [id, "Arn"] }`, else undefined. */
function getAttOf(value: unknown): string | undefined {
  const getAtt = (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
  return getAtt?.[1] === 'Arn' ? getAtt[0] : undefined;
}
