// Whether a kill case converged: the first run SIGKILLed at its kill point, then the next run on the
// same lab (with --retry-rollback when it was refused for a dead run that had written) SUCCEEDED with
// everything judgeCase asks of any case, and what only a resume can break did not break: the lab's
// cacerts hold the newest root alone, no record of a dead run is left, no secret version was written
// twice and no workload was restarted twice by one execution. The last two are read from the resumed
// runs' audit events (the killed run writes no report, so its own events are not readable). Pure, like
// judge-case.ts: each check a named finding, the case passes when none failed.
// Intermediate mode keeps the root: there the rekeyed cluster must be on a new intermediate under the
// root it held, every other cluster's cacerts as before the kill. A case that also killed the resumed
// rollback must have converged back to where it started before it rotated: the last run's start (its
// report's `initial`, read after it finished the rollback) is the lab as it was before the kill.
// A kill meant to land halfway through a wait (a mid-wait point) must have: its run's record showed the
// Wait entered, a wait of MID_WAIT_MIN_SECONDS or more, the kill inside it, and no later state after.
// A kill meant to land in a gate once its answer is on the way (answer-held) must have: the run's
// output showed the answer held, its execution's approval record was in the lab's account after the
// kill, its record showed it still in the gate; and the runs after it answered each gate they asked
// once, with an approval of their own.

import { WORKFLOW_STATES } from '../lambdas/contract/workflow-states.js';
import type { RehearsalReport } from '../rehearsal/rehearsal-report.js';
import {
  type CaseFinding,
  type CaseVerdict,
  type JudgedReport,
  judgeCase,
  type RunFacts,
} from './judge-case.js';
import { type KillCase, type KillPoint, MID_WAIT_MIN_SECONDS, type WaitEntered } from './kill-cases.js';
import type { LabApprovalRecord } from './lab-approval-records.js';
import type { CacertsFingerprints } from './meshtrust-lab.js';

/** What the runner saw of the run it killed. */
export interface KilledRun {
  /** The record showed the kill point before the run ended by itself. */
  readonly reachedKillPoint: boolean;
  /** How it ended: SIGKILL when the runner killed it. */
  readonly signal: string | null;
  readonly exitCode: number | null;
  /** The last top-level state its record showed. */
  readonly lastState?: string;
  /** A mid-wait kill point: what the runner saw of the wait. */
  readonly midWait?: MidWaitKill;
  /** An answer-held kill point: what the runner saw of the gate's answer. */
  readonly answerHeld?: AnswerHeldKill;
}

/** What the runner saw of a kill in a gate whose answer was on the way (its output said it held it). */
export interface AnswerHeldKill {
  /** The execution its record showed in the gate when the SIGKILL was sent. */
  readonly executionArn: string;
  /** The record read after the process died shows no top-level state after the gate. */
  readonly stillInGate: boolean;
  /** The approval records of that execution in the lab's account after the last run, or why unreadable. */
  readonly approvalRecords: readonly LabApprovalRecord[] | string;
}

/** What the runner saw of a kill meant to land halfway through a wait, read from the run's record. */
export interface MidWaitKill {
  /** The wait its record showed entered when the SIGKILL was sent; undefined when none was. */
  readonly wait?: WaitEntered;
  /** When the SIGKILL was sent, epoch ms. */
  readonly killedAt: number;
  /** The record read after the process died shows no top-level state after the waiting one. */
  readonly stillInWait: boolean;
}

/** A resumed run's report.json as far as the judgement reads it: judgeCase's part and the run's roots. */
export type ResumedReport = JudgedReport &
  Pick<RehearsalReport, 'rootLetters'> &
  Partial<Pick<RehearsalReport, 'initial'>>;

