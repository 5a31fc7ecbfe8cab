// What a `rehearse --lab DIR` run leaves in the lab's directory while its execution runs, so that the
// next run can tell a dead one from a live one. The execution runs in the rehearsal's own process
// (moto stores it and runs none): a rehearsal killed by SIGKILL or a crash leaves it RUNNING in the
// lab's moto, holding the mesh's rotation lock for good. Each attached run records, per execution, its
// pid (with the process's start time, so a reused pid is not taken for it), the execution's ARN and
// the states it entered with their input (what `meshtrust retry-rollback` reads from Step Functions'
// history; ids, ARNs and fingerprints, never a key). The record goes when the execution ends (one
// interrupted, ABORTED by its own run, keeps it: its writes may be left part-way too). A record
// whose process is gone is a dead run: the next run stops its execution, as an operator would with
// StopExecution, and so puts it under the lock's takeover rule (rotation-lock.ts).
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from '../../lab/lab-errors.js';
import { isProcessAlive } from '../../lab/process-alive.js';
import { writeFileAtomically } from '../../lab/write-file-atomically.js';
import { RESUME_ROLLBACK_INPUT_KEY } from '../../lambdas/contract/resume-rollback.js';
import { resumePromotionOf } from '../../lambdas/core/rotation/resume-promotion.js';
import { ROLLED_BACK_STATES, resumeRollbackOf } from '../../lambdas/core/rotation/resume-rollback.js';
import type { RecordedExecution } from '../execution-history-proxy.js';
import { type MotoAccess, stopExecutionInMoto } from '../moto-state-machine.js';

/** DIR/rehearsals/<execution name>.json, one per execution of an attached run that has not ended. */
export const ATTACHED_RUNS_DIR = 'rehearsals';
const SCHEMA_VERSION = 1;

type EnteredEvent = RecordedExecution['events'][number];

export interface AttachedRunRecord {
  readonly schemaVersion: number;
  readonly pid: number;
  /** The process's start time in clock ticks since boot (/proc/PID/stat field 22); absent off Linux. */
  readonly pidStartTicks?: string;
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly startDate: string;
  /** Every StateEntered event, as the history proxy serves them (Map iterations' included). */
  readonly events: readonly { type: string; timestamp: string; name: string; input: string }[];
  /** The top-level states entered, oldest first. */
  readonly statesEntered: readonly string[];
  /** The input of the last top-level state entered: the state the execution stood in. */
  readonly finalState?: unknown;
}

/** The journal of one execution: written as it goes, removed when it ends. */
export interface ExecutionJournal {
  /**
   * Resolves once the record is on disk. The runner awaits it before StartExecution, so that no kill
   * leaves moto an execution that no record names.
   */
  started(execution: {
    executionArn: string;
    stateMachineArn: string;
    name: string;
    startDate: Date;
  }): Promise<void>;
  entered(event: EnteredEvent, topLevel: { name: string; input: unknown } | undefined): void;
  /**
   * Resolves once the record is gone (after every pending write). `aborted`: the run was interrupted
   * and stopped its own execution without a Catch (ABORTED): the record stays, so that the next run,
   * once this process is gone, judges it as it would a killed one (rolled back if it had written).
   */
  ended(how?: { readonly aborted?: boolean }): Promise<void>;
}

