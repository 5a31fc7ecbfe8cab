import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  DistributedMap,
  Fail,
  type IChainable,
  IntegrationPattern,
  JitterType,
  JsonPath,
  LogLevel,
  Map as MapState,
  Pass,
  QueryLanguage,
  Result,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { rotationStateMachineName } from '../lambdas/contract/function-names.js';
import { type KeptPaths, nestPaths } from '../lambdas/contract/kept-paths.js';
import {
  ANSWERED_FIELDS,
  CACERTS_WRITE_FIELDS,
  PROXY_TRUST_WAIT_FIELDS,
} from '../lambdas/contract/map-answers.js';
import { PREFLIGHT_KEPT_PATHS } from '../lambdas/contract/preflight-answer.js';
import { PROMOTION_OF_KEY, RESUME_PROMOTION_INPUT_KEY } from '../lambdas/contract/resume-promotion.js';
import {
  RESUME_ROLLBACK_INPUT_KEY,
  ROLLBACK_FAILED_ERROR,
  ROLLBACK_OF_KEY,
} from '../lambdas/contract/resume-rollback.js';
import type { HandlerName } from './handler-entries.js';
import {
  clusterDoneName,
  clusterTaskName,
  clusterWavesLeftName,
  INTERRUPTED_INVOCATION_ERRORS,
  noWaitName,
  RESTART_LOOP_MAP_STATES,
  type RestartLoopMapState,
  WORKFLOW_STATES as S,
  TRANSIENT_ERRORS,
  type WorkflowStateName,
  waitAsksName,
} from './workflow-states.js';

export interface RotationStateMachineProps {
  readonly meshId: string;
  /** The rotation phase functions, by handler name. */
  readonly functions: Readonly<Record<HandlerName, IFunction>>;
  /** Soak used when the execution input has no `soakSeconds`. */
  readonly soak: Duration;
  /** How many clusters a Map state works on at once. */
  readonly maxConcurrency: number;
  /**
   * Run each per-cluster Map as a Distributed Map, one child execution per cluster (docs/workflow.md,
   * "Fleets past one execution's history", slice 4); the readers (status, retry-rollback, the report)
   * read a failed child through its Map Run (slice 6).
   */
  readonly distributedMaps: boolean;
  /** Pause for an operator's approval before reissue and before retire. */
  readonly approval: boolean;
  /** How long an approval gate waits before the run rolls back. */
  readonly approvalTimeout: Duration;
  /** Upper bound of a whole execution. */
  readonly timeout: Duration;
  /**
   * Where every execution event goes: level ALL, without execution data (no state input or output),
   * since an approval gate's input holds its task token. The phases' audit events keep the trail.
   */
  readonly logGroup: ILogGroup;
}

/** Name of the rotation state machine of a mesh (declared in lambdas/contract/function-names.ts). */
export { rotationStateMachineName };

/**
 * Where `execution-context` keeps this execution's ARN and start (`$$.Execution.Id`, `StartTime`), read
 * once after the input's defaults: every state reads them from the state, never from the context
 * object, whose `Execution` a Distributed Map's child would see as its own (docs/workflow.md, "The
 * context object"). test/infra/rotation-state-machine.test.ts refuses `$$.Execution` anywhere else.
 */
const EXECUTION_KEY = 'execution';
const EXECUTION = `$.${EXECUTION_KEY}`;
const EXECUTION_ID = JsonPath.stringAt(`${EXECUTION}.id`);
const EXECUTION_STARTED_AT = JsonPath.stringAt(`${EXECUTION}.startedAt`);
const MAP_CLUSTER = JsonPath.stringAt('$$.Map.Item.Value.name');
const MAP_CLUSTER_STRATEGY = JsonPath.stringAt('$$.Map.Item.Value.strategy');
/** The execution whose writes a rollback undoes: null (this one's) unless it resumes a failed rollback. */
const ROLLBACK_OF = `$.${ROLLBACK_OF_KEY}`;
const RESUME = `$.${RESUME_ROLLBACK_INPUT_KEY}`;
/** The execution whose staged root promote-root promotes: null (this one's) unless it finishes a stopped one. */
const PROMOTION_OF = `$.${PROMOTION_OF_KEY}`;
const RESUME_PROMOTION = `$.${RESUME_PROMOTION_INPUT_KEY}`;

/** A per-cluster Map state: inline, or Distributed with one child execution per cluster. */
type ClusterMap = MapState | DistributedMap;

/** A ResultSelector (or Parameters) keeping exactly `paths` of the answer at `from` (contract/kept-paths.ts). */
function keptFields(paths: KeptPaths, from = '$'): Record<string, unknown> {
  return nestPaths(paths, (path) => JsonPath.stringAt(`${from}.${path}`));
}

