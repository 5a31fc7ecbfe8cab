#!/usr/bin/env -S node --no-warnings=ExperimentalWarning
// The `meshtrust` command (package.json "bin"). In a checkout of the repository it runs the TypeScript
// sources through tsx, so a change needs no build; the installed package ships no sources and runs the
// CLI compiled into dist/ by `npm run build` (which `npm pack` runs first).
import { existsSync } from 'node:fs';

const source = new URL('./meshtrust.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/bin/meshtrust.js');
}
