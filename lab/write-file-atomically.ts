// A file that appears whole or not at all: written to a temporary name beside it, then renamed over
// it (rename(2) is atomic within a file system). A reader, or a run killed mid-write, never sees half
// a file; the last complete version stays until the new one is complete. Content given in slices (an
// iterable of strings) is written one slice after another, never joined in memory; a write that fails
// (a slice that throws, a full disk) removes its temporary file.
import { rename, rm, writeFile } from 'node:fs/promises';

export async function writeFileAtomically(
  file: string,
  content: string | Uint8Array | Iterable<string>,
): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, content);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await rename(temporary, file);
}
