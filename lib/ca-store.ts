import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

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

  constructor(scope: Construct, id: string, props: CaStoreProps) {
    super(scope, id);
    this.secretPrefix = `meshtrust/${props.meshId}/`;
    this.key = new Key(this, 'Key', {
      alias: `alias/meshtrust/${props.meshId}/ca`,
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

  /** Read the mesh's CA secrets (certificates and their metadata). */
  grantRead(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ReadMeshCaSecrets',
        actions: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:ListSecretVersionIds',
        ],
        resources: [this.secretArnPattern],
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