/** The journals of this process's executions in the lab's directory. */
export function attachedRunJournal(dir: string): () => ExecutionJournal {
  return () => {
    let record: AttachedRunRecord | undefined;
    let file: string | undefined;
    let writes: Promise<void> = Promise.resolve();
    const write = () => {
      const snapshot = record;
      const target = file;
      if (snapshot === undefined || target === undefined) return;
      // One write at a time, in order: the last complete record stays if this process dies mid-write.
      writes = writes
        .then(() => writeFileAtomically(target, `${JSON.stringify(snapshot)}\n`))
        .catch(() => undefined);
    };
    return {
      started: (execution) => {
        file = join(dir, ATTACHED_RUNS_DIR, `${execution.name}.json`);
        const startTicks = processStartTicks(process.pid);
        record = {
          schemaVersion: SCHEMA_VERSION,
          pid: process.pid,
          ...(startTicks !== undefined && { pidStartTicks: startTicks }),
          executionArn: execution.executionArn,
          stateMachineArn: execution.stateMachineArn,
          name: execution.name,
          startDate: execution.startDate.toISOString(),
          events: [],
          statesEntered: [],
        };
        writes = mkdir(join(dir, ATTACHED_RUNS_DIR), { recursive: true }).then(() => undefined);
        write();
        return writes;
      },
      entered: (event, topLevel) => {
        if (record === undefined) return;
        record = {
          ...record,
          events: [
            ...record.events,
            {
              type: event.type,
              timestamp: event.timestamp.toISOString(),
              name: event.stateEnteredEventDetails.name,
              input: event.stateEnteredEventDetails.input,
            },
          ],
          ...(topLevel !== undefined && {
            statesEntered: [...record.statesEntered, topLevel.name],
            finalState: topLevel.input,
          }),
        };
        write();
      },
      ended: async (how) => {
        const target = file;
        record = undefined;
        await writes;
        if (target !== undefined && how?.aborted !== true) await rm(target, { force: true });
      },
    };
  };
}

/** An execution whose rehearsal process is gone while the execution was not ended. */
export interface DeadAttachedRun {
  readonly file: string;
  readonly record: AttachedRunRecord;
}

/** The records in DIR whose process no longer runs (a record that cannot be read is skipped). */
export async function findDeadAttachedRuns(dir: string): Promise<DeadAttachedRun[]> {
  const folder = join(dir, ATTACHED_RUNS_DIR);
  const names = await readdir(folder).catch(() => [] as string[]);
  const dead: DeadAttachedRun[] = [];
  for (const name of names.filter((entry) => entry.endsWith('.json')).sort()) {
    const file = join(folder, name);
    let record: AttachedRunRecord;
    try {
      record = JSON.parse(await readFile(file, 'utf8')) as AttachedRunRecord;
    } catch {
      continue;
    }
    if (record.schemaVersion !== SCHEMA_VERSION || typeof record.pid !== 'number') continue;
    if (!isAttachedRunAlive(record)) dead.push({ file, record });
  }
  return dead;
}

/** The process still runs, and is the one that wrote the record (not another given the same pid). */
export function isAttachedRunAlive(record: Pick<AttachedRunRecord, 'pid' | 'pidStartTicks'>): boolean {
  if (!isProcessAlive(record.pid)) return false;
  if (record.pidStartTicks === undefined) return true;
  const now = processStartTicks(record.pid);
  return now === undefined || now === record.pidStartTicks;
}

/** The dead run as the execution-history proxy serves it: ABORTED at `stoppedAt`, with its events. */
export function recordedExecutionOf(record: AttachedRunRecord, stoppedAt: Date): RecordedExecution {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: 'ABORTED',
    startDate: new Date(record.startDate),
    stopDate: stoppedAt,
    events: record.events.map((event) => ({
      type: event.type,
      timestamp: new Date(event.timestamp),
      stateEnteredEventDetails: { name: event.name, input: event.input },
    })),
  };
}

/** Field 22 of /proc/PID/stat (after the parenthesised command name, which may hold spaces). */
function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/**
 * How long after a dead attached run's execution is stopped the lock's takeover waits
 * (LOCK_TAKEOVER_GRACE_SECONDS of an attached run's functions). The deployed grace is the longest
 * function timeout, because an aborted execution does not stop the Lambda invocation it waited for.
 * A rehearsal's functions are its own child processes, which exit as soon as it is gone
 * (lambda-bootstrap.mjs exits on disconnect): once the dead run's pid is gone, nothing it started can
 * still write, and a few seconds cover a request already on the wire.
 */
export const ATTACHED_TAKEOVER_GRACE_SECONDS = 5;

