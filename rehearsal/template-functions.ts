// The Lambda functions of the synthesized template as the rehearsal runs them: where each one's own
// esbuild bundle is in cdk.out, its handler export, timeout, and the environment the template gives
// it with CloudFormation tokens resolved to the rehearsal's stand-ins.
import { join } from 'node:path';
import { HANDLER_NAMES } from '../lib/handler-entries.js';
import { CloudAssemblyError } from './rehearsal-errors.js';
import type { CfnTemplate } from './resolve-definition.js';

export interface TemplateFunction {
  readonly logicalId: string;
  /** FunctionName from the template, e.g. meshtrust-<mesh>-preflight. */
  readonly functionName: string;
  /** The handler file name (`preflight`, `rollback`, ...): FunctionName without `meshtrust-<mesh>-`. */
  readonly handlerName: string;
  /** cdk.out/asset.<hash>/ */
  readonly bundleDirectory: string;
  /** `index.handler` -> index.mjs, export `handler`. */
  readonly bundleFile: string;
  readonly exportName: string;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  /** The template's variables, tokens unresolved. */
  readonly environment: Readonly<Record<string, unknown>>;
  /** Logical id of the AWS::IAM::Role the function runs as (`Role: Fn::GetAtt [id, Arn]`), if the template names one. */
  readonly roleLogicalId?: string;
}

export interface TokenValues {
  /** Logical id -> ARN for `Ref` / `Fn::GetAtt [id, Arn]`. */
  readonly arns: Readonly<Record<string, string>>;
  readonly pseudo: Readonly<Record<string, string>>;
}

/** Every AWS::Lambda::Function of the template with a bundled asset (the CDK's asset metadata). */
export function templateFunctions(template: CfnTemplate, assemblyDirectory: string): TemplateFunction[] {
  const functions: TemplateFunction[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const properties = resource.Properties ?? {};
    const metadata = (resource as { Metadata?: Record<string, unknown> }).Metadata ?? {};
    const assetPath = metadata['aws:asset:path'];
    const functionName = properties.FunctionName;
    const handler = properties.Handler;
    if (typeof assetPath !== 'string' || typeof functionName !== 'string' || typeof handler !== 'string') {
      throw new CloudAssemblyError(
        `function ${logicalId} has no asset path, FunctionName or Handler in the template; the rehearsal runs ` +
          'NodejsFunction bundles from cdk.out only (synthesize without --no-asset-metadata)',
        assemblyDirectory,
      );
    }
    const dot = handler.lastIndexOf('.');
    const roleLogicalId = (properties.Role as { 'Fn::GetAtt'?: [string, string] } | undefined)?.[
      'Fn::GetAtt'
    ]?.[0];
    const variables = (properties.Environment as { Variables?: Record<string, unknown> } | undefined)
      ?.Variables;
    functions.push({
      logicalId,
      functionName,
      handlerName: handlerNameOf(functionName),
      bundleDirectory: join(assemblyDirectory, assetPath),
      bundleFile: `${handler.slice(0, dot)}.mjs`,
      exportName: handler.slice(dot + 1),
      timeoutSeconds: typeof properties.Timeout === 'number' ? properties.Timeout : 3,
      memorySize: typeof properties.MemorySize === 'number' ? properties.MemorySize : 128,
      environment: variables ?? {},
      ...(roleLogicalId !== undefined && { roleLogicalId }),
    });
  }
  return functions;
}

/**
 * Every handler a function of the stack can run: the state machine's, and the approval endpoint's
 * (`meshtrust-<mesh>-answer-approval`, lib/approval-endpoint.ts), which runs outside it.
 */
export const ANSWER_APPROVAL_HANDLER = 'answer-approval';
const FUNCTION_HANDLER_NAMES: readonly string[] = [...HANDLER_NAMES, ANSWER_APPROVAL_HANDLER];

/** The handler a function runs, by its name `meshtrust-<mesh>-<handler>` (the longest handler name wins). */
function handlerNameOf(functionName: string): string {
  const matches = FUNCTION_HANDLER_NAMES.filter((name) => functionName.endsWith(`-${name}`));
  return matches.sort((a, b) => b.length - a.length)[0] ?? functionName;
}

/** The function's environment with every token (Ref, Fn::GetAtt Arn, Fn::Join) resolved. */
export function resolveEnvironment(fn: TemplateFunction, values: TokenValues): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fn.environment).map(([key, value]) => [key, resolveToken(value, values, key)]),
  );
}

function resolveToken(node: unknown, values: TokenValues, where: string): string {
  if (typeof node === 'string') return node;
  if (typeof node === 'number' || typeof node === 'boolean') return String(node);
  if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
    const record = node as Record<string, unknown>;
    const join = record['Fn::Join'];
    if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
      return join[1].map((part) => resolveToken(part, values, where)).join(join[0]);
    }
    const ref = record.Ref;
    if (typeof ref === 'string') {
      const value = values.pseudo[ref] ?? values.arns[ref];
      if (value !== undefined) return value;
    }
    const getAtt = record['Fn::GetAtt'];
    if (Array.isArray(getAtt) && getAtt[1] === 'Arn' && typeof getAtt[0] === 'string') {
      const value = values.arns[getAtt[0]];
      if (value !== undefined) return value;
    }
  }
  throw new CloudAssemblyError(
    `environment variable ${where} holds ${JSON.stringify(node)}, which the rehearsal cannot resolve; ` +
      'give it a stand-in in rehearsal/ (run-rehearsal.ts builds the token values)',
    '',
  );
}
