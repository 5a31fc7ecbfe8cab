import { logger } from '../../../lambdas/adapters/audit/logger.js';
import { PreconditionFailed, TransientError } from '../../../lambdas/core/rotation-errors.js';
import { runHandler } from '../../../lambdas/handlers/runtime/run-handler.js';

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
    await expect(act).rejects.toThrow(/holds a PEM block/);
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