/** What the next attached run does about the dead runs it found. */
export interface DeadRunsFound {
  /** Every dead run's execution as the history proxy serves it (stopped now, ABORTED). */
  readonly recorded: readonly RecordedExecution[];
  /** The dead run whose writes are left part-way, when --retry-rollback asks to roll it back first. */
  readonly rollBack?: {
    readonly how: 'rollback';
    readonly deadName: string;
    readonly decision: { readonly mode: string; readonly resumeRollback: unknown };
  };
  /**
   * The dead run that stopped in promote-root (its root pending, every cluster trusting only it): finished
   * first, as `meshtrust retry-promotion NAME` would, without being asked, since there is no other way on.
   */
  readonly promote?: {
    readonly how: 'promotion';
    readonly deadName: string;
    readonly decision: { readonly mode: string; readonly resumePromotion: unknown };
  };
  /** Removes the records of the dead runs (once nothing is left to undo). */
  forget(): Promise<void>;
}

/** A dead run left writes part-way and this run was not asked to roll them back. */
export class DeadRunLeftPartWayError extends LabError {
  readonly executionArn: string;
  constructor(message: string, executionArn: string) {
    super(message);
    this.name = 'DeadRunLeftPartWayError';
    this.executionArn = executionArn;
  }
}

/**
 * The dead attached runs of DIR, each stopped in the lab's moto (StopExecution: ABORTED) so that the
 * lock's takeover rule applies to it, then waited out for the grace. A dead run that stopped before its
 * first write (or after promote-root) leaves nothing to undo; one that wrote is rolled back first with
 * `retryRollback`, as `meshtrust retry-rollback NAME` would, or refused with what to do. A live run's
 * record is never touched: its execution keeps the lock, and this run is refused at acquire-lock.
 */
export async function stopDeadAttachedRuns(input: {
  readonly dir: string;
  readonly moto: MotoAccess;
  readonly retryRollback: boolean;
  readonly note: (line: string) => void;
  /** Waits out the takeover grace after a stop (tests pass a quicker one). */
  readonly wait?: (ms: number) => Promise<void>;
}): Promise<DeadRunsFound> {
  const { dir, moto, note } = input;
  const dead = await findDeadAttachedRuns(dir);
  const forget = async () => {
    await Promise.all(dead.map(({ file }) => rm(file, { force: true })));
    await removeOrphanedWrites(join(dir, ATTACHED_RUNS_DIR));
  };
  if (dead.length === 0) return { recorded: [], forget };
  const stoppedAt = new Date();
  for (const { record } of dead) {
    note(
      `a rehearse --lab run that is gone (pid ${record.pid}) left execution ${record.name} unfinished in the lab's moto ` +
        `(RUNNING, or ABORTED by an interrupt), holding the rotation lock (last in ${record.statesEntered.at(-1) ?? 'no state'}): stopping it ` +
        '(StopExecution), as an operator would',
    );
    // An execution moto no longer runs (stopped by an earlier run that was refused) is ABORTED already.
    await stopExecutionInMoto({ ...moto, executionArn: record.executionArn }).catch(() => undefined);
  }
  const recorded = dead.map(({ record }) => recordedExecutionOf(record, stoppedAt));
  // The newest dead run that wrote: a killed resume of a rollback is newer than the run it resumed.
  const decisions = dead
    .map(({ record }) => ({
      record,
      decision: resumeRollbackOf({
        executionArn: record.executionArn,
        status: 'ABORTED',
        finalState: record.finalState,
        statesEntered: record.statesEntered,
      }),
    }))
    .sort((a, b) => b.record.startDate.localeCompare(a.record.startDate));
  // A run whose rollback a dead resume completed (killed in release-lock-after-rollback) is undone.
  const undone = rolledBackByDeadResumes(dead.map(({ record }) => record));
  const partWay = decisions.find(
    ({ record, decision }) => decision.resumable && !undone.has(record.executionArn),
  );
  // The newest dead run that stopped in promote-root: nothing to undo, its promotion to finish.
  const promotions = decisions.map(({ record }) => ({
    record,
    promotion: resumePromotionOf({
      executionArn: record.executionArn,
      status: 'ABORTED',
      finalState: record.finalState,
      statesEntered: record.statesEntered,
    }),
  }));
  const stoppedInPromoteRoot = promotions.find(({ promotion }) => promotion.resumable);
  for (const { record, decision } of decisions) {
    const rolledBackBy = undone.get(record.executionArn);
    if (rolledBackBy !== undefined)
      note(`${record.name}: nothing of it to undo (${rolledBackBy} completed its rollback)`);
    else if (!decision.resumable && record !== stoppedInPromoteRoot?.record)
      note(`${record.name}: nothing of it to undo (${decision.reason})`);
  }
  await (input.wait ?? sleepMs)((ATTACHED_TAKEOVER_GRACE_SECONDS + 1) * 1000);
  // A run stopped in promote-root is newer than any it might have resumed: it is the one to go on from.
  if (
    stoppedInPromoteRoot?.promotion.resumable === true &&
    (partWay === undefined || stoppedInPromoteRoot.record.startDate >= partWay.record.startDate)
  ) {
    const { record, promotion } = stoppedInPromoteRoot;
    note(
      `${record.name} stopped in promote-root: every cluster trusts only its new root, which is still pending; ` +
        `finishing its promotion first, as \`meshtrust retry-promotion ${record.name}\` would (nothing to undo)`,
    );
    return {
      recorded,
      promote: {
        how: 'promotion',
        deadName: record.name,
        decision: { mode: promotion.mode, resumePromotion: promotion.resumePromotion },
      },
      forget,
    };
  }
  if (partWay === undefined || !partWay.decision.resumable) return { recorded, forget };
  const { record, decision } = partWay;
  if (!input.retryRollback) {
    throw new DeadRunLeftPartWayError(
      `execution ${record.name} of a rehearse --lab run that is gone (pid ${record.pid}) stopped part-way in ` +
        `${record.statesEntered.at(-1)}, after its first write: it is stopped now, but its writes are not undone ` +
        `(a pending root, cacerts being changed). Roll it back first: rehearse --lab ${dir} --retry-rollback, ` +
        `which rolls it back as \`meshtrust retry-rollback ${record.name}\` would and then rotates`,
      record.executionArn,
    );
  }
  return {
    recorded,
    rollBack: {
      how: 'rollback',
      deadName: record.name,
      decision: { mode: decision.mode, resumeRollback: decision.resumeRollback },
    },
    forget,
  };
}

