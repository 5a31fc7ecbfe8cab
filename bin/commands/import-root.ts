// `meshtrust import-root`: brings a mesh's existing root into the CA store as its current root, once,
// before the first rotation. With --key the root's key goes to a secret of its own (meshtrust/<mesh>/
// root-key/<version>), deleted when the first rotation retires that root; with --without-key only the
// certificate is stored and the key stays with its owner (intermediate mode is then refused, a scheduled
// rotation moves the mesh to a root whose key is in KMS). Checked before anything is written. Every secret
// it creates gets the resource policy a handler would put on it, naming the roles the deployed stack gave
// its functions (read from stage-root's environment; docs/security.md).
import { readFile } from 'node:fs/promises';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Command } from 'commander';
import { readFunctionEnvironment } from '../../lambdas/adapters/lambda/function-environment.js';
import { CaSecretStore } from '../../lambdas/adapters/secrets/ca-secret-store.js';
import { clientRequestTokenFor } from '../../lambdas/adapters/secrets/client-request-token.js';
import { type CaSecretPolicyPrincipals, caStoreKeyAlias } from '../../lambdas/contract/ca-store.js';
import { ROOT_STAGING_HANDLER, rotationFunctionName } from '../../lambdas/contract/function-names.js';
import { secretPolicyPrincipalsOf } from '../../lambdas/core/access/deployed-settings.js';
import { certificateFingerprint } from '../../lambdas/core/pki/fingerprint.js';
import { rootImportProblems } from '../../lambdas/core/pki/root-import.js';
import { RotationError } from '../../lambdas/core/rotation-errors.js';
import { addFleetOptions, type FleetOptions, fleetConfig } from '../cli/aws-options.js';
import type { CliContext } from '../cli/cli-context.js';
import { CliError, EnvironmentError, EXIT_CODES, UsageError } from '../cli/cli-errors.js';

export interface ImportRootCommandOptions extends FleetOptions {
  readonly certificate: string;
  readonly key?: string;
  readonly withoutKey?: boolean;
  readonly kmsKeyId?: string;
  /** false with --no-secret-policy: the secrets are created without a resource policy. */
  readonly secretPolicy: boolean;
  readonly json?: boolean;
}

/** What `import-root --json` prints: where the root went, never its key. */
export interface ImportRootReport {
  readonly meshId: string;
  readonly rootSecret: string;
  readonly versionId: string;
  readonly fingerprint: string;
  /** `secret`: the key is in its own secret; `offline`: only the certificate was stored. */
  readonly key: 'secret' | 'offline';
  /** false: this root already was the current root; nothing was written. */
  readonly written: boolean;
  /** The function whose environment named the roles of the secrets' resource policy; absent with --no-secret-policy. */
  readonly secretPolicyFrom?: string;
}

export function registerImportRootCommand(program: Command, context: CliContext): Command {
  const command = program
    .command('import-root')
    .description(
      "Store the mesh's existing root CA as the CA store's current root, once, before the first rotation: " +
        'with its key (kept in a secret of its own until the first rotation retires the root) or without it ' +
        '(the key stays offline; the first scheduled rotation moves the mesh to a root whose key is in KMS).',
    )
    .requiredOption(
      '--certificate <file>',
      "the root's certificate, PEM (the root the intermediates chain to)",
    )
    .option('--key <file>', "the root's private key, unencrypted PEM (PKCS#8, SEC1 or PKCS#1)")
    .option('--without-key', 'store the certificate only; the key stays offline')
    .option(
      '--kms-key-id <id>',
      "KMS key that encrypts the secrets (default: the stack's alias/meshtrust/<mesh-id>/ca)",
    )
    .option(
      '--no-secret-policy',
      "create the secrets without a resource policy (no meshtrust stack deployed, e.g. a lab): by default the roles are read from the stack's stage-root function",
    )
    .option('--json', 'print the result as JSON');
  return addFleetOptions(command)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  meshtrust import-root --mesh-id prod --region eu-west-1 --certificate root-cert.pem --key root-key.pem\n' +
        '  meshtrust import-root --mesh-id prod --region eu-west-1 --certificate root-cert.pem --without-key\n\n' +
        "Each secret gets the resource policy the stack's functions put on theirs: only the stack's roles may read\n" +
        "the key, write or delete it. The roles are read from function meshtrust-<mesh-id>-stage-root's environment\n" +
        '(lambda:GetFunctionConfiguration); without that function nothing is written unless --no-secret-policy.\n\n' +
        'Exit codes: 0 imported (or already the current root), 1 the root is unfit or another root is current\n' +
        '(nothing written), 2 usage, 3 a file or AWS unreachable, or no deployed function names the roles.',
    )
    .action(async (options: ImportRootCommandOptions) => {
      if ((options.key === undefined) === (options.withoutKey !== true)) {
        throw new UsageError(
          'say what to do with the root key: --key FILE to store it, or --without-key to keep it offline',
        );
      }
      const config = fleetConfig(options, context.env);
      const certificatePem = await readPem(options.certificate, 'certificate');
      const privateKeyPem = options.key === undefined ? undefined : await readPem(options.key, 'key');
      const problems = await rootImportProblems({
        certificatePem,
        ...(privateKeyPem !== undefined && { privateKeyPem }),
        now: new Date(),
      });
      if (problems.length > 0) {
        throw new CliError(
          `the root cannot be imported; nothing was written:\n  - ${problems.join('\n  - ')}`,
          EXIT_CODES.checkFailed,
        );
      }
      const secretPolicy = options.secretPolicy
        ? await deployedSecretPolicy(config.meshId, config.region)
        : undefined;
      const report = await importRoot({
        meshId: config.meshId,
        region: config.region,
        ...(secretPolicy !== undefined && { secretPolicy }),
        kmsKeyId: options.kmsKeyId ?? config.kmsKeyId ?? caStoreKeyAlias(config.meshId),
        certificatePem,
        ...(privateKeyPem !== undefined && { privateKeyPem }),
      });
      if (options.json) {
        context.terminal.out(JSON.stringify(report, null, 2));
        return;
      }
      context.terminal.out(
        report.written
          ? `imported root ${report.fingerprint} as the current root of mesh ${report.meshId} (${report.rootSecret}, version ${report.versionId})`
          : `root ${report.fingerprint} already is the current root of mesh ${report.meshId}; nothing was written`,
      );
      context.terminal.out(
        report.key === 'secret'
          ? 'its key is in a secret of its own; the first scheduled or emergency rotation retires this root and deletes that secret'
          : 'its key stays offline: intermediate mode is refused until a scheduled rotation moves the mesh to a root whose key is in KMS',
      );
      context.terminal.out(
        report.secretPolicyFrom === undefined
          ? 'its secrets have no resource policy (--no-secret-policy): IAM alone guards them until the first rotation'
          : `its secrets have the resource policy of the stack's roles (read from function ${report.secretPolicyFrom})`,
      );
      context.terminal.out('next: meshtrust verify, then meshtrust plan');
    });
}

