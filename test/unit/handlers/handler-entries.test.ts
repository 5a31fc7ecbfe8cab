import { fileURLToPath } from 'node:url';
import { HANDLER_ENTRIES } from '../../../lib/handler-entries.js';

const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));

describe('the handler files the stack deploys', () => {
  it.each(Object.entries(HANDLER_ENTRIES))('%s exports a handler function (%s)', async (_name, entry) => {
    // Prepare
    const path = `${projectRoot}${entry}`;
    // Act
    const module = (await import(path)) as { handler?: unknown };
    // Assess
    expect(typeof module.handler).toBe('function');
  });
});
