// jest globalTeardown: stops the moto_server of moto-global-setup.js once its last user is done.
// jest runs it after failing tests too.
export default async function teardown() {
  const shared = globalThis.__meshtrustMoto;
  if (shared === undefined) return;
  shared.users -= 1;
  if (shared.users > 0) return;
  globalThis.__meshtrustMoto = undefined;
  await shared.server.stop();
}
