// One kill case: on a running model lab (`meshtrust lab`, started by the runner), `rehearse --lab DIR`
// is SIGKILLed as soon as its record in DIR/rehearsals/ shows the kill point, as a crash or `kill -9`
// would end it (its children must go by themselves: the process watch names any that stay). Then the
// next `rehearse --lab DIR`, and when that is refused for a dead run that wrote, the same with
// --retry-rollback, as docs/rehearsal.md tells an operator. What the resumed runs wrote, what the lab's
// cacerts hold and what DIR still records are then judged (judge-kill-case.ts). A mid-wait case's
// killed run gets its own flags too (killedRunFlags: the --fail-at that gives its rollback a root to
// restore), the runs after it the case's flags alone. An answer-held gate case's killed run gets its
// environment variable (killedRunEnv) and is killed once its output says it holds the gate's answer;
// its execution's approval record is then read from the lab's account.
//
// The lab is reused by the kill cases of one mode: a case that passed leaves it converged (the newest
// root alone in every cacerts, nothing pending, the lock released, no record of a dead run), which is
// the state a first rotation starts from too; the next case's run goes from that root to a new one. A
// case that failed may have left anything, so its lab is stopped and the next case gets a new one.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readLabDescription } from '../lab/lab-files.js';
import { ATTACHED_RUNS_DIR, type AttachedRunRecord } from '../rehearsal/fleet/attached-runs.js';
import { gateAnswerHeldIn } from '../rehearsal/gate-answer-hold.js';
import { filesWithPrivateKeys } from '../rehearsal/private-key-scan.js';
import type { RehearsalReport } from '../rehearsal/rehearsal-report.js';
import {
  type AnswerHeldKill,
  type AuditLine,
  judgeKillCase,
  type MidWaitKill,
  parseAuditLines,
  type ResumeAttempt,
} from './judge-kill-case.js';
import {
  type KillCase,
  type KillPoint,
  killPointReached,
  midWaitKillDue,
  stillInState,
  type WaitEntered,
  waitEntered,
} from './kill-cases.js';
import { labApprovalRecords } from './lab-approval-records.js';
import {
  type CacertsFingerprints,
  labCacertsFingerprints,
  type MeshtrustLab,
  startMeshtrustLab,
  stopMeshtrustLab,
} from './meshtrust-lab.js';
import {
  type CaseRun,
  type CaseSettings,
  readReport,
  rehearseCommand,
  runRehearseProcess,
} from './run-case.js';
import type { RehearsalMode } from './state-graph.js';

/**
 * How often the killed run's record is read for its kill point. Short: a quick last Task
 * (release-lock-after-rollback, some 0.1 s in intermediate mode) is entered and its record removed with
 * the execution's end within one read at 100 ms, and the run was not killed.
 */
const RECORD_POLL_MS = 20;
const LAB_START_TIMEOUT_MS = 180_000;
const LAB_STOP_GRACE_MS = 30_000;

/** The labs of the kill cases: one at a time, reused by the cases of one mode while they pass. */
export class KillLabs {
  private current:
    | {
        readonly mode: RehearsalMode;
        readonly labFlags: string;
        readonly dir: string;
        readonly lab: MeshtrustLab;
      }
    | undefined;

  constructor(
    private readonly settings: Pick<CaseSettings, 'projectRoot' | 'clusters' | 'workloads'> & {
      /** Where each lab's directory is made. */
      readonly work: string;
      readonly note: (line: string) => void;
    },
  ) {}

  /** The running lab for `mode` started with `labFlags`, started when there is none for them. */
  async labFor(mode: RehearsalMode, labFlags: readonly string[] = []): Promise<string> {
    const flags = labFlags.join(' ');
    const current = this.current;
    if (current?.mode === mode && current.labFlags === flags && current.lab.child.exitCode === null) {
      return current.dir;
    }
    await this.stop();
    const dir = await mkdtemp(join(this.settings.work, `lab-${mode}-`));
    this.settings.note(
      `starting a model lab${flags === '' ? '' : ` (${flags})`} for the ${mode} kill cases in ${dir}`,
    );
    const lab = await startMeshtrustLab({
      projectRoot: this.settings.projectRoot,
      dir,
      args: [
        '--clusters',
        String(this.settings.clusters),
        '--workloads',
        String(this.settings.workloads),
        ...labFlags,
      ],
      timeoutMs: LAB_START_TIMEOUT_MS,
    });
    this.current = { mode, labFlags: flags, dir, lab };
    return dir;
  }

  /** Stops the lab (after a failed case, or at the end); its directory is removed. */
  async stop(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    if (current === undefined) return;
    await stopMeshtrustLab(current.lab, LAB_STOP_GRACE_MS);
    await rm(current.dir, { recursive: true, force: true });
  }
}

export interface KillCaseSettings extends CaseSettings {
  /** The running lab's directory. */
  readonly labDir: string;
  /** The top-level state names of the definition (a Map's iterations enter others). */
  readonly topLevelStates: ReadonlySet<string>;
}

