// Every write to a cluster's `cacerts` during the rehearsal, with the phase it happened in and the
// public identity of what was written: the roots the cluster trusts, its intermediate, and the root at
// the top of the intermediate's chain (the root its workload certificates chain to).
import { certificateFingerprint, parseCertificatesPem, TrustBundle } from '../../lambdas/core/pki/index.js';
import type { KubeObject } from '../kube/kube-object.js';
import type { Lab } from '../start-lab.js';

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

/** Records the current cacerts of every lab cluster, then every change, labelled with `phase()`. */
export function recordCacertsTimeline(lab: Lab, phase: () => string): CacertsTimeline {
  const entries: CacertsWrite[] = [];
  const record = (cluster: string, label: string, secret: KubeObject | undefined) => {
    // Only the public keys are decoded; ca-key.pem is never read.
    const file = (key: string): string => {
      const value = secret?.data?.[key];
      return typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : '';
    };
    entries.push({
      at: new Date().toISOString(),
      cluster,
      phase: label,
      resourceVersion: String(secret?.metadata.resourceVersion ?? ''),
      roots: attempt(() => TrustBundle.parse(file('root-cert.pem')).fingerprints()) ?? [],
      ...optional(
        'caCert',
        attempt(() => certificateFingerprint(file('ca-cert.pem'))),
      ),
      ...optional(
        'issuer',
        attempt(() => parseCertificatesPem(file('cert-chain.pem')).at(-1)?.fingerprint),
      ),
    });
  };
  const stops = lab.clusters.map((cluster) => {
    record(cluster.name, 'initial', cluster.store.tryGet('Secret', 'istio-system', 'cacerts'));
    return cluster.store.watch({ kind: 'Secret', namespace: 'istio-system', name: 'cacerts' }, (event) => {
      if (event.type !== 'DELETED') record(cluster.name, phase(), event.object);
    });
  });
  return {
    entries: () => [...entries],
    stop: () => {
      for (const stop of stops) stop();
    },
  };
}

// Whatever was written may not parse: istiod refuses it and the rejection list says so.
function attempt<T>(compute: () => T): T | undefined {
  try {
    return compute();
  } catch {
    return undefined;
  }
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
