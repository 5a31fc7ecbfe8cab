// `npm run bench -- --page`: docs/performance.md written again from the bench/results.json a project
// holds, after a change to the page's generator, measuring nothing; and the flags that would measure
// refused rather than ignored. In a scratch project, so the repository's page is never touched.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PERFORMANCE_DOC, RESULTS_FILE, runBenchCli } from '../../../bench/bench-cli.js';
import { renderPerformanceDoc } from '../../../bench/bench-report.js';
import { mergeResults, serializeResults } from '../../../bench/bench-results.js';
import { mergeRotationFigures } from '../../../bench/rotation-figures.js';
import { createTerminal } from '../../../bin/cli/terminal.js';
import { rotationRun } from '../../support/rotation-run.js';
import { TEST_MACHINE } from '../../support/test-machine.js';

const RESULTS = mergeResults(
  undefined,
  {
    rotation: {
      measuredAt: '2026-12-01T12:00:00.000Z',
      durationMs: 600_000,
      machine: TEST_MACHINE,
      figures: mergeRotationFigures(undefined, [rotationRun({})], []),
    },
  },
  '2026-12-01T13:00:00.000Z',
);

let project: string;

beforeEach(() => {
  project = mkdtempSync(join(tmpdir(), 'bench-page-'));
  mkdirSync(join(project, 'bench'));
  mkdirSync(join(project, 'docs'));
});

afterEach(() => {
  rmSync(project, { recursive: true, force: true });
});

async function bench(...args: string[]): Promise<{ exitCode: number; stderr: string }> {
  const lines: string[] = [];
  const sink = { write: (text: string) => lines.push(text) !== 0, isTTY: false };
  const exitCode = await runBenchCli(['node', 'run-bench.mts', ...args], {
    terminal: createTerminal(sink as never, sink as never, {}),
    projectRoot: project,
  });
  return { exitCode, stderr: lines.join('') };
}

describe('npm run bench -- --page', () => {
  it('writes the page from the results kept, over a stale one, and leaves the results as they were', async () => {
    // Prepare
    const results = serializeResults(RESULTS);
    writeFileSync(join(project, RESULTS_FILE), results);
    writeFileSync(join(project, PERFORMANCE_DOC), '# Performance\n\nwritten by an older generator\n');

    // Act
    const { exitCode, stderr } = await bench('--page');

    // Assess
    expect(exitCode).toBe(0);
    const page = readFileSync(join(project, PERFORMANCE_DOC), 'utf8');
    expect(page).toBe(renderPerformanceDoc(JSON.parse(results)));
    expect(page).toContain('| emergency, 10 x 100 | SUCCEEDED | 60.0 s |');
    expect(readFileSync(join(project, RESULTS_FILE), 'utf8')).toBe(results);
    expect(stderr).toContain(`wrote ${PERFORMANCE_DOC} from ${RESULTS_FILE}; nothing was measured`);
  });

  it('refuses the flags that would measure or keep the page, naming each, and writes nothing (exit 2)', async () => {
    // Prepare
    writeFileSync(join(project, RESULTS_FILE), serializeResults(RESULTS));

    // Act
    const { exitCode, stderr } = await bench('--page', '--only', 'pki', '--no-write');

    // Assess
    expect(exitCode).toBe(2);
    expect(stderr).toContain(
      `--page writes ${PERFORMANCE_DOC} and measures nothing: drop --only, --no-write`,
    );
    expect(existsSync(join(project, PERFORMANCE_DOC))).toBe(false);
  });

  it('says to run the bench first when there are no results to write the page from (exit 2)', async () => {
    // Act
    const { exitCode, stderr } = await bench('--page');

    // Assess
    expect(exitCode).toBe(2);
    expect(stderr).toContain(`--page: no ${RESULTS_FILE} of this schema to write ${PERFORMANCE_DOC} from`);
    expect(existsSync(join(project, PERFORMANCE_DOC))).toBe(false);
  });
});
