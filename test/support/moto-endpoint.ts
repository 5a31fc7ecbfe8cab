/** How jest's globalSetup hands the moto endpoint to the tests. */
export const MOTO_ENDPOINT_ENV = 'MESHTRUST_TEST_MOTO_ENDPOINT';

/** The moto_server started by the integration project's jest globalSetup. */
export function motoEndpoint(): string {
  const endpoint = process.env[MOTO_ENDPOINT_ENV];
  if (endpoint === undefined || endpoint === '') {
    throw new Error(
      `${MOTO_ENDPOINT_ENV} is not set: run this test through jest's integration project, whose globalSetup ` +
        '(test/support/moto-global-setup.js) starts moto_server.',
    );
  }
  return endpoint;
}

/** Client settings for moto: its endpoint, a region and fake credentials. */
export function motoClientConfig(): {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
} {
  return {
    endpoint: motoEndpoint(),
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
}
