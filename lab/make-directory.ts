// mkdir -p, one level at a time: Node 20's mkdir({ recursive: true }) never returns under /proc, so a
// command given `--out /proc/x` would hang instead of saying why it cannot write there.
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Creates `directory` and its missing parents; returns those it created, outermost first. */
export async function makeDirectory(directory: string): Promise<string[]> {
  const created: string[] = [];
  await make(directory, created);
  return created;
}

async function make(directory: string, created: string[]): Promise<void> {
  try {
    await mkdir(directory);
    created.push(directory);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if ((await stat(directory)).isDirectory()) return;
      throw Object.assign(new Error(`${directory} exists and is not a directory`, { cause: error }), {
        code: 'ENOTDIR',
      });
    }
    if (code !== 'ENOENT' || dirname(directory) === directory) throw error;
  }
  await make(dirname(directory), created);
  // The parent exists now: a second ENOENT (a file system that refuses, like /proc) is the answer.
  await mkdir(directory);
  created.push(directory);
}
