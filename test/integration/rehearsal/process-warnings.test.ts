import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../../../lib/handler-entries.js';
import { runCommand } from '../../support/run-command.js';

// A rehearsal's terminal shows our progress and summary only: a library's process warning (the AWS
// SDK's Node.js version notice, emitted in the rehearsal's own process when it makes its first client)
// goes to the report's logs. Each case runs a real node process that makes a real SDK client and emits
// the SDK's warning the way the SDK does (process.emitWarning; the SDK itself stays quiet on Node >= 22),
// with the progress line it would print, and reads what reached its stderr.

const MODULE = fileURLToPath(new URL('../../../rehearsal/process-warnings.ts', import.meta.url));
// The child script sits in a temp folder: it imports the SDK by path, from this repository.
const SDK_CLIENT = pathToFileURL(
  createRequire(`${PROJECT_ROOT}package.json`).resolve('@aws-sdk/client-sfn'),
).href;
const SDK_WARNING =
  'NodeVersionSupportWarning: The AWS SDK for JavaScript (v3) versions published after the first week of January 2027 will require node >=22.';

function script(routed: boolean, logFile: string): string {
  return `import sfn from ${JSON.stringify(SDK_CLIENT)};
import { routeProcessWarnings } from ${JSON.stringify(MODULE)};
const routed = ${routed} ? routeProcessWarnings(${JSON.stringify(logFile)}) : undefined;
new sfn.SFNClient({ region: 'eu-west-1' });
process.emitWarning(${JSON.stringify(SDK_WARNING)});
await new Promise((done) => setTimeout(done, 50));
process.stderr.write('[scheduled] distribute-bundle  2/3 clusters\\n');
routed?.release();
process.emitWarning('AfterRelease: printed by Node again');
await new Promise((done) => setTimeout(done, 50));
`;
}

async function runChild(routed: boolean): Promise<{ stderr: string; log: string | undefined }> {
  const dir = mkdtempSync(join(tmpdir(), 'meshtrust-warnings-'));
  const logFile = join(dir, 'report', 'logs', 'rehearsal-warnings.log');
  const file = join(dir, 'child.mts');
  writeFileSync(file, script(routed, logFile));
  const result = await runCommand(process.execPath, ['--import', 'tsx', file], { cwd: PROJECT_ROOT });
  expect({ exitCode: result.exitCode, stderr: result.exitCode === 0 ? '' : result.stderr }).toEqual({
    exitCode: 0,
    stderr: '',
  });
  return { stderr: result.stderr, log: existsSync(logFile) ? readFileSync(logFile, 'utf8') : undefined };
}

describe('process warnings during a rehearsal', () => {
  it("reach the terminal between progress lines when nothing routes them (Node's default)", async () => {
    // Act
    const { stderr, log } = await runChild(false);

    // Assess
    expect(stderr).toContain('NodeVersionSupportWarning');
    expect(log).toBeUndefined();
  }, 30_000);

  it("go to the report's rehearsal-warnings.log while routed, leaving only the progress line on stderr", async () => {
    // Act
    const { stderr, log } = await runChild(true);

    // Assess
    const [progress, afterRelease] = stderr.split('\n');
    expect(progress).toBe('[scheduled] distribute-bundle  2/3 clusters');
    expect(stderr).not.toContain('NodeVersionSupportWarning');
    expect(stderr).not.toContain('AWS SDK');
    // Released, Node prints warnings again.
    expect(afterRelease).toContain('AfterRelease: printed by Node again');
    expect(log).toContain(SDK_WARNING);
    if (Number(process.versions.node.split('.')[0]) < 22) {
      // The SDK's own warning, from the real client above.
      expect(log?.match(/NodeVersionSupportWarning/g)?.length).toBe(2);
    }
  }, 30_000);
});
