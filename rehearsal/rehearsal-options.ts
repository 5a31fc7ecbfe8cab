// What `meshtrust rehearse` asks of a rehearsal (runRehearsal), and the progress it reports back.
import type { IstioEngineSettings } from '../lab/istio-install/istio-engine-settings.js';
import type { LabEngineName } from '../lab/lab-files.js';
import type { LabOptions, RootCertStyle } from '../lab/lab-options.js';
import type { FailAt } from './fail-at.js';
import type { Fault } from './fault-spec.js';
import type { RehearsalMode } from './rehearsal-report.js';

export interface RehearsalOptions {
  readonly projectRoot: string;
  /** A cloud assembly to run as it is. @default <projectRoot>/cdk.out, synthesized again when stale */
  readonly cdkOut?: string;
  readonly clusters: number;
  readonly workloads: number;
  readonly mode: RehearsalMode;
  /** The cluster to rekey (intermediate mode). @default lab-1 */
  readonly cluster?: string;
  /** Steps made to fail (--fail-at, repeatable); the first matching one applies to an invocation. */
  readonly failAt?: readonly FailAt[];
  /**
   * When the run ends in RollbackFailed: stop injecting the --fail-at failures (the operator fixed the
   * cause) and resume its rollback in a new execution from its final state, as `meshtrust retry-rollback`
   * does; the rehearsal's result is then the resumed run's (--retry-rollback).
   */
  readonly retryRollback?: boolean;
  /**
   * When the run stops in promote-root (FAILED there): stop injecting the --fail-at failures that fired and
   * finish it in a new execution from its final state, as `meshtrust retry-promotion` does; the
   * rehearsal's result is then the finishing run's (--retry-promotion).
   */
  readonly retryPromotion?: boolean;
  /** Faults of the Kubernetes APIs and of AWS, each set off when its phase begins (--fault, repeatable). */
  readonly faults?: readonly Fault[];
  /** How approval gates (if the stack has them) are answered. */
  readonly approve: 'auto' | 'manual';
  /**
   * --approve auto: answer each gate this many seconds after it opened (--approve-delay), the
   * execution waiting in it meanwhile. @default 0
   */
  readonly approveDelaySeconds?: number;
  /** Asked for each gate with --approve manual; true approves, false rejects (the run rolls back). */
  readonly askApproval?: (gate: string) => Promise<boolean>;
  readonly outDir: string;
  /**
   * Rotate the lab `meshtrust lab --out DIR` started and keeps running (its moto_server, clusters and
   * prober) instead of starting one: nothing is seeded, the run starts from the lab's state, and the lab
   * keeps running afterwards. The lab decides clusters, workloads, engine and topology.
   */
  readonly labDir?: string;
  /** Leave the lab and moto running; the caller stops them with `stopLab`. */
  readonly keepLab?: boolean;
  /** The lab engine. @default 'model' */
  readonly engine?: LabEngineName;
  /** Istio engine: what the mesh runs with. @default ISTIO_ENGINE_DEFAULTS */
  readonly istio?: IstioEngineSettings;
  /** Istio engine: how long to wait for another istio lab on this machine to end. @default 0 */
  readonly waitForLabMs?: number;
  /** How each cluster's original root-cert.pem is written, on either engine. @default 'canonical' */
  readonly rootCertStyle?: RootCertStyle;
  /**
   * Give the functions the cluster list of a stack that discovers its clusters by the mesh tag, one `*`
   * entry per account of the lab (`*`, `arn:aws:eks:<region>:<account>:cluster/*`), instead of naming
   * each cluster (--discover-clusters). @default false
   */
  readonly discoverClusters?: boolean;
  /** Model engine: lab settings beyond clusters and workloads (tests). */
  readonly lab?: Partial<LabOptions>;
  readonly onProgress?: (state: RehearsalProgress) => void;
  readonly onNote?: (line: string) => void;
  /**
   * Interrupts the run (the CLI aborts it on SIGINT/SIGTERM, with the signal's name as reason). Before
   * the execution starts, runRehearsal rejects with RehearsalInterruptedError once what it started is
   * stopped; after, the execution is aborted and the report, marked `interrupted`, has what the run
   * got to.
   */
  readonly signal?: AbortSignal;
}

export interface RehearsalProgress {
  readonly phase: string;
  readonly clustersDone: number;
  readonly clustersTotal: number;
  readonly handshakes: number;
  readonly failures: number;
}
