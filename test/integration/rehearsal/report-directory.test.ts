// The --out directory is made and proved writable before a rehearsal starts, and a run refused before
// it started takes back only what it made.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReportDirectoryError } from '../../../rehearsal/rehearsal-errors.js';
import { prepareReportDirectory } from '../../../rehearsal/write-report-files.js';

let scratch: string;

beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'meshtrust-report-dir-'));
});

afterEach(() => rmSync(scratch, { recursive: true, force: true }));

describe('prepareReportDirectory', () => {
  it('creates missing parents, leaves no probe file, and discards only what it created', async () => {
    // Prepare
    const out = join(scratch, 'a', 'b', 'c');

    // Act
    const prepared = await prepareReportDirectory(out);
    const afterPrepare = readdirSync(out);
    await prepared.discard();

    // Assess
    expect(afterPrepare).toEqual([]);
    expect(existsSync(join(scratch, 'a'))).toBe(false);
    expect(existsSync(scratch)).toBe(true);
  });

  it('keeps a directory that was already there, and whatever it holds', async () => {
    // Prepare
    const out = join(scratch, 'earlier');
    mkdirSync(out);
    writeFileSync(join(out, 'report.json'), '{}');

    // Act
    await (await prepareReportDirectory(out)).discard();

    // Assess
    expect(readdirSync(out)).toEqual(['report.json']);
  });

  it('refuses a path below a file, naming the directory and the reason', async () => {
    // Prepare
    const file = join(scratch, 'file');
    writeFileSync(file, '');

    // Act
    const prepared = prepareReportDirectory(join(file, 'sub'));

    // Assess
    await expect(prepared).rejects.toThrow(ReportDirectoryError);
    await expect(prepared).rejects.toThrow(/report directory .*file\/sub cannot be used: ENOTDIR/);
  });

  it('refuses a file where the directory should be', async () => {
    // Prepare
    const file = join(scratch, 'file');
    writeFileSync(file, '');

    // Act & Assess
    await expect(prepareReportDirectory(file)).rejects.toThrow(`${file} exists and is not a directory`);
  });
});
