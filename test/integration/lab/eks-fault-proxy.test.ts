// The fault proxies in front of the lab's EKS API and its STS (--fault eks:..., --fault sts:...): the real
// AWS SDK v3 EKS client, the functions' own fleet discovery and the SDK's AssumeRole (fromTemporaryCredentials,
// as the handlers reach their cluster role) talk to them as the rehearsal's functions do. EKS is a
// REST-JSON service: its throttling (429 ThrottlingException) and 503 ServiceUnavailableException are
// named and classified by the SDK as AWS writes them; STS is a query service, whose 400 Throttling and
// 503 ServiceUnavailable come as XML. So the SDK's retry absorbs a few and the adapters call the rest
// transient, for the state machine's Retry.
import { EKSClient } from '@aws-sdk/client-eks';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { type AwsFaultProxy, startAwsFaultProxy } from '../../../lab/aws-fault-proxy.js';
import { type EksApiServer, startEksApiServer } from '../../../lab/eks/eks-api-server.js';
import {
  addRoleSession,
  allowAssumeRole,
  createLabIdentities,
  LAB_OTHER_ACCOUNT_ID,
} from '../../../lab/eks/lab-identities.js';
import { discoverClusters } from '../../../lambdas/adapters/eks/fleet-discovery.js';
import { isTransientAwsError } from '../../../lambdas/adapters/retry.js';
import { PreconditionFailed, TransientError } from '../../../lambdas/core/rotation-errors.js';
import { createFaultPlan, type FaultPlan } from '../../../rehearsal/fault-plan.js';
import { parseFault } from '../../../rehearsal/fault-spec.js';

const REGION = 'eu-west-1';
/** A CA PEM's frame, which DescribeCluster's answer must carry; nothing connects with it here. */
const NEVER_DIALLED_CA = '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n';
const identities = createLabIdentities({ clusterNames: ['lab-1'] });
/** A function's own role, which the cluster role trusts, as the stack's trust policy names it. */
const functionRole = addRoleSession(identities, {
  name: 'distribute-bundle',
  principalArn: 'arn:aws:iam::000000000000:role/DistributeBundleRole',
  sessionName: 'meshtrust-distribute-bundle',
});
allowAssumeRole(identities, identities.rotator.principalArn, [functionRole.principalArn]);
/** The rotator role of another account, trusting the cluster role, as docs/deploy.md sets it up. */
const FAR_ROLE = `arn:aws:iam::${LAB_OTHER_ACCOUNT_ID}:role/meshtrust-lab-rotator`;
allowAssumeRole(identities, FAR_ROLE, [identities.rotator.principalArn]);
let eks: EksApiServer;
let proxy: AwsFaultProxy;
let stsProxy: AwsFaultProxy;
let plan: FaultPlan;

beforeAll(async () => {
  eks = await startEksApiServer({
    region: REGION,
    identities,
    clusters: [
      // Only described, never dialled: the proxy's subject is the EKS API's answers.
      { name: 'lab-1', endpoint: 'https://127.0.0.1:1', caPem: NEVER_DIALLED_CA, version: '1.32', tags: {} },
      {
        name: 'far-1',
        accountId: LAB_OTHER_ACCOUNT_ID,
        endpoint: 'https://127.0.0.1:1',
        caPem: NEVER_DIALLED_CA,
        version: '1.32',
        tags: {},
      },
    ],
  });
  plan = createFaultPlan([]);
  proxy = await startAwsFaultProxy({ target: eks.url, fault: () => plan.eksRequest() });
  // The same server answers STS; the rehearsal puts a proxy of its own in front of it (function-containers.ts).
  stsProxy = await startAwsFaultProxy({ target: eks.url, stsFault: (request) => plan.stsRequest(request) });
});

afterAll(async () => {
  await proxy?.stop();
  await stsProxy?.stop();
  await eks?.stop();
});

