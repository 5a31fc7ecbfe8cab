// `meshtrust verify` against a 2-cluster lab and moto: a healthy fleet passes with its expiry headroom
// shown; a cacerts whose chain ends at another root is listed with exit 1; expiry under the warning
// threshold warns without failing. (Namespace bundles that differ: verify-report.test.ts, since the lab's
// istiod puts an edited istio-ca-root-cert back at once.)
import { EXIT_CODES } from '../../../bin/cli/cli-errors.js';
import type { VerifyReport } from '../../../bin/commands/verify.js';
import {
  assembleCacerts,
  certificateFingerprint,
  createIntermediateCa,
  createRootCa,
  TrustBundle,
} from '../../../lambdas/core/pki/index.js';
import { type HandlerLab, startHandlerLab } from '../handlers/handler-lab.js';
import { type CliRun, runMeshtrustInProcess } from './in-process-cli.js';

let h: HandlerLab;
beforeAll(async () => {
  h = await startHandlerLab({ clusters: 2, workloadsPerCluster: 2 });
});
afterAll(async () => {
  await h?.stop();
});

async function meshtrust(...args: string[]): Promise<CliRun> {
  // The lab's environment, as `source DIR/env` gives a shell (handler-lab sets it in process.env).
  return runMeshtrustInProcess(args, { ...process.env, MESH_ID: '', MESHTRUST_MESH_ID: h.meshId });
}

/** Waits until verify passes again (istiod republishes a changed root set after a push delay). */
async function fleetVerified(): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await meshtrust('verify')).exitCode !== EXIT_CODES.ok) {
    if (Date.now() > deadline)
      throw new Error('the lab fleet did not settle back to a verified state in 20 s');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('meshtrust verify', () => {
  it('passes a healthy fleet: every cluster ok, bundles checked, expiry headroom shown', async () => {
    // Prepare, Act
    const { exitCode, stdout } = await meshtrust('verify');
    // Assess
    expect(exitCode).toBe(EXIT_CODES.ok);
    expect(stdout).toContain(`current root ${h.currentRoot.fingerprint}`);
    expect(stdout).toMatch(
      /^ok {3}lab-1: [1-9]\d* namespace bundle\(s\) checked, intermediate [0-9a-f]{64} expires in \d+ days$/m,
    );
    expect(stdout).toMatch(/^ok {3}lab-2: /m);
    expect(stdout).toContain('trust verified');
  });

  it('lists a cluster whose intermediate chains to another root, exit 1', async () => {
    // Prepare
    const rootX = await createRootCa({ commonName: 'root X' });
    const intX = await createIntermediateCa({ cluster: 'lab-2', issuer: rootX });
    const original = h.cacertsOf('lab-2');
    h.replaceCacerts(
      'lab-2',
      assembleCacerts({
        intermediate: intX,
        chainAbove: [rootX.certificatePem],
        trustedRoots: TrustBundle.parse(original['root-cert.pem']).add(rootX.certificatePem),
      }),
    );
    // Act
    const result = await meshtrust('verify', '--json').finally(() => h.replaceCacerts('lab-2', original));
    // istiod took {A, X} and now goes back to {A}: let it publish before the next test reads bundles.
    // One verified read is not enough: it can fall between two namespaces' updates of the push.
    await h.lab.waitForSettled();
    await fleetVerified();
    // Assess
    const report = JSON.parse(result.stdout) as VerifyReport;
    expect(result.exitCode).toBe(EXIT_CODES.checkFailed);
    expect(report.ok).toBe(false);
    expect(report.clusters.map((c) => [c.name, c.ok])).toEqual([
      ['lab-1', true],
      ['lab-2', false],
    ]);
    expect(report.problems).toContainEqual(
      expect.stringContaining(
        `cluster lab-2: the intermediate chains to root ${certificateFingerprint(rootX.certificatePem)}, not to the mesh's current root`,
      ),
    );
  });

  it('warns, without failing, about a root and intermediates inside the expiry warning window', async () => {
    // Prepare
    process.env.EXPIRY_WARNING_DAYS = '100000';
    // Act
    const result = await meshtrust('verify', '--json').finally(() => {
      delete process.env.EXPIRY_WARNING_DAYS;
    });
    // Assess
    const report = JSON.parse(result.stdout) as VerifyReport;
    expect(result.exitCode).toBe(EXIT_CODES.ok);
    expect(report.warnings).toEqual([
      expect.stringMatching(/^the current root [0-9a-f]{64} expires in \d+ days/),
      expect.stringMatching(/^cluster lab-1: the intermediate expires in \d+ days/),
      expect.stringMatching(/^cluster lab-2: the intermediate expires in \d+ days/),
    ]);
  });

  it('documents its options in --help', async () => {
    // Prepare, Act
    const { exitCode, stdout } = await meshtrust('verify', '--help');
    // Assess
    expect(exitCode).toBe(EXIT_CODES.ok);
    for (const option of ['--json', '--region', '--profile', '--mesh-id', '--clusters']) {
      expect(stdout).toContain(option);
    }
  });
});
