import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Effect, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { caStoreKeyAlias, ROOT_SECRET_SUFFIX } from '../lambdas/contract/ca-store.js';
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
  /** ARN pattern matching every secret under the prefix (Secrets Manager appends a random suffix). */
  readonly secretArnPattern: string;
  /** ARN pattern of the root secret alone, `meshtrust/<meshId>/root-??????` (the suffix Secrets Manager adds). */
  readonly rootSecretArnPattern: string;
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
    this.secretArnPattern = Stack.of(this).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${this.secretPrefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.rootSecretArnPattern = Stack.of(this).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      // Exactly six characters after a dash: `root-key/...` and any longer name do not match.
      resourceName: `${this.secretPrefix}${ROOT_SECRET_SUFFIX}-??????`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.importedRootKeySecretArnPattern = Stack.of(this).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${this.secretPrefix}root-key/*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.rootKeyAliasArnPattern = Stack.of(this).formatArn({
      service: 'kms',
      resource: rootKeyAliasPrefix(props.meshId).replace(/\/$/, ''),
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  /**
   * Create the mesh's root keys (asymmetric SIGN_VERIFY keys of the specs meshtrust signs with) and name
   * them with aliases under `alias/meshtrust/<meshId>/root/`; delete an imported root's key secret once
   * its root is retired. Using a root key is granted by that key's own policy, which stage-root writes
   * when it creates the key (lambdas/adapters/kms/root-key-policy.ts), never by IAM: no tag or alias
   * the grantee could put on another key gives it that key. kms:PutKeyPolicy is denied outright, so the
   * grantee cannot widen a key policy either.
   */
  grantRootKeys(grantee: IGrantable): void {
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
    principal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'NeverWidenAKeyPolicy',
        effect: Effect.DENY,
        actions: ['kms:PutKeyPolicy'],
        resources: ['*'],
      }),
    );
    principal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'DeleteRetiredImportedRootKeys',
        actions: ['secretsmanager:DeleteSecret', 'secretsmanager:DescribeSecret'],
        resources: [this.importedRootKeySecretArnPattern],
      }),
    );
  }

  /** Create, read, stage, promote and delete versions of the mesh's CA secrets. */
  grantManage(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ManageMeshCaSecrets',
        actions: [
          'secretsmanager:CreateSecret',
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
          'secretsmanager:ListSecretVersionIds',
          'secretsmanager:TagResource',
        ],
        resources: [this.secretArnPattern],
      }),
    );
    this.grantKeyUse(grantee, ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey']);
  }

  /**
   * Read the mesh's root secret only: the root certificates and where each root's key is, never a key.
   * Not the intermediates (their keys), the backups (cacerts) or an imported root's key.
   */
  grantReadRoot(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ReadMeshRootSecret',
        actions: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:ListSecretVersionIds',
        ],
        resources: [this.rootSecretArnPattern],
      }),
    );
    this.grantKeyUse(grantee, ['kms:Decrypt', 'kms:DescribeKey']);
  }

  private grantKeyUse(grantee: IGrantable, actions: string[]): void {
    // Only through Secrets Manager: the principal can never use the CA key directly.
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'UseCaKeyViaSecretsManager',
        actions,
        resources: [this.key.keyArn],
        conditions: {
          StringEquals: {
            'kms:ViaService': `secretsmanager.${Stack.of(this).region}.${Stack.of(this).urlSuffix}`,
          },
        },
      }),
    );
  }
}
