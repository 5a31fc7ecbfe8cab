// A lab that `meshtrust lab --out DIR` started and keeps running, as a rehearsal fleet: found from
// DIR's files, driven from this process. `cacerts` is read through each cluster's Kubernetes API as
// the rotator (DIR/env), polled since the rotator may not watch; what only the lab's process knows
// (the fleet's facts, workloads' certificates, istiod's refusals, the prober) comes through its control
// endpoint (attach-protocol.ts). Nothing here starts or stops the lab or its moto_server.
import { readFile } from 'node:fs/promises';
import { cacertsSnapshot, type SecretData } from '../../lab/cacerts-snapshot.js';
import type { LabIdentities, LabIdentity } from '../../lab/eks/lab-identities.js';
import { CACERTS_SECRET_NAME, ISTIO_SYSTEM_NAMESPACE } from '../../lab/istio/istiod-model.js';
import type { HandshakeFailure, MtlsProber, ProbeCounts, RoundResult } from '../../lab/istio/mtls-prober.js';
import { callLabControl, type LabProbeReport } from '../../lab/lab-control-server.js';
import { LabError } from '../../lab/lab-errors.js';
import {
  type LabControlAccess,
  type LabDescription,
  LabFilesError,
  readLabControlAccess,
  readLabDescription,
} from '../../lab/lab-files.js';
import { labKubeRequest } from '../../lab/lab-kube-request.js';
import { isProcessAlive } from '../../lab/process-alive.js';
import type { AddIdentitiesRequest, AttachedFleetFacts } from './attach-protocol.js';
import type { RefusedCacerts, RehearsalFleet, WorkloadCertificate } from './rehearsal-fleet.js';

/** The lab is not there, not running, or cannot be rotated from here; the message says what to do. */
export class LabNotAttachableError extends LabError {
  readonly dir: string;
  constructor(dir: string, message: string, options?: ErrorOptions) {
    super(`--lab ${dir}: ${message}`, options);
    this.name = 'LabNotAttachableError';
    this.dir = dir;
  }
}

export interface AttachedFleet extends RehearsalFleet {
  readonly dir: string;
  /** The lab's moto_server: its AWS account, shared by every rehearsal attached to it. */
  readonly moto: { readonly endpoint: string; readonly pid: number };
  readonly workloadsPerCluster: number;
}

/** How often `cacerts` is read for the timeline (a write replaced within this is not seen). */
const CACERTS_POLL_MS = 250;
/** Pause between the rehearsal's probe rounds through the lab's control endpoint. */
const PROBE_INTERVAL_MS = 1_000;
const IDENTITY_NAMES = {
  rotator: 'rotator',
  viewer: 'viewer',
  verifier: 'verifier',
  expiryCheck: 'expiry-check',
  outsider: 'outsider',
} as const;

