// The command line of one model-engine rehearsal as the bench runs it (`meshtrust rehearse` under
// node with tsx, no build step): the cost and rotation sections each run rehearsals in child processes.

export interface RehearseArgs {
  readonly clusters: number;
  readonly workloads: number;
  readonly mode: string;
  /** The cloud assembly to run as it is (ensureCloudAssembly's). */
  readonly cdkOut: string;
  /** Where report.json, history.json and the logs go. */
  readonly out: string;
  /** A step to make fail (`--fail-at STATE[:CLUSTER]`), for a rotation that rolls back. */
  readonly failAt?: string;
}

/** Arguments for process.execPath, run in the project root. */
export function rehearseArgs(options: RehearseArgs): string[] {
  return [
    '--import',
    'tsx',
    'bin/meshtrust.ts',
    'rehearse',
    '--clusters',
    String(options.clusters),
    '--workloads',
    String(options.workloads),
    '--mode',
    options.mode,
    '--cdk-out',
    options.cdkOut,
    '--out',
    options.out,
    ...(options.failAt === undefined ? [] : ['--fail-at', options.failAt]),
    '--json',
  ];
}