/**
 * The runs whose rollback a dead resumed rollback completed, each with that resume's name: a resume
 * stopped once its rollback had completed (in release-lock-after-rollback) undid the rotation it names
 * and the resume it went on from. Their own records still say they stopped part-way; rolling them
 * back again would undo what is undone, from backups its rollback-drop-pending scheduled for deletion.
 */
function rolledBackByDeadResumes(records: readonly AttachedRunRecord[]): ReadonlyMap<string, string> {
  const undone = new Map<string, string>();
  for (const record of records) {
    const last = record.statesEntered.at(-1);
    if (last === undefined || !ROLLED_BACK_STATES.includes(last)) continue;
    const state = record.finalState;
    const resumed =
      typeof state === 'object' && state !== null
        ? (state as Record<string, unknown>)[RESUME_ROLLBACK_INPUT_KEY]
        : undefined;
    if (typeof resumed !== 'object' || resumed === null) continue;
    for (const field of ['executionArn', 'resumedFrom']) {
      const arn = (resumed as Record<string, unknown>)[field];
      if (typeof arn === 'string') undone.set(arn, record.name);
    }
  }
  return undone;
}

/** A record's temporary file (write-file-atomically.ts names it FILE.PID.tmp) whose writer was killed. */
async function removeOrphanedWrites(folder: string): Promise<void> {
  const names = await readdir(folder).catch(() => [] as string[]);
  await Promise.all(
    names.map(async (name) => {
      const writer = /\.(\d+)\.tmp$/.exec(name)?.[1];
      if (writer !== undefined && !isProcessAlive(Number(writer)))
        await rm(join(folder, name), { force: true });
    }),
  );
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