export async function attachRehearsalFleet(dir: string): Promise<AttachedFleet> {
  let description: LabDescription;
  let access: LabControlAccess;
  try {
    description = await readLabDescription(dir);
  } catch (error) {
    if (error instanceof LabFilesError) throw new LabNotAttachableError(dir, error.message, { cause: error });
    throw error;
  }
  if (description.state !== 'running' || !isProcessAlive(description.pid)) {
    throw new LabNotAttachableError(
      dir,
      `the lab there is not running (lab.json says ${description.state}, pid ${description.pid} ` +
        `${isProcessAlive(description.pid) ? 'alive' : 'gone'}); start it with \`meshtrust lab --out ${dir}\``,
    );
  }
  if (description.moto === undefined || !isProcessAlive(description.moto.pid)) {
    throw new LabNotAttachableError(
      dir,
      description.moto === undefined
        ? 'the lab runs without moto_server (--no-moto): there is no AWS account to rotate with'
        : `the lab's moto_server (pid ${description.moto.pid}) is gone; restart the lab`,
    );
  }
  try {
    access = await readLabControlAccess(dir);
  } catch (error) {
    if (error instanceof LabFilesError) throw new LabNotAttachableError(dir, error.message, { cause: error });
    throw error;
  }
  const control = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    try {
      return (await callLabControl(access, method, path, body)) as T;
    } catch (error) {
      throw new LabNotAttachableError(dir, (error as Error).message, { cause: error });
    }
  };
  const facts = await control<AttachedFleetFacts>('GET', '/v1/fleet');
  if (!Array.isArray(facts.clusters) || typeof facts.workloadCertTtlMs !== 'number') {
    throw new LabNotAttachableError(dir, 'the lab answered GET /v1/fleet with something else than its facts');
  }

  const identities = await readIdentities(description);
  const initialSessions = new Set(identities.all.map((identity) => identity.credentials.accessKeyId));
  const clusters = await Promise.all(
    description.clusters.map(async (entry) => ({
      name: entry.name,
      arn: entry.arn,
      endpoint: entry.endpoint,
      caPem: await readFile(entry.caFile, 'utf8'),
      ...(facts.clusters.find((cluster) => cluster.name === entry.name)?.primary === undefined
        ? {}
        : { primary: facts.clusters.find((cluster) => cluster.name === entry.name)?.primary as string }),
    })),
  );
  const cluster = (name: string) => {
    const found = clusters.find((candidate) => candidate.name === name);
    if (found === undefined) throw new LabError(`the lab has no cluster ${name}`);
    return found;
  };
  const readCacerts = async (name: string): Promise<{ data: SecretData; resourceVersion: string }> => {
    const response = await labKubeRequest({
      cluster: cluster(name),
      region: description.region,
      identity: identities.rotator,
      method: 'GET',
      path: `/api/v1/namespaces/${ISTIO_SYSTEM_NAMESPACE}/secrets/${CACERTS_SECRET_NAME}`,
    });
    // A remote cluster (topology primary-remote) has no cacerts of its own.
    if (response.status === 404) return { data: {}, resourceVersion: '' };
    if (response.status !== 200) {
      throw new LabError(`${name}: reading cacerts as the rotator answered ${response.status}`);
    }
    return {
      data: { ...(response.body?.data ?? {}) },
      resourceVersion: String(response.body?.metadata?.resourceVersion ?? ''),
    };
  };
  const rootCertificatePem = await readFile(description.rootA.certificateFile, 'utf8');
  const prober = remoteProber(access);

  return {
    dir: description.dir,
    moto: description.moto,
    workloadsPerCluster: facts.workloadsPerCluster,
    engine: facts.engine,
    files: { ...description, identities, rootA: { certificatePem: rootCertificatePem }, clusters },
    meshId: description.meshId,
    region: description.region,
    eksEndpoint: description.eksEndpoint,
    identities,
    // rootA and the clusters' initial intermediates with their keys stay in the lab's process, which
    // seeded the CA store with them when it started.
    clusters,
    prober,
    workloadCertTtlMs: facts.workloadCertTtlMs,
    settleMs: facts.settleMs,
    workloadCertificates: () => control<WorkloadCertificate[]>('GET', '/v1/workload-certificates'),
    refusedCacerts: () => control<RefusedCacerts[]>('GET', '/v1/refused-cacerts'),
    cacertsData: async (name) => (await readCacerts(name)).data,
    snapshotCacerts: async (name) => {
      const { data, resourceVersion } = await readCacerts(name);
      return cacertsSnapshot(name, data, resourceVersion);
    },
    watchCacerts: async (onChange) => {
      const poll = async () => {
        for (const { name } of clusters) {
          const { data, resourceVersion } = await readCacerts(name);
          onChange(cacertsSnapshot(name, data, resourceVersion));
        }
      };
      await poll();
      let stopped = false;
      const loop = async () => {
        while (!stopped) {
          await new Promise((done) => setTimeout(done, CACERTS_POLL_MS).unref());
          // A failed read (a Kubernetes API fault) is read again at the next tick.
          if (!stopped) await poll().catch(() => undefined);
        }
      };
      void loop();
      return () => {
        stopped = true;
      };
    },
    shareIdentities: async () => {
      const request: AddIdentitiesRequest = {
        sessions: identities.all.filter((identity) => !initialSessions.has(identity.credentials.accessKeyId)),
        trust: Object.fromEntries([...identities.trust].map(([role, principals]) => [role, [...principals]])),
      };
      await control('POST', '/v1/identities', request);
    },
    // The lab is the operator's: it keeps running, only this process's probe rounds stop.
    stop: () => prober.stop(),
  };
}

