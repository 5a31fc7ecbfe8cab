// One `npm run chaos` at a time on what runs share: chaos/cdk.out (and chaos/cdk.out.approval, the
// same stack with approval gates, for the kills inside a gate), which a run synthesizes when it is
// older than its sources (the synth deletes it first) and which every case of the run reads for the
// whole run (each rehearsal's --cdk-out, the kill cases' labs), and chaos/results.json, which a run reads,
// merges and writes back at its end. A second run would delete the first's assembly under its cases, or
// drop the first's results from the file. So a run that uses either holds chaos/run.lock
// (lab/binaries/build-lock.ts: O_EXCL, its owner's pid, taken over when the owner died) from before the
// synth until after its last write; a second run waits for it, saying whose it is, or stops when
// interrupted. A run with `--cdk-out DIR --no-write` (another assembly, results not kept) shares nothing
// and takes no lock. Waiting, rather than a copy of the assembly per run, also keeps runs from sharing
// the CPU: a rehearsal starved of it fails its own handshakes (docs/reliability.md, "One case at a time").
import { join, resolve } from 'node:path';
import { acquireBuildLock, type BuildLockOwner } from '../lab/binaries/build-lock.js';
import type { CloudAssembly } from '../rehearsal/cloud-assembly.js';

/** Beside chaos/cdk.out and chaos/results.json; gitignored. */
export const CHAOS_LOCK_FILE = 'chaos/run.lock';

export interface ChaosLockInput {
  /** Where chaos/ is. */
  readonly projectRoot: string;
  /** The run's own chaos/cdk.out, relative to projectRoot. */
  readonly defaultCdkOut: string;
  /** --cdk-out: an assembly run as it is; undefined: the run's own, synthesized when stale. */
  readonly cdkOut?: string;
  /** The run writes chaos/results.json (not --no-write). */
  readonly write: boolean;
}

/** Whether a run touches what another run may change under it (chaos/cdk.out or chaos/results.json). */
export function needsChaosLock(input: ChaosLockInput): boolean {
  if (input.write || input.cdkOut === undefined) return true;
  return resolve(input.projectRoot, input.cdkOut) === resolve(input.projectRoot, input.defaultCdkOut);
}

/** The progress line of a run waiting for the lock. */
export function describeChaosHolder(
  owner: BuildLockOwner | undefined,
  lockFile: string,
  now = new Date(),
): string {
  const since =
    owner === undefined || Number.isNaN(Date.parse(owner.startedAt))
      ? ''
      : `, running since ${owner.startedAt} (${Math.max(0, Math.round((now.getTime() - Date.parse(owner.startedAt)) / 60_000))} min)`;
  const who = owner === undefined ? 'another chaos run' : `chaos run pid ${owner.pid} on ${owner.hostname}`;
  return (
    `${who} holds ${lockFile}${since}: it uses chaos/cdk.out and writes chaos/results.json; ` +
    'waiting until it ends (Ctrl-C stops waiting; the lock of a run that died is taken over at once)'
  );
}

/** The assembly a run works on, and the lock it holds while it does (none when it shares nothing). */
export interface HeldAssembly {
  readonly assembly: CloudAssembly;
  /** Releases the lock: after the run's last use of the assembly and its write of chaos/results.json. */
  release(): Promise<void>;
}

export interface HoldAssemblyOptions extends ChaosLockInput {
  /** Synthesizes (when stale) or reads the assembly; called with the lock held. */
  readonly ensure: () => Promise<CloudAssembly>;
  readonly onProgress: (line: string) => void;
  /** Stops the wait for the lock (it then rejects with the signal's reason). */
  readonly signal?: AbortSignal;
  /** How often a waiting run looks at the lock again. @default 1000 */
  readonly pollMs?: number;
}

/**
 * Takes chaos/run.lock when the run needs it (waiting, with a progress line naming the holder, while
 * another live run has it), then synthesizes or reads the assembly under it. The caller releases the
 * lock when the run is over; a failed synth releases it here.
 */
export async function holdChaosAssembly(options: HoldAssemblyOptions): Promise<HeldAssembly> {
  const lockFile = join(options.projectRoot, CHAOS_LOCK_FILE);
  const lock = needsChaosLock(options)
    ? await acquireBuildLock(lockFile, {
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
        onWait: (owner) => options.onProgress(describeChaosHolder(owner, CHAOS_LOCK_FILE)),
      })
    : undefined;
  if (lock !== undefined && lock.waitedMs > 0) {
    options.onProgress(`${CHAOS_LOCK_FILE} is ours after ${Math.round(lock.waitedMs / 1000)} s of waiting`);
  }
  try {
    const assembly = await options.ensure();
    return { assembly, release: async () => lock?.release() };
  } catch (error) {
    await lock?.release();
    throw error;
  }
}