/**
 * The rotation workflow of docs/workflow.md as a Standard state machine in JSONPath (no JSONata, no
 * Assign: the rehearsal runs this very definition with aws-local-stepfunctions, which supports
 * neither). Every Lambda Task uses `payloadResponseOnly`, so its `Resource` is the function ARN and
 * the local runner can override it by state name.
 */
export class RotationStateMachine extends Construct {
  readonly stateMachine: StateMachine;
  /** The labels of the Distributed Maps (their state names): none unless `distributedMaps`. */
  readonly distributedMapLabels: WorkflowStateName[] = [];
  private readonly props: RotationStateMachineProps;

  constructor(scope: Construct, id: string, props: RotationStateMachineProps) {
    super(scope, id);
    this.props = props;
    const fn = props.functions;

    // --- terminal states
    const succeeded = new Succeed(this, S.rotationSucceeded, { stateName: S.rotationSucceeded });
    const rolledBack = new Fail(this, S.rotationRolledBack, {
      stateName: S.rotationRolledBack,
      error: 'RotationRolledBack',
      cause:
        'The rotation failed and was rolled back: every cluster is back on its original cacerts and no root is pending. $.failure in the execution history holds the error.',
    });
    const failed = new Fail(this, S.rotationFailed, {
      stateName: S.rotationFailed,
      error: ROLLBACK_FAILED_ERROR,
      cause:
        'The rotation failed and its rollback did not complete: clusters may be part-way. $.failure holds the first error and $.rollbackFailure the rollback error. Fix that cause, then resume the rollback with meshtrust retry-rollback <this execution> (docs/deploy.md, Failed rollback).',
    });
    // Ended before the first write (acquire-lock or preflight refused) or after the last undoable one
    // (promote-root failed): the run fails with that state's own error, kept in $.stop.
    const stopped = new Fail(this, S.rotationStopped, {
      stateName: S.rotationStopped,
      comment:
        'The run stopped with the error of the state that stopped it ($.stop), after releasing the lock.',
      errorPath: '$.stop.Error',
      causePath: '$.stop.Cause',
    });

    // --- the rotation lock (docs/workflow.md): every end of a run that may hold it releases it first.
    // A release that fails is caught: the run ends as it would have, and the lock waits for a takeover.
    const releaseLockThen = (
      state: WorkflowStateName,
      end: IChainable,
      extra: Record<string, unknown> = {},
    ): LambdaInvoke => {
      const release = this.task(state, fn['release-lock'], '$.lockRelease', {
        executionId: EXECUTION_ID,
        ...extra,
      });
      release.addCatch(end, { errors: ['States.ALL'], resultPath: '$.lockReleaseFailure' });
      release.next(end);
      return release;
    };
    // The run succeeded: an intermediate rekey's cacerts backups are deleted here (it never reaches
    // promote-root, which deletes a root rotation's).
    const releaseLock = releaseLockThen(S.releaseLock, succeeded, {
      mode: JsonPath.stringAt('$.mode'),
      clusters: JsonPath.listAt('$.preflight.clusters'),
    });
    const releaseLockAfterRollback = releaseLockThen(S.releaseLockAfterRollback, rolledBack);
    const releaseLockAfterFailedRollback = releaseLockThen(S.releaseLockAfterFailedRollback, failed);
    const releaseLockAfterStop = releaseLockThen(S.releaseLockAfterStop, stopped);
    const toStop = { errors: ['States.ALL'], resultPath: '$.stop' };

    const unsupportedMode = new Pass(this, S.unsupportedMode, {
      stateName: S.unsupportedMode,
      comment: 'Only if preflight let an unknown mode through: stop, as preflight would have.',
      result: Result.fromObject({
        Error: 'PreconditionFailed',
        Cause: 'Input mode must be scheduled, emergency or intermediate; nothing was written.',
      }),
      resultPath: '$.stop',
    }).next(releaseLockAfterStop);

    // --- rollback: a reverse rotation, each stage a no-op where nothing was touched. Its lookups
    // (backups, staged root, stored intermediates, restart ids) are by `rollbackOf` when it is set: a
    // resumed rollback undoes the failed run's writes while holding the lock as itself.
    const rollbackOf = { [ROLLBACK_OF_KEY]: JsonPath.stringAt(ROLLBACK_OF) };
    const rollbackStage = (
      state: WorkflowStateName,
      stage: string,
      resultPath: string,
      options: { retryVerification?: number; parameters?: Record<string, unknown>; keep?: KeptPaths } = {},
    ): ClusterMap =>
      this.clusterMap(
        state,
        fn.rollback,
        resultPath,
        { stage, ...rollbackOf, ...options.parameters },
        options,
      ).addCatch(releaseLockAfterFailedRollback, { errors: ['States.ALL'], resultPath: '$.rollbackFailure' });
    // restore-trust writes root-cert = current ∪ start roots and answers when (cacertsWrittenBy).
    const rollbackTrust = rollbackStage(S.rollbackTrust, 'restore-trust', '$.rollback.trust', {
      keep: CACERTS_WRITE_FIELDS,
    });
    // verify-restored-trust waits for istiod to publish that set again and says VerificationFailed when it
    // has not yet: look again, as verify-trust does, before calling the rollback failed. A Map of its own,
    // given restore-trust's answers (`writes`), so that a retry knows when the write was and a write istiod
    // missed fails an attempt at once past the load window rather than after a whole wait.
    const rollbackVerifyTrust = rollbackStage(
      S.rollbackVerifyTrust,
      'verify-restored-trust',
      '$.rollback.trustVerified',
      {
        retryVerification: 10,
        parameters: { writes: JsonPath.listAt('$.rollback.trust') },
        keep: PROXY_TRUST_WAIT_FIELDS,
      },
    );
    // verify-restored-trust answers, per cluster, how long its proxies may take to trust the start's roots
    // again: retire-root took A from them, and without PCDS they learn it only at renewal. Every answer is
    // waited at once (the longest counts) before any workload gets a certificate of the restored
    // intermediate, which chains to A (docs/workflow.md, "Rollback").
    const waitMap = S.rollbackAwaitProxyTrust;
    const asked = '$.proxyTrustWaitSeconds';
    const rollbackAwaitProxyTrust = new MapState(this, waitMap, {
      stateName: waitMap,
      comment: "The longest of verify-restored-trust's proxyTrustWaitSeconds: every cluster's wait at once.",
      itemsPath: '$.rollback.trustVerified',
      maxConcurrency: 0,
      resultPath: JsonPath.DISCARD,
    })
      .itemProcessor(
        new Choice(this, waitAsksName(waitMap), { stateName: waitAsksName(waitMap) })
          .when(
            Condition.and(Condition.isPresent(asked), Condition.isNumeric(asked)),
            new Wait(this, clusterTaskName(waitMap), {
              stateName: clusterTaskName(waitMap),
              time: WaitTime.secondsPath(asked),
            }),
          )
          .otherwise(new Succeed(this, noWaitName(waitMap), { stateName: noWaitName(waitMap) })),
      )
      .addCatch(releaseLockAfterFailedRollback, { errors: ['States.ALL'], resultPath: '$.rollbackFailure' });
    const rollbackIntermediate = rollbackStage(
      S.rollbackIntermediate,
      'restore-intermediate',
      '$.rollback.intermediate',
      { keep: CACERTS_WRITE_FIELDS },
    );
    const rollbackRestart = this.clusterMap(
      S.rollbackRestart,
      fn['restart-workloads'],
      '$.rollback.restart',
      // The execution's start: a resumed rollback finds the failed run's restarts (same restart id) by
      // it, and gives a wave of them still rolling out a fresh timeout (restart-progress.ts).
      // `writes`: restore-intermediate's answers, when the intermediate istiod must sign with was written
      // back, so a write istiod missed fails an attempt at once rather than after a whole wait.
      {
        purpose: 'rollback',
        ...rollbackOf,
        executionStartedAt: EXECUTION_STARTED_AT,
        writes: JsonPath.listAt('$.rollback.intermediate'),
      },
      // As forward: istiod must sign with the restored intermediate before pods come back.
      { retryVerification: 10 },
    ).addCatch(releaseLockAfterFailedRollback, { errors: ['States.ALL'], resultPath: '$.rollbackFailure' });
    const rollbackRestore = rollbackStage(S.rollbackRestore, 'restore-original', '$.rollback.restored');
    const rollbackDropPending = this.task(S.rollbackDropPending, fn.rollback, '$.rollback.pending', {
      executionId: EXECUTION_ID,
      stage: 'drop-pending-root',
      // Every cluster is restored: their cacerts backups of this execution are deleted.
      clusters: JsonPath.listAt('$.preflight.clusters'),
      ...rollbackOf,
    }).addCatch(releaseLockAfterFailedRollback, { errors: ['States.ALL'], resultPath: '$.rollbackFailure' });
    rollbackTrust
      .next(rollbackVerifyTrust)
      .next(rollbackAwaitProxyTrust)
      .next(rollbackIntermediate)
      .next(rollbackRestart)
      .next(rollbackRestore)
      .next(rollbackDropPending)
      .next(releaseLockAfterRollback);

    // After the first write, any failure walks back through rollback.
    const toRollback = <T extends LambdaInvoke | ClusterMap>(state: T): T => {
      state.addCatch(rollbackTrust, { errors: ['States.ALL'], resultPath: '$.failure' });
      return state;
    };

    // --- the forward path
    // Fields the execution input may leave out. Kept in the state as `inputDefaults`, for the record.
    // (A Pass `Result`, not `Parameters`: CDK drops null values from Parameters.)
    const inputDefaults = new Pass(this, S.inputDefaults, {
      stateName: S.inputDefaults,
      comment: 'The defaults of every optional input field, next to the input as given.',
      result: Result.fromObject({
        soakSeconds: props.soak.toSeconds(),
        mode: null,
        cluster: null,
        reason: null,
        requestedBy: null,
        stagedRoot: null,
        approvals: {},
        rollback: {},
        // Set by `meshtrust retry-rollback` only (lambdas/contract/resume-rollback.ts).
        [RESUME_ROLLBACK_INPUT_KEY]: null,
        [ROLLBACK_OF_KEY]: null,
        // Set by `meshtrust retry-promotion` only (lambdas/contract/resume-promotion.ts).
        [RESUME_PROMOTION_INPUT_KEY]: null,
        [PROMOTION_OF_KEY]: null,
      }),
      resultPath: '$.inputDefaults',
    });
    const applyInputDefaults = new Pass(this, S.applyInputDefaults, {
      stateName: S.applyInputDefaults,
      comment: 'The input with every missing field set to its default (a shallow merge; the input wins).',
      // The defaults are copied (StringToJson of JsonToString) before the merge: aws-local-stepfunctions
      // implements JsonMerge as Object.assign(first, second), and `$` contains `$.inputDefaults`,
      // so merging into the original would make the object contain itself.
      parameters: {
        merged: JsonPath.jsonMerge(
          JsonPath.stringToJson(JsonPath.jsonToString(JsonPath.objectAt('$.inputDefaults'))),
          JsonPath.entirePayload,
        ),
      },
      outputPath: '$.merged',
    });
    // The execution's ARN and start, from the context object, once: the lock holder every write checks,
    // the idempotency key of every write, the backups' and the fence's name. After the merge, so an
    // input cannot set them.
    const executionContext = new Pass(this, S.executionContext, {
      stateName: S.executionContext,
      comment: "This execution's ARN and start, from the context object: every later state reads them here.",
      parameters: {
        id: JsonPath.stringAt('$$.Execution.Id'),
        startedAt: JsonPath.stringAt('$$.Execution.StartTime'),
      },
      resultPath: EXECUTION,
    });
    // The first Task: no other rotation of the mesh may run from here on. Refused (RotationLocked,
    // naming the holder) or failed, the run stops before anything is written. It also writes who asked
    // for the run, and why, to the audit trail: the execution log holds no execution data.
    // A resumed rollback's resumeRollback (null in a rotation) is checked there against the run it names,
    // before the lock is taken: the CLI's judgement is not trusted (docs/workflow.md).
    const acquireLock = this.task(S.acquireLock, fn['acquire-lock'], '$.lock', {
      executionId: EXECUTION_ID,
      requestedBy: JsonPath.stringAt('$.requestedBy'),
      reason: JsonPath.stringAt('$.reason'),
      [RESUME_ROLLBACK_INPUT_KEY]: JsonPath.objectAt(RESUME),
      [RESUME_PROMOTION_INPUT_KEY]: JsonPath.objectAt(RESUME_PROMOTION),
    }).addCatch(releaseLockAfterStop, toStop);
    // What a resumed run (a rollback's or a promotion's) keeps of its own input and of its lock when its
    // Pass sets, beside them, the state the resumed stages read from the stopped run's.
    const ownInput = {
      mode: JsonPath.stringAt('$.mode'),
      cluster: JsonPath.stringAt('$.cluster'),
      reason: JsonPath.stringAt('$.reason'),
      requestedBy: JsonPath.stringAt('$.requestedBy'),
      soakSeconds: JsonPath.numberAt('$.soakSeconds'),
      approvals: JsonPath.objectAt('$.approvals'),
      rollback: JsonPath.objectAt('$.rollback'),
      lock: JsonPath.objectAt('$.lock'),
      [EXECUTION_KEY]: JsonPath.objectAt(EXECUTION),
    };
    // A run that resumes a failed rollback (docs/deploy.md, "Failed rollback") takes the lock like any
    // run, then sets the state the rollback stages read from the failed run's (its input's
    // resumeRollback) and goes straight to rollback-trust: no preflight, nothing forward.
    const resumeRollback = new Pass(this, S.resumeRollback, {
      stateName: S.resumeRollback,
      comment:
        "The failed run's clusters, roots and errors, as its rollback read them; its writes are undone (rollbackOf).",
      parameters: {
        ...ownInput,
        [RESUME_ROLLBACK_INPUT_KEY]: JsonPath.objectAt(RESUME),
        [ROLLBACK_OF_KEY]: JsonPath.stringAt(`${RESUME}.executionArn`),
        preflight: {
          clusters: JsonPath.listAt(`${RESUME}.clusters`),
          currentRoot: JsonPath.objectAt(`${RESUME}.currentRoot`),
        },
        stagedRoot: JsonPath.objectAt(`${RESUME}.stagedRoot`),
        failure: JsonPath.objectAt(`${RESUME}.failure`),
      },
    });
    const unsupportedInput = new Pass(this, S.unsupportedInput, {
      stateName: S.unsupportedInput,
      comment:
        'A resumeRollback that lacks what the rollback reads, or a rollbackOf the input may not set: stop.',
      result: Result.fromObject({
        Error: 'PreconditionFailed',
        Cause:
          'The input sets rollbackOf or promotionOf, which only resume-rollback and resume-promotion may, or both ' +
          'resumeRollback and resumePromotion, or its resumeRollback lacks executionArn, clusters, currentRoot or ' +
          'stagedRoot, its resumePromotion executionArn, clusters or stagedRoot, or mode; start a resumed rollback ' +
          'with meshtrust retry-rollback, a resumed promotion with meshtrust retry-promotion. Nothing was written.',
      }),
      resultPath: '$.stop',
    }).next(releaseLockAfterStop);
    // The state keeps what later states read of preflight's answer; its whole plan stays in the history.
    const preflight = this.task(
      S.preflight,
      fn.preflight,
      '$.preflight',
      {
        executionId: EXECUTION_ID,
        mode: JsonPath.stringAt('$.mode'),
        cluster: JsonPath.stringAt('$.cluster'),
        soakSeconds: JsonPath.numberAt('$.soakSeconds'),
      },
      PREFLIGHT_KEPT_PATHS,
    ).addCatch(releaseLockAfterStop, toStop);
    const stageRoot = toRollback(
      this.task(S.stageRoot, fn['stage-root'], '$.stagedRoot', { executionId: EXECUTION_ID }),
    );
    const distributeBundle = toRollback(
      this.clusterMap(
        S.distributeBundle,
        fn['distribute-bundle'],
        '$.distributed',
        {},
        { keep: CACERTS_WRITE_FIELDS },
      ),
    );
    // Each cluster's gate gets every cluster's distribute-bundle answer: when the write istiod must
    // publish was made (a remote's, by its primary), so a write istiod missed fails an attempt at once.
    const verifyTrust = toRollback(
      this.clusterMap(
        S.verifyTrust,
        fn['verify-trust'],
        '$.trustVerified',
        { writes: JsonPath.listAt('$.distributed') },
        { retryVerification: 10 },
      ),
    );
    // istiod has the new roots (verify-trust); running proxies learn them by PCDS push or at their next
    // renewal. No workload may get a certificate from the new intermediate before its peers trust it.
    const awaitProxyTrust = new Wait(this, S.awaitProxyTrust, {
      stateName: S.awaitProxyTrust,
      comment: 'Until every proxy holds the new root: the PCDS push, or one renewal window (preflight plan).',
      time: WaitTime.secondsPath('$.preflight.plan.proxyTrustWait.seconds'),
    });
    const reissueIntermediate = toRollback(
      // Each cluster's strategy from its item: resign appends the new root once more (A+B+B).
      this.clusterMap(
        S.reissueIntermediate,
        fn['reissue-intermediate'],
        '$.reissued',
        { strategy: MAP_CLUSTER_STRATEGY, ...this.receivedApproval('reissue') },
        { keep: CACERTS_WRITE_FIELDS },
      ),
    );
    const restartWorkloads = toRollback(
      this.clusterMap(
        S.restartWorkloads,
        fn['restart-workloads'],
        '$.restarted',
        // resign: restart nothing, wait until the proxies serve the new intermediate (fallback: restart).
        // `writes`: reissue-intermediate's answers, when the intermediate istiod must sign with was written.
        { purpose: 'rotation', strategy: MAP_CLUSTER_STRATEGY, writes: JsonPath.listAt('$.reissued') },
        // istiod takes a changed cacerts a kubelet sync later: look again until it signs with it.
        { retryVerification: 10 },
      ),
    );
    const verifyWorkloads = toRollback(
      this.clusterMap(
        S.verifyWorkloads,
        fn['verify-workloads'],
        '$.workloadsVerified',
        {},
        { retryVerification: 5 },
      ),
    );
    const soak = new Wait(this, S.soak, {
      stateName: S.soak,
      comment:
        'At least the longest workload-certificate TTL (preflight plan; soakSeconds is the floor), so every ' +
        'certificate issued before the switch has expired or been renewed.',
      time: WaitTime.secondsPath('$.preflight.plan.soak.seconds'),
    });
    const retireRoot = toRollback(
      this.clusterMap(S.retireRoot, fn['retire-root'], '$.retired', this.receivedApproval('retire')),
    );
    // No rollback: once the fleet trusts only the new root, restoring the old one would break it; the
    // run fails with promote-root's error (and alarms) and promote-root, being idempotent, can be run again.
    const promoteRoot = this.task(S.promoteRoot, fn['promote-root'], '$.promoted', {
      executionId: EXECUTION_ID,
      stagedRoot: JsonPath.objectAt('$.stagedRoot'),
      // Their cacerts backups of this execution are deleted once the fleet trusts only the new root.
      clusters: JsonPath.listAt('$.preflight.clusters'),
      // A resumed promotion's: the stopped rotation's backups (null in a rotation: this execution's).
      [PROMOTION_OF_KEY]: JsonPath.stringAt(PROMOTION_OF),
    }).addCatch(releaseLockAfterStop, toStop);
    // A run that finishes one stopped in promote-root (docs/workflow.md, "Finishing a stopped promotion")
    // takes the lock like any run, then sets what promote-root and release-lock read from the stopped
    // run's (its input's resumePromotion) and goes straight to promote-root: no preflight, nothing else.
    // Every cluster trusts only the staged root already (retire-root completed); promote-root is idempotent.
    const resumePromotion = new Pass(this, S.resumePromotion, {
      stateName: S.resumePromotion,
      comment:
        "The stopped run's staged root and clusters; its root is promoted and its cacerts backups deleted (promotionOf).",
      parameters: {
        ...ownInput,
        [RESUME_PROMOTION_INPUT_KEY]: JsonPath.objectAt(RESUME_PROMOTION),
        [PROMOTION_OF_KEY]: JsonPath.stringAt(`${RESUME_PROMOTION}.executionArn`),
        preflight: { clusters: JsonPath.listAt(`${RESUME_PROMOTION}.clusters`) },
        stagedRoot: JsonPath.objectAt(`${RESUME_PROMOTION}.stagedRoot`),
      },
    });

    const reissueGate: IChainable = props.approval
      ? toRollback(this.approvalGate(S.approveReissue, fn['record-approval'], 'reissue')).next(
          reissueIntermediate,
        )
      : reissueIntermediate;
    const retireGate: IChainable = props.approval
      ? toRollback(this.approvalGate(S.approveRetire, fn['record-approval'], 'retire')).next(retireRoot)
      : retireRoot;

    const mode = new Choice(this, S.mode, { stateName: S.mode })
      .when(Condition.stringEquals('$.mode', 'intermediate'), reissueGate)
      .when(
        Condition.or(
          Condition.stringEquals('$.mode', 'scheduled'),
          Condition.stringEquals('$.mode', 'emergency'),
        ),
        stageRoot,
      )
      .otherwise(unsupportedMode);
    const afterWorkloads = new Choice(this, S.afterWorkloads, { stateName: S.afterWorkloads })
      .when(Condition.stringEquals('$.mode', 'intermediate'), releaseLock)
      .when(Condition.stringEquals('$.mode', 'emergency'), retireGate)
      .otherwise(soak);

    stageRoot.next(distributeBundle).next(verifyTrust).next(awaitProxyTrust).next(reissueGate);
    reissueIntermediate.next(restartWorkloads).next(verifyWorkloads).next(afterWorkloads);
    soak.next(retireGate);
    retireRoot.next(promoteRoot).next(releaseLock);

    // A rollback that failed in (or was stopped in) rollback-drop-pending had restored every cluster, and
    // its backups may be scheduled for deletion (unreadable): the resume starts there, reading no backup.
    const resumeFrom = new Choice(this, S.resumeFrom, {
      stateName: S.resumeFrom,
      comment:
        'Every cluster restored already (resumeRollback.restored): straight to rollback-drop-pending; else the whole rollback.',
    })
      .when(
        Condition.and(
          Condition.isPresent(`${RESUME}.restored`),
          Condition.booleanEquals(`${RESUME}.restored`, true),
        ),
        rollbackDropPending,
      )
      .otherwise(rollbackTrust);
    // IsPresent never fails on a missing path. "Not null" is Not(IsNull: true): aws-local-stepfunctions
    // (the rehearsal's runner) evaluates `IsNull: false` as always false, which would send a resume to
    // preflight, a whole rotation.
    const isSet = (path: string) => Condition.not(Condition.isNull(path));
    const rotateOrResume = new Choice(this, S.rotateOrResume, {
      stateName: S.rotateOrResume,
      comment:
        'A rotation goes on to preflight; an input with resumeRollback resumes that rollback, one with resumePromotion finishes that promotion.',
    })
      .when(Condition.and(isSet(RESUME), isSet(RESUME_PROMOTION)), unsupportedInput)
      .when(
        Condition.and(
          isSet(RESUME),
          Condition.isPresent(`${RESUME}.executionArn`),
          Condition.isPresent(`${RESUME}.clusters`),
          Condition.isPresent(`${RESUME}.currentRoot`),
          Condition.isPresent(`${RESUME}.stagedRoot`),
          Condition.isPresent(`${RESUME}.failure`),
          Condition.isString('$.mode'),
        ),
        resumeRollback.next(resumeFrom),
      )
      .when(
        Condition.and(
          isSet(RESUME_PROMOTION),
          Condition.isPresent(`${RESUME_PROMOTION}.executionArn`),
          Condition.isPresent(`${RESUME_PROMOTION}.clusters`),
          Condition.isPresent(`${RESUME_PROMOTION}.stagedRoot`),
          // Only resume-promotion sets promotionOf; a resumed promotion is no rollback.
          Condition.isNull(ROLLBACK_OF),
          Condition.isNull(PROMOTION_OF),
          Condition.isString('$.mode'),
        ),
        resumePromotion.next(promoteRoot),
      )
      .when(
        Condition.or(isSet(RESUME), isSet(ROLLBACK_OF), isSet(RESUME_PROMOTION), isSet(PROMOTION_OF)),
        unsupportedInput,
      )
      .otherwise(preflight);
    preflight.next(mode);

    const definition = inputDefaults
      .next(applyInputDefaults)
      .next(executionContext)
      .next(acquireLock)
      .next(rotateOrResume);

    this.stateMachine = new StateMachine(this, 'Resource', {
      stateMachineName: rotationStateMachineName(props.meshId),
      stateMachineType: StateMachineType.STANDARD,
      queryLanguage: QueryLanguage.JSON_PATH,
      definitionBody: DefinitionBody.fromChainable(definition),
      comment: `meshtrust: rotate the root CA of mesh ${props.meshId} (docs/workflow.md)`,
      timeout: props.timeout,
      tracingEnabled: true,
      // Every event, but no state input or output: an approval gate's input holds its task token, a
      // capability to approve or reject the run, which must never reach a log group. What the trail
      // needs of the data is in the phases' audit events (docs/deploy.md, "Find the audit trail").
      logs: { destination: props.logGroup, level: LogLevel.ALL, includeExecutionData: false },
    });
  }