export async function runKillCase(
  killCase: KillCase,
  settings: KillCaseSettings,
  caseDir: string,
): Promise<CaseRun> {
  const startedAt = Date.now();
  const marker = `${process.pid}:${killCase.id}`;
  const args = (out: string, extra: readonly string[]) =>
    rehearseCommand(settings.cdkOut, out, ['--lab', settings.labDir, ...killCase.flags, ...extra]);
  const cacertsBefore = await readableCacerts(settings.labDir);

  // The run to kill.
  const killedOut = join(caseDir, 'killed');
  const first = killWatch(killCase.killAt, settings);
  const killed = await runRehearseProcess(args(killedOut, killCase.killedRunFlags ?? []), {
    settings,
    marker,
    logFile: join(caseDir, 'killed.log'),
    whileRunning: first.whileRunning,
    ...(killCase.killedRunEnv === undefined ? {} : { env: killCase.killedRunEnv }),
  });

  // The runs after it: the next one, and with --retry-rollback when that is refused for the dead run;
  // for a case that kills the resumed rollback too, that --retry-rollback run is killed inside its
  // rollback and the two are run once more.
  const steps: { readonly retryRollback: boolean; readonly killAt?: KillPoint }[] = [
    { retryRollback: false },
    killCase.killResumedRollbackAt === undefined
      ? { retryRollback: true }
      : { retryRollback: true, killAt: killCase.killResumedRollbackAt },
    ...(killCase.killResumedRollbackAt === undefined
      ? []
      : [{ retryRollback: false }, { retryRollback: true }]),
  ];
  const resumes: (ResumeAttempt & { readonly out: string; readonly report?: RehearsalReport })[] = [];
  const processesLeft = [...killed.processesLeft];
  const killedMidWait = await first.midWait();
  const answerHeld = await first.answerHeld();
  let timedOut = killed.timedOut;
  let interrupted = killed.interrupted;
  for (const [index, step] of steps.entries()) {
    if (interrupted) break;
    const name = `resumed-${index + 1}${step.retryRollback ? '-retry-rollback' : ''}`;
    const out = join(caseDir, name);
    const watch = step.killAt === undefined ? undefined : killWatch(step.killAt, settings);
    const run = await runRehearseProcess(args(out, step.retryRollback ? ['--retry-rollback'] : []), {
      settings,
      marker,
      logFile: join(caseDir, `${name}.log`),
      ...(watch === undefined ? {} : { whileRunning: watch.whileRunning }),
    });
    processesLeft.push(...run.processesLeft);
    timedOut ||= run.timedOut;
    interrupted ||= run.interrupted;
    const report = await readReport(out);
    const refusedForRetryRollback =
      report === undefined && run.exitCode === 3 && run.output.includes('--retry-rollback');
    const killedAtPoint = watch === undefined ? undefined : watch.reached() && run.signal === 'SIGKILL';
    const midWait = await watch?.midWait();
    resumes.push({
      retryRollback: step.retryRollback,
      exitCode: run.exitCode,
      refusedForRetryRollback,
      ...(killedAtPoint === undefined ? {} : { killedAtPoint }),
      ...(midWait === undefined ? {} : { midWait }),
      ...(report === undefined ? {} : { report }),
      out,
    });
    const goOn = step.retryRollback ? killedAtPoint === true : refusedForRetryRollback;
    if (!goOn) break;
  }

  const outDirs = [killedOut, ...resumes.map((resume) => resume.out)];
  const filesWithKeys = (
    await Promise.all(
      outDirs.map(async (out) =>
        (await filesWithPrivateKeys(out, []).catch(() => [] as string[])).map((file) => join(out, file)),
      ),
    )
  ).flat();
  const audit: AuditLine[] = (
    await Promise.all(
      resumes.map(async (resume) =>
        parseAuditLines(await readFile(join(resume.out, 'audit.jsonl'), 'utf8').catch(() => '')),
      ),
    )
  ).flat();
  const final = resumes.at(-1);
  const facts = {
    exitCode: final?.exitCode ?? null,
    timedOut,
    processesLeft,
    filesWithKeys,
  };
  const cacertsAfter = await readableCacerts(settings.labDir);
  const lastState = first.lastState();
  const verdict = judgeKillCase(killCase, {
    killed: {
      reachedKillPoint: first.reached(),
      signal: killed.signal,
      exitCode: killed.exitCode,
      ...(lastState === undefined ? {} : { lastState }),
      ...(killedMidWait === undefined ? {} : { midWait: killedMidWait }),
      ...(answerHeld === undefined ? {} : { answerHeld }),
    },
    resumes,
    run: facts,
    ...(cacertsAfter === undefined
      ? {}
      : {
          cacertsRoots: Object.fromEntries(
            Object.entries(cacertsAfter).map(([cluster, held]) => [cluster, held.roots]),
          ),
          cacertsAfter,
        }),
    ...(cacertsBefore === undefined ? {} : { cacertsBefore }),
    audit,
    recordsLeft: await recordsIn(settings.labDir),
  });
  return {
    verdict,
    facts,
    ...(final?.report === undefined ? {} : { report: final.report }),
    durationMs: Date.now() - startedAt,
    interrupted,
  };
}

