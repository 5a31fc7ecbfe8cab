// `npm run chaos` end to end on its cheapest case: the runner as an operator starts it (a child
// process), one real rehearsal on the model engine whose acquire-lock fails for good, so the run stops
// before any write (about 15 s). It proves the pieces fit: the matrix from the synthesized definition,
// the child rehearsal, the verdict from its report.json, the table, the exit code, nothing left running.
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTerminal } from '../../../bin/cli/terminal.js';
import { RESULTS_FILE, runChaosCli } from '../../../chaos/chaos-cli.js';
import { CI_CASE_IDS } from '../../../chaos/ci-cases.js';
import { RESULTS_PAGE } from '../../../chaos/results-page.js';
import { CASE_MARKER } from '../../../chaos/run-case.js';
import { PROJECT_ROOT } from '../../../lib/handler-entries.js';
import { ensureCloudAssembly } from '../../../rehearsal/cloud-assembly.js';

const CASE = 'scheduled/fail-at/acquire-lock';
let cdkOut: string;
let scratch: string;

beforeAll(async () => {
  // The cloud assembly the e2e rehearsals use (synthesized when stale, 1-2 min): chaos runs it as it is.
  cdkOut = (await ensureCloudAssembly({ projectRoot: PROJECT_ROOT })).directory;
  scratch = mkdtempSync(join(tmpdir(), 'meshtrust-chaos-test-'));
}, 5 * 60_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs the chaos CLI to its end: exit code, output, and its pid (the prefix of its cases' marker). */
function chaos(
  ...flags: string[]
): Promise<{ exitCode: number; stdout: string; stderr: string; pid: number }> {
  return chaosWithin(3 * 60_000, ...flags);
}

function chaosWithin(
  timeoutMs: number,
  ...flags: string[]
): Promise<{ exitCode: number; stdout: string; stderr: string; pid: number }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', 'chaos/run-chaos.mts', '--cdk-out', cdkOut, '--no-write', ...flags],
      { cwd: PROJECT_ROOT, timeout: timeoutMs, env: { ...process.env, NODE_OPTIONS: '', TMPDIR: scratch } },
      (error, stdout, stderr) => {
        const code = (error as { code?: unknown } | null)?.code;
        resolve({
          exitCode: error === null ? 0 : typeof code === 'number' ? code : -1,
          stdout,
          stderr,
          pid: child.pid ?? -1,
        });
      },
    );
  });
}

/** Live processes whose environment has a variable starting with `prefix` (orphans re-parented to init included). */
function processesWithMarker(prefix: string): number[] {
  return readdirSync('/proc')
    .map(Number)
    .filter((pid) => {
      try {
        return (
          Number.isInteger(pid) &&
          readFileSync(`/proc/${pid}/environ`, 'utf8')
            .split('\0')
            .some((entry) => entry.startsWith(prefix))
        );
      } catch {
        return false;
      }
    });
}