  /** A Lambda Task whose Resource is the function ARN, retried on transient errors. */
  private task(
    state: string,
    lambda: IFunction,
    resultPath: string,
    payload?: Record<string, unknown>,
    keep?: KeptPaths,
  ): LambdaInvoke {
    const task = new LambdaInvoke(this, state, {
      stateName: state,
      lambdaFunction: lambda,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      ...(payload === undefined ? {} : { payload: TaskInput.fromObject(payload) }),
      ...(keep === undefined ? {} : { resultSelector: keptFields(keep) }),
      resultPath,
    });
    task.addRetry({
      errors: [...TRANSIENT_ERRORS],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 6,
      maxDelay: Duration.minutes(1),
      jitterStrategy: JitterType.FULL,
    });
    return task;
  }

  /**
   * A Map over `$.preflight.clusters` whose per-cluster Task gets
   * `{ executionId, mode, cluster, currentRoot, stagedRoot, ...extra }` and nothing else. Distributed
   * (`distributedMaps`), each cluster is a Standard child execution labelled with the state's name, none
   * of them tolerated to fail: its Retry stays on the Task in the child, a Catch goes on the Map.
   */
  private clusterMap(
    state: WorkflowStateName,
    lambda: IFunction,
    resultPath: string,
    extra: Record<string, unknown> = {},
    options: { retryVerification?: number; keep?: KeptPaths } = {},
  ): ClusterMap {
    const mapProps = {
      stateName: state,
      itemsPath: '$.preflight.clusters',
      maxConcurrency: this.props.maxConcurrency,
      itemSelector: {
        executionId: EXECUTION_ID,
        mode: JsonPath.stringAt('$.mode'),
        cluster: MAP_CLUSTER,
        currentRoot: JsonPath.objectAt('$.preflight.currentRoot'),
        stagedRoot: JsonPath.objectAt('$.stagedRoot'),
        ...extra,
      },
      resultPath,
    };
    if (this.props.distributedMaps) this.distributedMapLabels.push(state);
    const map = this.props.distributedMaps
      ? new DistributedMap(this, state, {
          ...mapProps,
          label: state,
          mapExecutionType: StateMachineType.STANDARD,
        })
      : new MapState(this, state, mapProps);
    const restartLoop = RESTART_LOOP_MAP_STATES.find((name) => name === state);
    // The per-cluster Task's input is exactly the item built above (plus, in a restart loop, the
    // previous answer in `progress`). Its answer stays in the state only as far as a later state reads it
    // (contract/map-answers.ts): the whole answer is in the history and the audit event.
    const perCluster = restartLoop
      ? this.task(clusterTaskName(state), lambda, '$.progress')
      : this.task(clusterTaskName(state), lambda, '$', undefined, options.keep ?? ANSWERED_FIELDS);
    if (options.retryVerification !== undefined) {
      // istiod pushes a new bundle to every namespace within seconds to minutes: look again later.
      perCluster.addRetry({
        errors: ['VerificationFailed'],
        interval: Duration.seconds(15),
        backoffRate: 1.5,
        maxAttempts: options.retryVerification,
        maxDelay: Duration.minutes(2),
        jitterStrategy: JitterType.FULL,
      });
    }
    if (restartLoop !== undefined) this.loopUntilDone(restartLoop, perCluster);
    return map.itemProcessor(perCluster);
  }

