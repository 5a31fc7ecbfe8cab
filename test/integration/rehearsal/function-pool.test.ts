// The rehearsal's Lambda runtime with a real bundle written at test time: each function in processes
// of its own, only its own environment, warm between invocations, errors by name, timeouts enforced.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CONTAINER_NICENESS,
  createFunctionPool,
  type FunctionLogLine,
  type FunctionPool,
} from '../../../rehearsal/function-pool.js';
import { FunctionInvocationError } from '../../../rehearsal/rehearsal-errors.js';
import type { TemplateFunction } from '../../../rehearsal/template-functions.js';

const BUNDLE = `
export const handler = async (event, context) => {
  console.log(JSON.stringify({ audit: true, phase: 'test', seen: event.name }));
  if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
  if (event.fail) {
    const error = new Error('istiod has not caught up');
    error.name = event.fail;
    throw error;
  }
  return {
    pid: process.pid,
    mine: process.env.ONLY_MINE ?? null,
    parents: process.env.PARENT_ONLY ?? null,
    functionName: context.functionName,
    echo: event.name,
  };
};
`;

function testFunction(directory: string, overrides: Partial<TemplateFunction> = {}): TemplateFunction {
  return {
    logicalId: 'Fn1',
    functionName: 'meshtrust-test-preflight',
    handlerName: 'preflight',
    bundleDirectory: directory,
    bundleFile: 'index.mjs',
    exportName: 'handler',
    timeoutSeconds: 5,
    memorySize: 512,
    environment: {},
    ...overrides,
  };
}

describe('the rehearsal function pool', () => {
  let directory: string;
  let pool: FunctionPool;
  const logs: FunctionLogLine[] = [];

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'meshtrust-pool-'));
    writeFileSync(join(directory, 'index.mjs'), BUNDLE);
    process.env.PARENT_ONLY = 'the parent process environment';
    pool = createFunctionPool({
      functions: [testFunction(directory), testFunction(directory, { logicalId: 'Slow', timeoutSeconds: 1 })],
      environment: () => ({ ONLY_MINE: 'from the template' }),
      arnOf: (fn) => `arn:aws:lambda:us-east-1:000000000000:function:${fn.functionName}`,
      onLog: (line) => logs.push(line),
    });
  });

  afterAll(async () => {
    delete process.env.PARENT_ONLY;
    await pool.stop();
  });

  it('runs the bundle in a process of its own with only the environment it was given', async () => {
    // Act
    const result = (await pool.invoke('Fn1', { name: 'first' })) as Record<string, unknown>;

    // Assess
    expect(result).toMatchObject({
      mine: 'from the template',
      parents: null,
      functionName: 'meshtrust-test-preflight',
      echo: 'first',
    });
    expect(result.pid).not.toBe(process.pid);
  });

  it("runs a container at a lower scheduling priority than the rehearsal's, which the lab shares", async () => {
    // Act
    const { pid } = (await pool.invoke('Fn1', { name: 'niced' })) as { pid: number };

    // Assess
    expect(getPriority(pid)).toBe(Math.min(19, getPriority() + CONTAINER_NICENESS));
  });

  it('keeps a container warm between invocations and starts another for a concurrent one', async () => {
    // Act
    const first = (await pool.invoke('Fn1', { name: 'a' })) as { pid: number };
    const again = (await pool.invoke('Fn1', { name: 'b' })) as { pid: number };
    const together = (await Promise.all([
      pool.invoke('Fn1', { name: 'c', sleepMs: 300 }),
      pool.invoke('Fn1', { name: 'd', sleepMs: 300 }),
    ])) as { pid: number }[];

    // Assess
    expect(again.pid).toBe(first.pid);
    expect(new Set(together.map((result) => result.pid)).size).toBe(2);
  });

  it('reports a function error under its errorType, so Retry and Catch can match it', async () => {
    // Act
    const failure = await pool.invoke('Fn1', { fail: 'VerificationFailed' }).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(FunctionInvocationError);
    expect((failure as Error).name).toBe('VerificationFailed');
    expect((failure as Error).message).toBe('istiod has not caught up');
    // and the function's log says it, as the Node.js runtime's `Invoke Error` line does
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(logs.filter((line) => line.stream === 'stderr').map((line) => line.line)).toContainEqual(
      expect.stringMatching(
        /^\S+Z\t[0-9a-f-]{36}\tERROR\tInvoke Error \t\{"errorType":"VerificationFailed","errorMessage":"istiod has not caught up"\}$/,
      ),
    );
  });

  it('stops an invocation at the function timeout, as Sandbox.Timedout', async () => {
    // Act
    const failure = await pool.invoke('Slow', { sleepMs: 3000 }).catch((error: unknown) => error);

    // Assess
    expect((failure as Error).name).toBe('Sandbox.Timedout');
  });

  it('captures what the function writes to stdout, line by line', async () => {
    // Act
    await pool.invoke('Fn1', { name: 'logged' });
    await new Promise((resolve) => setTimeout(resolve, 100));

    // Assess
    const lines = logs.filter((line) => line.stream === 'stdout').map((line) => JSON.parse(line.line));
    expect(lines).toContainEqual({ audit: true, phase: 'test', seen: 'logged' });
    expect(logs.every((line) => line.handlerName === 'preflight')).toBe(true);
  });
});

describe("the rehearsal function pool's warm invocation times", () => {
  let directory: string;
  let pool: FunctionPool;

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'meshtrust-pool-times-'));
    writeFileSync(join(directory, 'index.mjs'), BUNDLE);
    pool = createFunctionPool({
      functions: [testFunction(directory, { logicalId: 'Verify', handlerName: 'verify-trust' })],
      environment: () => ({}),
      arnOf: (fn) => `arn:aws:lambda:us-east-1:000000000000:function:${fn.functionName}`,
    });
  });

  afterAll(async () => {
    await pool.stop();
  });

  it('times the invocations a container already initialised took, failed ones too, and no cold one', async () => {
    // Act: a cold start (the container starts for it), then two warm calls, one of them failing
    await pool.invoke('Verify', { name: 'cold' });
    await pool.invoke('Verify', { name: 'warm', sleepMs: 150 });
    await pool.invoke('Verify', { fail: 'NotYet', sleepMs: 50 }).catch(() => undefined);
    const afterOne = pool.warmInvocationMs()['verify-trust'] ?? [];
    // a second container warmed ahead: its first invocation is warm as well
    await pool.warm([{ logicalId: 'Verify', containers: 2 }]);
    await Promise.all([
      pool.invoke('Verify', { name: 'a', sleepMs: 100 }),
      pool.invoke('Verify', { name: 'b', sleepMs: 100 }),
    ]);

    // Assess
    expect(afterOne).toHaveLength(2);
    expect(afterOne[0]).toBeGreaterThanOrEqual(150);
    expect(afterOne[1]).toBeGreaterThanOrEqual(50);
    expect(afterOne[1]).toBeLessThan(150);
    const all = pool.warmInvocationMs()['verify-trust'] ?? [];
    expect(all).toHaveLength(4);
    expect(pool.invocations()['verify-trust']).toBe(5);
  });
});
