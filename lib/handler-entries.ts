import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The single list of Lambda handlers the stack deploys: handler name -> its source file, relative to
 * the repository root. The rotation phases keep their phase name (docs/workflow.md), so a reader
 * finds a step under the same name in the state machine, the handler file and the audit events.
 * `rollback` serves every rollback state (by `stage`), `record-approval` both approval gates,
 * `release-lock` every state that releases the rotation lock before the run ends, and
 * `check-expiry` is the daily expiry check outside the state machine.
 */
export const HANDLER_ENTRIES = {
  'acquire-lock': 'lambdas/handlers/acquire-lock.ts',
  preflight: 'lambdas/handlers/preflight.ts',
  'stage-root': 'lambdas/handlers/stage-root.ts',
  'distribute-bundle': 'lambdas/handlers/distribute-bundle.ts',
  'verify-trust': 'lambdas/handlers/verify-trust.ts',
  'record-approval': 'lambdas/handlers/record-approval.ts',
  'reissue-intermediate': 'lambdas/handlers/reissue-intermediate.ts',
  'restart-workloads': 'lambdas/handlers/restart-workloads.ts',
  'verify-workloads': 'lambdas/handlers/verify-workloads.ts',
  'retire-root': 'lambdas/handlers/retire-root.ts',
  'promote-root': 'lambdas/handlers/promote-root.ts',
  rollback: 'lambdas/handlers/rollback.ts',
  'release-lock': 'lambdas/handlers/release-lock.ts',
  'check-expiry': 'lambdas/handlers/check-expiry.ts',
} as const;

export type HandlerName = keyof typeof HANDLER_ENTRIES;

/**
 * The approval endpoint's handler: behind a function URL with AWS_IAM auth, outside the state machine
 * (lib/approval-endpoint.ts), with a role of its own.
 */
export const APPROVAL_HANDLER_ENTRY = 'lambdas/handlers/answer-approval.ts';

export const HANDLER_NAMES = Object.keys(HANDLER_ENTRIES) as HandlerName[];

/**
 * The directory of the nearest package.json above `moduleUrl`, with a trailing separator: the repository
 * root in a checkout (lib/ sits directly under it), the package root when meshtrust is installed (the
 * code then runs compiled from dist/lib/, one level deeper).
 */
export function packageRootOf(moduleUrl: string): string {
  let directory = new URL('.', moduleUrl);
  while (!existsSync(new URL('package.json', directory))) {
    const parent = new URL('..', directory);
    if (parent.href === directory.href) {
      throw new RangeError(`no package.json above ${fileURLToPath(moduleUrl)}`);
    }
    directory = parent;
  }
  return fileURLToPath(directory);
}

/** meshtrust's package root: the repository root in a checkout. */
export const PROJECT_ROOT = packageRootOf(import.meta.url);

/**
 * The file NodejsFunction is given as `depsLockFilePath`. From it CDK only picks the package manager,
 * which it runs only for `nodeModules` (not used: esbuild bundles everything). A checkout has
 * package-lock.json; npm never publishes a lock file, so the installed package gives its package.json.
 */
export const DEPS_LOCK_FILE = existsSync(`${PROJECT_ROOT}package-lock.json`)
  ? `${PROJECT_ROOT}package-lock.json`
  : `${PROJECT_ROOT}package.json`;

/** `.ts` when this module runs from source (tsx, jest), `.js` when compiled (the installed package). */
const MODULE_EXTENSION = extname(fileURLToPath(import.meta.url));

/**
 * Absolute path of a handler's entry, as NodejsFunction's `entry` wants it: its source in a checkout,
 * its compiled module beside this one in the installed package (dist/lambdas/handlers/*.js).
 */
export function handlerEntryPath(name: HandlerName): string {
  return entryPath(HANDLER_ENTRIES[name]);
}

/** As handlerEntryPath, for an entry given by its path relative to the repository root. */
export function entryPath(sourcePath: string): string {
  const entry = sourcePath.replace(/\.ts$/, MODULE_EXTENSION);
  return fileURLToPath(new URL(`../${entry}`, import.meta.url));
}
