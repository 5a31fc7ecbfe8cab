// A file that appears whole or not at all, from a string or from slices, and no temporary file left
// behind when the content fails half-way.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { writeFileAtomically } from '../../../lab/write-file-atomically.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mt-atomic-file-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomically', () => {
  it('writes content given in slices, one after another', async () => {
    // Prepare
    const file = join(dir, 'history.json');

    // Act
    await writeFileAtomically(file, ['[\n', '  1,\n', '  2\n', ']\n'].values());

    // Assess
    expect(await readFile(file, 'utf8')).toBe('[\n  1,\n  2\n]\n');
    expect(await readdir(dir)).toEqual(['history.json']);
  });

  it('keeps the last whole file and leaves no temporary one when a slice fails', async () => {
    // Prepare
    const file = join(dir, 'history.json');
    await writeFile(file, 'the last complete version\n');
    function* failing(): Generator<string> {
      yield 'half of a new ';
      throw new TypeError('Do not know how to serialize a BigInt');
    }

    // Act
    const write = writeFileAtomically(file, failing());

    // Assess
    await expect(write).rejects.toThrow('BigInt');
    expect(await readFile(file, 'utf8')).toBe('the last complete version\n');
    expect(await readdir(dir)).toEqual(['history.json']);
  });
});