  /**
   * The restart of one cluster as a loop (RESTART_LOOP_MAP_STATES): the Task answers `done: false`
   * with a cursor while waves remain, and is invoked again with that answer as `progress`. Its work is
   * idempotent (the restart id), so an invocation Lambda stopped is retried rather than rolled back.
   */
  private loopUntilDone(state: RestartLoopMapState, perCluster: LambdaInvoke): void {
    perCluster.addRetry({
      errors: [...INTERRUPTED_INVOCATION_ERRORS],
      interval: Duration.seconds(5),
      backoffRate: 2,
      maxAttempts: 3,
      jitterStrategy: JitterType.FULL,
    });
    // A Pass, not a Succeed (which can only pick one path): the state keeps which cluster answered, as
    // every Map no later state reads does; the handler's last answer is in the history and the audit.
    const done = new Pass(this, clusterDoneName(state), {
      stateName: clusterDoneName(state),
      comment:
        "The cluster's workloads are restarted: its result names the cluster (the answers are in the history).",
      parameters: keptFields(ANSWERED_FIELDS, '$.progress'),
    });
    // Only an answer that says `done: false` loops: a Choice on a field that is absent would fail the
    // execution with States.Runtime, which no Catch takes, so the run would not even roll back.
    const wavesLeft = new Choice(this, clusterWavesLeftName(state), {
      stateName: clusterWavesLeftName(state),
      comment: 'Waves remain in this cluster: restart-workloads again, from the cursor it returned.',
    })
      .when(
        Condition.and(
          Condition.isPresent('$.progress.done'),
          Condition.booleanEquals('$.progress.done', false),
        ),
        perCluster,
      )
      .otherwise(done);
    perCluster.next(wavesLeft);
  }

