/**
 * Turns the state machine definition of a synthesized CloudFormation template into plain ASL JSON,
 * replacing the intrinsic functions CDK leaves in it (Fn::Join, Ref, Fn::GetAtt ... Arn) with the
 * values given. The infra tests feed it to asl-validator; the rehearsal runs the result locally.
 */

/** A synthesized CloudFormation template, as `Template.toJSON()` or the cdk.out file gives it. */
export interface CfnTemplate {
  readonly Resources?: Readonly<
    Record<string, { readonly Type: string; readonly Properties?: Record<string, unknown> }>
  >;
}

export interface ResolveOptions {
  /** Logical id -> ARN, for every resource the definition references (`Ref` or `Fn::GetAtt [id, Arn]`). */
  readonly arns: Readonly<Record<string, string>>;
  /** Values of the pseudo parameters. @default aws, us-east-1, 123456789012, amazonaws.com */
  readonly pseudo?: Partial<
    Record<'AWS::Partition' | 'AWS::Region' | 'AWS::AccountId' | 'AWS::URLSuffix', string>
  >;
  /** Logical id of the state machine, when the template holds more than one. @default the only one */
  readonly stateMachineLogicalId?: string;
}

/** A definition that cannot be resolved: names what is missing and what to pass. */
export class DefinitionResolveError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DefinitionResolveError';
  }
}

const DEFAULT_PSEUDO = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com',
} as const;

/** The logical ids of every AWS::StepFunctions::StateMachine in the template. */
export function stateMachineLogicalIds(template: CfnTemplate): string[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, resource]) => resource.Type === 'AWS::StepFunctions::StateMachine')
    .map(([logicalId]) => logicalId);
}

/** The logical ids the state machine's definition references, to build the `arns` map from. */
export function referencedLogicalIds(template: CfnTemplate, stateMachineLogicalId?: string): string[] {
  const found = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
    } else if (node !== null && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (typeof record.Ref === 'string' && !record.Ref.startsWith('AWS::')) found.add(record.Ref);
      const getAtt = record['Fn::GetAtt'];
      if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') found.add(getAtt[0]);
      Object.values(record).forEach(visit);
    }
  };
  visit(definitionString(template, stateMachineLogicalId));
  return [...found].sort();
}

/** The state machine's definition as plain ASL, every CloudFormation intrinsic replaced. */
export function resolveDefinition(template: CfnTemplate, options: ResolveOptions): Record<string, unknown> {
  const pseudo: Record<string, string> = { ...DEFAULT_PSEUDO, ...options.pseudo };
  const resolve = (node: unknown): string => {
    if (typeof node === 'string') return node;
    if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
      const record = node as Record<string, unknown>;
      const join = record['Fn::Join'];
      if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
        return join[1].map(resolve).join(join[0]);
      }
      if (typeof record.Ref === 'string') return lookup(record.Ref, pseudo[record.Ref]);
      const getAtt = record['Fn::GetAtt'];
      if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') {
        if (getAtt[1] !== 'Arn') {
          throw new DefinitionResolveError(
            `the definition uses Fn::GetAtt ${getAtt[0]}.${String(getAtt[1])}; only .Arn can be resolved`,
          );
        }
        return lookup(getAtt[0]);
      }
    }
    throw new DefinitionResolveError(
      `the definition holds ${JSON.stringify(node)}, which is not a string, Fn::Join, Ref or Fn::GetAtt Arn`,
    );
  };
  const lookup = (logicalId: string, fallback?: string): string => {
    const arn = options.arns[logicalId] ?? fallback;
    if (arn === undefined) {
      throw new DefinitionResolveError(
        `the definition references ${logicalId}; pass its ARN in arns (referencedLogicalIds lists them all)`,
      );
    }
    return arn;
  };
  const text = resolve(definitionString(template, options.stateMachineLogicalId));
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new DefinitionResolveError('the resolved definition is not JSON', { cause: error });
  }
}

function definitionString(template: CfnTemplate, logicalId?: string): unknown {
  const ids = stateMachineLogicalIds(template);
  const id = logicalId ?? (ids.length === 1 ? ids[0] : undefined);
  if (id === undefined || !ids.includes(id)) {
    throw new DefinitionResolveError(
      `cannot pick a state machine: the template has ${ids.length === 0 ? 'none' : ids.join(', ')}${logicalId === undefined ? '' : ` and not ${logicalId}`}`,
    );
  }
  const properties = template.Resources?.[id]?.Properties ?? {};
  if (properties.DefinitionString === undefined) {
    throw new DefinitionResolveError(
      `state machine ${id} has no DefinitionString (DefinitionS3Location is not supported)`,
    );
  }
  return properties.DefinitionString;
}