/**
 * Reads the records of a run (its pid's: a --retry-rollback run records its rollback execution and then
 * its rotation) every RECORD_POLL_MS and SIGKILLs it once one of them shows the kill point; a mid-wait
 * point once its wait is halfway through (midWaitKillDue), which the watch then tells from the records
 * read after the process died (`midWait`).
 */
function killWatch(point: KillPoint, settings: Pick<KillCaseSettings, 'labDir' | 'topLevelStates'>) {
  let reached = false;
  let lastState: string | undefined;
  let watchedPid: number | undefined;
  let killedWait: { readonly wait?: WaitEntered; readonly killedAt: number } | undefined;
  let killedInRun: string | undefined;
  const due = (record: AttachedRunRecord, output: () => string) =>
    point.midWait !== undefined
      ? midWaitKillDue(point, record, settings.topLevelStates, Date.now())
      : killPointReached(point, record, settings.topLevelStates) &&
        (point.answerHeld !== true || gateAnswerHeldIn(output(), point.state));
  return {
    reached: () => reached,
    lastState: () => lastState,
    /** A mid-wait point the run was killed at: the wait seen then, and whether its record still shows it waiting. */
    midWait: async (): Promise<MidWaitKill | undefined> => {
      if (point.midWait === undefined || killedWait === undefined || watchedPid === undefined)
        return undefined;
      const after = await recordsOf(settings.labDir, watchedPid);
      const stillInWait = after.some(
        (record) => waitEntered(point, record) !== undefined && stillInState(point, record),
      );
      return { ...killedWait, stillInWait };
    },
    /**
     * An answer-held point the run was killed at: its execution, whether its record still shows it in
     * the gate, and the approval records that execution left in the lab's account.
     */
    answerHeld: async (): Promise<AnswerHeldKill | undefined> => {
      if (point.answerHeld !== true || killedInRun === undefined || watchedPid === undefined)
        return undefined;
      const executionArn = killedInRun;
      const after = await recordsOf(settings.labDir, watchedPid);
      const record = after.find((candidate) => candidate.executionArn === executionArn);
      const approvalRecords = await labApprovalRecords(settings.labDir, executionArn).catch(
        (error: unknown) => `unreadable: ${error instanceof Error ? error.message : String(error)}`,
      );
      return {
        executionArn,
        stillInGate: record !== undefined && stillInState(point, record),
        approvalRecords,
      };
    },
    whileRunning: (pid: number, output: () => string) => {
      let watching = true;
      watchedPid = pid;
      void (async () => {
        while (watching) {
          const records = await recordsOf(settings.labDir, pid);
          lastState = records.at(-1)?.statesEntered.at(-1) ?? lastState;
          const at = records.find((record) => due(record, output));
          if (at !== undefined) {
            reached = true;
            killedInRun = at.executionArn;
            if (point.midWait !== undefined) {
              const wait = waitEntered(point, at);
              killedWait = { ...(wait === undefined ? {} : { wait }), killedAt: Date.now() };
            }
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // It ended meanwhile: its exit, not a kill, is what the verdict sees.
            }
            return;
          }
          await sleep(RECORD_POLL_MS);
        }
      })();
      return () => {
        watching = false;
      };
    },
  };
}

/** The records of the run with this pid, oldest first, as last written (one mid-write is read at the next poll). */
async function recordsOf(labDir: string, pid: number): Promise<AttachedRunRecord[]> {
  const folder = join(labDir, ATTACHED_RUNS_DIR);
  const records: AttachedRunRecord[] = [];
  for (const name of await recordsIn(labDir)) {
    try {
      const record = JSON.parse(await readFile(join(folder, name), 'utf8')) as AttachedRunRecord;
      if (record.pid === pid) records.push(record);
    } catch {
      // Removed or replaced meanwhile.
    }
  }
  return records.sort((a, b) => a.startDate.localeCompare(b.startDate));
}

async function recordsIn(labDir: string): Promise<string[]> {
  const names = await readdir(join(labDir, ATTACHED_RUNS_DIR)).catch(() => [] as string[]);
  return names.filter((name) => name.endsWith('.json'));
}

/** Every cluster's cacerts fingerprints, read from the lab; nothing when a read fails (the finding says so). */
async function readableCacerts(
  labDir: string,
): Promise<Readonly<Record<string, CacertsFingerprints>> | undefined> {
  try {
    const { clusters } = await readLabDescription(labDir);
    const held = await Promise.all(
      clusters.map(
        async (cluster) => [cluster.name, await labCacertsFingerprints(labDir, cluster.name)] as const,
      ),
    );
    return Object.fromEntries(held);
  } catch {
    return undefined;
  }
}
