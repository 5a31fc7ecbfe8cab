// The credentials the handler bundles use in the SDK's default chain's place: the function's environment.
import { defaultProvider } from '../../../../lambdas/adapters/lambda/lambda-credentials.js';

const KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'] as const;

describe('a handler bundle’s credentials', () => {
  const saved = Object.fromEntries(KEYS.map((key) => [key, process.env[key]]));
  afterEach(() => {
    for (const key of KEYS) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });

  it('are the execution role’s, which Lambda puts in the environment', async () => {
    // Arrange
    process.env.AWS_ACCESS_KEY_ID = 'ASIAEXAMPLEROLEKEY01';
    process.env.AWS_SECRET_ACCESS_KEY = 'role-secret';
    process.env.AWS_SESSION_TOKEN = 'role-session';
    // Act
    const credentials = await defaultProvider()();
    // Assess
    expect(credentials).toMatchObject({
      accessKeyId: 'ASIAEXAMPLEROLEKEY01',
      secretAccessKey: 'role-secret',
      sessionToken: 'role-session',
    });
  });

  it('are refused, naming where they were looked for, when the environment has none', async () => {
    // Arrange: a profile is no source in a function, so it is not read either.
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    delete process.env.AWS_SESSION_TOKEN;
    process.env.AWS_PROFILE = 'default';
    // Act
    const result = defaultProvider()();
    // Assess
    await expect(result).rejects.toMatchObject({
      name: 'CredentialsProviderError',
      message: expect.stringMatching(/environment variable/),
    });
  });
});
