// The AWS identities that exist in the lab, and which of them each lab cluster lets in (its access
// entries). Credentials are random per lab start: nothing here is a fixed secret, and nothing of it is
// ever committed or logged.
import { randomBytes, randomInt } from 'node:crypto';

/** The account every lab resource lives in (the value moto and the docs use for a fake account). */
export const LAB_ACCOUNT_ID = '000000000000';
/**
 * The lab's second account (issue 13): where a rehearsal's `--other-account-clusters` places its last
 * clusters, reached only as roles of that account (placeClustersInAccount).
 */
export const LAB_OTHER_ACCOUNT_ID = '222222222222';

/** Kubernetes groups the lab's RBAC knows: only these get in (see lab/kube). */
export const ROTATOR_GROUP = 'meshtrust-rotator';
export const VIEWER_GROUP = 'meshtrust-viewer';
export const VERIFIER_GROUP = 'meshtrust-verifier';
export const EXPIRY_CHECK_GROUP = 'meshtrust-expiry-check';

/** What a Kubernetes API server learns about a caller after authentication. */
export interface KubeIdentity {
  readonly username: string;
  readonly groups: string[];
}

/** Temporary credentials of an assumed role, as STS would hand them out. */
export interface LabCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

export interface LabIdentity {
  /** Short name used in the lab's files and messages: rotator, viewer, outsider. */
  readonly name: string;
  /** What sts:GetCallerIdentity returns for these credentials (an assumed-role session ARN). */
  readonly arn: string;
  /** The IAM role behind the session; EKS access entries name this ARN, not the session ARN. */
  readonly principalArn: string;
  readonly credentials: LabCredentials;
}

