// The versions the binaries report about themselves. Built from modules, Kubernetes and Istio would
// say v0.0.0-master and "unknown" (their release builds stamp these with -X at link time), and the
// lab's API servers would tell kubectl and the product a version that exists nowhere. So the lab
// stamps what its own release process would: Kubernetes' tag from go.mod, and Istio's `<VERSION>-dev`
// as `make build` does on a branch, VERSION being the file at the pinned Istio commit.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LabComponentVersions } from './lab-binary-names.js';
import { LabBuildError } from './lab-build-errors.js';

const run = promisify(execFile);

/** `-X` linker variables (package.variable -> value) for the lab's binaries. */
export async function labVersionStamps(
  goDir: string,
  env: NodeJS.ProcessEnv,
  versions: LabComponentVersions,
): Promise<Record<string, string>> {
  const kubernetes = /^v(\d+)\.(\d+)\.\d+/.exec(versions.kubernetes);
  if (!kubernetes) {
    throw new LabBuildError(
      'go-mod-invalid',
      `Kubernetes version ${versions.kubernetes} is not a release tag vX.Y.Z`,
    );
  }
  const istio = await istioReleaseVersion(goDir, env);
  const componentBase = 'k8s.io/component-base/version';
  return {
    [`${componentBase}.gitVersion`]: versions.kubernetes,
    [`${componentBase}.gitMajor`]: kubernetes[1] ?? '',
    [`${componentBase}.gitMinor`]: kubernetes[2] ?? '',
    [`${componentBase}.gitTreeState`]: 'clean',
    'istio.io/istio/pkg/version.buildVersion': istio,
    'istio.io/istio/pkg/version.buildTag': istio,
    'istio.io/istio/pkg/version.buildStatus': 'Clean',
  };
}

/** Istio's VERSION file at the pinned commit (e.g. "1.31") plus "-dev", as Istio's Makefile builds it. */
async function istioReleaseVersion(goDir: string, env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await run('go', ['list', '-mod=readonly', '-m', '-f', '{{.Dir}}', 'istio.io/istio'], {
      cwd: goDir,
      env,
    });
    const version = (await readFile(join(stdout.trim(), 'VERSION'), 'utf8')).trim();
    if (!/^\d+\.\d+$/.test(version)) throw new Error(`VERSION holds ${JSON.stringify(version)}`);
    return `${version}-dev`;
  } catch (error) {
    throw new LabBuildError(
      'build-failed',
      `cannot read the release line of the pinned Istio module (its VERSION file): ${(error as Error).message}`,
      { cause: error },
    );
  }
}
