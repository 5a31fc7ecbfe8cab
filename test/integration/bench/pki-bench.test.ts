// The bench's PKI section at a tiny size: both sides really make certificates openssl accepts, the
// figures have the shape the report reads, and the cross-check refuses a comparison that is not like
// for like. Nothing here is timed against a target (speed belongs in `npm run bench`).
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import { BenchCheckFailed } from '../../../bench/bench-errors.js';
import {
  assertLikeForLike,
  crossCheckSides,
  type PkiSectionFigures,
  runPkiSection,
} from '../../../bench/pki-bench.js';

jest.setTimeout(120_000);

const execFileAsync = promisify(execFile);
const INTERMEDIATES = 2;

let work: string;
let figures: PkiSectionFigures;
const progress: string[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'meshtrust-pki-bench-'));
  const workDirectory = join(work, 'run');
  await mkdir(workDirectory);
  // RSA 2048 stands in for RSA 4096: the same code path, a fraction of the key generation.
  figures = await runPkiSection({
    intermediates: INTERMEDIATES,
    algorithms: ['ecdsa-p256', 'rsa-2048'],
    workDirectory,
    progress: (line) => progress.push(line),
  });
});

afterAll(() => rm(work, { recursive: true, force: true }));

const side = (name: 'ours' | 'openssl', algorithm: string) => join(work, 'run', `${name}-${algorithm}`);

describe('the PKI section', () => {
  it('reports, per algorithm, both sides as whole processes and their ratio', () => {
    // Assess
    expect(figures.intermediates).toBe(INTERMEDIATES);
    expect(figures.algorithms.map((row) => row.algorithm)).toEqual(['ecdsa-p256', 'rsa-2048']);
    for (const row of figures.algorithms) {
      expect(row.certificates).toBe(1 + INTERMEDIATES);
      expect(row.ours.processes).toBe(1);
      expect(row.openssl.processes).toBe(1 + 2 * INTERMEDIATES);
      expect(row.ours.wallMs).toBeGreaterThan(0);
      expect(row.ours.inProcessMs).toBeGreaterThan(0);
      // In-process work is part of the whole process, never more.
      expect(row.ours.inProcessMs).toBeLessThan(row.ours.wallMs);
      expect(row.openssl.wallMs).toBeGreaterThan(0);
      expect(row.ratio).toBeCloseTo(row.openssl.wallMs / row.ours.wallMs, 10);
      expect(row.crossCheck).toMatchObject({
        oursVerified: true,
        opensslVerified: true,
        profileDifferences: [],
      });
    }
  });

  it.each(['ecdsa-p256', 'rsa-2048'])(
    'leaves %s certificates from both sides that openssl verify accepts, every one of them',
    async (algorithm) => {
      for (const name of ['ours', 'openssl'] as const) {
        for (let index = 1; index <= INTERMEDIATES; index += 1) {
          // Act
          const { stdout } = await execFileAsync(
            'openssl',
            ['verify', '-CAfile', 'root-cert.pem', `int-${index}-cert.pem`],
            { cwd: side(name, algorithm) },
          );

          // Assess
          expect(stdout.trim()).toBe(`int-${index}-cert.pem: OK`);
        }
      }
    },
  );

  it('reports its progress on both sides', () => {
    expect(progress).toEqual(
      expect.arrayContaining([
        `pki ecdsa-p256: ours ${INTERMEDIATES}/${INTERMEDIATES}`,
        `pki rsa-2048: openssl loop ${INTERMEDIATES}/${INTERMEDIATES}`,
      ]),
    );
  });
});

describe('the cross-check', () => {
  it('finds every profile difference between sides of different key algorithms', async () => {
    // Act
    const check = await crossCheckSides(
      side('ours', 'ecdsa-p256'),
      side('openssl', 'rsa-2048'),
      INTERMEDIATES,
    );

    // Assess
    expect(check.oursVerified).toBe(true);
    expect(check.opensslVerified).toBe(true);
    expect(check.profileDifferences).toEqual(
      expect.arrayContaining([
        'root key: ec prime256v1 vs rsa 2048',
        'intermediate key: ec prime256v1 vs rsa 2048',
        'intermediate signature: ECDSA SHA-256 vs RSASSA-PKCS1-v1_5 SHA-256',
      ]),
    );
    expect(() => assertLikeForLike('ecdsa-p256', check)).toThrow(BenchCheckFailed);
  });

  it('refuses a side whose intermediate openssl verify rejects', async () => {
    // Prepare: the openssl side's intermediate next to another root of the same profile.
    const mixed = join(work, 'mixed');
    await mkdir(mixed);
    await copyFile(join(side('ours', 'ecdsa-p256'), 'root-cert.pem'), join(mixed, 'root-cert.pem'));
    const last = `int-${INTERMEDIATES}-cert.pem`;
    await copyFile(join(side('openssl', 'ecdsa-p256'), last), join(mixed, last));

    // Act
    const check = await crossCheckSides(side('ours', 'ecdsa-p256'), mixed, INTERMEDIATES);

    // Assess
    expect(check).toMatchObject({ oursVerified: true, opensslVerified: false, profileDifferences: [] });
    expect(() => assertLikeForLike('ecdsa-p256', check)).toThrow(
      "openssl verify rejects the openssl loop's intermediate",
    );
  });
});
