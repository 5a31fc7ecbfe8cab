// jest globalTeardown: stops the moto_server of moto-global-setup.js once its last user is done.
// jest runs it after failing tests too. Then it leaves the run's scratch folder (scratch-dir.js).
import { leaveScratchDir } from './scratch-dir.js';

export default async function teardown() {
  try {
    await stopSharedMoto();
  } finally {
    leaveScratchDir();
  }
}

async function stopSharedMoto() {
  const shared = globalThis.__meshtrustMoto;
  if (shared === undefined) return;
  shared.users -= 1;
  if (shared.users > 0) return;
  globalThis.__meshtrustMoto = undefined;
  await shared.server.stop();
}
