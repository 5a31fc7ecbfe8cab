import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Effect, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { CA_SECRET_NAMES, type CaSecretPart, caStoreKeyAlias } from '../lambdas/contract/ca-store.js';
import { ROOT_KEY_SPECS, rootKeyAliasPrefix } from '../lambdas/contract/root-keys.js';

export interface CaStoreProps {
  /** The mesh whose CA material this store holds; names the secret prefix `meshtrust/<meshId>/`. */
  readonly meshId: string;
  /**
   * What happens to the KMS key when the stack is deleted. Deleting it makes every stored root and
   * intermediate unreadable, so the default keeps it.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Where the mesh's CA lives: Secrets Manager secrets under `meshtrust/<meshId>/`, encrypted with a
 * dedicated customer-managed KMS key (yearly key rotation on).
 *
 * The stack deliberately creates no secret. A CloudFormation secret needs a value at deploy time, and
 * a generated placeholder in the root secret would look like a CA to anything reading `AWSCURRENT`.
 * The handlers create `meshtrust/<meshId>/root` and `meshtrust/<meshId>/intermediate/<cluster>` on
 * first use, always with this key, and IAM is scoped to ARNs under the prefix instead.
 */
export class CaStore extends Construct {
  /** The key every CA secret is encrypted with. */
  readonly key: Key;
  /** Secret name prefix, `meshtrust/<meshId>/`. */
  readonly secretPrefix: string;
  /**
   * ARN pattern of each part of the store (Secrets Manager appends `-` and six random characters to a
   * secret's name): the root secret alone (`root-??????`: `root-key/...` does not match),
   * `intermediate/*`, `backup/*`.
   */
  readonly secretArnPatterns: Readonly<Record<CaSecretPart, string>>;
  /** ARN pattern of the imported root keys' secrets, `meshtrust/<meshId>/root-key/*`. */
  readonly importedRootKeySecretArnPattern: string;
  /** ARN pattern of the root keys' aliases, `alias/meshtrust/<meshId>/root/*`. */
  readonly rootKeyAliasArnPattern: string;

  constructor(scope: Construct, id: string, props: CaStoreProps) {
    super(scope, id);
    this.secretPrefix = `meshtrust/${props.meshId}/`;
    this.key = new Key(this, 'Key', {
      alias: caStoreKeyAlias(props.meshId),
      description: `Encrypts the CA secrets of mesh ${props.meshId} (meshtrust)`,
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    const secretArn = (name: string) =>
      Stack.of(this).formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: `${this.secretPrefix}${name}`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    this.secretArnPatterns = {
      root: secretArn(`${CA_SECRET_NAMES.root}-??????`),
      intermediates: secretArn(`${CA_SECRET_NAMES.intermediates}*`),
      backups: secretArn(`${CA_SECRET_NAMES.backups}*`),
    };
    this.importedRootKeySecretArnPattern = secretArn(`${CA_SECRET_NAMES.importedRootKeys}*`);
    this.rootKeyAliasArnPattern = Stack.of(this).formatArn({
      service: 'kms',
      resource: rootKeyAliasPrefix(props.meshId).replace(/\/$/, ''),
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  /**
   * Create the mesh's root keys (asymmetric SIGN_VERIFY keys of the specs meshtrust signs with) and name
   * them with aliases under `alias/meshtrust/<meshId>/root/`. Using, signing with and retiring a root key
   * is granted by that key's own policy, which stage-root writes when it creates the key
   * (lambdas/adapters/kms/root-key-policy.ts), never by IAM: no tag or alias the grantee could put on
   * another key gives it that key.
   */
  grantCreateRootKeys(grantee: IGrantable): void {
    const principal = grantee.grantPrincipal;
    principal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'CreateRootKeys',
        // CreateKey has no resource-level permission; the conditions pin what may be created.
        actions: ['kms:CreateKey'],
        resources: ['*'],
        conditions: {
          StringEquals: {
            'kms:KeyUsage': 'SIGN_VERIFY',
            'kms:KeySpec': [...ROOT_KEY_SPECS],
          },
          Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'false' },
        },
      }),
    );
    principal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'NameRootKeys',
        actions: ['kms:CreateAlias'],
        resources: [this.rootKeyAliasArnPattern],
      }),
    );
  }

  /**
   * Denies kms:PutKeyPolicy on every key: a root key's policy names the functions that use it (for the
   * creator, as KMS's lockout check requires), and an explicit deny wins, so none can widen it.
   */
  denyKeyPolicyChanges(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'NeverWidenAKeyPolicy',
        effect: Effect.DENY,
        actions: ['kms:PutKeyPolicy'],
        resources: ['*'],
      }),
    );
  }

  /**
   * An imported root's key secret (`root-key/*`): `read` to sign with that root, `delete` to schedule
   * the secret's deletion once its root is retired.
   */
  grantImportedRootKeys(grantee: IGrantable, level: 'read' | 'delete'): void {
    const actions =
      level === 'read'
        ? ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']
        : ['secretsmanager:DeleteSecret', 'secretsmanager:DescribeSecret'];
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: level === 'read' ? 'ReadImportedRootKeys' : 'DeleteRetiredImportedRootKeys',
        actions,
        resources: [this.importedRootKeySecretArnPattern],
      }),
    );
    if (level === 'read') this.grantKeyUse(grantee, false);
  }

  /** Schedule the deletion of cacerts backups (`backup/*`); no read of them. */
  grantDeleteBackups(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'DeleteCacertsBackups',
        actions: ['secretsmanager:DeleteSecret', 'secretsmanager:DescribeSecret'],
        resources: [this.secretArnPatterns.backups],
      }),
    );
  }

  /**
   * Read, or write (create, put, stage, tag, and read), one part of the CA store: the root secret (no
   * key in it), the intermediates (with their keys) or the cacerts backups (with the keys).
   */
  grantSecrets(grantee: IGrantable, part: CaSecretPart, level: 'read' | 'write'): void {
    const read = [
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:ListSecretVersionIds',
    ];
    const write = [
      'secretsmanager:CreateSecret',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
      'secretsmanager:TagResource',
    ];
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: `${level === 'read' ? 'Read' : 'Write'}${SECRET_PART_SIDS[part]}`,
        actions: level === 'read' ? read : [...read, ...write],
        resources: [this.secretArnPatterns[part]],
      }),
    );
    this.grantKeyUse(grantee, level === 'write');
  }

  /** The CA store key, only through Secrets Manager: to read secrets, and to write them when `write`. */
  private grantKeyUse(grantee: IGrantable, write: boolean): void {
    const viaSecretsManager = {
      StringEquals: {
        'kms:ViaService': `secretsmanager.${Stack.of(this).region}.${Stack.of(this).urlSuffix}`,
      },
    };
    // The same statement for every part a role reaches: CDK keeps one of identical statements.
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'DecryptCaSecretsViaSecretsManager',
        actions: ['kms:Decrypt', 'kms:DescribeKey'],
        resources: [this.key.keyArn],
        conditions: viaSecretsManager,
      }),
    );
    if (write) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          sid: 'EncryptCaSecretsViaSecretsManager',
          actions: ['kms:GenerateDataKey'],
          resources: [this.key.keyArn],
          conditions: viaSecretsManager,
        }),
      );
    }
  }
}

const SECRET_PART_SIDS: Readonly<Record<CaSecretPart, string>> = {
  root: 'MeshRootSecret',
  intermediates: 'MeshIntermediateSecrets',
  backups: 'MeshCacertsBackups',
};
