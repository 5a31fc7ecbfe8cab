// The processes a case started, read from /proc (Linux): sampled while the case runs (its rehearsal's
// descendants: moto_server, function containers, synth, lab components) and looked for again after it
// ended, when a survivor would be an orphan re-parented away from it. Each process is known by its pid
// and start time, so a pid the kernel gives to something else later is never mistaken for it. Processes
// that carry the case's marker in their environment count too, however they were started.
import { readdirSync, readFileSync } from 'node:fs';

export interface WatchedProcess {
  readonly pid: number;
  /** Start time in clock ticks since boot (/proc/PID/stat field 22): with the pid, one process. */
  readonly startTicks: number;
  readonly command: string;
}

export interface ProcessWatch {
  /** Records the current descendants of the root (call it often while the case runs). */
  sample(): void;
  /** Every process seen, or carrying the marker, that is still alive now (zombies are gone). */
  alive(): WatchedProcess[];
}

/** Watches the descendants of `root`; `marker` (NAME=value) finds any process started with it in its environment. */
export function watchProcesses(root: number, marker: string): ProcessWatch {
  const seen = new Map<string, WatchedProcess>();
  const key = (process: WatchedProcess) => `${process.pid}:${process.startTicks}`;
  return {
    sample() {
      for (const process of descendants(root)) seen.set(key(process), process);
    },
    alive() {
      const found = new Map<string, WatchedProcess>();
      for (const process of seen.values()) {
        const now = readProcess(process.pid);
        if (now !== undefined && now.startTicks === process.startTicks && !now.zombie) {
          found.set(key(process), process);
        }
      }
      for (const pid of allPids()) {
        if (pid === globalThis.process.pid) continue;
        const now = readProcess(pid);
        if (now === undefined || now.zombie || !hasMarker(pid, marker)) continue;
        const process = { pid, startTicks: now.startTicks, command: now.command };
        found.set(key(process), process);
      }
      return [...found.values()];
    },
  };
}

interface ProcessStat {
  readonly parent: number;
  readonly startTicks: number;
  readonly zombie: boolean;
  readonly command: string;
}

function allPids(): number[] {
  return readdirSync('/proc')
    .map(Number)
    .filter((pid) => Number.isInteger(pid));
}

function descendants(root: number): WatchedProcess[] {
  const children = new Map<number, { pid: number; stat: ProcessStat }[]>();
  for (const pid of allPids()) {
    const stat = readProcess(pid);
    if (stat === undefined) continue;
    children.set(stat.parent, [...(children.get(stat.parent) ?? []), { pid, stat }]);
  }
  const found: WatchedProcess[] = [];
  const visit = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      if (!child.stat.zombie) {
        found.push({ pid: child.pid, startTicks: child.stat.startTicks, command: child.stat.command });
      }
      visit(child.pid);
    }
  };
  visit(root);
  return found;
}

function readProcess(pid: number): ProcessStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name in parentheses (which may hold spaces): state is the 3rd field,
    // the parent the 4th, the start time the 22nd.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let command = '';
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    } catch {
      // Gone between the two reads: the stat is enough.
    }
    return {
      zombie: fields[0] === 'Z',
      parent: Number(fields[1]),
      startTicks: Number(fields[19]),
      command,
    };
  } catch {
    return undefined;
  }
}

function hasMarker(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(marker);
  } catch {
    return false;
  }
}
