import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  ArnPrincipal,
  Effect,
  type IGrantable,
  type IPrincipal,
  type IRole,
  PolicyStatement,
} from 'aws-cdk-lib/aws-iam';
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
  /**
   * The key policy's statements that name the functions' roles (grantKeyUse adds each role): decrypt
   * (readers), generate data keys (writers), describe (both), each only through Secrets Manager and the
   * first two only for the mesh's secrets (encryption context `SecretARN`).
   */
  private readonly keyUse: Record<'decrypt' | 'encrypt' | 'describe', PolicyStatement>;
  private readonly keyUseInPolicy = new Set<PolicyStatement>();

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
    const viaSecretsManager = this.viaSecretsManager();
    const forMeshSecrets = { ...viaSecretsManager, ...this.forMeshSecrets(this.secretArnPattern()) };
    // The account keeps kms:* (CDK's default statement): without it no one could ever change this policy
    // again. What that leaves open is in docs/security.md ("The CA store key").
    this.keyUse = {
      decrypt: new PolicyStatement({
        sid: 'FunctionsDecryptMeshSecretsViaSecretsManager',
        actions: ['kms:Decrypt'],
        resources: ['*'],
        conditions: forMeshSecrets,
      }),
      encrypt: new PolicyStatement({
        sid: 'FunctionsEncryptMeshSecretsViaSecretsManager',
        actions: ['kms:GenerateDataKey'],
        resources: ['*'],
        conditions: forMeshSecrets,
      }),
      describe: new PolicyStatement({
        sid: 'FunctionsDescribeKeyViaSecretsManager',
        actions: ['kms:DescribeKey'],
        resources: ['*'],
        conditions: viaSecretsManager,
      }),
    };
    this.rootKeyAliasArnPattern = Stack.of(this).formatArn({
      service: 'kms',
      resource: rootKeyAliasPrefix(props.meshId).replace(/\/$/, ''),
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  /**
   * Create the mesh's root keys (asymmetric SIGN_VERIFY keys of the specs meshtrust signs with) and name
   * them with aliases under `alias/meshtrust/<meshId>/root/`, and list the account's keys and aliases to
   * find one an earlier attempt made. Using, signing with and retiring a root key
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
   * The listing of key and alias ids (neither has a resource-level permission), to find the keys of a
   * root version that no alias names: a retried stage-root, the key an earlier attempt made before
   * naming it (a CreateKey whose answer was lost); rollback, every key of the root version it drops. The
   * tags it then reads come from each root key's own policy (kms:ListResourceTags, use `find`), so no
   * other key's tags are readable; docs/security.md, "Finding a root key made twice".
   */
  grantFindRootKeys(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ListKeysToFindUnnamedRootKeys',
        actions: ['kms:ListAliases', 'kms:ListKeys'],
        resources: ['*'],
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
   * Read, or write (create, put its resource policy, put, stage, tag, and read), one part of the CA store: the root secret (no
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
      // The handlers put a resource policy on every secret they create (docs/security.md).
      'secretsmanager:PutResourcePolicy',
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

  /**
   * The CA store key, only through Secrets Manager and only for the mesh's secrets: to read secrets, and
   * to write them when `write`. Granted twice, in the role's IAM policy and by name in the key's policy.
   */
  private grantKeyUse(grantee: IGrantable, write: boolean): void {
    const viaSecretsManager = this.viaSecretsManager();
    const forMeshSecrets = { ...viaSecretsManager, ...this.forMeshSecrets(this.secretArnPattern()) };
    // The same statements for every part a role reaches: CDK keeps one of identical statements.
    const principal = grantee.grantPrincipal;
    principal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'DecryptCaSecretsViaSecretsManager',
        actions: ['kms:Decrypt'],
        resources: [this.key.keyArn],
        conditions: forMeshSecrets,
      }),
    );
    principal.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'DescribeCaStoreKeyViaSecretsManager',
        actions: ['kms:DescribeKey'],
        resources: [this.key.keyArn],
        conditions: viaSecretsManager,
      }),
    );
    this.nameInKeyPolicy(this.keyUse.decrypt, principal);
    this.nameInKeyPolicy(this.keyUse.describe, principal);
    if (write) {
      principal.addToPrincipalPolicy(
        new PolicyStatement({
          sid: 'EncryptCaSecretsViaSecretsManager',
          actions: ['kms:GenerateDataKey'],
          resources: [this.key.keyArn],
          conditions: forMeshSecrets,
        }),
      );
      this.nameInKeyPolicy(this.keyUse.encrypt, principal);
    }
  }

  /** Adds a role to one of the key policy's statements (once), and the statement to the policy with its first role. */
  private nameInKeyPolicy(statement: PolicyStatement, principal: IPrincipal): void {
    const arn = (principal as Partial<IRole>).roleArn;
    if (arn === undefined) {
      throw new TypeError(`${this.node.path}: the CA store key's policy names roles only, got ${principal}`);
    }
    if (statement.principals.some((known) => (known as Partial<ArnPrincipal>).arn === arn)) return;
    statement.addPrincipals(new ArnPrincipal(arn));
    if (!this.keyUseInPolicy.has(statement)) {
      this.key.addToResourcePolicy(statement);
      this.keyUseInPolicy.add(statement);
    }
  }

  private viaSecretsManager(): Record<string, Record<string, string>> {
    const stack = Stack.of(this);
    return { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.${stack.urlSuffix}` } };
  }

  /** Secrets Manager puts the secret's ARN in the encryption context of every KMS call it makes for it. */
  private forMeshSecrets(secretArnPattern: string): Record<string, Record<string, string>> {
    return { StringLike: { 'kms:EncryptionContext:SecretARN': secretArnPattern } };
  }

  /** Every secret of the mesh, `arn:...:secret:meshtrust/<meshId>/*`. */
  private secretArnPattern(): string {
    return Stack.of(this).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${this.secretPrefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }
}

const SECRET_PART_SIDS: Readonly<Record<CaSecretPart, string>> = {
  root: 'MeshRootSecret',
  intermediates: 'MeshIntermediateSecrets',
  backups: 'MeshCacertsBackups',
};
