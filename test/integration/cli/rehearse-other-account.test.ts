// A rehearsal across accounts (issue 13): `rehearse --other-account-clusters 1` places lab-2 in the lab's
// second account, where the lab's own identities (the functions' roles, the stack's cluster roles, the
// operator) can neither describe it in EKS nor get a group in its Kubernetes API; only that account's
// roles, each trusting the stack's cluster role of its kind, are mapped there. The rotation must still
// rotate it, which it can only do as those roles: the report names the roles assumed there and by which
// phases. Model engine, 2 clusters x 1 workload, emergency with PCDS on (no soak, no restarts): about a
// minute, most of it the run's own fixed costs (moto, warming the function containers).
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeClusterCommand, EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import { EXIT_CODES } from '../../../bin/cli/cli-errors.js';
import {
  kubeIdentityFor,
  LAB_ACCOUNT_ID,
  LAB_OTHER_ACCOUNT_ID,
  ROTATOR_GROUP,
} from '../../../lab/eks/lab-identities.js';
import { LAB_OTHER_REGION } from '../../../lab/lab-options.js';
import { type Lab, startLab } from '../../../lab/start-lab.js';
import { PROJECT_ROOT } from '../../../lib/handler-entries.js';
import { ensureCloudAssembly } from '../../../rehearsal/cloud-assembly.js';
import { failedChecks, runRehearseCli } from '../../support/rehearse-cli.js';
import { runMeshtrustInProcess } from './in-process-cli.js';

const RUN_TIMEOUT_MS = 5 * 60_000;
const MESH = 'lab';
const farRole = (kind: string) => `arn:aws:iam::${LAB_OTHER_ACCOUNT_ID}:role/meshtrust-${MESH}-${kind}`;

let cdkOut: string;
const outputDirs: string[] = [];

beforeAll(async () => {
  // A fresh cdk.out is reused; a stale one is synthesized again (1-2 minutes), once for the file.
  cdkOut = (await ensureCloudAssembly({ projectRoot: PROJECT_ROOT })).directory;
}, 5 * 60_000);

afterAll(() => {
  for (const dir of outputDirs) rmSync(dir, { recursive: true, force: true });
});

describe('a lab cluster placed in another account', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await startLab({ clusters: 2, workloadsPerCluster: 1, meshId: MESH, otherAccountClusters: 1 });
  });

  afterAll(async () => {
    await lab?.stop();
  });

  const eksAs = (identity: Lab['identities']['rotator']) =>
    new EKSClient({ endpoint: lab.eksEndpoint, region: lab.region, credentials: identity.credentials });

  it("is out of sight of the lab's own account: EKS hides it and its Kubernetes API gives them no group", async () => {
    // Prepare
    const { rotator, verifier, expiryCheck } = lab.identities;

    // Act
    const listed = await eksAs(rotator).send(new ListClustersCommand({}));
    const described = await eksAs(rotator)
      .send(new DescribeClusterCommand({ name: 'lab-2' }))
      .catch((error: Error) => error);

    // Assess
    expect(listed.clusters).toEqual(['lab-1']);
    expect(described).toMatchObject({ name: 'ResourceNotFoundException' });
    for (const identity of [rotator, verifier, expiryCheck]) {
      expect(kubeIdentityFor(lab.identities, 'lab-2', identity).groups).toEqual([]);
      expect(kubeIdentityFor(lab.identities, 'lab-1', identity).groups).not.toEqual([]);
    }
    expect(lab.cluster('lab-2').arn).toBe(`arn:aws:eks:${lab.region}:${LAB_OTHER_ACCOUNT_ID}:cluster/lab-2`);
    expect(lab.cluster('lab-1').arn).toBe(`arn:aws:eks:${lab.region}:${LAB_ACCOUNT_ID}:cluster/lab-1`);
  });

  it("is reached only as that account's roles, each trusting the lab's own role of its kind", () => {
    // Act
    const entries = lab.identities.accessEntries.get('lab-2');

    // Assess
    expect([...(entries?.keys() ?? [])].sort()).toEqual(
      [farRole('expiry-check'), farRole('rotator'), farRole('verifier')].sort(),
    );
    expect(entries?.get(farRole('rotator'))?.groups).toEqual([ROTATOR_GROUP]);
    expect([...(lab.identities.trust.get(farRole('rotator')) ?? [])]).toEqual([
      lab.identities.rotator.principalArn,
    ]);
    expect([...(lab.identities.trust.get(farRole('verifier')) ?? [])]).toEqual([
      lab.identities.verifier.principalArn,
    ]);
  });
});

