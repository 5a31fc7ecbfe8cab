// The Go toolchain that would build the lab: asked from `go env` inside the module directory, because
// with GOTOOLCHAIN=auto the go command switches to the toolchain go.mod asks for, and that one (not the
// go on PATH) makes the binaries. Its identity is part of the cache key.
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readGoMod } from './component-versions.js';
import { LabBuildError } from './lab-build-errors.js';

const execFileAsync = promisify(execFile);

export interface GoToolchain {
  /** `go env GOVERSION`, e.g. "go1.26.8". */
  readonly version: string;
  readonly os: string;
  readonly arch: string;
  /** "1" or "0": cgo changes what the binaries link against. */
  readonly cgoEnabled: string;
  /** The user's GOFLAGS, which apply to our go build too (e.g. -tags, -race). */
  readonly goflags: string;
}

const GO_ENV_KEYS = ['GOVERSION', 'GOOS', 'GOARCH', 'CGO_ENABLED', 'GOFLAGS'] as const;

export async function readGoToolchain(goDir: string, env: NodeJS.ProcessEnv): Promise<GoToolchain> {
  // Without this, a missing directory would surface as spawn's ENOENT, i.e. as "Go is not installed".
  await access(join(goDir, 'go.mod')).catch((error: unknown) => {
    throw new LabBuildError('go-mod-invalid', `no go.mod in ${goDir}: the lab's Go module is missing`, {
      cause: error,
    });
  });
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('go', ['env', ...GO_ENV_KEYS], { cwd: goDir, env }));
  } catch (error) {
    const wanted = await goInstallAdvice(goDir);
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') {
      throw new LabBuildError('go-missing', `Go is not installed (no \`go\` on PATH): ${wanted}`, {
        cause: error,
      });
    }
    throw new LabBuildError(
      'go-unusable',
      `\`go env\` failed in ${goDir}: ${(failure.stderr ?? failure.message).trim()}. ${wanted}`,
      { cause: error },
    );
  }
  const [version = '', os = '', arch = '', cgoEnabled = '', goflags = ''] = stdout.split('\n');
  return { version, os, arch, cgoEnabled, goflags };
}

/** "install Go 1.26 or newer ...", the version taken from go.mod's go directive. */
export async function goInstallAdvice(goDir: string): Promise<string> {
  const directive = await readGoMod(join(goDir, 'go.mod')).then(
    (goMod) => goMod.go,
    () => undefined,
  );
  const which = directive === undefined ? 'Go' : `Go ${directive.split('.').slice(0, 2).join('.')} or newer`;
  return `install ${which} (https://go.dev/doc/install), put it on PATH and run \`meshtrust lab build\` again`;
}
