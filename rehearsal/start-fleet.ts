// Starting what a rehearsal rotates: moto_server and a lab fleet side by side (both stopped again if
// either fails to start), and the CA store seeded as a deployed stack's is after its first run.
import { ISTIO_ENGINE_DEFAULTS } from '../lab/istio-install/istio-engine-settings.js';
import { type MotoServer, startMotoServer } from '../lab/moto-server.js';
import { seedCaStore } from '../lab/seed-ca-store.js';
import type { FaultPlan } from './fault-plan.js';
import type { RehearsalFleet } from './fleet/rehearsal-fleet.js';
import { startRehearsalFleet } from './fleet/start-rehearsal-fleet.js';
import type { RehearsalOptions } from './rehearsal-options.js';

export async function startFleetAndMoto(input: {
  readonly options: Pick<
    RehearsalOptions,
    'clusters' | 'workloads' | 'engine' | 'lab' | 'istio' | 'waitForLabMs' | 'rootCertStyle' | 'faults'
  >;
  readonly meshId: string;
  readonly faults: FaultPlan;
  readonly note: (line: string) => void;
}): Promise<{ readonly moto: MotoServer; readonly lab: RehearsalFleet }> {
  const { options, meshId, faults, note } = input;
  const engine = options.engine ?? 'model';
  note(
    `starting moto_server and a lab of ${options.clusters} cluster(s) x ${options.workloads} workload(s) (${engine} engine)`,
  );
  const kubeKinds = new Set(
    (options.faults ?? []).flatMap((fault) => (fault.target === 'kube' ? [fault.kind] : [])),
  );
  const motoStart = startMotoServer();
  const labStart = startRehearsalFleet({
    engine,
    clusters: options.clusters,
    workloads: options.workloads,
    meshId,
    ...(options.lab === undefined ? {} : { lab: options.lab }),
    istio: options.istio ?? ISTIO_ENGINE_DEFAULTS,
    waitForLabMs: options.waitForLabMs ?? 0,
    ...(options.rootCertStyle === undefined ? {} : { rootCertStyle: options.rootCertStyle }),
    // Each hook only when a fault needs it.
    ...(kubeKinds.size > 0 ? { kubeApiFault: faults.kubeRequest } : {}),
    ...(kubeKinds.has('stuck') ? { podHeldUnready: faults.podHeldUnready } : {}),
    ...(kubeKinds.has('istiod-drop')
      ? { istiodDropsUpdate: (cluster: string) => faults.istiodDropsUpdate(cluster) }
      : {}),
    onProgress: note,
  });
  const [motoResult, labResult] = await Promise.allSettled([motoStart, labStart]);
  if (motoResult.status === 'rejected' || labResult.status === 'rejected') {
    if (motoResult.status === 'fulfilled') await motoResult.value.stop();
    if (labResult.status === 'fulfilled') await labResult.value.stop();
    throw motoResult.status === 'rejected' ? motoResult.reason : (labResult as PromiseRejectedResult).reason;
  }
  return { moto: motoResult.value, lab: labResult.value };
}

/**
 * A lab this run started is seeded as after a first run: root A as AWSCURRENT and one intermediate per
 * cluster. An attached lab (no rootA here) holds what its own start seeded and every rotation since.
 */
export async function seedAsAfterFirstRun(
  lab: RehearsalFleet,
  moto: Pick<MotoServer, 'endpoint'>,
  note: (line: string) => void,
): Promise<void> {
  if (lab.rootA === undefined) return;
  note(
    `seeding the CA store (moto): root A and ${lab.clusters.length} intermediate(s), as after a first run`,
  );
  await seedCaStore({
    endpoint: moto.endpoint,
    region: lab.region,
    credentials: lab.identities.rotator.credentials,
    meshId: lab.meshId,
    root: lab.rootA,
    intermediates: lab.clusters.flatMap((cluster) =>
      cluster.initialIntermediate === undefined
        ? []
        : [{ cluster: cluster.name, material: cluster.initialIntermediate }],
    ),
  });
}
