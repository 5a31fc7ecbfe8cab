// The last gate of every rehearsal: no file of the report directory may hold a private key. Two
// nets: any PEM private key block (plain or base64, the audit logger's own guard), and a fragment of
// every key the run is known to have handled (root A, the intermediates, root B from the CA store),
// which also catches a key whose PEM armour was stripped.
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { containsPrivateKey } from '../lambdas/adapters/audit/private-key-guard.js';

/** Distinctive pieces of each key's base64 body: one line's middle, long enough to be unique. */
export function keyFragments(privateKeyPems: readonly string[]): string[] {
  const fragments = new Set<string>();
  for (const pem of privateKeyPems) {
    for (const block of pem.matchAll(/-----BEGIN [A-Z ]*PRIVATE KEY-----([\s\S]*?)-----END/g)) {
      const lines = (block[1] ?? '').split(/\r?\n/).filter((line) => line.length >= 48);
      for (const line of lines.slice(0, 2)) fragments.add(line.slice(8, 40));
    }
  }
  return [...fragments];
}

/** Every file under `directory` (relative paths) that holds a private key or a known key fragment. */
export async function filesWithPrivateKeys(
  directory: string,
  fragments: readonly string[],
): Promise<string[]> {
  const found: string[] = [];
  const visit = async (path: string): Promise<void> => {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) {
        await visit(full);
      } else if (entry.isFile() && (await fileHoldsKey(full, fragments))) {
        found.push(relative(directory, full));
      }
    }
  };
  await visit(directory);
  return found.sort();
}

// A file is read a window at a time, each window searched with the end of the one before it: a
// report's history.json can be tens of MB, and reading one whole with its unescaped copy took ~2x its
// size more (151 MiB more for a file of 74 MiB, 25 MiB this way) at the rehearsal's very end, where
// the scheduled 100 x 100 rehearsal peaked ~240 MiB over its run (docs/workflow.md, slice 7).
/** How much of a file is read at a time. */
export const SCAN_WINDOW_BYTES = 256 * 1024;
/** Longer than anything searched for (a 32-character fragment, JSON-escaped, is at most 64). */
const OVERLAP_CHARS = 4096;

async function fileHoldsKey(file: string, fragments: readonly string[]): Promise<boolean> {
  let carried = '';
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: SCAN_WINDOW_BYTES });
  try {
    for await (const chunk of stream) {
      const text = carried + (chunk as string);
      if (windowHoldsKey(text, fragments)) return true;
      carried = text.slice(-OVERLAP_CHARS);
    }
    return false;
  } finally {
    stream.destroy();
  }
}

function windowHoldsKey(text: string, fragments: readonly string[]): boolean {
  const unescaped = text.replaceAll('\\n', '\n').replaceAll('\\/', '/');
  return (
    containsPrivateKey(text) ||
    containsPrivateKey(unescaped) ||
    fragments.some((fragment) => text.includes(fragment))
  );
}
