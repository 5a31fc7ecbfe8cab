#!/usr/bin/env -S node --import tsx
// `npm run bench`: meshtrust's speed and size on this machine (docs/performance.md). TypeScript run by
// tsx, no build step; the work is in bench-cli.ts.
import { runBenchCli } from './bench-cli.js';

process.exitCode = await runBenchCli(process.argv);
