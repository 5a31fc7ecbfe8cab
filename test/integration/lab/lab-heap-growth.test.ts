import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { limitLabHeapGrowth } from '../../../lab/lab-heap-growth.js';
import { PROJECT_ROOT } from '../../../lib/handler-entries.js';
import { runCommand } from '../../support/run-command.js';

// A process that hosts a lab limits how far V8 lets its heap grow past what is live. The first case
// runs a real node process twice, without and with the limit, on a workload that keeps objects live
// while it makes garbage as a lab does (renewals, handshakes), and reads the largest heap V8 reserved:
// with the limit it must stay well under the same workload's heap without it, so the flag has to reach
// V8 to pass.

const MODULE = fileURLToPath(new URL('../../../lab/lab-heap-growth.ts', import.meta.url));

function script(limited: boolean): string {
  // ~45 MB live throughout (read at the end), and batches of garbage that each live a few rounds, as
  // a certificate lives until its renewal: they outlive young-generation collections, so the old
  // generation grows until a full collection, as far as V8's growing factor lets it.
  return `import { limitLabHeapGrowth } from ${JSON.stringify(MODULE)};
const applied = ${limited} ? limitLabHeapGrowth() : false;
const live = [];
for (let i = 0; i < 100_000; i++) live.push({ text: 'x'.repeat(300) + i, n: [i] });
const recent = [];
let peak = 0;
for (let round = 0; round < 200; round++) {
  const batch = [];
  for (let i = 0; i < 10_000; i++) batch.push({ s: round + ':' + i + ':' + 'y'.repeat(100) });
  recent.push(batch);
  if (recent.length > 4) recent.shift();
  peak = Math.max(peak, process.memoryUsage().heapTotal);
}
console.log(JSON.stringify({ applied, peakHeapBytes: peak, live: live.length + recent.length }));
`;
}

async function peakHeap(limited: boolean): Promise<{ applied: boolean; peakHeapBytes: number }> {
  const file = join(mkdtempSync(join(tmpdir(), 'meshtrust-heap-')), 'child.mts');
  writeFileSync(file, script(limited));
  // Without NODE_OPTIONS: a --max-old-space-size there would (rightly) keep the limit from applying.
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const result = await runCommand(process.execPath, ['--import', 'tsx', file], { cwd: PROJECT_ROOT, env });
  expect({ exitCode: result.exitCode, stderr: result.exitCode === 0 ? '' : result.stderr }).toEqual({
    exitCode: 0,
    stderr: '',
  });
  return JSON.parse(result.stdout) as { applied: boolean; peakHeapBytes: number };
}

describe('limitLabHeapGrowth', () => {
  it('keeps the heap of a garbage-making process well under what V8 reserves without it', async () => {
    // Act
    const unlimited = await peakHeap(false);
    const limited = await peakHeap(true);

    // Assess: measured at 284-296 MiB without and 138-142 MiB with (node 20, a 24 GiB machine)
    expect(limited.applied).toBe(true);
    expect(limited.peakHeapBytes).toBeLessThan(unlimited.peakHeapBytes * 0.7);
  }, 60_000);

  it.each([['--max-old-space-size=2048'], ['--max_old_space_size=2048'], ['--heap-growing-percent=100']])(
    "leaves the heap as the operator's %s says",
    (option) => {
      // Act
      const applied = limitLabHeapGrowth(['--import tsx', `--enable-source-maps ${option}`]);

      // Assess
      expect(applied).toBe(false);
    },
  );
});
