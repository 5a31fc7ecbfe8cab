// Starts the fleet a rehearsal runs against, on the engine asked for: the model lab in this process,
// or the istio engine (real Kubernetes and Istio, built first when the cache has no binaries).
import { rm } from 'node:fs/promises';
import type { V1Pod } from '@kubernetes/client-node';
import { describeLabBuildProgress } from '../../lab/binaries/build-progress.js';
import { ensureLabBinaries } from '../../lab/binaries/lab-binaries.js';
import type { IstioEngineSettings } from '../../lab/istio-install/istio-engine-settings.js';
import type { KubeObject } from '../../lab/kube/kube-object.js';
import type { LabEngineName } from '../../lab/lab-files.js';
import type { LabOptions, RootCertStyle } from '../../lab/lab-options.js';
import { type LabHooks, startLab } from '../../lab/start-lab.js';
import { podWorkloadKind } from '../../lab/workloads/pod-workload.js';
import { parseGoBool, parseGoDuration } from '../../lambdas/core/istio/go-values.js';
import { PCDS_METADATA } from '../../lambdas/core/istio/istio-settings.js';
import type { CreatedPod } from '../fault-plan.js';
import { recordPodStarts } from '../lab-waits.js';
import { RehearsalOptionsError } from '../rehearsal-errors.js';
import { createFleetFolder, removeAbandonedFleetFolders } from './fleet-folders.js';
import { modelRehearsalFleet } from './model-fleet.js';
import type { RehearsalFleet } from './rehearsal-fleet.js';

export interface RehearsalFleetOptions {
  readonly engine: LabEngineName;
  readonly clusters: number;
  readonly workloads: number;
  readonly meshId: string;
  /** Model engine: lab settings beyond clusters and workloads (tests). */
  readonly lab?: Partial<LabOptions>;
  /** Istio engine: what the mesh runs with. The model engine reads PCDS from its proxy metadata. */
  readonly istio: IstioEngineSettings;
  /** Istio engine: how long to wait for another istio lab on this machine to end. */
  readonly waitForLabMs?: number;
  /** How each cluster's original root-cert.pem is written (both engines). @default 'canonical' */
  readonly rootCertStyle?: RootCertStyle;
  readonly onProgress?: (line: string) => void;
  /**
   * What each cluster's Kubernetes API plays instead of serving (--fault kube:...): the model's API
   * server itself, or on the istio engine a fault proxy in front of the real one.
   */
  readonly kubeApiFault?: LabHooks['kubeApiFault'];
  /**
   * Whether a pod just created stays unready (--fault kube:CLUSTER:stuck): asked by the model's rollout
   * controllers, or on the istio engine by the node agents, which stand in for kubelet.
   */
  readonly podHeldUnready?: (cluster: string, pod: CreatedPod) => boolean;
  /**
   * Whether a cluster's istiod misses the cacerts change it would load next (--fault
   * kube:CLUSTER:istiod-drop): asked by the model's istiods, or on the istio engine by the node agents'
   * volume sync, which keeps the change from real istiod's files (missed-secret-change.ts).
   */
  readonly istiodDropsUpdate?: LabHooks['istiodDropsUpdate'];
}

/**
 * Model engine: workload certificates live this long; the soak waits one of them. Renewal comes at
 * half life, so this leaves 7.5 s for a late timer on a busy machine (10 s gave CERT_HAS_EXPIRED at
 * load 9).
 */
export const REHEARSAL_WORKLOAD_TTL_MS = 15_000;
/**
 * Model engine: istiod sees a cacerts change this long after it (the kubelet's volume sync), so a
 * rotation that does not wait for istiod to load a write shows it here too.
 */
export const REHEARSAL_VOLUME_SYNC_DELAY_MS = 2_000;
/**
 * Istio engine: the workload certificate lifetime pilot-agent asks for (its SECRET_TTL) unless
 * --proxy-env sets one. Compressed through Istio's own setting, so each proxy renews (and, without
 * PCDS, learns new roots) every 30 s instead of every 12 h.
 */
export const ISTIO_REHEARSAL_SECRET_TTL = '60s';
/** Istio engine: time between probe rounds (each round lists pods through the API server). */
const ISTIO_PROBER_INTERVAL_MS = 1_000;

