import { Duration } from 'aws-cdk-lib';
import { MeshTrustConfigError } from './mesh-trust-config-error.js';
import type { MeshTrustStackProps } from './mesh-trust-stack.js';

/** Reads one context value (`app.node.tryGetContext`). */
export type ContextReader = (key: string) => unknown;

/** The context keys bin/app.ts reads, from cdk.json or `npx cdk deploy -c key=value`. */
export const CONTEXT_KEYS = [
  'meshId',
  'clusters',
  'clusterTag',
  'region',
  'schedule',
  'approval',
  'distributedMaps',
  'soakHours',
  'maxConcurrency',
  'alarmEmail',
  'vpcId',
  'subnetIds',
  'securityGroupIds',
] as const;

const WHERE = 'cdk.json context';

/**
 * Stack props from CDK context. `-c` values arrive as strings, cdk.json values as JSON, so both are
 * accepted: clusters as a list or `a,b`, clusterTag as `{ key, value }` or `key=value`, booleans and
 * numbers as such or as strings. Account and region default to the CLI's (`CDK_DEFAULT_*`); with no
 * credentials the stack is environment-agnostic and still synthesizes.
 */
export function meshTrustStackPropsFromContext(
  read: ContextReader,
  env: Readonly<Record<string, string | undefined>> = process.env,
): MeshTrustStackProps & { readonly stackName: string } {
  const meshId = text(read, 'meshId');
  if (meshId === undefined) {
    throw new MeshTrustConfigError(
      WHERE,
      'meshId',
      'context meshId is required: set it in cdk.json or pass -c meshId=<mesh>',
    );
  }
  const clusters = list(read, 'clusters');
  const soakHours = number(read, 'soakHours');
  const region = text(read, 'region') ?? env.CDK_DEFAULT_REGION;
  const account = env.CDK_DEFAULT_ACCOUNT;
  const stackName = `meshtrust-${meshId}`;
  const vpcId = text(read, 'vpcId');
  const subnetIds = list(read, 'subnetIds');
  const securityGroupIds = list(read, 'securityGroupIds');
  if ((vpcId === undefined) !== (subnetIds === undefined || subnetIds.length === 0)) {
    throw new MeshTrustConfigError(
      WHERE,
      vpcId === undefined ? 'vpcId' : 'subnetIds',
      'context vpcId and subnetIds go together: the VPC the functions run in and its subnets (docs/deploy.md, "Private clusters")',
    );
  }
  if (vpcId === undefined && securityGroupIds !== undefined) {
    throw new MeshTrustConfigError(
      WHERE,
      'securityGroupIds',
      'context securityGroupIds needs vpcId and subnetIds',
    );
  }
  return {
    stackName,
    description: `meshtrust: root CA rotation of Istio mesh ${meshId}`,
    ...(region === undefined && account === undefined ? {} : { env: { account, region } }),
    ...(vpcId !== undefined &&
      subnetIds !== undefined && {
        network: {
          vpcId,
          subnetIds,
          ...(securityGroupIds !== undefined && securityGroupIds.length > 0 && { securityGroupIds }),
        },
      }),
    rotation: {
      meshId,
      ...(clusters === undefined || clusters.length === 0 ? {} : { clusters }),
      ...optional('clusterTag', tag(read, 'clusterTag')),
      ...optional('schedule', text(read, 'schedule')),
      ...optional('approval', boolean(read, 'approval')),
      ...optional('distributedMaps', boolean(read, 'distributedMaps')),
      ...optional('soak', soakHours === undefined ? undefined : Duration.hours(soakHours)),
      ...optional('maxConcurrency', number(read, 'maxConcurrency')),
      ...optional('alarmEmail', text(read, 'alarmEmail')),
    },
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function raw(read: ContextReader, key: string): unknown {
  const value = read(key);
  return value === null || value === '' ? undefined : value;
}

function text(read: ContextReader, key: string): string | undefined {
  const value = raw(read, key);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw bad(key, 'a string', value);
  return value;
}

function list(read: ContextReader, key: string): string[] | undefined {
  const value = raw(read, key);
  if (value === undefined) return undefined;
  if (typeof value === 'string')
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  throw bad(key, 'a list of names or a comma-separated string', value);
}

function number(read: ContextReader, key: string): number | undefined {
  const value = raw(read, key);
  if (value === undefined) return undefined;
  const parsed = typeof value === 'string' ? Number(value) : value;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed)) throw bad(key, 'a number', value);
  return parsed;
}

function boolean(read: ContextReader, key: string): boolean | undefined {
  const value = raw(read, key);
  if (value === undefined || typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw bad(key, 'true or false', value);
}

function tag(read: ContextReader, key: string): { key: string; value: string } | undefined {
  const value = raw(read, key);
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.includes('=')) {
    const at = value.indexOf('=');
    return { key: value.slice(0, at), value: value.slice(at + 1) };
  }
  if (typeof value === 'object' && value !== null) {
    const { key: tagKey, value: tagValue } = value as Record<string, unknown>;
    if (typeof tagKey === 'string' && typeof tagValue === 'string') return { key: tagKey, value: tagValue };
  }
  throw bad(key, '{ "key": ..., "value": ... } or key=value', value);
}

function bad(key: string, expected: string, value: unknown): MeshTrustConfigError {
  return new MeshTrustConfigError(
    WHERE,
    key,
    `context ${key} must be ${expected}, got ${JSON.stringify(value)}`,
  );
}
