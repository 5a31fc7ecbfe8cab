// `meshtrust rehearse --lab DIR` on an istio-engine lab: `meshtrust lab --engine istio --out DIR`
// (real kube-apiserver, real istiod and pilot-agent) started as its own process, then one rehearsal
// of the synthesized state machine against it from another process, through the same attach protocol
// as the model engine's (its moto_server, its clusters' API servers as the rotator, its prober). The
// run must rotate with 0 failed handshakes and leave the lab running on the new root.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { PROJECT_ROOT } from '../../lib/handler-entries.js';
import { ensureCloudAssembly } from '../../rehearsal/cloud-assembly.js';
import { controlPlaneBinaries } from '../support/lab-binaries.js';
import {
  isAlive,
  type LabCommand,
  labCacertsRoots,
  startLabCommand,
  stopLabCommand,
} from '../support/lab-command.js';
import { failedChecks, runRehearseCli } from '../support/rehearse-cli.js';

/** Istio labs run one at a time on a machine: the lab may first wait for another one to end. */
const LAB_START_TIMEOUT_MS = 35 * 60_000;
/** The rotation, its waits, the soak and the settle window (each about one certificate lifetime). */
const RUN_TIMEOUT_MS = 8 * 60_000;
/** pilot-agent's SECRET_TTL in the lab: the soak and the settle window take this long. */
const SECRET_TTL_SECONDS = 30;

jest.setTimeout(LAB_START_TIMEOUT_MS + RUN_TIMEOUT_MS + 2 * 60_000);

let cdkOut: string;
let dir: string;
let lab: LabCommand | undefined;
const outputDirs: string[] = [];

/** What a cluster's cacerts trusts now, read from the lab as the rotator of DIR/env (not from a report). */
function rootsOf(cluster: string): Promise<string[]> {
  return labCacertsRoots(dir, cluster);
}

beforeAll(
  async () => {
    await controlPlaneBinaries();
    cdkOut = (await ensureCloudAssembly({ projectRoot: PROJECT_ROOT })).directory;
    dir = await mkdtemp(join(tmpdir(), 'meshtrust-attached-istio-lab-'));
    lab = await startLabCommand(
      [
        '--engine',
        'istio',
        '--clusters',
        '2',
        '--workloads',
        '1',
        '--proxy-env',
        `SECRET_TTL=${SECRET_TTL_SECONDS}s`,
        '--wait-for-lab',
        '1800',
      ],
      dir,
      LAB_START_TIMEOUT_MS,
    );
  },
  LAB_START_TIMEOUT_MS + 30 * 60_000,
);

afterAll(async () => {
  await stopLabCommand(lab, 60_000);
  await Promise.all([dir, ...outputDirs].map((path) => path && rm(path, { recursive: true, force: true })));
}, 2 * 60_000);

describe('meshtrust rehearse --lab DIR on an istio-engine lab', () => {
  it('rotates the running istio lab (emergency) with 0 failed handshakes and leaves it running on the new root', async () => {
    // Prepare
    if (lab === undefined) throw new Error('the lab did not start');
    const [rootA] = await rootsOf('lab-1');

    // Act
    const run = await runRehearseCli({
      cdkOut,
      flags: ['--lab', dir, '--mode', 'emergency'],
      timeoutMs: RUN_TIMEOUT_MS,
      outputDirs,
    });

    // Assess
    expect(failedChecks(run.report)).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toContain(`attached to the lab in ${dir}`);
    expect(run.report.engine).toMatchObject({ name: 'istio' });
    expect(run.report.result).toBe('SUCCEEDED');
    expect(run.report.totals.handshakes.attempted).toBeGreaterThan(0);
    expect(run.report.totals.handshakes.failed).toBe(0);
    // Real istiod took every write: its log has no dropped reload.
    expect(run.report.rejectedUpdates).toEqual([]);
    expect(run.report.rootLetters.A).toBe(rootA);
    const rootB = run.report.rootLetters.B as string;
    expect(rootB).not.toBe(rootA);
    expect(isAlive(lab.description.pid)).toBe(true);
    expect(await rootsOf('lab-1')).toEqual([rootB]);
    expect(await rootsOf('lab-2')).toEqual([rootB]);
  });
});