/** One `rehearse --lab DIR` after the kill. */
export interface ResumeAttempt {
  readonly retryRollback: boolean;
  readonly exitCode: number | null;
  /** It stopped before running anything, naming --retry-rollback for the dead run (exit 3). */
  readonly refusedForRetryRollback: boolean;
  /** For a run the case kills too (the resumed rollback): the record showed its kill point and it died of the SIGKILL. */
  readonly killedAtPoint?: boolean;
  /** For a run killed at a mid-wait point: what the runner saw of the wait. */
  readonly midWait?: MidWaitKill;
  /** Its report.json, when it wrote one. */
  readonly report?: ResumedReport;
}

/** An audit line of audit.jsonl, as far as the judgement reads it. */
export interface AuditLine {
  readonly executionId: string;
  readonly phase: string;
  readonly action: string;
  readonly cluster?: string;
  readonly outcome: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface KillCaseFacts {
  readonly killed: KilledRun;
  readonly resumes: readonly ResumeAttempt[];
  /** Every process, file and time fact of the case's runs together. */
  readonly run: RunFacts;
  /** Each cluster's cacerts roots read from the lab after the last run; undefined when unreadable. */
  readonly cacertsRoots?: Readonly<Record<string, readonly string[]>>;
  /** Each cluster's cacerts (roots, intermediate) read from the lab before the killed run; undefined when unreadable. */
  readonly cacertsBefore?: Readonly<Record<string, CacertsFingerprints>>;
  /** The same after the last run. */
  readonly cacertsAfter?: Readonly<Record<string, CacertsFingerprints>>;
  /** The audit events of every resumed run's report. */
  readonly audit: readonly AuditLine[];
  /** Records of dead runs still in DIR/rehearsals after the last run. */
  readonly recordsLeft: readonly string[];
}

/** Audit detail fields that name a secret version the event wrote (a stage-root, a new intermediate, a backup). */
const WRITTEN_VERSION_FIELDS = ['versionId', 'intermediateVersionId', 'backupVersionId'] as const;

export function judgeKillCase(killCase: KillCase, facts: KillCaseFacts): CaseVerdict {
  const { killed, resumes } = facts;
  const final = resumes.at(-1);
  const base = judgeCase({ ...killCase.expected, mode: killCase.mode }, final?.report, {
    ...facts.run,
    exitCode: final?.exitCode ?? null,
  });
  const findings: CaseFinding[] = [
    {
      check: 'killed-at-point',
      ok: killed.reachedKillPoint && killed.signal === 'SIGKILL',
      detail: killed.reachedKillPoint
        ? `SIGKILLed in ${killed.lastState ?? killCase.killAt.state}`
        : `ended by itself (exit ${killed.exitCode}) before ${killCase.killAt.state}, last in ${killed.lastState ?? 'no state'}`,
    },
    ...midWaitFindings(killCase, facts),
    ...(killCase.killAt.answerHeld === true
      ? [
          killedAnswerHeldFinding(killCase.killAt.state, killed.answerHeld),
          approvalAnsweredOnceFinding(facts.audit, killed.answerHeld),
        ]
      : []),
    killCase.killResumedRollbackAt === undefined
      ? resumedFinding(resumes)
      : resumedAfterKilledRollbackFinding(resumes, killCase.killResumedRollbackAt.state),
    ...base.findings.map((finding) =>
      finding.check === 'no-failed-handshake' ? handshakesOfEveryResume(resumes) : finding,
    ),
    killCase.rekeyed === undefined
      ? newestRootOnlyFinding(final?.report, facts.cacertsRoots)
      : rekeyedOnSameRootFinding(killCase.rekeyed, facts.cacertsBefore, facts.cacertsAfter),
    ...(killCase.killResumedRollbackAt === undefined
      ? []
      : [rolledBackToStartFinding(final?.report, facts.cacertsBefore)]),
    {
      check: 'dead-run-cleared',
      ok: facts.recordsLeft.length === 0,
      detail:
        facts.recordsLeft.length === 0
          ? 'no record of a dead run left in DIR/rehearsals'
          : `left: ${facts.recordsLeft.join(', ')}`,
    },
    duplicateSecretVersionFinding(facts.audit),
    restartedTwiceFinding(facts.audit),
  ];
  return { passed: findings.every((finding) => finding.ok), findings };
}

/** The check of a mid-wait kill point; its detail says how far into the wait the kill landed. */
export const KILLED_MID_WAIT = 'killed-mid-wait';

/** `killed-mid-wait` for each kill point of the case that is halfway through a wait. */
function midWaitFindings(killCase: KillCase, facts: KillCaseFacts): CaseFinding[] {
  const killedResume = facts.resumes.find((resume) => resume.killedAtPoint !== undefined);
  return [
    ...(killCase.killAt.midWait === undefined
      ? []
      : [killedMidWaitFinding(killCase.killAt, 'the killed run', facts.killed.midWait)]),
    ...(killCase.killResumedRollbackAt?.midWait === undefined
      ? []
      : [
          killedMidWaitFinding(
            killCase.killResumedRollbackAt,
            'the --retry-rollback run',
            killedResume?.killedAtPoint === true ? killedResume.midWait : undefined,
          ),
        ]),
  ];
}

/**
 * The SIGKILL landed inside a wait of some length (MID_WAIT_MIN_SECONDS or more), after its start and
 * before its end, by the run's own record: its Wait's entered event (time, length) before the kill,
 * no later state after it.
 */
export function killedMidWaitFinding(
  point: KillPoint,
  who: string,
  seen: MidWaitKill | undefined,
): CaseFinding {
  const check = KILLED_MID_WAIT;
  const state = point.iterationState ?? point.state;
  if (seen === undefined) return { check, ok: false, detail: `${who} was not SIGKILLed in ${state}` };
  const { wait } = seen;
  if (wait === undefined)
    return {
      check,
      ok: false,
      detail: `${who}'s record showed no wait of ${state} entered when it was SIGKILLed`,
    };
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const into = seen.killedAt - wait.enteredAt;
  const left = wait.seconds * 1000 - into;
  const problems = [
    ...(wait.seconds < MID_WAIT_MIN_SECONDS
      ? [`the wait was ${wait.seconds} s, under ${MID_WAIT_MIN_SECONDS} s`]
      : []),
    ...(point.waitSeconds !== undefined && wait.seconds !== point.waitSeconds
      ? [`the case is about a ${point.waitSeconds} s wait, this one was ${wait.seconds} s`]
      : []),
    ...(into <= 0 || left <= 0 ? ['the kill fell outside it'] : []),
    ...(seen.stillInWait ? [] : ['its record shows a later state entered']),
  ];
  const where = `${seconds(into)} into a ${wait.seconds} s wait in ${state} (${seconds(left)} left)`;
  return {
    check,
    ok: problems.length === 0,
    detail:
      problems.length === 0
        ? `${who} SIGKILLed ${where}; its record after the kill shows no later state`
        : `${who} SIGKILLed ${where}: ${problems.join('; ')}`,
  };
}

/** The approval gates' names in approval records and audit events, by their Task state. */
const GATE_OF_STATE: Readonly<Record<string, string>> = {
  [WORKFLOW_STATES.approveReissue]: 'reissue',
  [WORKFLOW_STATES.approveRetire]: 'retire',
};

/**
 * The SIGKILL landed in the gate once its answer was on the way: the run said it held the answer (the
 * kill point), its execution's approval record of that gate was written (in the lab's account after the
 * kill: answer-approval writes it before it sends the token), and its record after the kill shows no
 * state after the gate (Step Functions had not taken the answer).
 */
export function killedAnswerHeldFinding(gateState: string, seen: AnswerHeldKill | undefined): CaseFinding {
  const check = 'killed-answer-held';
  if (seen === undefined) {
    return { check, ok: false, detail: `the run was not SIGKILLed with the answer to ${gateState} held` };
  }
  const gate = GATE_OF_STATE[gateState];
  const records = seen.approvalRecords;
  const record = typeof records === 'string' ? undefined : records.find((each) => each.gate === gate);
  const problems = [
    ...(typeof records === 'string' ? [`its approval records are ${records}`] : []),
    ...(typeof records !== 'string' && record === undefined
      ? [
          `no approval record of gate ${gate ?? gateState} of ${seen.executionArn}: the kill came before answer-approval wrote it`,
        ]
      : []),
    ...(record !== undefined && record.verdict !== 'approve' ? [`its record says ${record.verdict}`] : []),
    ...(seen.stillInGate ? [] : ['its record shows a later state entered: the gate had taken the answer']),
  ];
  return {
    check,
    ok: problems.length === 0,
    detail:
      problems.length === 0
        ? `SIGKILLed in ${gateState} with its answer held: the approval record of ${seen.executionArn} written (${record?.approvalId}), the gate still waiting`
        : `SIGKILLed in ${gateState}: ${problems.join('; ')}`,
  };
}

/**
 * The approval is neither lost nor counted twice: in the resumed runs' audit, every gate an execution
 * asked (approval-requested) was granted once (approval-granted of that execution and gate), nothing
 * was granted that no run asked, each grant has an approval id of its own, and none is the killed run's
 * (its record names its own execution, and no later one may pass on it). Some gate must have been asked.
 */
export function approvalAnsweredOnceFinding(
  audit: readonly AuditLine[],
  killed: AnswerHeldKill | undefined,
): CaseFinding {
  const check = 'approval-answered-once';
  const key = (line: AuditLine) => `${line.executionId} ${String(line.detail?.gate)}`;
  const asked = audit.filter((line) => line.action === 'approval-requested' && line.outcome === 'succeeded');
  const granted = audit.filter((line) => line.action === 'approval-granted' && line.outcome === 'succeeded');
  const grants = new Map<string, number>();
  for (const line of granted) grants.set(key(line), (grants.get(key(line)) ?? 0) + 1);
  const askedKeys = new Set(asked.map(key));
  const ids = granted.map((line) => line.detail?.approvalId);
  const deadIds = new Set(
    typeof killed?.approvalRecords === 'object'
      ? killed.approvalRecords.map((record) => record.approvalId)
      : [],
  );
  const problems = [
    ...(asked.length === 0 ? ['no gate was asked after the kill'] : []),
    ...[...askedKeys]
      .filter((gate) => (grants.get(gate) ?? 0) !== 1)
      .map((gate) => `${gate}: granted ${grants.get(gate) ?? 0}x`),
    ...[...grants.keys()]
      .filter((gate) => !askedKeys.has(gate))
      .map((gate) => `${gate}: granted, never asked`),
    ...(new Set(ids).size === ids.length ? [] : ['an approval id granted twice']),
    ...granted
      .filter(
        (line) => line.executionId === killed?.executionArn || deadIds.has(String(line.detail?.approvalId)),
      )
      .map((line) => `${key(line)}: granted on the killed run's approval`),
  ];
  return {
    check,
    ok: problems.length === 0,
    detail:
      problems.length === 0
        ? `${asked.length} gate(s) asked after the kill, each granted once with an approval of its own execution`
        : problems.join('; '),
  };
}

/**
 * The next run rotates; or it is refused naming --retry-rollback (the dead run had written) and the run
 * after, with it, rotates. Anything more is no resume as documented.
 */
function resumedFinding(resumes: readonly ResumeAttempt[]): CaseFinding {
  const check = 'resumed-as-documented';
  const [first, second] = resumes;
  if (first === undefined) return { check, ok: false, detail: 'no run after the kill' };
  if (resumes.length === 1) {
    return {
      check,
      ok: first.report !== undefined,
      detail:
        first.report === undefined
          ? `the next run wrote no report (exit ${first.exitCode})`
          : 'the next run rotated at once',
    };
  }
  const ok =
    resumes.length === 2 &&
    first.refusedForRetryRollback &&
    first.exitCode === 3 &&
    second?.retryRollback === true &&
    second.report !== undefined;
  return {
    check,
    ok,
    detail: ok
      ? 'refused naming --retry-rollback (exit 3), then rolled the dead run back and rotated'
      : `${resumes.length} runs after the kill, exits ${resumes.map((resume) => resume.exitCode).join(', ')}`,
  };
}

/**
 * The states a run enters only after its rollback completed, named from the contract: the judge's own
 * reading of the definition, not the product's resume rule (lambdas/core/rotation/resume-rollback.ts),
 * which it checks.
 */
const ROLLBACK_COMPLETED_STATES: readonly string[] = [
  WORKFLOW_STATES.releaseLockAfterRollback,
  WORKFLOW_STATES.rotationRolledBack,
];

/**
 * The resumed-rollback case: refused naming --retry-rollback, that run killed inside the rollback, refused
 * again (the killed resume is the dead run now), and the second --retry-rollback finished the rollback
 * and rotated. Killed in a state entered only once its rollback completed (release-lock-after-rollback),
 * nothing is left to undo: the run after it rotates at once, taking the lock over. Anything else is no
 * resume as documented.
 */
export function resumedAfterKilledRollbackFinding(
  resumes: readonly ResumeAttempt[],
  rollbackState: string,
): CaseFinding {
  const check = 'resumed-as-documented';
  const completed = ROLLBACK_COMPLETED_STATES.includes(rollbackState);
  const [refused, killedResume, ...after] = resumes;
  const last = resumes.at(-1);
  const ok =
    resumes.length === (completed ? 3 : 4) &&
    refused?.refusedForRetryRollback === true &&
    killedResume?.retryRollback === true &&
    killedResume.killedAtPoint === true &&
    (completed || after[0]?.refusedForRetryRollback === true) &&
    last?.retryRollback === !completed &&
    last.report !== undefined;
  const shown = resumes.map((resume) =>
    resume.killedAtPoint === true
      ? 'SIGKILLed'
      : resume.refusedForRetryRollback
        ? 'refused (exit 3)'
        : `exit ${resume.exitCode}${resume.report === undefined ? ', no report' : ''}`,
  );
  const expected = completed
    ? `refused; SIGKILLed in ${rollbackState}, its rollback complete; rotated`
    : `refused; SIGKILLed in ${rollbackState}; refused; rotated`;
  return {
    check,
    ok,
    detail: ok
      ? completed
        ? `refused, the --retry-rollback run SIGKILLed in ${rollbackState} after its rollback completed, then rotated at once`
        : `refused, the --retry-rollback run SIGKILLed in ${rollbackState}, refused again, then rolled back and rotated`
      : `${resumes.length} run(s) after the kill: ${shown.join('; ')} (expected ${expected})`,
  };
}

/**
 * Intermediate mode: every cluster trusts the roots it trusted before the kill; the rekeyed cluster's
 * intermediate is new, every other cluster's the one it had.
 */
export function rekeyedOnSameRootFinding(
  rekeyed: string,
  before: Readonly<Record<string, CacertsFingerprints>> | undefined,
  after: Readonly<Record<string, CacertsFingerprints>> | undefined,
): CaseFinding {
  const check = 'cacerts-rekeyed-on-same-root';
  if (before === undefined || after === undefined)
    return {
      check,
      ok: false,
      detail: `the lab's cacerts could not be read ${before === undefined ? 'before' : 'after'}`,
    };
  const short = (fingerprint: string | undefined) => fingerprint?.slice(0, 12) ?? 'none';
  const problems = Object.keys(before).flatMap((cluster) => {
    const was = before[cluster];
    const now = after[cluster];
    if (was === undefined || now === undefined) return [`${cluster} not read`];
    const sameRoots =
      was.roots.length === now.roots.length && was.roots.every((root, i) => now.roots[i] === root);
    const found: string[] = [];
    if (!sameRoots)
      found.push(
        `${cluster} trusts ${now.roots.map(short).join('+')}, had ${was.roots.map(short).join('+')}`,
      );
    if (cluster === rekeyed && (now.caCert === undefined || now.caCert === was.caCert))
      found.push(`${cluster} (rekeyed) still on intermediate ${short(was.caCert)}`);
    if (cluster !== rekeyed && now.caCert !== was.caCert)
      found.push(
        `${cluster} (not rekeyed) changed intermediate ${short(was.caCert)} -> ${short(now.caCert)}`,
      );
    return found;
  });
  if (!(rekeyed in before)) problems.push(`no cluster ${rekeyed} in the lab`);
  return {
    check,
    ok: problems.length === 0,
    detail:
      problems.length === 0
        ? `${rekeyed} on a new intermediate under the same root, ${Object.keys(before).length - 1} other(s) untouched`
        : problems.join('; '),
  };
}

/**
 * The resumed-rollback case: the last run found the lab (after rolling the dead runs back) as it was
 * before the kill: each cluster's roots and intermediate, by fingerprint (report.json's `initial`).
 */
export function rolledBackToStartFinding(
  report: Pick<ResumedReport, 'initial'> | undefined,
  before: Readonly<Record<string, CacertsFingerprints>> | undefined,
): CaseFinding {
  const check = 'rolled-back-to-start';
  if (report?.initial === undefined) return { check, ok: false, detail: 'no report of the last run' };
  if (before === undefined)
    return { check, ok: false, detail: "the lab's cacerts could not be read before the kill" };
  const problems = Object.entries(before).flatMap(([cluster, was]) => {
    const found = report.initial?.find((entry) => entry.cluster === cluster);
    if (found === undefined) return [`${cluster} not in the last run's start`];
    const same =
      found.caCert === was.caCert &&
      found.roots.length === was.roots.length &&
      found.roots.every((root, i) => was.roots[i] === root);
    return same
      ? []
      : [
          `${cluster} started on ${found.caCert?.slice(0, 12)} under ${found.roots.map((root) => root.slice(0, 12)).join('+')}, not as before the kill`,
        ];
  });
  return {
    check,
    ok: problems.length === 0,
    detail:
      problems.length === 0
        ? `${Object.keys(before).length} cluster(s) rolled back to their roots and intermediate of before the kill`
        : problems.join('; '),
  };
}

function handshakesOfEveryResume(resumes: readonly ResumeAttempt[]): CaseFinding {
  const reports = resumes.flatMap((resume) => (resume.report === undefined ? [] : [resume.report]));
  const attempted = reports.reduce((sum, report) => sum + report.totals.handshakes.attempted, 0);
  const failed = reports.reduce((sum, report) => sum + report.totals.handshakes.failed, 0);
  return {
    check: 'no-failed-handshake',
    ok: failed === 0 && attempted > 0,
    detail: `${failed} failed of ${attempted} (${reports.length} report(s) after the kill)`,
  };
}

/** Every cluster's cacerts, read from the lab, trusts the root the last run staged and nothing else. */
export function newestRootOnlyFinding(
  report: Pick<ResumedReport, 'rootLetters' | 'clusters'> | undefined,
  roots: Readonly<Record<string, readonly string[]>> | undefined,
): CaseFinding {
  const check = 'cacerts-newest-root-only';
  const newest = report?.rootLetters.B;
  if (report === undefined || newest === undefined)
    return { check, ok: false, detail: 'no report naming the root the run staged' };
  if (roots === undefined) return { check, ok: false, detail: "the lab's cacerts could not be read" };
  const wrong = report.clusters.filter((cluster) => {
    const held = roots[cluster];
    return held === undefined || held.length !== 1 || held[0] !== newest;
  });
  const short = (fingerprint: string) => fingerprint.slice(0, 12);
  return {
    check,
    ok: wrong.length === 0,
    detail:
      wrong.length === 0
        ? `${report.clusters.length} cluster(s) on ${short(newest)} alone`
        : `${wrong
            .map((cluster) => `${cluster} holds ${(roots[cluster] ?? []).map(short).join('+') || 'nothing'}`)
            .join('; ')} (newest ${short(newest)})`,
  };
}

/**
 * No secret version written twice: a version id claimed by two events that changed something, or one
 * execution writing two versions for the same step and cluster (a re-run that wrote anew instead of
 * finding its version, which its ClientRequestToken is for).
 */
export function duplicateSecretVersionFinding(audit: readonly AuditLine[]): CaseFinding {
  const check = 'no-duplicate-secret-version';
  const written = audit.filter((line) => line.outcome === 'succeeded');
  const claims = new Map<string, number>();
  const perStep = new Map<string, Set<string>>();
  let versions = 0;
  for (const line of written) {
    for (const field of WRITTEN_VERSION_FIELDS) {
      const version = line.detail?.[field];
      if (typeof version !== 'string') continue;
      versions += 1;
      claims.set(`${field} ${version}`, (claims.get(`${field} ${version}`) ?? 0) + 1);
      const step = `${line.executionId} ${line.phase}/${line.action}${line.cluster === undefined ? '' : ` ${line.cluster}`} ${field}`;
      perStep.set(step, (perStep.get(step) ?? new Set()).add(version));
    }
  }
  const problems = [
    ...[...claims].filter(([, count]) => count > 1).map(([claim, count]) => `${claim} written ${count}x`),
    ...[...perStep].filter(([, ids]) => ids.size > 1).map(([step, ids]) => `${step}: ${ids.size} versions`),
  ];
  return {
    check,
    ok: problems.length === 0,
    detail:
      problems.length === 0
        ? `${versions} secret version(s) written, each once (resumed runs' audit)`
        : problems.join('; '),
  };
}

/**
 * No workload restarted twice by one execution: per restart id and cluster, the restarts counted over
 * restart-workloads' invocations are at most the workloads it covers (a restart id is one execution's).
 */
export function restartedTwiceFinding(audit: readonly AuditLine[]): CaseFinding {
  const check = 'no-workload-restarted-twice';
  const byRestart = new Map<string, { restarted: number; workloads: number }>();
  for (const line of audit) {
    const restartId = line.detail?.restartId;
    const restarted = line.detail?.restarted;
    const workloads = line.detail?.workloads;
    if (typeof restartId !== 'string' || typeof restarted !== 'number' || typeof workloads !== 'number')
      continue;
    const key = `${restartId} ${line.cluster ?? ''}`;
    const counted = byRestart.get(key) ?? { restarted: 0, workloads: 0 };
    byRestart.set(key, {
      restarted: counted.restarted + restarted,
      workloads: Math.max(counted.workloads, workloads),
    });
  }
  const twice = [...byRestart].filter(([, counted]) => counted.restarted > counted.workloads);
  const total = [...byRestart.values()].reduce((sum, counted) => sum + counted.restarted, 0);
  return {
    check,
    ok: twice.length === 0,
    detail:
      twice.length === 0
        ? `${total} restart(s) over ${byRestart.size} restart id(s) and cluster(s), none twice (resumed runs' audit)`
        : twice
            .map(
              ([key, counted]) =>
                `restart ${key}: ${counted.restarted} restarts of ${counted.workloads} workload(s)`,
            )
            .join('; '),
  };
}

/** audit.jsonl's lines that parse as audit events; others are skipped. */
export function parseAuditLines(text: string): AuditLine[] {
  return text.split('\n').flatMap((line) => {
    if (line.trim() === '') return [];
    try {
      const event = JSON.parse(line) as Partial<AuditLine>;
      return typeof event.executionId === 'string' &&
        typeof event.phase === 'string' &&
        typeof event.action === 'string' &&
        typeof event.outcome === 'string'
        ? [event as AuditLine]
        : [];
    } catch {
      return [];
    }
  });
}
