// jest globalSetup: one moto_server per test run, shared by every test file of the projects that list
// it (integration, e2e). Its endpoint reaches the tests through process.env, which the workers inherit.
//
// Plain ESM JavaScript because jest loads global setup outside its module system: neither the swc
// transform's ESM output nor moduleNameMapper (`./x.js` -> `./x.ts`) applies here, so the TypeScript
// helpers are loaded with tsx instead.
import { tsImport } from 'tsx/esm/api';
import { enterScratchDir } from './scratch-dir.js';

export default async function setup() {
  enterScratchDir();
  // Fake credentials and a region: the SDK and awscli need them, moto accepts anything, and no test
  // may pick up a real profile.
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  delete process.env.AWS_SESSION_TOKEN;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_DEFAULT_REGION = 'us-east-1';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  delete process.env.AWS_PROFILE;

  // Projects sharing this setup share one server; jest keeps globalThis from setup to teardown.
  const shared = globalThis.__meshtrustMoto;
  if (shared !== undefined) {
    shared.users += 1;
    return;
  }
  const { startMotoServer, killMotoServerNow } = await tsImport('./moto-server.ts', import.meta.url);
  const { MOTO_ENDPOINT_ENV } = await tsImport('./moto-endpoint.ts', import.meta.url);
  const server = await startMotoServer();
  globalThis.__meshtrustMoto = { server, users: 1 };
  process.env[MOTO_ENDPOINT_ENV] = server.endpoint;
  // If jest dies without running teardown (crash, Ctrl-C), do not leave moto_server behind.
  process.once('exit', () => killMotoServerNow(server.pid));
}
