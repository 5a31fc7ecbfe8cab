// The AWS fault proxy in front of moto (--fault aws:...): the real AWS SDK v3 talks to it as the
// rehearsal's functions do. Unfaulted requests reach moto unchanged; a ThrottlingException and a 503
// are written as AWS JSON-protocol services write them, so the SDK names them, counts them as
// throttling or transient, and its own retry absorbs a few.
import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { type AwsFaultProxy, startAwsFaultProxy } from '../../../lab/aws-fault-proxy.js';
import { isTransientAwsError } from '../../../lambdas/adapters/retry.js';
import { createFaultPlan, type FaultPlan } from '../../../rehearsal/fault-plan.js';
import { parseFault } from '../../../rehearsal/fault-spec.js';
import { motoClientConfig, motoEndpoint } from '../../support/moto-endpoint.js';

let proxy: AwsFaultProxy;
let plan: FaultPlan;
let secretName: string;

beforeAll(async () => {
  plan = createFaultPlan([]);
  proxy = await startAwsFaultProxy({
    target: motoEndpoint(),
    fault: () => plan.awsRequest(),
    answerLost: (request) => plan.awsAnswerLost(request),
  });
  secretName = `fault-proxy/${randomUUID()}`;
  await new SecretsManagerClient(motoClientConfig()).send(
    new CreateSecretCommand({ Name: secretName, SecretString: 'through the proxy' }),
  );
});

afterAll(async () => {
  await proxy.stop();
});

/** A Secrets Manager client of the functions' kind, pointed at the proxy as AWS_ENDPOINT_URL points them. */
function clientThroughProxy(maxAttempts?: number): SecretsManagerClient {
  return new SecretsManagerClient({
    ...motoClientConfig(),
    endpoint: proxy.endpoint,
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
  });
}

/** Sets off the given faults, as the rehearsal does when their phase begins. */
function faultsAtPhase(...specs: string[]): void {
  plan = createFaultPlan(specs.map(parseFault));
  plan.enterPhase('stage-root');
}

const read = (client: SecretsManagerClient) =>
  client.send(new GetSecretValueCommand({ SecretId: secretName }));

describe('AWS fault proxy', () => {
  it('passes requests to moto unchanged when no fault answers them', async () => {
    // Prepare
    faultsAtPhase();

    // Act
    const secret = await read(clientThroughProxy());

    // Assess
    expect(secret.SecretString).toBe('through the proxy');
    expect(secret.$metadata.attempts).toBe(1);
  });

  it('answers ThrottlingException the way the SDK names it and classifies it as retryable', async () => {
    // Prepare
    faultsAtPhase('aws:throttle:1@stage-root');

    // Act: one attempt only, so the SDK hands the error over as it read it.
    const error = await read(clientThroughProxy(1)).catch((failure: unknown) => failure);

    // Assess
    expect(error).toMatchObject({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
      $metadata: { httpStatusCode: 400 },
    });
    expect(isTransientAwsError(error)).toBe(true);
  });

  it('is absorbed by the SDK retry when fewer requests are throttled than it attempts', async () => {
    // Prepare: the SDK makes 3 attempts by default.
    faultsAtPhase('aws:throttle:2@stage-root');

    // Act
    const secret = await read(clientThroughProxy());

    // Assess
    expect(secret.SecretString).toBe('through the proxy');
    expect(secret.$metadata.attempts).toBe(3);
    expect(plan.report()).toEqual([{ spec: 'aws:throttle:2@stage-root', fired: 2 }]);
  });

  it('answers 503 ServiceUnavailable, which the SDK retries too', async () => {
    // Prepare
    faultsAtPhase('aws:5xx:1@stage-root');

    // Act
    const error = await read(clientThroughProxy(1)).catch((failure: unknown) => failure);
    faultsAtPhase('aws:5xx:2@stage-root');
    const secret = await read(clientThroughProxy());

    // Assess
    expect(error).toMatchObject({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
    expect(isTransientAwsError(error)).toBe(true);
    expect(secret.$metadata.attempts).toBe(3);
  });

  it("answers the next N requests MS late with moto's own answer, in one attempt each, then promptly", async () => {
    // Prepare: a delay the client's own settings (none, as the functions' clients) must wait through
    const slowMs = 1200;
    faultsAtPhase(`aws:slow:${slowMs}:2@stage-root`);
    const client = clientThroughProxy();

    // Act
    const took: number[] = [];
    const secrets: (string | undefined)[] = [];
    for (let turn = 0; turn < 3; turn += 1) {
      const started = performance.now();
      const secret = await read(client);
      took.push(performance.now() - started);
      secrets.push(`${secret.SecretString}/${secret.$metadata.attempts}`);
    }

    // Assess
    expect(secrets).toEqual(Array(3).fill('through the proxy/1'));
    expect(took[0]).toBeGreaterThanOrEqual(slowMs - 5);
    expect(took[1]).toBeGreaterThanOrEqual(slowMs - 5);
    expect(took[2]).toBeLessThan(slowMs / 2);
    expect(plan.report()).toEqual([{ spec: `aws:slow:${slowMs}:2@stage-root`, fired: 2 }]);
  });

  it('loses the answer of a write moto made, so the SDK retries it: the ClientRequestToken keeps it one version', async () => {
    // Prepare
    faultsAtPhase('aws:lost:1@stage-root');
    const token = randomUUID();
    const versions = async () =>
      (
        await new SecretsManagerClient(motoClientConfig()).send(
          new ListSecretVersionIdsCommand({ SecretId: secretName }),
        )
      ).Versions ?? [];
    const before = (await versions()).length;

    // Act
    const lostOnly = await clientThroughProxy(1)
      .send(new GetSecretValueCommand({ SecretId: secretName }))
      .then(() => 'read answered');
    const put = await clientThroughProxy().send(
      new PutSecretValueCommand({
        SecretId: secretName,
        SecretString: 'written once',
        ClientRequestToken: token,
      }),
    );
    const after = await versions();

    // Assess: a read is never lost; the write's first answer was, its retry got moto's.
    expect(lostOnly).toBe('read answered');
    expect(put.$metadata.attempts).toBe(2);
    expect(put.VersionId).toBe(token);
    expect(after).toHaveLength(before + 1);
    expect(plan.report()).toEqual([{ spec: 'aws:lost:1@stage-root', fired: 1 }]);
  });
});
