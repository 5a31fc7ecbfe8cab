import { jest } from '@jest/globals';

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
