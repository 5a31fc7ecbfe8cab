// Every write to a cluster's `cacerts` during the rehearsal, with the phase it happened in and the
// public identity of what was written: the roots the cluster trusts, its intermediate, and the root at
// the top of the intermediate's chain (the root its workload certificates chain to).
import type { CacertsSnapshot } from '../lab/cacerts-snapshot.js';
import type { RehearsalFleet } from './fleet/rehearsal-fleet.js';

export interface CacertsWrite {
  readonly at: string;
  readonly cluster: string;
  readonly phase: string;
  readonly resourceVersion: string;
  /** SHA-256 of each root in root-cert.pem, in order. */
  readonly roots: readonly string[];
  /** SHA-256 of ca-cert.pem, the cluster's intermediate. */
  readonly caCert?: string;
  /** SHA-256 of the root that signs ca-cert.pem (the last certificate of cert-chain.pem). */
  readonly issuer?: string;
}

export interface CacertsTimeline {
  /** The start state of every cluster (phase `initial`) and every write since, in order. */
  entries(): readonly CacertsWrite[];
  stop(): void;
}

/** Records the current cacerts of every cluster, then every change, labelled with `phase()`. */
export async function recordCacertsTimeline(
  fleet: Pick<RehearsalFleet, 'watchCacerts'>,
  phase: () => string,
): Promise<CacertsTimeline> {
  const entries: CacertsWrite[] = [];
  const seen = new Set<string>();
  let label = () => 'initial';
  const record = (snapshot: CacertsSnapshot) => {
    // A watch may say again what was already recorded (a re-list after a reconnect).
    const key = `${snapshot.cluster}@${snapshot.resourceVersion}`;
    if (seen.has(key)) return;
    seen.add(key);
    entries.push({
      at: new Date().toISOString(),
      cluster: snapshot.cluster,
      phase: label(),
      resourceVersion: snapshot.resourceVersion,
      roots: snapshot.rootFingerprints,
      ...(snapshot.caCertFingerprint === undefined ? {} : { caCert: snapshot.caCertFingerprint }),
      ...(snapshot.issuerFingerprint === undefined ? {} : { issuer: snapshot.issuerFingerprint }),
    });
  };
  const stop = await fleet.watchCacerts(record);
  label = phase;
  return { entries: () => [...entries], stop };
}