/** The identities of DIR/env and DIR/<name>.env (credentials only these files hold). */
async function readIdentities(description: LabDescription): Promise<LabIdentities> {
  const read = async (name: string): Promise<LabIdentity> => {
    const entry = description.identities.find((identity) => identity.name === name);
    if (entry === undefined) throw new LabError(`lab.json lists no identity ${name}`);
    const variables = parseEnvFile(await readFile(entry.envFile, 'utf8'));
    const credentials = {
      accessKeyId: variables.AWS_ACCESS_KEY_ID ?? '',
      secretAccessKey: variables.AWS_SECRET_ACCESS_KEY ?? '',
      sessionToken: variables.AWS_SESSION_TOKEN ?? '',
    };
    if (Object.values(credentials).some((value) => value === '')) {
      throw new LabError(`${entry.envFile} lacks the identity's AWS credentials`);
    }
    return { name, arn: entry.arn, principalArn: entry.principalArn, credentials };
  };
  const rotator = await read(IDENTITY_NAMES.rotator);
  const viewer = await read(IDENTITY_NAMES.viewer);
  const verifier = await read(IDENTITY_NAMES.verifier);
  const expiryCheck = await read(IDENTITY_NAMES.expiryCheck);
  const outsider = await read(IDENTITY_NAMES.outsider);
  return {
    rotator,
    viewer,
    verifier,
    expiryCheck,
    outsider,
    all: [rotator, viewer, verifier, expiryCheck, outsider],
    // The lab's EKS API holds the access entries; this side only names roles and sessions.
    accessEntries: new Map(),
    trust: new Map(),
  };
}

/** `export KEY='value'` lines as lab-files.ts writes them. */
export function parseEnvFile(text: string): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^export ([A-Z_][A-Z0-9_]*)='((?:[^']|'\\'')*)'$/.exec(line);
    if (match) variables[match[1] as string] = (match[2] as string).replaceAll(`'\\''`, "'");
  }
  return variables;
}

/**
 * The lab's prober, driven from this process: each round is a POST /v1/probe of one round, counted
 * here under the phase this rehearsal is in (the lab's own automatic rounds are not the rehearsal's).
 */
function remoteProber(access: LabControlAccess): MtlsProber {
  let phase = 'initial';
  let rounds = 0;
  const byPhase = new Map<string, { attempted: number; failed: number }>();
  const failures: HandshakeFailure[] = [];
  const total = { attempted: 0, failed: 0 };
  let stopped = false;
  const inFlight = new Set<Promise<unknown>>();
  const runRound = async (): Promise<RoundResult> => {
    const roundPhase = phase;
    let report: LabProbeReport;
    try {
      report = (await callLabControl(access, 'POST', '/v1/probe', { rounds: 1 })) as LabProbeReport;
    } catch {
      // The lab did not answer: no handshake was made, none is counted.
      return { phase: roundPhase, attempted: 0, failed: 0, failures: [] };
    }
    const counts = byPhase.get(roundPhase) ?? { attempted: 0, failed: 0 };
    counts.attempted += report.attempted;
    counts.failed += report.failed;
    byPhase.set(roundPhase, counts);
    total.attempted += report.attempted;
    total.failed += report.failed;
    rounds += 1;
    const mapped = report.failures.map(
      (failure) =>
        ({ ...failure, at: new Date(failure.at), phase: roundPhase }) as unknown as HandshakeFailure,
    );
    failures.push(...mapped);
    return { phase: roundPhase, attempted: report.attempted, failed: report.failed, failures: mapped };
  };
  const tracked = () => {
    const round = runRound();
    inFlight.add(round);
    void round.finally(() => inFlight.delete(round));
    return round;
  };
  const loop = async () => {
    while (!stopped) {
      await tracked();
      await new Promise((done) => setTimeout(done, PROBE_INTERVAL_MS).unref());
    }
  };
  void loop();
  return {
    get phase() {
      return phase;
    },
    setPhase: (label) => {
      phase = label;
    },
    runRound: tracked,
    stats: () => ({
      ...total,
      rounds,
      byPhase: Object.fromEntries([...byPhase].map(([name, counts]) => [name, { ...counts }])) as Record<
        string,
        ProbeCounts
      >,
      byClusterPair: {},
    }),
    failures: () => [...failures],
    stop: async () => {
      stopped = true;
      await Promise.allSettled([...inFlight]);
    },
  };
}
