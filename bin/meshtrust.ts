#!/usr/bin/env -S node --import tsx --no-warnings=ExperimentalWarning
// meshtrust, the operator CLI. Runs TypeScript directly through tsx (no build step); `npx meshtrust` and
// the installed package start it through bin/meshtrust.mjs. Commands live in bin/commands/, one file
// each; docs/cli.md.
import { runCli } from './cli/program.js';

process.exitCode = await runCli(process.argv);
