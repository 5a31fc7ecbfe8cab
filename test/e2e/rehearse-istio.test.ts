// `meshtrust rehearse --engine istio` end to end: the synthesized state machine, each function from its
// own bundle, against real kube-apiserver and real istiod/pilot-agent built from their Go modules (the
// first run builds them; `npm run lab:build`). Istio labs run one at a time on a machine, so these
// runs go one after another and wait for any other istio lab of the suite to end.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  isIssuedBy,
  type ParsedCertificate,
  parseCertificatePem,
  parseCertificatesPem,
} from '../../lambdas/core/pki/index.js';
import { PROJECT_ROOT } from '../../lib/handler-entries.js';
import { ensureCloudAssembly } from '../../rehearsal/cloud-assembly.js';
import { FLEET_FOLDER_PREFIX } from '../../rehearsal/fleet/fleet-folders.js';
import { filesWithPrivateKeys } from '../../rehearsal/private-key-scan.js';
import type { RehearsalReport } from '../../rehearsal/rehearsal-report.js';
import { controlPlaneBinaries } from '../support/lab-binaries.js';
import { failedChecks, type Rehearsal, runRehearseCli } from '../support/rehearse-cli.js';

/** A lab start (~40 s), the rotation, its waits, the soak and the settle window (~30 s each). */
const RUN_TIMEOUT_MS = 8 * 60_000;
/**
 * The workload certificate lifetime of these runs (pilot-agent's SECRET_TTL): half the rehearsal's
 * default, so the soak, the renewal waits and the settle window, each one lifetime long, take half as
 * long; proxies still renew at half life, as with 24 h certificates.
 */
const SECRET_TTL_SECONDS = 30;
const outputDirs: string[] = [];
let cdkOut: string;

function rehearse(...flags: string[]): Promise<Rehearsal> {
  return runRehearseCli({
    cdkOut,
    flags: [
      '--engine',
      'istio',
      '--wait-for-lab',
      '1800',
      '--proxy-env',
      `SECRET_TTL=${SECRET_TTL_SECONDS}s`,
      ...flags,
    ],
    timeoutMs: RUN_TIMEOUT_MS + 30 * 60_000,
    outputDirs,
  });
}

/** The cluster whose cacerts signs a cluster's proxies: itself, or a remote's primary. */
type SignerOf = (cluster: string) => string;
const itself: SignerOf = (cluster) => cluster;

/**
 * Issue 17's proof, from what the lab saw itself: each cluster re-signed (preflight chose `resign`,
 * restart-workloads restarted nothing), every pod at the end is the pod of the start (same UID), and
 * every workload's certificate moved from its signer's start intermediate to its final one.
 */
function expectResignedWithoutRestarts(report: RehearsalReport, signerOf: SignerOf = itself): void {
  expect(report.strategies.map((entry) => [entry.cluster, entry.strategy])).toEqual(
    report.clusters.map((cluster) => [cluster, 'resign']),
  );
  for (const { cluster, restartWorkloads } of report.strategies) {
    expect({
      cluster,
      restarted: restartWorkloads?.restarted,
      fallback: restartWorkloads?.resign?.fallback,
    }).toEqual({ cluster, restarted: 0, fallback: 0 });
  }
  expectEveryWorkloadMoved(report, signerOf);
  for (const move of report.workloadMoves) {
    expect({ workload: `${move.cluster}/${move.workload}`, uids: move.end.map((pod) => pod.uid) }).toEqual({
      workload: `${move.cluster}/${move.workload}`,
      uids: move.start.map((pod) => pod.uid),
    });
    expect(move.restarted).toBe(false);
  }
  expect(report.checks.find((check) => check.name === 'resign-no-pods-restarted')?.ok).toBe(true);
}

/**
 * Every workload of every cluster: its pods held certificates of its signer's int_A at the start, of its
 * int_B at the end.
 */
function expectEveryWorkloadMoved(report: RehearsalReport, signerOf: SignerOf = itself): void {
  const initialOf = new Map(report.initial.map((entry) => [entry.cluster, entry.caCert]));
  const finalOf = new Map(report.final.map((entry) => [entry.cluster, entry.caCert]));
  const initial = new Map(report.clusters.map((cluster) => [cluster, initialOf.get(signerOf(cluster))]));
  const final = new Map(report.clusters.map((cluster) => [cluster, finalOf.get(signerOf(cluster))]));
  expect(report.workloadMoves.length).toBeGreaterThan(0);
  expect(new Set(report.workloadMoves.map((move) => move.cluster))).toEqual(new Set(report.clusters));
  for (const move of report.workloadMoves) {
    expect({
      workload: `${move.cluster}/${move.workload}`,
      start: [...new Set(move.start.map((pod) => pod.issuer))],
      end: [...new Set(move.end.map((pod) => pod.issuer))],
    }).toEqual({
      workload: `${move.cluster}/${move.workload}`,
      start: [initial.get(move.cluster)],
      end: [final.get(move.cluster)],
    });
    expect(initial.get(move.cluster)).not.toBe(final.get(move.cluster));
  }
  expect(report.checks.find((check) => check.name === 'workloads-moved-to-new-intermediate')?.ok).toBe(true);
}

