// The lab's sts:AssumeRole, as the AWS SDK calls it (query protocol: a form-encoded POST, an XML
// answer): a lab identity may assume a role when the role's trust (allowAssumeRole) names the caller's
// own role, and then gets a new session of that role with fresh credentials, which the lab's EKS API
// and Kubernetes API servers know from then on. The functions of a rehearsal reach the clusters this
// way: each runs as its own role and assumes the cluster role the stack names (CLUSTER_ROLE_ARN).
import { randomUUID } from 'node:crypto';
import { addRoleSession, type LabIdentities, type LabIdentity } from './lab-identities.js';

/** How long the issued credentials say they last, as STS's default DurationSeconds. */
const SESSION_SECONDS = 3600;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

export interface StsAnswer {
  readonly status: number;
  readonly xml: string;
}

/** Whether a request body is an STS query-protocol call (the lab serves AssumeRole only). */
export function isStsCall(body: string): boolean {
  return new URLSearchParams(body).has('Action') && new URLSearchParams(body).get('Version') === '2011-06-15';
}

/** Answers one STS call of `caller`, already authenticated by its SigV4 signature. */
export function answerStsCall(identities: LabIdentities, caller: LabIdentity, body: string): StsAnswer {
  const params = new URLSearchParams(body);
  const action = params.get('Action');
  if (action !== 'AssumeRole') {
    return stsError(400, 'InvalidAction', `The lab's STS serves AssumeRole only, not ${action}.`);
  }
  const roleArn = params.get('RoleArn') ?? '';
  const sessionName = params.get('RoleSessionName') ?? '';
  if (!SESSION_NAME.test(sessionName)) {
    return stsError(
      400,
      'ValidationError',
      `RoleSessionName ${JSON.stringify(sessionName)} must match [\\w+=,.@-]{2,64}.`,
    );
  }
  if (!identities.trust.get(roleArn)?.has(caller.principalArn)) {
    return stsError(
      403,
      'AccessDenied',
      `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    );
  }
  const session = addRoleSession(identities, {
    name: `session of ${roleArn}`,
    principalArn: roleArn,
    sessionName,
  });
  const expiration = new Date(Date.now() + SESSION_SECONDS * 1000).toISOString();
  return {
    status: 200,
    xml: [
      '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">',
      '<AssumeRoleResult>',
      '<Credentials>',
      `<AccessKeyId>${session.credentials.accessKeyId}</AccessKeyId>`,
      `<SecretAccessKey>${session.credentials.secretAccessKey}</SecretAccessKey>`,
      `<SessionToken>${session.credentials.sessionToken}</SessionToken>`,
      `<Expiration>${expiration}</Expiration>`,
      '</Credentials>',
      `<AssumedRoleUser><Arn>${session.arn}</Arn><AssumedRoleId>AROALAB:${sessionName}</AssumedRoleId></AssumedRoleUser>`,
      '</AssumeRoleResult>',
      `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`,
      '</AssumeRoleResponse>',
    ].join(''),
  };
}

/**
 * An STS error answer (the query protocol's XML), e.g. for a request whose signature does not verify.
 * Its Type is the fault's side as STS writes it: Receiver for a 5xx (STS's own), Sender otherwise.
 */
export function stsError(status: number, code: string, message: string): StsAnswer {
  const escaped = message.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const side = status >= 500 ? 'Receiver' : 'Sender';
  return {
    status,
    xml:
      '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">' +
      `<Error><Type>${side}</Type><Code>${code}</Code><Message>${escaped}</Message></Error>` +
      `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}