/** Emergency with PCDS on (no soak, no restarts), 2 clusters x 1 workload, lab-2 in the other account. */
const rehearseWithOtherAccount = (...flags: string[]) =>
  runRehearseCli({
    cdkOut,
    flags: [
      '--clusters',
      '2',
      '--workloads',
      '1',
      '--mode',
      'emergency',
      '--proxy-env',
      'PROXY_CONFIG_XDS_AGENT=true',
      '--other-account-clusters',
      '1',
      ...flags,
    ],
    timeoutMs: RUN_TIMEOUT_MS,
    outputDirs,
  });

describe('a lab cluster placed in another region', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await startLab({ clusters: 2, workloadsPerCluster: 1, meshId: MESH, otherRegionClusters: 1 });
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it('is listed only to a request signed for its region, with that region in its ARN', async () => {
    // Prepare
    const { credentials } = lab.identities.rotator;
    const eksIn = (region: string) => new EKSClient({ endpoint: lab.eksEndpoint, region, credentials });

    // Act
    const home = await eksIn(lab.region).send(new ListClustersCommand({}));
    const away = await eksIn(LAB_OTHER_REGION).send(new ListClustersCommand({}));

    // Assess: the same account's roles reach it, from its region
    expect(home.clusters).toEqual(['lab-1']);
    expect(away.clusters).toEqual(['lab-2']);
    expect(lab.cluster('lab-2').arn).toBe(`arn:aws:eks:${LAB_OTHER_REGION}:${LAB_ACCOUNT_ID}:cluster/lab-2`);
    expect(kubeIdentityFor(lab.identities, 'lab-2', lab.identities.rotator).groups).toEqual([ROTATOR_GROUP]);
  });
});