/** The rehearsal's fleet folders (they hold the fleet's keys): none may outlive a run. */
function fleetFolders(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith(FLEET_FOLDER_PREFIX));
}

beforeAll(async () => {
  // The binaries (built once into the cache) and one synth for every run below.
  await controlPlaneBinaries();
  cdkOut = (await ensureCloudAssembly({ projectRoot: PROJECT_ROOT })).directory;
}, 30 * 60_000);

afterAll(() => {
  for (const dir of outputDirs) rmSync(dir, { recursive: true, force: true });
});

describe('meshtrust rehearse --engine istio', () => {
  it(
    'rotates 2 clusters on schedule with PCDS on and CRLF root files: proxies re-sign, no pod restarted, 0 failed handshakes',
    async () => {
      // Prepare
      const foldersBefore = fleetFolders();

      // Act
      const run = await rehearse(
        '--clusters',
        '2',
        '--workloads',
        '2',
        '--proxy-env',
        'PROXY_CONFIG_XDS_AGENT=true',
        '--root-cert-style',
        'crlf',
      );

      // Assess
      const { report } = run;
      expect(failedChecks(report)).toEqual([]);
      expect(run.exitCode).toBe(0);
      expect(report.engine).toMatchObject({ name: 'istio', kubernetes: 'v1.36.3' });
      expect(report.engine.istio).toMatch(/^1\.\d+/);
      expect(report.result).toBe('SUCCEEDED');
      expect(report.rootCertStyle).toBe('crlf');
      expect(report.initial.every((entry) => entry.roots.length === 1)).toBe(true);
      expect(report.totals.handshakes.failed).toBe(0);
      // Real istiod took every write: its log has no dropped reload.
      expect(report.rejectedUpdates).toEqual([]);
      // After the settle window, each workload serves a certificate of its cluster's new intermediate.
      const finalIntermediate = new Map(report.final.map((entry) => [entry.cluster, entry.caCert]));
      const initialIntermediate = new Map(report.initial.map((entry) => [entry.cluster, entry.caCert]));
      // Per cluster two apps, the ingress and east-west gateways and tools/probe (injected by object
      // selector in a namespace without injection labels): all re-signed and probed alike.
      expect(report.workloads).toHaveLength(10);
      expect(report.workloads.filter((workload) => workload.pod.startsWith('istio-system/'))).toHaveLength(4);
      expect(
        report.workloads.filter((workload) => workload.pod.startsWith('istio-system/istio-eastwestgateway-')),
      ).toHaveLength(2);
      expect(report.workloads.filter((workload) => workload.pod.startsWith('tools/probe-'))).toHaveLength(2);
      for (const workload of report.workloads) {
        expect(workload.issuer).toBe(finalIntermediate.get(workload.cluster));
        expect(workload.issuer).not.toBe(initialIntermediate.get(workload.cluster));
      }
      // PCDS on: every proxy took the new bundle and re-signed by itself; no pod was restarted.
      expectResignedWithoutRestarts(report);
      expect(report.workloadMoves).toHaveLength(10);
      expect(report.phases.at(-1)?.name).toBe('final');
      expect(report.phases.at(-1)?.handshakes.attempted).toBeGreaterThan(10);
      expect(await filesWithPrivateKeys(run.dir, [])).toEqual([]);
      // The run's own folder is gone (an abandoned one from a killed run may have gone too).
      expect(fleetFolders().filter((folder) => !foldersBefore.includes(folder))).toEqual([]);
    },
    RUN_TIMEOUT_MS + 30 * 60_000,
  );

  it(
    'with PCDS off and a fast volume sync: waits for the renewal window, so no restarted pod breaks a peer',
    async () => {
      // Without await-proxy-trust this run failed a handshake in restart-workloads: a pod restarted onto
      // a B-chained certificate while its peers, not yet renewed, trusted A alone (issue 12, finding 1).
      // Act
      const run = await rehearse('--clusters', '2', '--workloads', '3', '--volume-sync-delay', '1');

      // Assess
      const { report } = run;
      expect(failedChecks(report)).toEqual([]);
      expect(run.exitCode).toBe(0);
      expect(report.handshakeFailures).toEqual([]);
      // The wait is the one preflight computed from the certificates' lifetime: ceil(TTL x 0.51) + 10 s.
      const wait = report.phases.find((phase) => phase.name === 'await-proxy-trust');
      expect(wait).toBeDefined();
      const waited = Date.parse(wait?.endedAt ?? '') - Date.parse(wait?.startedAt ?? '');
      expect(waited).toBeGreaterThanOrEqual((Math.ceil(SECRET_TTL_SECONDS * 0.51) + 10) * 1000);
      // Per cluster three apps, two gateways and tools/probe.
      expect(report.workloads).toHaveLength(12);
      // PCDS off: preflight picks restart, and every workload moved by a restart (new pods, new UIDs).
      expect(report.strategies.map((entry) => [entry.cluster, entry.strategy])).toEqual([
        ['lab-1', 'restart'],
        ['lab-2', 'restart'],
      ]);
      for (const { restartWorkloads } of report.strategies) {
        expect(restartWorkloads?.restarted).toBeGreaterThan(0);
      }
      expectEveryWorkloadMoved(report);
      for (const move of report.workloadMoves) {
        expect({ workload: `${move.cluster}/${move.workload}`, restarted: move.restarted }).toEqual({
          workload: `${move.cluster}/${move.workload}`,
          restarted: true,
        });
      }
    },
    RUN_TIMEOUT_MS + 30 * 60_000,
  );

  it(
    'emergency with PCDS on and a 10 s volume sync: proxies re-sign once istiod signs with the new intermediate, no pod restarted',
    async () => {
      // Act
      const run = await rehearse(
        '--clusters',
        '2',
        '--workloads',
        '2',
        '--mode',
        'emergency',
        '--volume-sync-delay',
        '10',
        '--proxy-env',
        'PROXY_CONFIG_XDS_AGENT=true',
      );

      // Assess
      const { report } = run;
      expect(failedChecks(report)).toEqual([]);
      expect(run.exitCode).toBe(0);
      expect(report.phases.map((phase) => phase.name)).not.toContain('soak');
      expect(report.result).toBe('SUCCEEDED');
      expect(report.totals.handshakes.failed).toBe(0);
      // Each workload ends on its cluster's new intermediate, though no soak let renewals repair it, and
      // no pod was restarted: the proxies re-signed on istiod's push.
      const initialIntermediate = new Map(report.initial.map((entry) => [entry.cluster, entry.caCert]));
      for (const workload of report.workloads) {
        expect(workload.issuer).not.toBe(initialIntermediate.get(workload.cluster));
      }
      expect(report.workloads).toHaveLength(10);
      expectResignedWithoutRestarts(report);
      expect(report.workloadMoves).toHaveLength(10);
    },
    RUN_TIMEOUT_MS + 30 * 60_000,
  );

  it(
    'rekeys one cluster in intermediate mode: only its workloads move to a new intermediate',
    async () => {
      // Act
      const run = await rehearse(
        '--clusters',
        '2',
        '--workloads',
        '1',
        '--mode',
        'intermediate',
        '--cluster',
        'lab-2',
      );

      // Assess
      const { report } = run;
      expect(failedChecks(report)).toEqual([]);
      expect(run.exitCode).toBe(0);
      const initial = new Map(report.initial.map((entry) => [entry.cluster, entry.caCert]));
      for (const workload of report.workloads) {
        const moved = workload.issuer !== initial.get(workload.cluster);
        expect({ pod: `${workload.cluster}/${workload.pod}`, moved }).toEqual({
          pod: `${workload.cluster}/${workload.pod}`,
          moved: workload.cluster === 'lab-2',
        });
      }
    },
    RUN_TIMEOUT_MS + 30 * 60_000,
  );

  it(
    'rolls back a failure after reissue-intermediate on real istiod: byte-identical cacerts, 0 failed handshakes',
    async () => {
      // Act: lab-2's step fails after its new intermediate was written; PCDS off, as Istio ships.
      const run = await rehearse(
        '--clusters',
        '2',
        '--workloads',
        '1',
        '--fail-at',
        'reissue-intermediate:lab-2',
      );

      // Assess
      const { report } = run;
      expect(failedChecks(report)).toEqual([]);
      expect(run.exitCode).toBe(0);
      expect(report.result).toBe('ROLLED_BACK');
      expect(report.expectedResult).toBe('ROLLED_BACK');
      expect(report.totals.handshakes.failed).toBe(0);
      expect(report.checks.find((check) => check.name === 'cacerts-byte-identical-to-start')?.ok).toBe(true);
      expect(
        report.timeline.some((write) => write.cluster === 'lab-2' && write.phase === 'reissue-intermediate'),
      ).toBe(true);
      // Real istiod took every write, the rollback's included.
      expect(report.rejectedUpdates).toEqual([]);
      expect(report.final).toEqual(report.initial);
    },
    RUN_TIMEOUT_MS + 30 * 60_000,
  );

  it(
    "rotates a primary-remote fleet in emergency with PCDS on: the remote, served by its primary's real istiod, is never written, and both resign onto the primary's new intermediate, chained to root B",
    async () => {
      // Act: lab-2 a remote of lab-1 (no istiod, no cacerts), the functions given REMOTE_CLUSTERS=lab-2=lab-1;
      // PCDS in the mesh's proxy metadata, so lab-1's istiod pushes its new root-cert to both clusters' proxies.
      const run = await rehearse(
        '--clusters',
        '2',
        '--workloads',
        '1',
        '--mode',
        'emergency',
        '--topology',
        'primary-remote',
        '--proxy-env',
        'PROXY_CONFIG_XDS_AGENT=true',
      );

      // Assess
      const { report } = run;
      expect(failedChecks(report)).toEqual([]);
      expect(run.exitCode).toBe(0);
      expect(report.result).toBe('SUCCEEDED');
      expect(report.totals.handshakes.failed).toBe(0);
      expect(report.phases.at(-1)?.handshakes.attempted).toBeGreaterThan(0);
      // Nothing was written to the remote: no cacerts write of lab-2 in the timeline after its start.
      expect(
        report.timeline.filter((write) => write.cluster === 'lab-2' && write.phase !== 'initial'),
      ).toEqual([]);
      // Both resigned: restart-workloads restarted nothing in either, every pod has its UID of the start,
      // and every proxy of both clusters (app, tools/probe, both gateways) moved by lab-1's push from
      // lab-1's start intermediate to its final one.
      const signerOf: SignerOf = (cluster) => (cluster === 'lab-2' ? 'lab-1' : cluster);
      expectResignedWithoutRestarts(report, signerOf);
      for (const { cluster, restartWorkloads } of report.strategies) {
        expect({ cluster, moved: restartWorkloads?.resign?.moved }).toEqual({
          cluster,
          moved: restartWorkloads?.resign?.pods,
        });
      }
      const primaryFinal = report.final.find((entry) => entry.cluster === 'lab-1')?.caCert;
      expect(report.workloads).toHaveLength(8);
      expect(report.workloads.filter((workload) => workload.cluster === 'lab-2')).toHaveLength(4);
      for (const workload of report.workloads) {
        expect({ pod: `${workload.cluster}/${workload.pod}`, issuer: workload.issuer }).toEqual({
          pod: `${workload.cluster}/${workload.pod}`,
          issuer: primaryFinal,
        });
      }
      // That intermediate is the one lab-1's cacerts ends with, signed by root B, its only root.
      const finalFile = (file: string) => readFileSync(join(run.dir, 'final', 'lab-1', file), 'utf8');
      const intermediate = parseCertificatePem(finalFile('ca-cert.pem'));
      const roots = parseCertificatesPem(finalFile('root-cert.pem'));
      expect(intermediate.fingerprint).toBe(primaryFinal);
      expect(roots.map((root) => root.fingerprint)).toEqual([report.rootLetters.B]);
      expect(await isIssuedBy(intermediate.certificate, (roots[0] as ParsedCertificate).certificate)).toBe(
        true,
      );
    },
    RUN_TIMEOUT_MS + 30 * 60_000,
  );

  it(
    'with ISTIO_MULTIROOT_MESH off: refused at preflight, nothing written, the report names the setting',
    async () => {
      // Act
      const run = await rehearse(
        '--clusters',
        '1',
        '--workloads',
        '1',
        '--istiod-env',
        'ISTIO_MULTIROOT_MESH=false',
      );

      // Assess
      const { report } = run;
      expect(run.exitCode).toBe(1);
      expect(report.result).toBe('FAILED');
      expect(report.error?.cause).toContain('ISTIO_MULTIROOT_MESH');
      expect(report.phases.map((phase) => phase.name)).toEqual([
        'acquire-lock',
        'preflight',
        'release-lock-after-stop',
        'final',
      ]);
      // Only the start state is in the timeline: no cacerts write happened.
      expect(report.timeline.map((write) => write.phase)).toEqual(['initial']);
      expect(report.final).toEqual(report.initial);
    },
    RUN_TIMEOUT_MS + 30 * 60_000,
  );
});