/**
 * The roles of the CA secrets' resource policy, as the deployed stack handed them to its functions:
 * read from stage-root's environment (every rotation function gets the same CA_SECRET_POLICY_ENV keys).
 * Refused (exit 3, before anything is written) when the function is not there or names no role.
 */
async function deployedSecretPolicy(
  meshId: string,
  region: string,
): Promise<{ readonly principals: CaSecretPolicyPrincipals; readonly from: string }> {
  const functionName = rotationFunctionName(meshId, ROOT_STAGING_HANDLER);
  const client = new LambdaClient({ region });
  let environment: Awaited<ReturnType<typeof readFunctionEnvironment>>;
  try {
    environment = await readFunctionEnvironment(client, functionName);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new EnvironmentError(
      `could not read the configuration of function ${functionName}, which names the roles of the secrets' ` +
        `resource policy: ${reason}. It needs lambda:GetFunctionConfiguration on that function; nothing was written.`,
      { cause: error },
    );
  } finally {
    client.destroy();
  }
  const principals = environment === undefined ? undefined : secretPolicyPrincipalsOf(environment);
  if (principals === undefined) {
    throw new EnvironmentError(
      `${environment === undefined ? `no function ${functionName} in ${region}` : `function ${functionName} names no role for the CA secrets' resource policy`}, ` +
        'so the secrets would get no resource policy; nothing was written. Deploy the meshtrust stack of this mesh ' +
        '(docs/deploy.md) and check --mesh-id and --region, or pass --no-secret-policy to import without one ' +
        '(IAM alone then guards them until the first rotation).',
    );
  }
  return { principals, from: functionName };
}

async function importRoot(input: {
  readonly meshId: string;
  readonly region: string;
  readonly kmsKeyId: string;
  readonly certificatePem: string;
  readonly privateKeyPem?: string;
  readonly secretPolicy?: { readonly principals: CaSecretPolicyPrincipals; readonly from: string };
}): Promise<ImportRootReport> {
  const client = new SecretsManagerClient({ region: input.region });
  const store = new CaSecretStore({
    client,
    meshId: input.meshId,
    kmsKeyId: input.kmsKeyId,
    ...(input.secretPolicy !== undefined && { secretPolicy: input.secretPolicy.principals }),
  });
  const fingerprint = certificateFingerprint(input.certificatePem);
  try {
    const before = await store.describeRoot();
    const ref = await store.importRoot({
      material: {
        certificatePem: input.certificatePem,
        fingerprint,
        ...(input.privateKeyPem !== undefined && { privateKeyPem: input.privateKeyPem }),
      },
      // The same root imported again is the same write.
      token: clientRequestTokenFor(`import-root/${input.meshId}`, fingerprint),
    });
    const stored = await store.readRootVersion(ref.versionId);
    return {
      meshId: input.meshId,
      rootSecret: store.rootSecretName,
      versionId: ref.versionId,
      fingerprint,
      key: stored.material.key.kind === 'offline' ? 'offline' : 'secret',
      written: before.current === undefined,
      ...(input.secretPolicy !== undefined && { secretPolicyFrom: input.secretPolicy.from }),
    };
  } catch (error) {
    if (error instanceof RotationError)
      throw new CliError(error.message, EXIT_CODES.checkFailed, { cause: error });
    const reason = error instanceof Error ? error.message : String(error);
    throw new EnvironmentError(
      `could not write the root to ${store.rootSecretName}: ${reason}. Check the credentials (--profile), the ` +
        'region (--region), that the meshtrust stack of this mesh is deployed (its KMS key encrypts the secrets) ' +
        'or --kms-key-id.',
      { cause: error },
    );
  } finally {
    client.destroy();
  }
}

async function readPem(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'an error';
    throw new EnvironmentError(`cannot read the ${what} file ${file} (${code})`, { cause: error });
  }
}
