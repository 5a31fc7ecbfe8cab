// How busy the machine was while a section ran, split into the bench (this process and every child it
// waited for) and everything else: other work running at the same time makes every figure slower, and
// a reader must know. Linux only (/proc); elsewhere the share is unknown rather than guessed.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';

export interface CpuShare {
  /** Wall time it covers. */
  readonly seconds: number;
  /** Cores kept busy on average by the bench and its children. */
  readonly benchCores: number;
  /** Cores kept busy on average by everything else on the machine. */
  readonly otherCores: number;
}

interface Sample {
  readonly at: number;
  readonly machineBusyMs: number;
  readonly benchMs: number;
}

/** Starts watching; the function it returns gives the share since then (undefined off Linux). */
export function watchCpuShare(): () => CpuShare | undefined {
  const ticksPerSecond = clockTicksPerSecond();
  const start = ticksPerSecond === undefined ? undefined : sample(ticksPerSecond);
  return () => {
    if (ticksPerSecond === undefined || start === undefined) return undefined;
    const end = sample(ticksPerSecond);
    const wallMs = end.at - start.at;
    if (wallMs <= 0) return undefined;
    const benchCores = (end.benchMs - start.benchMs) / wallMs;
    const machineCores = (end.machineBusyMs - start.machineBusyMs) / wallMs;
    return {
      seconds: wallMs / 1000,
      benchCores: round(benchCores),
      otherCores: round(Math.max(0, machineCores - benchCores)),
    };
  };
}

function sample(ticksPerSecond: number): Sample {
  const machineBusyMs = cpus().reduce(
    (sum, cpu) => sum + cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq,
    0,
  );
  const own = process.cpuUsage();
  // /proc/self/stat fields 16 and 17 (cutime, cstime): CPU of the children this process waited for,
  // theirs included. Fields are counted after the command name, which ends at the last ')'.
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const childTicks = Number(fields[13]) + Number(fields[14]);
  return {
    at: performance.now(),
    machineBusyMs,
    benchMs: (own.user + own.system) / 1000 + (childTicks * 1000) / ticksPerSecond,
  };
}

function clockTicksPerSecond(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : undefined;
  } catch {
    return undefined;
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
