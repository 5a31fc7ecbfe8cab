// `meshtrust plan` with one cluster in another account (issue 13), against moto and the lab: lab-2 is
// moved into account 222222222222 behind an EKS API that answers for it only to that account's callers,
// and only that account's role is mapped in it (as preflight-other-account.test.ts does for the
// function). The operator names the role with --cluster-account-roles; the CLI assumes it from the
// operator's own credentials through the lab's sts:AssumeRole, and reads lab-2 as that role.
import { EXIT_CODES } from '../../../bin/cli/cli-errors.js';
import type { PlanReport } from '../../../bin/commands/plan.js';
import { type HandlerLab, startHandlerLab } from '../handlers/handler-lab.js';
import { moveToOtherAccount, type OtherAccountCluster } from '../handlers/other-account-cluster.js';
import { type CliRun, runMeshtrustInProcess } from './in-process-cli.js';

const FAR_ACCOUNT = '222222222222';

let h: HandlerLab;
let far: OtherAccountCluster;
// Not the stack's convention: an operator's read-only role of that account, named on the command line.
const farRole = `arn:aws:iam::${FAR_ACCOUNT}:role/platform-mesh-reader`;
/** The lab's environment (handler-lab sets it in process.env), with the EKS API and STS of this test. */
let labEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  h = await startHandlerLab({ clusters: 2, workloadsPerCluster: 1, pcds: true });
  // The operator's credentials are the lab's (the rotator's); the other account's role trusts them, and
  // lab-2's only access entry with the rotator's group is that role's.
  far = await moveToOtherAccount(h, { cluster: 'lab-2', account: FAR_ACCOUNT, roleArn: farRole });
  // The AWS SDK reads the endpoints from the process's environment, as the CLI's own process would.
  Object.assign(process.env, { AWS_ENDPOINT_URL_EKS: far.eks.url, AWS_ENDPOINT_URL_STS: far.eks.url });
  labEnv = { ...process.env };
});

afterEach(() => {
  // The CLI applies its flags to this process's environment, as it does in its own process.
  for (const key of Object.keys(process.env)) if (!(key in labEnv)) delete process.env[key];
  Object.assign(process.env, labEnv);
});

afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_EKS;
  delete process.env.AWS_ENDPOINT_URL_STS;
  await far?.stop();
  await h?.stop();
});

function plan(...flags: string[]): Promise<CliRun> {
  return runMeshtrustInProcess(
    ['plan', '--mode', 'scheduled', '--clusters', `lab-1,${far.entry}`, ...flags],
    {
      ...process.env,
      MESH_ID: '',
      MESHTRUST_MESH_ID: h.meshId,
    },
  );
}

describe('meshtrust plan with a cluster in another account', () => {
  it('reads it as the role --cluster-account-roles names for that account, and writes nothing', async () => {
    // Prepare
    const before = await h.writableState();

    // Act
    const { exitCode, stdout, stderr } = await plan(
      '--cluster-account-roles',
      `${FAR_ACCOUNT}=${farRole}`,
      '--json',
    );

    // Assess
    expect({ exitCode, stderr }).toEqual({ exitCode: EXIT_CODES.ok, stderr: '' });
    const report = JSON.parse(stdout) as PlanReport;
    expect(report.problems).toEqual([]);
    expect(report.clusters.map((c) => [c.name, c.intermediateIssuerRoot])).toEqual([
      ['lab-1', h.currentRoot.fingerprint],
      ['lab-2', h.currentRoot.fingerprint],
    ]);
    expect(await h.writableState()).toEqual(before);
  });

  it("can't read it as the operator's own credentials, which that account does not know", async () => {
    // Act
    const { exitCode, stderr } = await plan();

    // Assess: the lab's EKS API answers lab-2 only to a caller of its account
    expect(exitCode).not.toBe(EXIT_CODES.ok);
    expect(stderr).toContain('lab-2');
  });

  it('refuses a malformed --cluster-account-roles with a usage error naming the flag, before reading anything', async () => {
    // Act
    const { exitCode, stderr } = await plan(
      '--cluster-account-roles',
      `${FAR_ACCOUNT}=arn:aws:iam::333333333333:role/x`,
    );

    // Assess
    expect(exitCode).toBe(EXIT_CODES.usage);
    expect(stderr).toContain(
      `--cluster-account-roles: "${FAR_ACCOUNT}=arn:aws:iam::333333333333:role/x" is not`,
    );
    expect(stderr).not.toContain('the meshtrust stack writes it');
  });
});