/** Sets off the given faults, as the rehearsal does when their phase begins. */
function faultsAtPhase(...specs: string[]): void {
  plan = createFaultPlan(specs.map(parseFault));
  plan.enterPhase('preflight');
}

/** An EKS client of the functions' kind, pointed at the proxy as AWS_ENDPOINT_URL_EKS points them. */
function eksThroughProxy(maxAttempts?: number): EKSClient {
  const { credentials } = identities.rotator;
  return new EKSClient({
    region: REGION,
    endpoint: proxy.endpoint,
    credentials,
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
  });
}

const discover = (client: EKSClient) =>
  discoverClusters({ eks: client, meshId: 'lab', explicitClusters: ['lab-1'] });

/** The delay `slow` is played with here: long enough to tell from a prompt answer on a loaded machine. */
const SLOW_MS = 1200;

/** Runs `call` one after another `times` times, and how long each took (ms). */
async function timedInTurn(times: number, call: () => Promise<unknown>): Promise<number[]> {
  const took: number[] = [];
  for (let turn = 0; turn < times; turn += 1) {
    const started = performance.now();
    await call();
    took.push(performance.now() - started);
  }
  return took;
}

describe('EKS API fault proxy', () => {
  it('passes DescribeCluster to the lab EKS API unchanged when no fault answers it', async () => {
    // Prepare
    faultsAtPhase();

    // Act
    const clusters = await discover(eksThroughProxy());

    // Assess
    expect(clusters.map((cluster) => cluster.name)).toEqual(['lab-1']);
  });

  it.each([
    ['eks:throttle:1@preflight', 'ThrottlingException', 429],
    ['eks:5xx:1@preflight', 'ServiceUnavailableException', 503],
  ])(
    'answers %s as EKS writes it: the SDK names it and it counts as transient',
    async (spec, name, status) => {
      // Prepare
      faultsAtPhase(spec);
      const client = eksThroughProxy(1);

      // Act: one attempt only, so the SDK hands the error over as it read it.
      const error = await discover(client).catch((failure: unknown) => failure);

      // Assess: the adapter's error keeps EKS's in its cause chain, transient for the Retry
      expect(isTransientAwsError(error)).toBe(true);
      const cause = (error as { cause?: unknown }).cause;
      expect(cause).toMatchObject({ name, $metadata: { httpStatusCode: status } });
      expect(plan.report()).toEqual([{ spec, fired: 1 }]);
    },
  );

  it('answers the next N DescribeCluster MS late with the real answer, in one attempt each, then promptly', async () => {
    // Prepare
    faultsAtPhase(`eks:slow:${SLOW_MS}:2@preflight`);
    const client = eksThroughProxy();
    const found: string[][] = [];

    // Act
    const took = await timedInTurn(3, async () => {
      found.push((await discover(client)).map((cluster) => cluster.name));
    });

    // Assess: the SDK waited for each late answer (no timeout, no second attempt: fired counts requests)
    expect(found).toEqual([['lab-1'], ['lab-1'], ['lab-1']]);
    expect(took[0]).toBeGreaterThanOrEqual(SLOW_MS - 5);
    expect(took[1]).toBeGreaterThanOrEqual(SLOW_MS - 5);
    expect(took[2]).toBeLessThan(SLOW_MS / 2);
    expect(plan.report()).toEqual([{ spec: `eks:slow:${SLOW_MS}:2@preflight`, fired: 2 }]);
  });

  it("is absorbed by the SDK's own retry when fewer faults come than its attempts", async () => {
    // Prepare: the SDK's default of 3 attempts
    faultsAtPhase('eks:throttle:1@preflight', 'eks:5xx:1@preflight');

    // Act
    const clusters = await discover(eksThroughProxy());

    // Assess
    expect(clusters.map((cluster) => cluster.name)).toEqual(['lab-1']);
    expect(plan.report().map((fault) => fault.fired)).toEqual([1, 1]);
  });
});

