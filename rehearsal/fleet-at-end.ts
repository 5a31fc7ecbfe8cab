// What the report judges the run by, read from the fleet and the CA store once the run has ended:
// every cluster's cacerts, the updates istiod refused, the staged root, the root keys and the cacerts
// backups. After an interrupt, each read that fails or takes too long is left out (`read`).
import type { CacertsSnapshot, SecretData } from '../lab/cacerts-snapshot.js';
import type { MotoServer } from '../lab/moto-server.js';
import {
  type CacertsBackupsAtEnd,
  cacertsBackupsAtEnd,
  hasPendingRoot,
  type RootKeysAtEnd,
  rootKeysAtEnd,
} from './end-state.js';
import type { RefusedCacerts, RehearsalFleet } from './fleet/rehearsal-fleet.js';

/** A read of the fleet: as it is, or (after an interrupt) `fallback` when it fails or takes too long. */
export type EndRead = <T>(what: Promise<T>, fallback: T) => Promise<T>;

export interface FleetAtEnd {
  readonly final: readonly CacertsSnapshot[];
  /** Each cluster's cacerts data at the end (key included; in memory only). */
  readonly finalSecrets: ReadonlyMap<string, SecretData>;
  readonly rejectedUpdates: RefusedCacerts[];
  readonly pendingRoot: boolean;
  readonly rootKeys: RootKeysAtEnd;
  /** Left out when an interrupt leaves no time to read them (no check then: the run was ABORTED). */
  readonly cacertsBackups: CacertsBackupsAtEnd | undefined;
}

export async function readFleetAtEnd(input: {
  readonly lab: RehearsalFleet;
  readonly moto: Pick<MotoServer, 'endpoint'>;
  readonly executionId: string;
  readonly read: EndRead;
}): Promise<FleetAtEnd> {
  const { lab, moto, executionId, read } = input;
  const region = lab.region;
  const rotator = lab.identities.rotator;
  const final = await read(Promise.all(lab.clusters.map((cluster) => lab.snapshotCacerts(cluster.name))), []);
  const finalSecrets = new Map(
    await read(
      Promise.all(
        lab.clusters.map(async (cluster) => [cluster.name, await lab.cacertsData(cluster.name)] as const),
      ),
      [],
    ),
  );
  const rejectedUpdates = [...(await read(lab.refusedCacerts(), []))];
  const pendingRoot = await read(
    hasPendingRoot({
      endpoint: moto.endpoint,
      region,
      credentials: rotator.credentials,
      meshId: lab.meshId,
    }),
    false,
  );
  const rootKeys = await read<RootKeysAtEnd>(
    rootKeysAtEnd({
      endpoint: moto.endpoint,
      region,
      credentials: rotator.credentials,
      meshId: lab.meshId,
    }),
    { kms: ['unreadable'], importedKeySecret: 'none' },
  );
  const cacertsBackups = await read<CacertsBackupsAtEnd | undefined>(
    cacertsBackupsAtEnd({
      endpoint: moto.endpoint,
      region,
      credentials: rotator.credentials,
      meshId: lab.meshId,
      executionId,
    }),
    undefined,
  );
  return { final, finalSecrets, rejectedUpdates, pendingRoot, rootKeys, cacertsBackups };
}
