// The revision a bench result names: a tracked change marks it, an untracked file (a worktree's
// node_modules link, scratch output) does not.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRevision } from '../../../bench/bench-results.js';

let repo: string;
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo });

beforeEach(() => {
  repo = mkdtempSync(join(tmpdir(), 'bench-revision-'));
  git('init', '-q');
  writeFileSync(join(repo, 'a.ts'), 'export const a = 1;\n');
  git('add', 'a.ts');
  git('commit', '-q', '-m', 'a');
});

afterEach(() => {
  rmSync(repo, { recursive: true, force: true });
});

describe('describeRevision', () => {
  it('names the commit, clean although an untracked file is there', async () => {
    // Prepare
    writeFileSync(join(repo, 'scratch.txt'), 'not code\n');

    // Act
    const revision = await describeRevision(repo);

    // Assess
    expect(revision).toEqual({
      commit: git('rev-parse', 'HEAD').toString().trim(),
      uncommittedChanges: false,
    });
  });

  it('says so when a tracked file differs from the commit', async () => {
    // Prepare
    writeFileSync(join(repo, 'a.ts'), 'export const a = 2;\n');

    // Act
    const revision = await describeRevision(repo);

    // Assess
    expect(revision?.uncommittedChanges).toBe(true);
  });
});