/** The cluster role's credentials as a handler gets them: AssumeRole through the STS fault proxy. */
const assumeClusterRole = (maxAttempts?: number) =>
  fromTemporaryCredentials({
    masterCredentials: functionRole.credentials,
    params: { RoleArn: identities.rotator.principalArn, RoleSessionName: 'meshtrust-distribute-bundle' },
    clientConfig: {
      region: REGION,
      endpoint: stsProxy.endpoint,
      ...(maxAttempts === undefined ? {} : { maxAttempts }),
    },
  })();

describe('STS fault proxy', () => {
  it("passes AssumeRole to the lab STS unchanged when no STS fault answers it (an EKS fault is EKS's)", async () => {
    // Prepare
    faultsAtPhase('eks:5xx:1@preflight');

    // Act
    const credentials = await assumeClusterRole(1);

    // Assess
    expect(credentials.accessKeyId).toEqual(expect.any(String));
    expect(plan.report()).toEqual([{ spec: 'eks:5xx:1@preflight', fired: 0 }]);
  });

  it.each([
    ['sts:throttle:1@preflight', 'Throttling', 400],
    ['sts:5xx:1@preflight', 'ServiceUnavailable', 503],
  ])(
    'answers %s as STS writes it: the SDK names it and it counts as transient',
    async (spec, name, status) => {
      // Prepare
      faultsAtPhase(spec);

      // Act: one attempt only, so the SDK hands the error over as it read it.
      const error = await assumeClusterRole(1).catch((failure: unknown) => failure);

      // Assess: STS's own code, read from its XML, which the adapters' classification calls transient
      expect(error).toMatchObject({ name, $metadata: { httpStatusCode: status } });
      expect(isTransientAwsError(error)).toBe(true);
      expect(plan.report()).toEqual([{ spec, fired: 1 }]);
    },
  );

  it('answers the next N AssumeRole MS late with the real credentials, then promptly', async () => {
    // Prepare
    faultsAtPhase(`sts:slow:${SLOW_MS}:1@preflight`);

    // Act: one attempt only, so a timeout or an error of the SDK's would show
    const keys: string[] = [];
    const took = await timedInTurn(2, async () => {
      keys.push((await assumeClusterRole(1)).accessKeyId);
    });

    // Assess
    expect(keys).toEqual([expect.any(String), expect.any(String)]);
    expect(took[0]).toBeGreaterThanOrEqual(SLOW_MS - 5);
    expect(took[1]).toBeLessThan(SLOW_MS / 2);
    expect(plan.report()).toEqual([{ spec: `sts:slow:${SLOW_MS}:1@preflight`, fired: 1 }]);
  });

  it.each([['sts:throttle:2@preflight'], ['sts:5xx:2@preflight']])(
    "is retried by the SDK's own AssumeRole: %s is absorbed within its 3 attempts",
    async (spec) => {
      // Prepare: the SDK's default of 3 attempts; an answer it did not call retryable would end at the first
      faultsAtPhase(spec);

      // Act
      const credentials = await assumeClusterRole();

      // Assess
      expect(credentials.accessKeyId).toEqual(expect.any(String));
      expect(plan.report()).toEqual([{ spec, fired: 2 }]);
    },
  );
});

/**
 * The fleet's discovery of a cluster of another account as a handler runs it (lambdas/application/runtime.ts):
 * DescribeCluster as that account's role, assumed from the cluster role, both through the STS proxy. The
 * credentials are fetched inside the EKS call, so an STS error reaches fleet discovery, not the SDK's EKS
 * retry.
 */
const discoverFarCluster = () => {
  const stsClient = { region: REGION, endpoint: stsProxy.endpoint };
  const clusterRole = fromTemporaryCredentials({
    masterCredentials: functionRole.credentials,
    params: { RoleArn: identities.rotator.principalArn, RoleSessionName: 'meshtrust-distribute-bundle' },
    clientConfig: stsClient,
  });
  const farRole = fromTemporaryCredentials({
    masterCredentials: clusterRole,
    params: { RoleArn: FAR_ROLE, RoleSessionName: 'meshtrust-distribute-bundle' },
    clientConfig: stsClient,
  });
  const farEks = new EKSClient({ region: REGION, endpoint: eks.url, credentials: farRole });
  return discoverClusters({
    eks: farEks,
    meshId: 'lab',
    explicitClusters: [{ name: 'far-1', eks: farEks }],
  });
};