describe('meshtrust rehearse --other-account-clusters', () => {
  it(
    "rotates the other account's cluster as that account's roles: SUCCEEDED, 0 failed handshakes",
    async () => {
      // Act
      const run = await rehearseWithOtherAccount();

      // Assess
      const { report } = run;
      expect({ exitCode: run.exitCode, failed: failedChecks(report) }).toEqual({
        exitCode: EXIT_CODES.ok,
        failed: [],
      });
      expect(report.result).toBe('SUCCEEDED');
      expect(report.totals.handshakes.failed).toBe(0);
      expect(report.totals.handshakes.attempted).toBeGreaterThan(0);
      // lab-2 ends on the new root as lab-1 does, which no identity of the lab's account could write.
      expect(report.checks).toContainEqual(
        expect.objectContaining({ name: 'final-roots-new-root-only', ok: true }),
      );
      const meshId = report.meshId;
      const role = (kind: string) => `arn:aws:iam::${LAB_OTHER_ACCOUNT_ID}:role/meshtrust-${meshId}-${kind}`;
      expect(report.accounts).toEqual([
        { account: LAB_ACCOUNT_ID, stack: true, clusters: ['lab-1'] },
        {
          account: LAB_OTHER_ACCOUNT_ID,
          stack: false,
          clusters: ['lab-2'],
          assumedRoles: [
            { role: role('expiry-check'), sessions: ['meshtrust-check-expiry'] },
            {
              role: role('rotator'),
              sessions: expect.arrayContaining([
                'meshtrust-preflight',
                'meshtrust-distribute-bundle',
                'meshtrust-reissue-intermediate',
                'meshtrust-retire-root',
              ]),
            },
            {
              role: role('verifier'),
              sessions: expect.arrayContaining(['meshtrust-verify-trust']),
            },
          ],
        },
      ]);
      expect(run.stdout).toContain(`${LAB_OTHER_ACCOUNT_ID} lab-2: another, reached as 3 role(s) of it`);
      const html = readFileSync(join(run.dir, 'report.html'), 'utf8');
      expect(html).toMatch(new RegExp(`id="accounts">.*<code>${LAB_OTHER_ACCOUNT_ID}</code> lab-2: <code>`));
    },
    RUN_TIMEOUT_MS + 30_000,
  );

  it(
    "with --discover-clusters finds the other account's cluster by tag, as that account's roles, and rotates it",
    async () => {
      // Act: CLUSTERS holds a `*` entry per account, no cluster by name
      const run = await rehearseWithOtherAccount('--discover-clusters');

      // Assess: lab-2, found only through the other account's entry, ends on the new root as lab-1 does
      const { report } = run;
      expect(run.stderr).toMatch(
        new RegExp(`CLUSTERS=\\*,arn:aws:eks:[a-z0-9-]+:${LAB_OTHER_ACCOUNT_ID}:cluster/\\*`),
      );
      expect({ exitCode: run.exitCode, failed: failedChecks(report) }).toEqual({
        exitCode: EXIT_CODES.ok,
        failed: [],
      });
      expect(report.result).toBe('SUCCEEDED');
      expect(report.totals.handshakes.failed).toBe(0);
      expect(report.checks).toContainEqual(
        expect.objectContaining({ name: 'final-roots-new-root-only', ok: true }),
      );
      const role = (kind: string) =>
        `arn:aws:iam::${LAB_OTHER_ACCOUNT_ID}:role/meshtrust-${report.meshId}-${kind}`;
      expect(report.accounts?.[1]).toMatchObject({
        account: LAB_OTHER_ACCOUNT_ID,
        clusters: ['lab-2'],
        assumedRoles: expect.arrayContaining([
          { role: role('rotator'), sessions: expect.arrayContaining(['meshtrust-distribute-bundle']) },
        ]),
      });
    },
    RUN_TIMEOUT_MS + 30_000,
  );

  it(
    'with --other-region-clusters and --discover-clusters finds each account and region apart, and rotates every cluster',
    async () => {
      // Act: lab-2 in the second region of the stack's account, lab-3 there in the other account
      const run = await runRehearseCli({
        cdkOut,
        flags: [
          '--clusters',
          '3',
          '--workloads',
          '1',
          '--mode',
          'emergency',
          '--proxy-env',
          'PROXY_CONFIG_XDS_AGENT=true',
          '--other-account-clusters',
          '1',
          '--other-region-clusters',
          '2',
          '--discover-clusters',
        ],
        timeoutMs: RUN_TIMEOUT_MS,
        outputDirs,
      });

      // Assess
      const { report } = run;
      expect(run.stderr).toContain(
        `CLUSTERS=*,arn:aws:eks:${LAB_OTHER_REGION}:${LAB_ACCOUNT_ID}:cluster/*,arn:aws:eks:${LAB_OTHER_REGION}:${LAB_OTHER_ACCOUNT_ID}:cluster/*`,
      );
      expect({ exitCode: run.exitCode, failed: failedChecks(report) }).toEqual({
        exitCode: EXIT_CODES.ok,
        failed: [],
      });
      expect(report.totals.handshakes.failed).toBe(0);
      expect(report.checks).toContainEqual(
        expect.objectContaining({ name: 'final-roots-new-root-only', ok: true }),
      );
      expect(report.accounts?.map(({ account, clusters }) => ({ account, clusters }))).toEqual([
        { account: LAB_ACCOUNT_ID, clusters: ['lab-1', 'lab-2'] },
        { account: LAB_OTHER_ACCOUNT_ID, clusters: ['lab-3'] },
      ]);
    },
    RUN_TIMEOUT_MS + 30_000,
  );

  it('refuses more other-account clusters than clusters, and the istio engine, naming the flag (exit 2)', async () => {
    // Act
    const tooMany = await runMeshtrustInProcess([
      'rehearse',
      '--clusters',
      '2',
      '--other-account-clusters',
      '3',
    ]);
    const istio = await runMeshtrustInProcess([
      'rehearse',
      '--engine',
      'istio',
      '--other-account-clusters',
      '1',
    ]);
    const typo = await runMeshtrustInProcess(['rehearse', '--other-acount-clusters', '1']);
    const regions = await runMeshtrustInProcess([
      'rehearse',
      '--clusters',
      '2',
      '--other-region-clusters',
      '3',
    ]);

    // Assess
    expect(tooMany.exitCode).toBe(EXIT_CODES.usage);
    expect(tooMany.stderr).toContain('--other-account-clusters 3 is more than');
    expect(istio.exitCode).toBe(EXIT_CODES.usage);
    expect(istio.stderr).toContain('--other-account-clusters is played by the model engine only');
    expect(typo.exitCode).toBe(EXIT_CODES.usage);
    expect(typo.stderr).toContain('--other-acount-clusters');
    expect(regions.exitCode).toBe(EXIT_CODES.usage);
    expect(regions.stderr).toContain('--other-region-clusters 3 is more than');
  });
});
