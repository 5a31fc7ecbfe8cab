// The versions of Kubernetes, etcd and Istio the lab runs, read from lab/go/go.mod: that file pins
// them and is the only place they are written, so a bump there is the whole upgrade.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { effectiveVersion, type GoMod, parseGoMod } from './go-mod.js';
import {
  LAB_COMPONENT_MODULES,
  LAB_GO_DIR,
  type LabComponent,
  type LabComponentVersions,
} from './lab-binary-names.js';
import { LabBuildError } from './lab-build-errors.js';

export async function labComponentVersions(
  goModPath: string = join(LAB_GO_DIR, 'go.mod'),
): Promise<LabComponentVersions> {
  return componentVersionsOf(await readGoMod(goModPath), goModPath);
}

/** The pure half of labComponentVersions, for a go.mod already read. */
export function componentVersionsOf(goMod: GoMod, goModPath: string): LabComponentVersions {
  const versionOf = (component: LabComponent): string => {
    const modulePath = LAB_COMPONENT_MODULES[component];
    const version = effectiveVersion(goMod, modulePath);
    if (version === undefined) {
      throw new LabBuildError(
        'go-mod-invalid',
        `${goModPath} does not pin ${component}: no require of ${modulePath} with a version (or it is replaced ` +
          `by a local directory). Require it at the version the lab should run, e.g. \`go get ${modulePath}@<version>\` in ${goModPath.replace(/\/go\.mod$/, '')}`,
      );
    }
    return version;
  };
  return { kubernetes: versionOf('kubernetes'), etcd: versionOf('etcd'), istio: versionOf('istio') };
}

export async function readGoMod(goModPath: string): Promise<GoMod> {
  let text: string;
  try {
    text = await readFile(goModPath, 'utf8');
  } catch (error) {
    throw new LabBuildError('go-mod-invalid', `cannot read ${goModPath}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parseGoMod(text);
}
