// What the rehearsal needs of a lab fleet, whichever engine runs it: the AWS side to seed and point the
// functions at, traffic to watch, the clusters' `cacerts` to compare, and what istiod refused. The model
// engine (model-fleet.ts) and the istio engine (istio-fleet.ts) each answer it in their own terms.

import type { CacertsSnapshot, SecretData } from '../../lab/cacerts-snapshot.js';
import type { LabIdentities } from '../../lab/eks/lab-identities.js';
import type { MtlsProber } from '../../lab/istio/mtls-prober.js';
import type { RenewalTimeliness } from '../../lab/istio/renewal-timeliness.js';
import type { LabEngineDescription, LabFilesSource } from '../../lab/lab-files.js';
import type { LabPaceSettings } from '../../lab/lab-pace.js';
import type { CaMaterial } from '../../lambdas/core/pki/index.js';
import type { LabDelays, PodStart } from '../lab-waits.js';

/** A `cacerts` change istiod did not take, as the engine knows it. */
export interface RefusedCacerts {
  readonly cluster: string;
  readonly at: string;
  /** The model's rule names; empty for real istiod, whose log gives only the reason. */
  readonly rules: readonly string[];
  readonly reason: string;
  /** The refused Secret's resourceVersion, where the engine knows it. */
  readonly resourceVersion?: string;
}

/** The certificate a workload's proxy holds now: who issued it, and which pod holds it. */
export interface WorkloadCertificate {
  readonly cluster: string;
  /** namespace/pod */
  readonly pod: string;
  /** The pod's UID, as the lab's Kubernetes API has it: a restarted workload's pods have new ones. */
  readonly uid: string;
  /** The controller that owns the pod, `namespace/Kind/name` (lab/workloads/pod-workload.ts). */
  readonly workload: string;
  /** SHA-256 of the intermediate that signed the workload certificate. */
  readonly issuer: string;
}

export interface RehearsalFleet {
  readonly engine: LabEngineDescription;
  /** What `meshtrust lab`'s files describe (kept labs are written out with it). */
  readonly files: LabFilesSource;
  readonly meshId: string;
  readonly region: string;
  readonly eksEndpoint: string;
  readonly identities: LabIdentities;
  /**
   * Root A with its key (test material, in memory only): seeds the CA store. Absent for a lab this
   * rehearsal attached to (attached-fleet.ts): that lab's own process seeded the CA store when it started.
   */
  readonly rootA?: CaMaterial;
  /** `primary`: a remote cluster (model topology primary-remote) and the primary whose istiod serves it. */
  readonly clusters: readonly {
    readonly name: string;
    /**
     * arn:aws:eks:<region>:<account>:cluster/<name>: its account is the lab's own, or with
     * --other-account-clusters the lab's second one. @default the lab's account
     */
    readonly arn?: string;
    /** The intermediate (key included) the CA store is seeded with; absent as rootA is. */
    readonly initialIntermediate?: CaMaterial;
    readonly primary?: string;
  }[];
  readonly prober: MtlsProber;
  /** The longest a workload certificate lives in this fleet: the rehearsal's soak waits this long. */
  readonly workloadCertTtlMs: number;
  /**
   * How long traffic is still watched after the state machine ends, for what a real mesh does after
   * the last write: istiod loads it a volume sync later, proxies take it at their next renewal.
   */
  readonly settleMs: number;
  /**
   * The model lab running in this process: what its load is measured by (the certificates its istiod
   * models signed so far) and the pace it runs at (lab-pace.ts). Absent for a lab in other processes
   * (the istio engine, an attached lab): this process's load is not theirs.
   */
  readonly inProcessLab?: {
    signedCertificates(): number;
    /** How late its istiods' renewals came so far, every cluster. */
    renewalTimeliness(): RenewalTimeliness;
    readonly pace: LabPaceSettings;
    /** The delays the lab plays (volume sync, push, pod start): waits no rotation can shorten. */
    readonly delays?: LabDelays;
    /** Every pod the lab started so far, from created to ready. */
    podStarts?(): readonly PodStart[];
  };
  /** Every ready workload's certificate as its proxy holds it now, with its pod's UID and owner. */
  workloadCertificates(): Promise<readonly WorkloadCertificate[]>;
  /** A cluster's `cacerts` as stored now: the whole data (base64, key included; in memory only). */
  cacertsData(cluster: string): Promise<SecretData>;
  snapshotCacerts(cluster: string): Promise<CacertsSnapshot>;
  /** Calls `onChange` with every cluster's `cacerts` now, then at each change; resolves to a stop. */
  watchCacerts(onChange: (snapshot: CacertsSnapshot) => void): Promise<() => void>;
  /** The `cacerts` changes istiod refused so far. */
  refusedCacerts(): Promise<readonly RefusedCacerts[]>;
  /**
   * A lab in another process (attached-fleet.ts) learns here the role sessions and trust policies the
   * rehearsal added to `identities` for its functions; a lab in this process shares the object itself.
   */
  shareIdentities?(): Promise<void>;
  stop(): Promise<void>;
}

/** What every engine's lab gives the rehearsal as it is. */
export type SharedLabFields = Pick<
  RehearsalFleet,
  'meshId' | 'region' | 'eksEndpoint' | 'identities' | 'rootA' | 'clusters' | 'prober'
> &
  LabFilesSource;

/** The fields a lab hands over unchanged, and the lab itself as what its files describe. */
export function sharedLabFields(lab: SharedLabFields) {
  const { meshId, region, eksEndpoint, identities, rootA, clusters, prober } = lab;
  return { files: lab, meshId, region, eksEndpoint, identities, rootA, clusters, prober };
}
