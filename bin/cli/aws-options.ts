// The AWS and mesh options the fleet commands share (--region, --profile like the AWS CLI; --mesh-id,
// --clusters like the functions' MESH_ID and CLUSTERS), and the handler configuration they make: the CLI
// reads the fleet with the functions' own runtime, so it is configured the same way.
import type { Command } from 'commander';
import { LAB_MESH_ID_ENV } from '../../lab/lab-files.js';
import { EnvironmentVariableError } from '../../lambdas/adapters/environment.js';
import { type RotationConfig, readRotationConfig } from '../../lambdas/application/config.js';
import { CLUSTER_ACCOUNT_ROLES_ENV } from '../../lambdas/contract/cluster-reference.js';
import { AWS_REGION_ENV, CLUSTERS_ENV, MESH_ID_ENV } from '../../lambdas/contract/function-environment.js';
import { REMOTE_CLUSTERS_ENV } from '../../lambdas/contract/topology.js';
import { PreconditionFailed } from '../../lambdas/core/rotation-errors.js';
import { parseClusterAccountRoles } from '../../lambdas/core/topology/cluster-targets.js';
import { UsageError } from './cli-errors.js';
import { matching } from './option-parsers.js';

/** The AWS CLI's and SDK's older region key, read after AWS_REGION as they do. */
export const AWS_DEFAULT_REGION_ENV = 'AWS_DEFAULT_REGION';
/** The AWS SDK's profile key; --profile sets it for this process. */
const AWS_PROFILE_ENV = 'AWS_PROFILE';
/** Static keys in the environment, which would win over a profile in the SDK's chain. */
const AWS_STATIC_CREDENTIAL_ENVS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
] as const;

export interface AwsOptions {
  readonly region?: string;
  readonly profile?: string;
}

export interface FleetOptions extends AwsOptions {
  readonly meshId?: string;
  readonly clusters?: string;
  readonly remoteClusters?: string;
  readonly clusterAccountRoles?: string;
}

export function addAwsOptions(command: Command): Command {
  return command
    .option(
      '--region <region>',
      `AWS region (default: $${AWS_REGION_ENV}, $${AWS_DEFAULT_REGION_ENV})`,
      matching(/^[a-z]{2}(-[a-z]+)+-\d$/, 'a region such as eu-west-1'),
    )
    .option(
      '--profile <name>',
      `AWS CLI profile for credentials (default: $${AWS_PROFILE_ENV} or the default chain)`,
    );
}

export function addFleetOptions(command: Command): Command {
  return addAwsOptions(command)
    .option(
      '--mesh-id <id>',
      `mesh id (default: $${MESH_ID_ENV}, $${LAB_MESH_ID_ENV})`,
      matching(/^[A-Za-z0-9._-]{1,128}$/, '1-128 letters, digits, ".", "_" or "-"'),
    )
    .option(
      '--clusters <names>',
      `comma-separated cluster names (default: $${CLUSTERS_ENV}, else EKS tag discovery)`,
    )
    .option(
      '--remote-clusters <remote=primary,...>',
      `the remote clusters, each with the primary whose istiod serves it (default: $${REMOTE_CLUSTERS_ENV}, ` +
        "else none: every cluster a primary; the stack's remoteClusters)",
    )
    .option(
      '--cluster-account-roles <account=role-arn,...>',
      'per other account whose clusters --clusters names by ARN, the role of that account to assume from your ' +
        `credentials to describe and read them (default: $${CLUSTER_ACCOUNT_ROLES_ENV}, else your own credentials)`,
    );
}

/**
 * Points the AWS SDK's default chain at --profile/--region: the runtime's clients read the process
 * environment, so the options are applied there (only to this CLI process).
 */
export function applyAwsOptions(options: AwsOptions, env: NodeJS.ProcessEnv): string {
  if (options.profile !== undefined) {
    process.env[AWS_PROFILE_ENV] = options.profile;
    for (const key of AWS_STATIC_CREDENTIAL_ENVS) delete process.env[key];
  }
  const region = options.region ?? nonEmpty(env[AWS_REGION_ENV]) ?? nonEmpty(env[AWS_DEFAULT_REGION_ENV]);
  if (region === undefined) {
    throw new UsageError(`say which AWS region the mesh is in: --region REGION (or set ${AWS_REGION_ENV})`);
  }
  process.env[AWS_REGION_ENV] = region;
  return region;
}

/** The functions' configuration for this CLI run: flags over the environment the functions read. */
export function fleetConfig(options: FleetOptions, env: NodeJS.ProcessEnv): RotationConfig {
  const region = applyAwsOptions(options, env);
  const meshId = meshIdOf(options, env);
  if (meshId === undefined) {
    throw new UsageError(
      `say which mesh: --mesh-id ID (or set ${MESH_ID_ENV}; \`source DIR/env\` of a lab sets ${LAB_MESH_ID_ENV})`,
    );
  }
  process.env[MESH_ID_ENV] = meshId;
  const clusters = options.clusters ?? env[CLUSTERS_ENV];
  if (clusters !== undefined) process.env[CLUSTERS_ENV] = clusters;
  const remoteClusters = options.remoteClusters ?? env[REMOTE_CLUSTERS_ENV];
  if (remoteClusters !== undefined) process.env[REMOTE_CLUSTERS_ENV] = remoteClusters;
  if (options.clusterAccountRoles !== undefined) {
    checkClusterAccountRoles(options.clusterAccountRoles);
    process.env[CLUSTER_ACCOUNT_ROLES_ENV] = options.clusterAccountRoles;
  }
  try {
    return { ...readRotationConfig(), region };
  } catch (error) {
    if (error instanceof EnvironmentVariableError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

/** Refuses a malformed --cluster-account-roles naming the flag (the functions' parser names their variable). */
function checkClusterAccountRoles(value: string): void {
  try {
    parseClusterAccountRoles(value, '--cluster-account-roles');
  } catch (error) {
    if (error instanceof PreconditionFailed) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

/** The mesh id: --mesh-id, else the functions' MESH_ID, else a lab env file's MESHTRUST_MESH_ID. */
export function meshIdOf(options: { readonly meshId?: string }, env: NodeJS.ProcessEnv): string | undefined {
  return nonEmpty(options.meshId) ?? nonEmpty(env[MESH_ID_ENV]) ?? nonEmpty(env[LAB_MESH_ID_ENV]);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