  /**
   * With approval gates, the step after each gate gets the gate's result as `approval`, and goes on only
   * when it names the approval record answer-approval wrote (a direct SendTaskSuccess cannot): no new
   * state, so the history estimate holds as it is.
   */
  private receivedApproval(gate: 'reissue' | 'retire'): Record<string, string> {
    return this.props.approval ? { approval: JsonPath.stringAt(`$.approvals.${gate}`) } : {};
  }

  /** Invoke record-approval with a task token and wait until `meshtrust approve` sends it back. */
  private approvalGate(
    state: WorkflowStateName,
    lambda: IFunction,
    gate: 'reissue' | 'retire',
  ): LambdaInvoke {
    const task = new LambdaInvoke(this, state, {
      stateName: state,
      lambdaFunction: lambda,
      integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: TaskInput.fromObject({
        executionId: EXECUTION_ID,
        gate,
        mode: JsonPath.stringAt('$.mode'),
        taskToken: JsonPath.taskToken,
      }),
      resultPath: `$.approvals.${gate}`,
      taskTimeout: Timeout.duration(this.props.approvalTimeout),
      retryOnServiceExceptions: false,
    });
    task.addRetry({
      errors: [...TRANSIENT_ERRORS],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 6,
      jitterStrategy: JitterType.FULL,
    });
    return task;
  }
}
