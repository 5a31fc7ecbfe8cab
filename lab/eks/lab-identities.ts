// The AWS identities that exist in the lab, and which of them each lab cluster lets in (its access
// entries). Credentials are random per lab start: nothing here is a fixed secret, and nothing of it is
// ever committed or logged.
import { randomBytes, randomInt } from 'node:crypto';

/** The account every lab resource lives in (the value moto and the docs use for a fake account). */
export const LAB_ACCOUNT_ID = '000000000000';

/** Kubernetes groups the lab's RBAC knows: only these get in (see lab/kube). */
export const ROTATOR_GROUP = 'meshtrust-rotator';
export const VIEWER_GROUP = 'meshtrust-viewer';
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
  /** The daily expiry check's role; mapped to group meshtrust-expiry-check in every cluster. */
  readonly expiryCheck: LabIdentity;
  /** Valid AWS credentials without an access entry anywhere: authenticates, then gets no groups. */
  readonly outsider: LabIdentity;
  readonly all: readonly LabIdentity[];
  /** Per cluster name: principal (IAM role) ARN -> the Kubernetes identity EKS maps it to. */
  readonly accessEntries: ReadonlyMap<string, ReadonlyMap<string, KubeIdentity>>;
}

export interface CreateLabIdentitiesOptions {
  /** The lab clusters; each gets access entries for the rotator, the viewer and the expiry check. */
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
  return {
    name,
    arn: `arn:aws:sts::${LAB_ACCOUNT_ID}:assumed-role/${roleName}/${sessionName}`,
    principalArn: `arn:aws:iam::${LAB_ACCOUNT_ID}:role/${roleName}`,
    credentials: {
      accessKeyId: randomAccessKeyId(),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(96).toString('base64'),
    },
  };
}

/** Creates fresh random identities and the access entries of every given cluster. */
export function createLabIdentities(options: CreateLabIdentitiesOptions): LabIdentities {
  const sessionName = options.sessionName ?? 'lab';
  const rotator = createIdentity('rotator', 'meshtrust-rotator', sessionName);
  const viewer = createIdentity('viewer', 'meshtrust-viewer', sessionName);
  const expiryCheck = createIdentity('expiry-check', 'meshtrust-expiry-check', sessionName);
  const outsider = createIdentity('outsider', 'some-other-team', sessionName);
  const accessEntries = new Map<string, ReadonlyMap<string, KubeIdentity>>();
  for (const clusterName of options.clusterNames) {
    accessEntries.set(
      clusterName,
      new Map<string, KubeIdentity>([
        [rotator.principalArn, { username: rotator.arn, groups: [ROTATOR_GROUP] }],
        [viewer.principalArn, { username: viewer.arn, groups: [VIEWER_GROUP] }],
        [expiryCheck.principalArn, { username: expiryCheck.arn, groups: [EXPIRY_CHECK_GROUP] }],
      ]),
    );
  }
  return {
    rotator,
    viewer,
    expiryCheck,
    outsider,
    all: [rotator, viewer, expiryCheck, outsider],
    accessEntries,
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
  const entry = identities.accessEntries.get(clusterName)?.get(identity.principalArn);
  return entry
    ? { username: entry.username, groups: [...entry.groups] }
    : { username: identity.arn, groups: [] };
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