export interface LabIdentities {
  /** The identity meshtrust runs as; mapped to group meshtrust-rotator in every cluster. */
  readonly rotator: LabIdentity;
  /** A read-only operator; mapped to group meshtrust-viewer in every cluster. */
  readonly viewer: LabIdentity;
  /** The rotation gates' read-only cluster role; mapped to group meshtrust-verifier in every cluster. */
  readonly verifier: LabIdentity;
  /** The daily expiry check's role; mapped to group meshtrust-expiry-check in every cluster. */
  readonly expiryCheck: LabIdentity;
  /** Valid AWS credentials without an access entry anywhere: authenticates, then gets no groups. */
  readonly outsider: LabIdentity;
  /** Every identity the lab knows; role sessions made later (addRoleSession) join it. */
  readonly all: readonly LabIdentity[];
  /** Per cluster name: principal (IAM role) ARN -> the Kubernetes identity EKS maps it to. */
  readonly accessEntries: ReadonlyMap<string, ReadonlyMap<string, KubeIdentity>>;
  /**
   * The lab's trust policies: role ARN -> the principal (role) ARNs that may assume it through the lab's
   * sts:AssumeRole (allowAssumeRole). A role not here can be assumed by nobody.
   */
  readonly trust: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface CreateLabIdentitiesOptions {
  /** The lab clusters; each gets access entries for the rotator, the viewer, the verifier and the expiry check. */
  readonly clusterNames: readonly string[];
  /** @default 'lab' */
  readonly sessionName?: string;
}

const ACCESS_KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function randomAccessKeyId(): string {
  // ASIA marks temporary (session) credentials, as STS AssumeRole returns them.
  let suffix = '';
  for (let i = 0; i < 16; i++) {
    suffix += ACCESS_KEY_ALPHABET[randomInt(ACCESS_KEY_ALPHABET.length)];
  }
  return `ASIA${suffix}`;
}

function createIdentity(name: string, roleName: string, sessionName: string): LabIdentity {
  return createSession(name, `arn:aws:iam::${LAB_ACCOUNT_ID}:role/${roleName}`, sessionName);
}

/** A session of the role `principalArn` (arn:aws:iam::<account>:role/<name>) with fresh random credentials. */
function createSession(name: string, principalArn: string, sessionName: string): LabIdentity {
  const role = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(principalArn);
  if (role === null) throw new RangeError(`${JSON.stringify(principalArn)} is not an IAM role ARN`);
  return {
    name,
    arn: `arn:aws:sts::${role[1]}:assumed-role/${role[2]}/${sessionName}`,
    principalArn,
    credentials: {
      accessKeyId: randomAccessKeyId(),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(96).toString('base64'),
    },
  };
}

/**
 * A new session of the role `principalArn`, with fresh random credentials, that the lab's AWS and
 * Kubernetes APIs know from now on (as STS knows what it issued). Its Kubernetes groups are its role's
 * access entries, if any.
 */
export function addRoleSession(
  identities: LabIdentities,
  options: { readonly name: string; readonly principalArn: string; readonly sessionName: string },
): LabIdentity {
  const session = createSession(options.name, options.principalArn, options.sessionName);
  (identities.all as LabIdentity[]).push(session);
  return session;
}

/** Lets the roles `principalArns` assume the role `roleArn` through the lab's sts:AssumeRole. */
export function allowAssumeRole(
  identities: LabIdentities,
  roleArn: string,
  principalArns: Iterable<string>,
): void {
  (identities.trust as Map<string, ReadonlySet<string>>).set(roleArn, new Set(principalArns));
}

/** A role of the account a cluster is placed in, and who reaches that account's clusters as it. */
export interface AccountRole {
  /** arn:aws:iam::<account>:role/<name> */
  readonly roleArn: string;
  /** The principal (role) ARNs its trust policy names: they may assume it through the lab's STS. */
  readonly trustedBy: readonly string[];
  /** The Kubernetes groups its access entry maps it to in each cluster placed there. */
  readonly groups: readonly string[];
}

/**
 * Sets up clusters of another account as an administrator of that account does (docs/deploy.md, "Clusters
 * in other regions and accounts"): each role of `roles` trusts its principals, and is the only access
 * entry of its groups in those clusters; the access entries of `replaces` (roles of the lab's own
 * account) are removed from them, since another account's cluster knows none of them. Returns what
 * puts the access entries back (the trust stays: nothing assumes a role of a cluster put back).
 */
export function placeClustersInAccount(
  identities: LabIdentities,
  options: {
    readonly clusterNames: readonly string[];
    readonly roles: readonly AccountRole[];
    readonly replaces: readonly string[];
  },
): () => void {
  const undo: (() => void)[] = [];
  for (const role of options.roles) allowAssumeRole(identities, role.roleArn, role.trustedBy);
  for (const clusterName of options.clusterNames) {
    const entries = identities.accessEntries.get(clusterName) as Map<string, KubeIdentity> | undefined;
    if (entries === undefined) throw new RangeError(`the lab has no cluster ${clusterName}`);
    const before = new Map(entries);
    for (const principalArn of options.replaces) entries.delete(principalArn);
    for (const role of options.roles)
      entries.set(role.roleArn, { username: role.roleArn, groups: [...role.groups] });
    undo.push(() => {
      entries.clear();
      for (const [principalArn, identity] of before) entries.set(principalArn, identity);
    });
  }
  return () => {
    for (const step of undo) step();
  };
}

/** Creates fresh random identities and the access entries of every given cluster. */
export function createLabIdentities(options: CreateLabIdentitiesOptions): LabIdentities {
  const sessionName = options.sessionName ?? 'lab';
  const rotator = createIdentity('rotator', 'meshtrust-rotator', sessionName);
  const viewer = createIdentity('viewer', 'meshtrust-viewer', sessionName);
  const verifier = createIdentity('verifier', 'meshtrust-verifier', sessionName);
  const expiryCheck = createIdentity('expiry-check', 'meshtrust-expiry-check', sessionName);
  const outsider = createIdentity('outsider', 'some-other-team', sessionName);
  const accessEntries = new Map<string, ReadonlyMap<string, KubeIdentity>>();
  for (const clusterName of options.clusterNames) {
    accessEntries.set(
      clusterName,
      new Map<string, KubeIdentity>([
        [rotator.principalArn, { username: rotator.arn, groups: [ROTATOR_GROUP] }],
        [viewer.principalArn, { username: viewer.arn, groups: [VIEWER_GROUP] }],
        [verifier.principalArn, { username: verifier.arn, groups: [VERIFIER_GROUP] }],
        [expiryCheck.principalArn, { username: expiryCheck.arn, groups: [EXPIRY_CHECK_GROUP] }],
      ]),
    );
  }
  return {
    rotator,
    viewer,
    verifier,
    expiryCheck,
    outsider,
    all: [rotator, viewer, verifier, expiryCheck, outsider],
    accessEntries,
    trust: new Map(),
  };
}

/** The identity owning an access key id, if the lab knows it. */
export function findIdentityByAccessKeyId(
  identities: LabIdentities,
  accessKeyId: string,
): LabIdentity | undefined {
  return identities.all.find((identity) => identity.credentials.accessKeyId === accessKeyId);
}

/**
 * The Kubernetes identity of an authenticated AWS identity in one cluster. Without an access entry
 * the caller keeps its name but gets no groups, so the API server's authorisation refuses it (403).
 */
export function kubeIdentityFor(
  identities: LabIdentities,
  clusterName: string,
  identity: LabIdentity,
): KubeIdentity {
  // EKS names the caller by its session ARN (an access entry's default username) and gives it the groups
  // of its role's entry.
  const entry = identities.accessEntries.get(clusterName)?.get(identity.principalArn);
  return { username: identity.arn, groups: entry ? [...entry.groups] : [] };
}

/** Environment variables that make awscli and the AWS SDK act as this identity in the lab region. */
export function awsEnvironmentFor(identity: LabIdentity, region: string): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: identity.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: identity.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: identity.credentials.sessionToken,
    AWS_DEFAULT_REGION: region,
    AWS_REGION: region,
  };
}
