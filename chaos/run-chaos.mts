#!/usr/bin/env -S node --import tsx
// `npm run chaos`: the reliability matrix of issue 15, each case a real rehearsal on the model engine
// (docs/reliability.md). TypeScript run by tsx, no build step; the work is in chaos-cli.ts.
import { runChaosCli } from './chaos-cli.js';

process.exitCode = await runChaosCli(process.argv);
