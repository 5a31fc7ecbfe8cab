// A file that appears whole or not at all: written to a temporary name beside it, then renamed over
// it (rename(2) is atomic within a file system). A reader, or a run killed mid-write, never sees half
// a file; the last complete version stays until the new one is complete.
import { rename, writeFile } from 'node:fs/promises';

export async function writeFileAtomically(file: string, content: string | Uint8Array): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, file);
}