export async function startRehearsalFleet(options: RehearsalFleetOptions): Promise<RehearsalFleet> {
  const progress = options.onProgress ?? (() => undefined);
  const { podHeldUnready } = options;
  if (options.engine === 'model') {
    const podStarts = recordPodStarts();
    const lab = await startLab(
      {
        workloadCertTtlMs: REHEARSAL_WORKLOAD_TTL_MS,
        volumeSyncDelayMs: REHEARSAL_VOLUME_SYNC_DELAY_MS,
        pcds: parseGoBool(options.istio.proxyEnv[PCDS_METADATA] ?? 'false') === true,
        ...(options.rootCertStyle === undefined ? {} : { rootCertStyle: options.rootCertStyle }),
        ...options.lab,
        clusters: options.clusters,
        workloadsPerCluster: options.workloads,
        meshId: options.meshId,
      },
      {
        ...(options.kubeApiFault === undefined ? {} : { kubeApiFault: options.kubeApiFault }),
        ...(podHeldUnready === undefined
          ? {}
          : {
              podHeldUnready: (cluster: string, pod: KubeObject) =>
                podHeldUnready(cluster, {
                  namespace: pod.metadata.namespace ?? '',
                  name: pod.metadata.name,
                  // The model's pods are owned by their workload itself (lab/workloads/lab-pods.ts).
                  workloadKind:
                    pod.metadata.ownerReferences?.find((owner) => owner.controller)?.kind ?? 'Pod',
                }),
            }),
        ...(options.istiodDropsUpdate === undefined ? {} : { istiodDropsUpdate: options.istiodDropsUpdate }),
        onPodEvent: podStarts.onPodEvent,
      },
    );
    return modelRehearsalFleet(lab, podStarts);
  }
  // The topology is the one lab setting both engines play.
  const { topology, ...modelOnly } = options.lab ?? {};
  if (Object.keys(modelOnly).length > 0) {
    throw new RehearsalOptionsError('--engine', 'model lab settings do not apply to the istio engine');
  }
  const proxyEnv = { SECRET_TTL: ISTIO_REHEARSAL_SECRET_TTL, ...options.istio.proxyEnv };
  const ttlMs = parseGoDuration(proxyEnv.SECRET_TTL);
  if (ttlMs === undefined || ttlMs <= 0) {
    throw new RehearsalOptionsError(
      '--proxy-env',
      `SECRET_TTL=${proxyEnv.SECRET_TTL} is not a duration Go accepts (e.g. 60s, 5m)`,
    );
  }
  const binaries = await ensureLabBinaries({
    onProgress: (step) => progress(`lab build: ${describeLabBuildProgress(step)}`),
  });
  // The fleet's folder holds its clusters' keys (test material, but keys): never below the report
  // folder, removed with the fleet, or by the next rehearsal when this one is killed outright.
  for (const abandoned of await removeAbandonedFleetFolders()) {
    progress(`removed ${abandoned}, left by a rehearsal that was killed`);
  }
  const dir = await createFleetFolder();
  try {
    // Imported here, not above: the istio engine's modules bring @kubernetes/client-node, whose source
    // and code held ~40 MiB of V8's heap that a model rehearsal would keep for nothing (slice 7 of
    // docs/workflow.md; test/integration/rehearsal/model-engine-imports.test.ts).
    const { startIstioLab } = await import('../../lab/istio-install/start-istio-lab.js');
    const { istioRehearsalFleet } = await import('./istio-fleet.js');
    const lab = await startIstioLab({
      binaries,
      dir,
      clusters: options.clusters,
      workloadsPerCluster: options.workloads,
      region: 'us-east-1',
      meshId: options.meshId,
      istiodEnv: options.istio.istiodEnv,
      proxyMetadata: proxyEnv,
      istiodReplicas: options.istio.istiodReplicas,
      volumeSyncPeriodMs: options.istio.volumeSyncDelaySeconds * 1000,
      waitForOtherLabMs: options.waitForLabMs ?? 0,
      proberIntervalMs: ISTIO_PROBER_INTERVAL_MS,
      ...(options.kubeApiFault === undefined ? {} : { kubeApiFault: options.kubeApiFault }),
      ...(podHeldUnready === undefined
        ? {}
        : {
            holdUnready: (cluster: string, pod: V1Pod) =>
              podHeldUnready(cluster, {
                namespace: pod.metadata?.namespace ?? '',
                name: pod.metadata?.name ?? '',
                // A Deployment's pod is owned by its ReplicaSet: named by its Deployment, as the model's.
                workloadKind: podWorkloadKind(pod.metadata ?? {}),
              }),
          }),
      ...(options.istiodDropsUpdate === undefined ? {} : { missesCacertsChange: options.istiodDropsUpdate }),
      ...(topology === undefined ? {} : { topology }),
      ...(options.rootCertStyle === undefined ? {} : { rootCertStyle: options.rootCertStyle }),
      onProgress: progress,
    });
    const fleet = istioRehearsalFleet(lab, {
      workloadCertTtlMs: ttlMs,
      volumeSyncDelayMs: options.istio.volumeSyncDelaySeconds * 1000,
    });
    return {
      ...fleet,
      stop: async () => {
        await fleet.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
