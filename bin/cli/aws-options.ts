// The AWS and mesh options the fleet commands share (--region, --profile like the AWS CLI; --mesh-id,
// --clusters like the functions' MESH_ID and CLUSTERS), and the handler configuration they make: the CLI
// reads the fleet with the functions' own runtime, so it is configured the same way.
import type { Command } from 'commander';
import { EnvironmentVariableError } from '../../lambdas/adapters/environment.js';
import { type HandlerConfig, readHandlerConfig } from '../../lambdas/handlers/runtime/config.js';
import { UsageError } from './cli-errors.js';
import { matching } from './option-parsers.js';

export interface AwsOptions {
  readonly region?: string;
  readonly profile?: string;
}

export interface FleetOptions extends AwsOptions {
  readonly meshId?: string;
  readonly clusters?: string;
}

export function addAwsOptions(command: Command): Command {
  return command
    .option(
      '--region <region>',
      'AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION)',
      matching(/^[a-z]{2}(-[a-z]+)+-\d$/, 'a region such as eu-west-1'),
    )
    .option(
      '--profile <name>',
      'AWS CLI profile for credentials (default: $AWS_PROFILE or the default chain)',
    );
}

export function addFleetOptions(command: Command): Command {
  return addAwsOptions(command)
    .option(
      '--mesh-id <id>',
      'mesh id (default: $MESH_ID, $MESHTRUST_MESH_ID)',
      matching(/^[A-Za-z0-9._-]{1,128}$/, '1-128 letters, digits, ".", "_" or "-"'),
    )
    .option(
      '--clusters <names>',
      'comma-separated cluster names (default: $CLUSTERS, else EKS tag discovery)',
    );
}

/**
 * Points the AWS SDK's default chain at --profile/--region: the runtime's clients read the process
 * environment, so the options are applied there (only to this CLI process).
 */
export function applyAwsOptions(options: AwsOptions, env: NodeJS.ProcessEnv): string {
  if (options.profile !== undefined) {
    process.env.AWS_PROFILE = options.profile;
    // Static keys in the environment would win over the profile in the SDK's chain.
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'])
      delete process.env[key];
  }
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region === undefined || region === '') {
    throw new UsageError('say which AWS region the mesh is in: --region REGION (or set AWS_REGION)');
  }
  process.env.AWS_REGION = region;
  return region;
}

/** The functions' configuration for this CLI run: flags over the environment the functions read. */
export function fleetConfig(options: FleetOptions, env: NodeJS.ProcessEnv): HandlerConfig {
  const region = applyAwsOptions(options, env);
  const meshId = options.meshId ?? nonEmpty(env.MESH_ID) ?? nonEmpty(env.MESHTRUST_MESH_ID);
  if (meshId === undefined) {
    throw new UsageError(
      'say which mesh: --mesh-id ID (or set MESH_ID; `source DIR/env` of a lab sets MESHTRUST_MESH_ID)',
    );
  }
  process.env.MESH_ID = meshId;
  const clusters = options.clusters ?? env.CLUSTERS;
  if (clusters !== undefined) process.env.CLUSTERS = clusters;
  try {
    return { ...readHandlerConfig(), region };
  } catch (error) {
    if (error instanceof EnvironmentVariableError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
