import { jest } from '@jest/globals';
import { logger } from '../../lambdas/adapters/audit/logger.js';

/**
 * Collects the lines written to process.stdout and process.stderr while fn runs (Powertools logger
 * and metrics write their JSON lines there; errors go to stderr), without letting them through.
 */
export function captureOutput(fn: () => void): string[] {
  const chunks: string[] = [];
  const collect = (chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  };
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(collect),
    jest.spyOn(process.stderr, 'write').mockImplementation(collect),
  ];
  try {
    fn();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return chunks
    .join('')
    .split('\n')
    .filter((line) => line !== '');
}

/**
 * As captureOutput, for an async fn, with the shared logger at INFO while it runs (the handler tests
 * silence it): the lines an awaited handler wrote, its audit events among them. Nothing else may run
 * meanwhile, or its lines are collected too.
 */
export async function captureLogLines<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const chunks: string[] = [];
  const collect = (chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  };
  const level = logger.getLevelName();
  logger.setLogLevel('INFO');
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(collect),
    jest.spyOn(process.stderr, 'write').mockImplementation(collect),
  ];
  try {
    const result = await fn();
    return {
      result,
      lines: chunks
        .join('')
        .split('\n')
        .filter((line) => line !== ''),
    };
  } finally {
    for (const spy of spies) spy.mockRestore();
    logger.setLogLevel(level);
  }
}