describe('npm run chaos', () => {
  it(
    'runs one case as a real rehearsal and judges it from its report: stopped before any write',
    async () => {
      // Act
      const { exitCode, stdout, stderr, pid } = await chaos('--only', CASE, '--keep-reports');

      // Assess
      expect({ exitCode, stderr: exitCode === 0 ? '' : stderr }).toEqual({ exitCode: 0, stderr: '' });
      const row = stdout.split('\n').find((line) => line.trim().startsWith(CASE));
      expect(row).toMatch(
        /FAILED RehearsalInjectedFailure\s+FAILED RehearsalInjectedFailure\s+\d+\s+0\s+-\s+.*pass$/,
      );
      expect(stdout).toMatch(/1 of 1 case\(s\) passed \(the matrix has \d+\)/);
      expect(stderr).toMatch(
        /\[1\/1\] scheduled\/fail-at\/acquire-lock: pass FAILED, 0 of \d+ handshakes failed/,
      );
      // The kept folder holds the rehearsal's own report, which says the same.
      const kept = /report folders kept: (\S+)/.exec(stderr)?.[1] ?? '';
      const reportFile = join(kept, '001-scheduled_fail-at_acquire-lock', 'report', 'report.json');
      expect(existsSync(reportFile)).toBe(true);
      const report = JSON.parse(readFileSync(reportFile, 'utf8'));
      expect(report).toMatchObject({ result: 'FAILED', failAt: 'acquire-lock', ok: true });
      expect(report.endState.clusters.every((cluster: { asAtStart: boolean }) => cluster.asAtStart)).toBe(
        true,
      );
      // Nothing the case started outlives the runner: no process carries the case's marker.
      expect(processesWithMarker(`${CASE_MARKER}=${pid}:`)).toEqual([]);
    },
    4 * 60_000,
  );

  it(
    'runs the CI subset, a case of each kind, and every one of them passes',
    async () => {
      // Act
      const { exitCode, stdout, stderr, pid } = await chaosWithin(20 * 60_000, '--ci');

      // Assess: each case's row judged pass, none left out, nothing left running.
      expect({ exitCode, stderr: exitCode === 0 ? '' : stderr }).toEqual({ exitCode: 0, stderr: '' });
      for (const id of CI_CASE_IDS) {
        const row = stdout.split('\n').find((line) => line.trim().split(/\s+/)[0] === id);
        expect({ id, row }).toEqual({ id, row: expect.stringMatching(/pass$/) });
      }
      expect(stdout).toMatch(
        new RegExp(
          `${CI_CASE_IDS.length} of ${CI_CASE_IDS.length} case\\(s\\) passed \\(the matrix has \\d+\\)`,
        ),
      );
      expect(processesWithMarker(`${CASE_MARKER}=${pid}:`)).toEqual([]);
    },
    21 * 60_000,
  );

  it('refuses --ci with --only (exit 2): the subset is fixed', async () => {
    // Act
    const { exitCode, stderr } = await chaos('--ci', '--only', 'intermediate/baseline');

    // Assess
    expect(exitCode).toBe(2);
    expect(stderr).toContain('--ci runs its own fixed cases: drop --only');
  });

  it("lists a kill case for each Task, Map and Wait state of every mode's forward path and of its resumed rollback", async () => {
    // Act
    const { exitCode, stdout } = await chaos('--list', '--only', 'kill/*');

    // Assess
    expect(exitCode).toBe(0);
    const ids = stdout
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[0] ?? '')
      .filter((id) => id.startsWith('kill/'));
    for (const mode of ['scheduled', 'emergency']) {
      expect(ids).toEqual(
        expect.arrayContaining(
          ['acquire-lock', 'stage-root', 'distribute-bundle', 'restart-workloads', 'promote-root'].map(
            (state) => `kill/${mode}/${state}`,
          ),
        ),
      );
    }
    expect(ids).toEqual(
      expect.arrayContaining([
        'kill/scheduled/await-proxy-trust',
        'kill/scheduled/soak',
        'kill/emergency/await-proxy-trust',
        'kill/intermediate/reissue-intermediate',
        'kill/intermediate/restart-workloads',
      ]),
    );
    // Intermediate mode rekeys one cluster and never stages a root.
    expect(ids.some((id) => id.startsWith('kill/intermediate/') && /stage-root|soak/.test(id))).toBe(false);
    expect(stdout).toMatch(
      /kill\/intermediate\/reissue-intermediate +SUCCEEDED +--lab DIR --mode intermediate --cluster lab-2/,
    );
    // No rollback state is killed on its own: only inside the resumed rollback, in every mode, at each
    // Task, Map and Wait state of that rollback.
    expect(ids.filter((id) => id.includes('rollback')).every((id) => id.includes('+'))).toBe(true);
    expect(ids).toEqual(
      expect.arrayContaining([
        ...['scheduled', 'emergency'].flatMap((mode) =>
          ['rollback-trust', 'rollback-await-proxy-trust', 'rollback-restore', 'rollback-drop-pending'].map(
            (state) => `kill/${mode}/retire-root+${state}`,
          ),
        ),
        'kill/intermediate/verify-workloads+rollback-trust',
        'kill/intermediate/verify-workloads+rollback-await-proxy-trust',
        'kill/intermediate/verify-workloads+rollback-restore',
      ]),
    );
    expect(stdout).toMatch(
      /SIGKILL that rollback once rollback-restore and one of its iterations entered, then again/,
    );
    expect(stdout).toMatch(
      /SIGKILL that rollback once rollback-await-proxy-trust and one of its iterations' rollback-await-proxy-trust-in-cluster entered, then again/,
    );
    expect(stdout).toMatch(/SIGKILL that rollback once rollback-drop-pending entered, then again/);
    expect(stdout).toMatch(/SIGKILL once distribute-bundle and one of its iterations entered/);
    // Halfway through a wait: each Wait of the forward path, and the resumed rollback's after a failure in
    // retire-root (the only rollback whose proxies can lack a root it gives back; none in intermediate mode).
    expect(ids).toEqual(
      expect.arrayContaining([
        'kill/scheduled/await-proxy-trust/mid-wait',
        'kill/scheduled/soak/mid-wait',
        'kill/emergency/await-proxy-trust/mid-wait',
        'kill/scheduled/retire-root:lab-2+rollback-await-proxy-trust/mid-wait',
        'kill/emergency/retire-root:lab-2+rollback-await-proxy-trust/mid-wait',
      ]),
    );
    expect(ids.some((id) => id.startsWith('kill/intermediate/') && id.endsWith('/mid-wait'))).toBe(false);
    expect(stdout).toMatch(
      /--mode scheduled --fail-at retire-root:lab-2: SIGKILL once rollback-trust entered, then again without them/,
    );
    expect(stdout).toMatch(new RegExp(`${ids.length} of \\d+ case\\(s\\)`));
  }, 60_000);

  it('--page writes the matrix page from results.json and runs nothing; with --no-write it is refused (exit 2)', async () => {
    // Prepare: a project folder of its own, so the repository's page is not rewritten.
    const project = join(scratch, 'page-project');
    mkdirSync(join(project, 'chaos'), { recursive: true });
    mkdirSync(join(project, 'docs'));
    const measured = {
      exitCode: 1,
      result: 'FAILED',
      error: 'AcquireLockFailed',
      handshakes: { attempted: 20, failed: 0 },
    };
    writeFileSync(
      join(project, RESULTS_FILE),
      JSON.stringify({
        schema: 1,
        generatedAt: '2026-12-02T08:00:00.000Z',
        settings: { engine: 'model', clusters: 2, workloads: 2 },
        machine: {
          cpuModel: 'Test CPU',
          cpuCount: 2,
          memoryGiB: 8,
          os: 'linux',
          node: 'v20',
          nodeOpenssl: '3',
          loadAverageAtStart: 0,
        },
        matrixCases: 1,
        cases: [
          {
            id: CASE,
            mode: 'scheduled',
            kind: 'fail-at',
            flags: [],
            expected: { result: 'FAILED', error: 'AcquireLockFailed' },
            passed: true,
            failed: [],
            outcome: measured,
            measuredAt: '2026-12-02T07:00:00.000Z',
            durationMs: 15_000,
          },
        ],
      }),
    );
    const lines: string[] = [];
    const sink = { write: (text: string) => lines.push(text) !== 0, isTTY: false };
    const terminal = createTerminal(sink as never, sink as never, {});

    // Act
    const refused = await chaos('--page');
    const exitCode = await runChaosCli(['node', 'run-chaos.mts', '--cdk-out', cdkOut, '--page'], {
      terminal,
      projectRoot: project,
    });

    // Assess
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain(`--page writes ${RESULTS_PAGE} and runs nothing: drop --no-write`);
    expect(exitCode).toBe(0);
    const page = readFileSync(join(project, RESULTS_PAGE), 'utf8');
    expect(page).toMatch(/\*\*1 of \d+ cases have a result; 1 passed, 0 failed\.\*\*/);
    expect(page).toContain(`| \`${CASE}\` | FAILED AcquireLockFailed | FAILED AcquireLockFailed | 20 | 0 |`);
    expect(page).toContain('## Never run');
  }, 120_000);

  it('refuses an --only that matches no case, before running anything (exit 2)', async () => {
    // Act
    const { exitCode, stderr } = await chaos('--only', 'no-such-state');

    // Assess
    expect(exitCode).toBe(2);
    expect(stderr).toMatch(
      /--only no-such-state matches none of the \d+ cases; npm run chaos -- --list shows them/,
    );
  }, 60_000);
});

