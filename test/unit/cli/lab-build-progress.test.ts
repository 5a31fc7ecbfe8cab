// `meshtrust lab build` off a terminal (CI logs): a line per phase change, otherwise at most one every
// 10 s, however fast go prints packages. On a terminal: one line redrawn in place.

import { createLabBuildProgressView, PLAIN_LINE_EVERY_MS } from '../../../bin/cli/lab-build-progress.js';
import type { LabBuildProgress } from '../../../lab/binaries/build-progress.js';

function compile(done: number, elapsedMs: number): LabBuildProgress {
  return { phase: 'compile', done, total: 100, elapsedMs, message: 'compiling packages' };
}

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (text: string) => writes.push(text) } };
}

describe('createLabBuildProgressView off a terminal', () => {
  it('prints on a phase change and then at most once per interval', () => {
    // Prepare
    let now = 0;
    const { writes, stream } = fakeStream(false);
    const view = createLabBuildProgressView(stream, { now: () => now });

    // Act
    view.update({ phase: 'download', done: 0, total: 0, elapsedMs: 0, message: 'listing packages' });
    now = 1000;
    view.update(compile(1, 1000));
    for (let done = 2; done <= 50; done++) {
      now += 100; // go prints packages much faster than a log wants lines
      view.update(compile(done, now));
    }
    now = 1000 + PLAIN_LINE_EVERY_MS;
    view.update(compile(51, now));
    view.stop();

    // Assess
    expect(writes).toEqual([
      'download: listing packages, 0s elapsed\n',
      'compile 1/100 packages, 1s elapsed\n',
      'compile 51/100 packages, 11s elapsed\n',
    ]);
  });
});

describe('createLabBuildProgressView on a terminal', () => {
  it('redraws one line and ends it when stopped', () => {
    // Prepare
    let now = 0;
    const { writes, stream } = fakeStream(true);
    const view = createLabBuildProgressView(stream, { now: () => now });

    // Act
    view.update(compile(1, 0));
    now = 5000;
    view.update(compile(2, 5000));
    view.stop();

    // Assess
    expect(writes).toEqual([
      '\r\x1b[2Kcompile 1/100 packages, 0s elapsed',
      '\r\x1b[2Kcompile 2/100 packages, 5s elapsed',
      '\n',
    ]);
  });
});
