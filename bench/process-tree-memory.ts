// The memory of a process and every process under it (a rehearsal's node, its moto_server, its
// function containers), summed, sampled from /proc until stopped: the peak is what the machine had to
// hold at once for it. Linux only; elsewhere nothing is sampled and the peak stays 0.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** What a process of a rehearsal's tree is, from its command line. */
export type ProcessGroup = 'rehearsal' | 'functions' | 'moto' | 'other';

export interface TreeMemoryPeak {
  /** The largest sum of resident set sizes seen at one sample. */
  readonly bytes: number;
  /** Processes in the tree at that sample. */
  readonly processes: number;
  /** Each group's own peak (summed over its processes at one sample), and its processes then. */
  readonly groups: Readonly<Record<ProcessGroup, { readonly bytes: number; readonly processes: number }>>;
  readonly samples: number;
}

/**
 * The root is the rehearsal (node with the model lab and the local state machine); lambda-bootstrap.mjs
 * runs one function container, as Lambda would; moto_server is the AWS stand-in.
 */
export function processGroup(pid: number, rootPid: number, commandLine: string): ProcessGroup {
  if (pid === rootPid) return 'rehearsal';
  if (commandLine.includes('lambda-bootstrap')) return 'functions';
  if (commandLine.includes('moto_server')) return 'moto';
  return 'other';
}

export interface TreeMemoryWatch {
  /** Stops sampling (one last sample first) and gives the peak. */
  stop(): TreeMemoryPeak;
}

/** Samples the tree under `rootPid` every `intervalMs`. */
export function watchTreeMemory(rootPid: number, intervalMs = 250): TreeMemoryWatch {
  const pageBytes = pageSize();
  let peak = { bytes: 0, processes: 0 };
  const groups = emptyGroups();
  const commandLines = new Map<number, string>();
  let samples = 0;
  const sample = () => {
    if (pageBytes === undefined) return;
    const members = treeMembers(rootPid);
    samples += 1;
    const total = members.reduce((sum, member) => sum + member.rssPages * pageBytes, 0);
    if (total > peak.bytes) peak = { bytes: total, processes: members.length };
    const now = emptyGroups();
    for (const member of members) {
      let commandLine = commandLines.get(member.pid);
      if (commandLine === undefined) {
        commandLine = readCommandLine(member.pid);
        commandLines.set(member.pid, commandLine);
      }
      const group = now[processGroup(member.pid, rootPid, commandLine)];
      group.bytes += member.rssPages * pageBytes;
      group.processes += 1;
    }
    for (const name of Object.keys(now) as ProcessGroup[]) {
      if (now[name].bytes > groups[name].bytes) groups[name] = now[name];
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop: () => {
      sample();
      clearInterval(timer);
      return { ...peak, groups, samples };
    },
  };
}

/** The processes from /proc: pid -> [parent pid, resident pages]. */
export function parseProcStat(stat: string): { pid: number; ppid: number; rssPages: number } | undefined {
  // Fields after the command name, which ends at the last ')': state ppid ... rss is field 24 overall.
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number(stat.slice(0, stat.indexOf(' ')));
  const fields = stat.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  const rssPages = Number(fields[21]);
  return Number.isFinite(pid) && Number.isFinite(ppid) && Number.isFinite(rssPages)
    ? { pid, ppid, rssPages }
    : undefined;
}

function emptyGroups(): Record<ProcessGroup, { bytes: number; processes: number }> {
  return {
    rehearsal: { bytes: 0, processes: 0 },
    functions: { bytes: 0, processes: 0 },
    moto: { bytes: 0, processes: 0 },
    other: { bytes: 0, processes: 0 },
  };
}

/** The resident bytes of `rootPid` and its descendants, from a list of /proc/<pid>/stat lines. */
export function sumTree(
  processes: readonly { pid: number; ppid: number; rssPages: number }[],
  rootPid: number,
  pageBytes: number,
): { bytes: number; processes: number } {
  const members = descendants(processes, rootPid);
  return {
    bytes: members.reduce((sum, member) => sum + member.rssPages * pageBytes, 0),
    processes: members.length,
  };
}

/** `rootPid` and every process under it. */
function descendants<P extends { pid: number; ppid: number }>(processes: readonly P[], rootPid: number): P[] {
  const children = new Map<number, number[]>();
  for (const process of processes) {
    const list = children.get(process.ppid) ?? [];
    list.push(process.pid);
    children.set(process.ppid, list);
  }
  const byPid = new Map(processes.map((process) => [process.pid, process]));
  const members: P[] = [];
  const queue = [rootPid];
  const seen = new Set<number>();
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const process = byPid.get(pid);
    if (process === undefined) continue;
    members.push(process);
    queue.push(...(children.get(pid) ?? []));
  }
  return members;
}

function readCommandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

function treeMembers(rootPid: number): { pid: number; ppid: number; rssPages: number }[] {
  const processes: { pid: number; ppid: number; rssPages: number }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const parsed = parseProcStat(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (parsed !== undefined) processes.push(parsed);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return descendants(processes, rootPid);
}

function pageSize(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const bytes = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim());
    return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
  } catch {
    return undefined;
  }
}
