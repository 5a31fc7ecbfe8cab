// The last gate of every rehearsal: no file of the report directory may hold a private key. Two
// nets: any PEM private key block (plain or base64, the audit logger's own guard), and a fragment of
// every key the run is known to have handled (root A, the intermediates, root B from the CA store),
// which also catches a key whose PEM armour was stripped.
import { readdir, readFile } from 'node:fs/promises';
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
      } else if (entry.isFile()) {
        const text = await readFile(full, 'utf8');
        const unescaped = text.replaceAll('\\n', '\n').replaceAll('\\/', '/');
        if (
          containsPrivateKey(text) ||
          containsPrivateKey(unescaped) ||
          fragments.some((fragment) => text.includes(fragment))
        ) {
          found.push(relative(directory, full));
        }
      }
    }
  };
  await visit(directory);
  return found.sort();
}
