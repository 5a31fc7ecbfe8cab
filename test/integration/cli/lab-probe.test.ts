// `meshtrust lab probe` reports what the running lab's prober found: every failed handshake, and exit
// code 1 when there is one. Here the lab side is the real control server with a scripted prober
// answer, so the failure case does not need a broken fleet (test/integration/lab covers that).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliContext } from '../../../bin/cli/cli-context.js';
import { EXIT_CODES } from '../../../bin/cli/cli-errors.js';
import { runCli } from '../../../bin/cli/program.js';
import { createTerminal } from '../../../bin/cli/terminal.js';
import {
  type LabControlServer,
  type LabProbeReport,
  startLabControlServer,
} from '../../../lab/lab-control-server.js';

let dir: string;
let server: LabControlServer;
let report: LabProbeReport;
const roundsAsked: number[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshtrust-lab-probe-'));
  server = await startLabControlServer({
    probe: async (rounds) => {
      roundsAsked.push(rounds);
      return report;
    },
    status: () => ({}),
  });
  await writeFile(join(dir, 'control.json'), JSON.stringify({ url: server.url, token: server.token }), {
    mode: 0o600,
  });
});

afterAll(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

async function probe(...args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const context: CliContext = {
    terminal: createTerminal(
      { write: (text: string) => (stdout += text) },
      { write: (text: string) => (stderr += text) },
      {},
    ),
    env: {},
    exitCode: EXIT_CODES.ok,
  };
  const exitCode = await runCli(['node', 'meshtrust', 'lab', 'probe', '--lab', dir, ...args], context);
  return { exitCode, stdout, stderr };
}

const failure = {
  at: '2026-11-25T12:00:00.000Z',
  phase: 'reissue-intermediate',
  from: 'lab-2/shop/cart-0',
  to: 'lab-1/payments/api-0',
  side: 'server',
  error: 'unable to get issuer certificate',
};

describe('meshtrust lab probe', () => {
  it('exits 1 and lists each failed handshake with both ends and the TLS error', async () => {
    // Prepare
    report = { rounds: 1, attempted: 18, failed: 1, failures: [failure] };

    // Act
    const result = await probe();

    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.checkFailed);
    expect(result.stdout).toContain('18 attempted, 1 failed');
    expect(result.stdout).toContain(
      'lab-2/shop/cart-0 -> lab-1/payments/api-0 [reissue-intermediate] server side: unable to get issuer certificate',
    );
  });

  it('exits 0 with --json printing the report as the lab sent it, for the rounds asked', async () => {
    // Prepare
    report = { rounds: 3, attempted: 54, failed: 0, failures: [] };

    // Act
    const result = await probe('--json', '--rounds', '3');

    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.ok);
    expect(JSON.parse(result.stdout)).toEqual(report);
    expect(roundsAsked.at(-1)).toBe(3);
  });

  it('exits 3 when the control secret is wrong, saying the lab refused', async () => {
    // Prepare
    const otherDir = join(dir, 'wrong-token');
    await rm(otherDir, { recursive: true, force: true });
    await mkdir(otherDir);
    await writeFile(join(otherDir, 'control.json'), JSON.stringify({ url: server.url, token: 'guessed' }));
    let stderr = '';
    const context: CliContext = {
      terminal: createTerminal({ write: () => true }, { write: (text: string) => (stderr += text) }, {}),
      env: { MESHTRUST_LAB: otherDir },
      exitCode: EXIT_CODES.ok,
    };

    // Act
    const exitCode = await runCli(['node', 'meshtrust', 'lab', 'probe'], context);

    // Assess
    expect(exitCode).toBe(EXIT_CODES.environment);
    expect(stderr).toContain('the lab refused the request');
  });
});
