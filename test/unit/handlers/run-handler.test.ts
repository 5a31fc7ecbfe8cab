import { logger } from '../../../lambdas/adapters/audit/logger.js';
import { MeshTrustError } from '../../../lambdas/core/meshtrust-error.js';
import { PreconditionFailed, TransientError } from '../../../lambdas/core/rotation-errors.js';
import { PemInOutputError, runHandler } from '../../../lambdas/handlers/run-handler.js';
import { captureLogLines } from '../../support/capture-output.js';

let saved: Record<string, string | undefined>;
beforeAll(() => {
  logger.setLogLevel('SILENT');
});
beforeEach(() => {
  saved = { MESH_ID: process.env.MESH_ID, AWS_REGION: process.env.AWS_REGION };
  Object.assign(process.env, { MESH_ID: 'unit', AWS_REGION: 'eu-west-1' });
});
afterEach(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('runHandler', () => {
  it('returns what the step returns', async () => {
    // Prepare, Act
    const output = await runHandler({ phase: 'retire-root', cluster: 'c1' }, async () => ({
      cluster: 'c1',
      changed: true,
    }));
    // Assess
    expect(output).toEqual({ cluster: 'c1', changed: true });
  });

  it('gives a rotation error the phase and cluster it happened in, keeping class, name and message', async () => {
    // Prepare
    const step = async () => {
      throw new TransientError('the API server is busy; retry');
    };
    // Act
    const act = runHandler({ phase: 'distribute-bundle', cluster: 'c2' }, step);
    // Assess
    await expect(act).rejects.toBeInstanceOf(TransientError);
    await expect(act).rejects.toMatchObject({
      name: 'TransientError',
      phase: 'distribute-bundle',
      cluster: 'c2',
      message: 'the API server is busy; retry',
    });
  });

  it('keeps the cluster an error already names', async () => {
    // Prepare
    const step = async () => {
      throw new PreconditionFailed('cluster x is gone', { cluster: 'x' });
    };
    // Act
    const act = runHandler({ phase: 'preflight' }, step);
    // Assess
    await expect(act).rejects.toMatchObject({ name: 'PreconditionFailed', phase: 'preflight', cluster: 'x' });
  });

  it('refuses to return an output holding a PEM block', async () => {
    // Prepare
    const step = async () => ({ leaked: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' });
    // Act
    const act = runHandler({ phase: 'reissue-intermediate' }, step);
    // Assess
    await expect(act).rejects.toBeInstanceOf(PemInOutputError);
    await expect(act).rejects.toBeInstanceOf(MeshTrustError);
    await expect(act).rejects.toMatchObject({
      name: 'PemInOutputError',
      message:
        'The output of reissue-intermediate holds a PEM block; handlers return ids and fingerprints only.',
    });
  });

  it("puts the Lambda context's request id on every log line of the invocation", async () => {
    // Prepare: the context as Lambda's Node.js runtime passes it (the part the logger reads)
    const lambdaContext = {
      awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      functionName: 'meshtrust-unit-distribute-bundle',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:meshtrust-unit-distribute-bundle',
      memoryLimitInMB: '512',
    };
    const step = async () => {
      logger.info('backed cacerts up');
      logger.warn('root-cert.pem already holds the new root');
      return { cluster: 'c3', changed: false };
    };
    // Act
    const { lines } = await captureLogLines(() =>
      runHandler({ phase: 'distribute-bundle', cluster: 'c3', lambdaContext }, step),
    );
    // Assess: the step's lines and the frame's own "step finished"
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.map((line) => line.message)).toEqual([
      'backed cacerts up',
      'root-cert.pem already holds the new root',
      'step finished',
    ]);
    for (const line of parsed) {
      expect(line).toMatchObject({
        function_request_id: lambdaContext.awsRequestId,
        function_name: lambdaContext.functionName,
        phase: 'distribute-bundle',
        cluster: 'c3',
      });
    }
  });

  it('names a missing MESH_ID before doing anything', async () => {
    // Prepare
    delete process.env.MESH_ID;
    // Act
    const act = runHandler({ phase: 'stage-root' }, async () => ({}));
    // Assess
    await expect(act).rejects.toThrow(/Environment variable MESH_ID is missing/);
  });
});
