// A running lab seen from another process, as `rehearse --lab DIR` sees it (attached-fleet.ts): only
// through DIR's files, each cluster's Kubernetes API as the rotator, and the lab's control endpoint with
// the attach routes `meshtrust lab` serves (attach-protocol.ts). Here the lab runs in the test's process
// (model engine), so what the attached side reads can be compared with what the lab holds.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { addRoleSession } from '../../../lab/eks/lab-identities.js';
import { type LabControlServer, startLabControlServer } from '../../../lab/lab-control-server.js';
import { writeLabFiles } from '../../../lab/lab-files.js';
import { labKubeRequest } from '../../../lab/lab-kube-request.js';
import { type Lab, startLab } from '../../../lab/start-lab.js';
import { labAttachHandlers } from '../../../rehearsal/fleet/attach-protocol.js';
import {
  type AttachedFleet,
  attachRehearsalFleet,
  LabNotAttachableError,
  parseEnvFile,
} from '../../../rehearsal/fleet/attached-fleet.js';
import { modelRehearsalFleet } from '../../../rehearsal/fleet/model-fleet.js';
import { motoEndpoint } from '../../support/moto-endpoint.js';

let lab: Lab;
let control: LabControlServer;
let dir: string;
let fleet: AttachedFleet;

beforeAll(async () => {
  lab = await startLab({ clusters: 2, workloadsPerCluster: 1, proberIntervalMs: 0 });
  control = await startLabControlServer({
    probe: async () => {
      const round = await lab.prober.runRound();
      return {
        rounds: 1,
        attempted: round.attempted,
        failed: round.failed,
        failures: round.failures.map((failure) => ({ ...failure, at: failure.at.toISOString() })),
      };
    },
    status: () => ({}),
    attach: labAttachHandlers(modelRehearsalFleet(lab), 1),
  });
  dir = await mkdtemp(join(tmpdir(), 'meshtrust-attached-fleet-'));
  // This process stands in for the lab's and its moto_server's (attach checks both are alive).
  await writeLabFiles(lab, { dir, control, moto: { endpoint: motoEndpoint(), pid: process.pid } });
  fleet = await attachRehearsalFleet(dir);
}, 60_000);

afterAll(async () => {
  await fleet?.stop();
  await control?.stop();
  await lab?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('attachRehearsalFleet', () => {
  it("finds the lab from DIR alone: clusters, identities from the env files, the fleet's facts, no key", () => {
    // Assess
    expect(fleet.clusters.map((cluster) => cluster.name)).toEqual(['lab-1', 'lab-2']);
    expect(fleet.identities.rotator.credentials).toEqual(lab.identities.rotator.credentials);
    expect(fleet.identities.verifier.principalArn).toBe(lab.identities.verifier.principalArn);
    expect(fleet.workloadCertTtlMs).toBe(lab.options.workloadCertTtlMs);
    expect(fleet.workloadsPerCluster).toBe(1);
    expect(fleet.moto.endpoint).toBe(motoEndpoint());
    // Root A's key and the intermediates' stay in the lab's process.
    expect(fleet.rootA).toBeUndefined();
    expect(fleet.clusters.every((cluster) => cluster.initialIntermediate === undefined)).toBe(true);
  });

  it("reads each cluster's cacerts as the rotator, byte for byte what the lab holds, and sees a change", async () => {
    // Prepare
    const seen: string[] = [];
    const stop = await fleet.watchCacerts((snapshot) =>
      seen.push(`${snapshot.cluster}@${snapshot.resourceVersion}`),
    );
    const store = lab.cluster('lab-2').store;
    const held = store.get('Secret', 'istio-system', 'cacerts');

    // Act: a change that istiod ignores (an annotation), as an operator's kubectl might make
    const changed = store.update({
      ...held,
      metadata: { ...held.metadata, annotations: { 'example.com/touched': 'yes' } },
    });
    const deadline = Date.now() + 5_000;
    while (!seen.includes(`lab-2@${changed.metadata.resourceVersion}`) && Date.now() < deadline)
      await sleep(50);
    stop();

    // Assess
    expect(await fleet.cacertsData('lab-1')).toEqual(
      lab.cluster('lab-1').store.get('Secret', 'istio-system', 'cacerts').data,
    );
    expect(seen).toContain(`lab-1@${lab.snapshotCacerts('lab-1').resourceVersion}`);
    expect(seen).toContain(`lab-2@${changed.metadata.resourceVersion}`);
    expect((await fleet.snapshotCacerts('lab-2')).rootFingerprints).toEqual(
      lab.snapshotCacerts('lab-2').rootFingerprints,
    );
  });

  it("counts the lab prober's handshakes under the phase the rehearsal is in", async () => {
    // Act
    fleet.prober.setPhase('distribute-bundle');
    const round = await fleet.prober.runRound();

    // Assess
    expect(round.attempted).toBeGreaterThan(0);
    expect(round.failed).toBe(0);
    expect(fleet.prober.stats().byPhase['distribute-bundle']?.attempted).toBeGreaterThanOrEqual(
      round.attempted,
    );
  });

  it("reads every workload's certificate issuer as the lab's process knows it", async () => {
    // Act
    const certificates = await fleet.workloadCertificates();

    // Assess
    expect(certificates.length).toBeGreaterThan(0);
    const issuers = new Set(certificates.filter((c) => c.cluster === 'lab-1').map((c) => c.issuer));
    expect([...issuers]).toEqual([lab.snapshotCacerts('lab-1').caCertFingerprint]);
  });

  it('makes a role session the rehearsal adds known to the lab: refused before sharing, let in after', async () => {
    // Prepare: a session of the rotator's role, as the lab's STS would issue it
    const session = addRoleSession(fleet.identities, {
      name: 'test-session',
      principalArn: fleet.identities.rotator.principalArn,
      sessionName: 'attached-fleet-test',
    });
    const read = () =>
      labKubeRequest({
        cluster: lab.cluster('lab-1'),
        region: lab.region,
        identity: session,
        method: 'GET',
        path: '/api/v1/namespaces/istio-system/configmaps/istio-ca-root-cert',
      });

    // Act
    const before = await read();
    await fleet.shareIdentities?.();
    const after = await read();

    // Assess
    expect(before.status).toBe(401);
    expect(after.status).toBe(200);
  });

  it('refuses a directory whose lab.json names a process that is gone', async () => {
    // Prepare
    const gone = await mkdtemp(join(tmpdir(), 'meshtrust-attached-gone-'));
    await writeLabFiles(lab, { dir: gone, pid: 2 ** 22 + 12_345 });

    // Act, Assess
    await expect(attachRehearsalFleet(gone)).rejects.toThrow(LabNotAttachableError);
    await expect(attachRehearsalFleet(gone)).rejects.toThrow(/the lab there is not running .*pid \d+ gone/);
    await rm(gone, { recursive: true, force: true });
  });
});

describe('parseEnvFile', () => {
  it("reads export lines as lab-files.ts quotes them, a ' inside included", () => {
    expect(parseEnvFile("unset AWS_PROFILE\nexport A='x'\nexport B='it'\\''s'\n# export C='no'\n")).toEqual({
      A: 'x',
      B: "it's",
    });
  });
});
