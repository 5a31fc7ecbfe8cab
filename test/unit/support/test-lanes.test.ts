// npm test's lanes (test/support/test-lanes.ts) with real child processes: each line comes out whole
// and labelled, and a lane that fails or is killed fails the run.
import { type Lane, laneFailed, runLanes } from '../../support/test-lanes.js';

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
});
