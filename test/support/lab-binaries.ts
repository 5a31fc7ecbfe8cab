// The istio engine's binaries for tests: the cached build, or a build now (`.ci/run` builds them
// before the tests, so this waits only on a machine where nobody has). Progress goes to stderr about
// every 30 s, so a long first build does not look like a hang.
import { describeLabBuildProgress } from '../../lab/binaries/build-progress.js';
import { ensureLabBinaries, type LabBinaries } from '../../lab/binaries/lab-binaries.js';
import type { LabBinaryName, LabComponentVersions } from '../../lab/binaries/lab-binary-names.js';

const PROGRESS_EVERY_MS = 30_000;

export async function controlPlaneBinaries(): Promise<LabBinaries<LabBinaryName, LabComponentVersions>> {
  let lastPrinted = 0;
  return ensureLabBinaries({
    onProgress: (progress) => {
      if (Date.now() - lastPrinted < PROGRESS_EVERY_MS && progress.phase !== 'done') return;
      lastPrinted = Date.now();
      process.stderr.write(`meshtrust lab build (for the tests): ${describeLabBuildProgress(progress)}\n`);
    },
  });
}
