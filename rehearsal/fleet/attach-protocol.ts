// What `meshtrust lab` serves so that `meshtrust rehearse --lab DIR` can rotate it from another process
// (its control endpoint, lab-control-server.ts): the fleet's facts, the workloads' certificates and
// istiod's refusals as the lab's own process knows them, and a way to make the rehearsal's function
// role sessions known to the lab's STS and EKS token check. Both ends are here; nothing here carries a
// private key (`cacerts` is read through the Kubernetes API, as the rotator).
import type { LabIdentities, LabIdentity } from '../../lab/eks/lab-identities.js';
import { LabControlError } from '../../lab/lab-control-server.js';
import type { LabEngineDescription } from '../../lab/lab-files.js';
import type { RehearsalFleet } from './rehearsal-fleet.js';

/** GET /v1/fleet */
export interface AttachedFleetFacts {
  readonly engine: LabEngineDescription;
  readonly meshId: string;
  readonly workloadsPerCluster: number;
  readonly workloadCertTtlMs: number;
  readonly settleMs: number;
  readonly clusters: readonly { readonly name: string; readonly primary?: string }[];
}

/** POST /v1/identities */
export interface AddIdentitiesRequest {
  readonly sessions: readonly LabIdentity[];
  /** role ARN -> the role ARNs that may assume it */
  readonly trust: Readonly<Record<string, readonly string[]>>;
}

/** The attach routes of a running lab, answered from its rehearsal fleet view and its identities. */
export function labAttachHandlers(fleet: RehearsalFleet, workloadsPerCluster: number) {
  const facts: AttachedFleetFacts = {
    engine: fleet.engine,
    meshId: fleet.meshId,
    workloadsPerCluster,
    workloadCertTtlMs: fleet.workloadCertTtlMs,
    settleMs: fleet.settleMs,
    clusters: fleet.clusters.map(({ name, primary }) => ({
      name,
      ...(primary === undefined ? {} : { primary }),
    })),
  };
  return {
    fleet: () => facts,
    workloadCertificates: () => fleet.workloadCertificates(),
    refusedCacerts: () => fleet.refusedCacerts(),
    addIdentities: (body: unknown) => addIdentities(fleet.identities, body),
  };
}

function addIdentities(identities: LabIdentities, body: unknown): void {
  const { sessions, trust } = (body ?? {}) as Partial<AddIdentitiesRequest>;
  if (!Array.isArray(sessions) || typeof trust !== 'object' || trust === null) {
    throw new LabControlError('POST /v1/identities wants { sessions: [...], trust: {...} }', { status: 400 });
  }
  for (const session of sessions) {
    const credentials = (session as Partial<LabIdentity>)?.credentials;
    const ok =
      typeof session?.name === 'string' &&
      typeof session.arn === 'string' &&
      /^arn:aws:iam::\d{12}:role\//.test(String(session.principalArn)) &&
      typeof credentials?.accessKeyId === 'string' &&
      typeof credentials.secretAccessKey === 'string' &&
      typeof credentials.sessionToken === 'string';
    if (!ok)
      throw new LabControlError('a session lacks name, arn, principalArn or credentials', { status: 400 });
  }
  for (const [role, principals] of Object.entries(trust)) {
    if (!Array.isArray(principals) || principals.some((principal) => typeof principal !== 'string')) {
      throw new LabControlError(`trust of ${role} must be a list of role ARNs`, { status: 400 });
    }
  }
  const all = identities.all as LabIdentity[];
  for (const session of sessions) {
    if (all.some((known) => known.credentials.accessKeyId === session.credentials.accessKeyId)) continue;
    all.push({
      name: session.name,
      arn: session.arn,
      principalArn: session.principalArn,
      credentials: { ...session.credentials },
    });
  }
  // Two rehearsals of one stack name the same roles with the same trust: the last writer's set is theirs too.
  const policies = identities.trust as Map<string, ReadonlySet<string>>;
  for (const [role, principals] of Object.entries(trust)) {
    policies.set(role, new Set([...(policies.get(role) ?? []), ...principals]));
  }
}