describe('STS fault proxy, scoped to the account of a cluster of another account', () => {
  it("answers only the AssumeRole into that account's role; the cluster role is assumed as usual", async () => {
    // Prepare: two faults, fewer than the SDK's 3 attempts, on the other account's role only
    faultsAtPhase(
      `sts:${LAB_OTHER_ACCOUNT_ID}:throttle:1@preflight`,
      `sts:${LAB_OTHER_ACCOUNT_ID}:5xx:1@preflight`,
    );

    // Act
    const clusters = await discoverFarCluster();

    // Assess
    expect(clusters.map((cluster) => cluster.name)).toEqual(['far-1']);
    expect(plan.report().map((fault) => fault.fired)).toEqual([1, 1]);
  });

  it("delays only the AssumeRole into that account's role when slow is scoped to it", async () => {
    // Prepare
    faultsAtPhase(`sts:${LAB_OTHER_ACCOUNT_ID}:slow:${SLOW_MS}:1@preflight`);

    // Act
    const [home = 0] = await timedInTurn(1, () => assumeClusterRole(1));
    const [far = 0, again = 0] = await timedInTurn(2, discoverFarCluster);

    // Assess: the far discovery assumed both roles; only the far one was late, and only once
    expect(home).toBeLessThan(SLOW_MS / 2);
    expect(far).toBeGreaterThanOrEqual(SLOW_MS - 5);
    expect(again).toBeLessThan(SLOW_MS / 2);
    expect(plan.report()[0]?.fired).toBe(1);
  });

  it('leaves every AssumeRole of the lab account alone', async () => {
    // Prepare
    faultsAtPhase(`sts:${LAB_OTHER_ACCOUNT_ID}:throttle:5@preflight`);

    // Act
    const credentials = await assumeClusterRole(1);

    // Assess
    expect(credentials.accessKeyId).toEqual(expect.any(String));
    expect(plan.report()).toEqual([{ spec: `sts:${LAB_OTHER_ACCOUNT_ID}:throttle:5@preflight`, fired: 0 }]);
  });

  it.each([['throttle'], ['5xx']])(
    "makes fleet discovery call an STS %s past the SDK's attempts transient, for the state machine's Retry",
    async (kind) => {
      // Prepare: as many as the SDK's 3 attempts of the other account's AssumeRole
      faultsAtPhase(`sts:${LAB_OTHER_ACCOUNT_ID}:${kind}:3@preflight`);

      // Act
      const error = await discoverFarCluster().catch((failure: unknown) => failure);

      // Assess: a TransientError naming the cluster, not a PreconditionFailed that rolls the rotation back
      expect(error).toBeInstanceOf(TransientError);
      expect(error).toMatchObject({ cluster: 'far-1' });
      expect((error as Error).message).toContain('describe EKS cluster "far-1"');
      expect(plan.report()[0]?.fired).toBe(3);
    },
  );

  it('leaves a refused AssumeRole (AccessDenied) a failure that no retry fixes', async () => {
    // Prepare
    faultsAtPhase(`sts:${LAB_OTHER_ACCOUNT_ID}:denied:1@preflight`);

    // Act
    const error = await discoverFarCluster().catch((failure: unknown) => failure);

    // Assess
    expect(error).toBeInstanceOf(PreconditionFailed);
    expect((error as Error).message).toContain('AWS refused the credentials to ask EKS with (AccessDenied');
    expect((error as Error).message).toContain("check that account's role");
    expect(plan.report()).toEqual([{ spec: `sts:${LAB_OTHER_ACCOUNT_ID}:denied:1@preflight`, fired: 1 }]);
  });
});