describe('npm run chaos -- --cdk-out of a stack with Distributed Maps', () => {
  it("refuses to write its results over the inline stack's in results.json, and runs with --no-write (exit 2 before any case)", async () => {
    // Prepare: the default assembly's manifest and template, one Map made DISTRIBUTED, in a project of
    // its own so that nothing of the repository's is written even if the refusal went.
    const project = join(scratch, 'distributed-project');
    const assembly = join(project, 'cdk.out');
    mkdirSync(join(project, 'chaos'), { recursive: true });
    mkdirSync(assembly, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(cdkOut, 'manifest.json'), 'utf8'));
    writeFileSync(join(assembly, 'manifest.json'), JSON.stringify(manifest));
    for (const artifact of Object.values(manifest.artifacts) as {
      properties?: { templateFile?: string };
    }[]) {
      const file = artifact.properties?.templateFile;
      if (file === undefined) continue;
      const template = readFileSync(join(cdkOut, file), 'utf8');
      const distributed = template.replace(
        '\\"Mode\\":\\"INLINE\\"',
        '\\"Mode\\":\\"DISTRIBUTED\\",\\"ExecutionType\\":\\"STANDARD\\"',
      );
      expect(distributed).not.toBe(template);
      writeFileSync(join(assembly, file), distributed);
    }
    const lines: string[] = [];
    const sink = { write: (text: string) => lines.push(text) !== 0, isTTY: false };
    const terminal = createTerminal(sink as never, sink as never, {});
    const run = (...flags: string[]) =>
      runChaosCli(['node', 'run-chaos.mts', '--cdk-out', assembly, ...flags], {
        terminal,
        projectRoot: project,
      });

    // Act
    const refused = await run('--only', 'no-such-state');
    const listed = await run('--no-write', '--only', 'no-such-state');

    // Assess
    expect(refused).toBe(2);
    expect(lines.join('')).toContain(
      `--cdk-out ${assembly}: its stack runs Distributed Maps, and ${RESULTS_FILE} holds the results of the default stack`,
    );
    expect(lines.join('')).toContain('add --no-write');
    // With --no-write it goes on to select cases (and refuses this pattern for its own reason).
    expect(listed).toBe(2);
    expect(lines.join('')).toMatch(/--only no-such-state matches none of the \d+ cases/);
    expect(existsSync(join(project, RESULTS_FILE))).toBe(false);
  }, 60_000);
});
