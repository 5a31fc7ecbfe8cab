// npm test's lanes (test/support/test-lanes.ts) with real child processes: each line comes out whole
// and labelled, and a lane that fails or is killed fails the run.
import { type Lane, laneFailed, runLanes, TAIL_LINES } from '../../support/test-lanes.js';

const node = (name: string, script: string): Lane => ({
  name,
  command: process.execPath,
  args: ['-e', script],
});

describe('runLanes', () => {
  it('labels every whole line of each lane, keeps a last line without newline, and reports each exit', async () => {
    // Prepare
    const lines: string[] = [];
    const lanes = [
      node(
        'istio',
        "process.stdout.write('one\\ntw'); setTimeout(() => process.stdout.write('o\\nend'), 50)",
      ),
      node('main', "console.error('failed suite'); process.exit(3)"),
    ];

    // Act
    const results = await runLanes(lanes, { write: (line) => lines.push(line) });

    // Assess
    expect(lines.filter((line) => line.startsWith('istio │ '))).toEqual([
      'istio │ one',
      'istio │ two',
      'istio │ end',
    ]);
    expect(lines.filter((line) => line.startsWith('main  │ '))).toEqual(['main  │ failed suite']);
    expect(results.map(({ name, exitCode }) => ({ name, exitCode }))).toEqual([
      { name: 'istio', exitCode: 0 },
      { name: 'main', exitCode: 3 },
    ]);
    expect(results.map(laneFailed)).toEqual([false, true]);
  });

  it('stops a lane still running when aborted, and counts it as failed', async () => {
    // Prepare
    const aborted = new AbortController();
    const slow = node('slow', "console.log('ready'); setTimeout(() => {}, 60_000)");

    // Act
    const [result] = await runLanes([slow], {
      write: (line) => {
        if (line.endsWith('│ ready')) aborted.abort();
      },
      signal: aborted.signal,
    });

    // Assess
    expect(result).toMatchObject({ name: 'slow', exitCode: null, signal: 'SIGTERM' });
    expect(laneFailed(result)).toBe(true);
  });

  it('fails a lane whose command cannot start and says so', async () => {
    // Prepare
    const lines: string[] = [];

    // Act
    const [result] = await runLanes([{ name: 'gone', command: '/nonexistent/jest', args: [] }], {
      write: (line) => lines.push(line),
    });

    // Assess
    expect(laneFailed(result)).toBe(true);
    expect(lines.join('\n')).toMatch(/gone │ could not start \/nonexistent\/jest: .*ENOENT/);
  });

  it("keeps a lane's last lines to print again when it ends long before the other", async () => {
    // Prepare
    const many = TAIL_LINES + 50;
    const lane = node('main', `for (let i = 1; i <= ${many}; i++) console.log('line ' + i); process.exit(1)`);

    // Act
    const [result] = await runLanes([lane], { write: () => {} });

    // Assess
    expect(result.tail).toHaveLength(TAIL_LINES);
    expect(result.tail[0]).toBe(`line ${many - TAIL_LINES + 1}`);
    expect(result.tail.at(-1)).toBe(`line ${many}`);
  });

  it("keeps jest's summary of failing tests from its start, and its counts when it runs long", async () => {
    // Prepare: a coloured summary mark, a failure, then more lines than the tail holds, then the counts.
    const script = [
      "console.log('PASS early suite')",
      "console.log('\\u001b[1mSummary of all failing tests\\u001b[22m')",
      "console.log('FAIL main test/e2e/broken.test.ts')",
      `for (let i = 0; i < ${TAIL_LINES + 40}; i++) console.log('  at frame ' + i)`,
      "console.log('Tests:       1 failed, 9 passed, 10 total')",
      'process.exit(1)',
    ].join(';');

    // Act
    const [result] = await runLanes([node('main', script)], { write: () => {} });

    // Assess
    expect(result.tail[0]).toContain('Summary of all failing tests');
    expect(result.tail[1]).toBe('FAIL main test/e2e/broken.test.ts');
    expect(result.tail).not.toContain('PASS early suite');
    expect(result.tail).toContain('  at frame 0');
    expect(result.tail.join('\n')).toMatch(/… \d+ lines left out …/);
    expect(result.tail.at(-1)).toBe('Tests:       1 failed, 9 passed, 10 total');
  });
});
