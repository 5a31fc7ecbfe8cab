import { createProgressDisplay } from '../../../rehearsal/progress-display.js';

function stream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, isTTY, write: (text: string) => chunks.push(text) };
}

const state = (phase: string, clustersDone: number, handshakes: number) => ({
  phase,
  clustersDone,
  clustersTotal: 3,
  handshakes,
  failures: 0,
});

describe('the rehearsal progress display', () => {
  it('prints plain lines off a terminal, one per phase or cluster change, not per handshake', () => {
    // Prepare
    const out = stream(false);
    const display = createProgressDisplay(out, { now: () => 0 });

    // Act
    display.update(state('distribute-bundle', 0, 10));
    display.update(state('distribute-bundle', 0, 20));
    display.update(state('distribute-bundle', 1, 30));
    display.update(state('verify-trust', 0, 40));

    // Assess
    expect(out.chunks).toEqual([
      '[  0.0s] phase distribute-bundle · clusters 0/3 · handshakes 10 · failed 0\n',
      '[  0.0s] phase distribute-bundle · clusters 1/3 · handshakes 30 · failed 0\n',
      '[  0.0s] phase verify-trust · clusters 0/3 · handshakes 40 · failed 0\n',
    ]);
    expect(out.chunks.join('')).not.toContain('\r');
  });

  it('redraws one line in place on a terminal', () => {
    // Prepare
    const out = stream(true);
    const display = createProgressDisplay(out, { now: () => 0 });

    // Act
    display.update(state('soak', 0, 99));
    display.note('synth: done');
    display.stop();

    // Assess
    expect(out.chunks.join('')).toContain('\r\x1b[2K[  0.0s] synth: done\n');
    expect(out.chunks.join('')).toContain(
      '\r\x1b[2K[  0.0s] phase soak · clusters 0/3 · handshakes 99 · failed 0',
    );
  });
});
