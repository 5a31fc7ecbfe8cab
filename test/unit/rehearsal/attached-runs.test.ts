// The records an attached rehearsal keeps in the lab's directory, and how the next run reads them: a
// live run is never touched, a dead one is stopped and judged by the states it had entered.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ATTACHED_RUNS_DIR,
  type AttachedRunRecord,
  attachedRunJournal,
  DeadRunLeftPartWayError,
  findDeadAttachedRuns,
  stopDeadAttachedRuns,
} from '../../../rehearsal/fleet/attached-runs.js';

const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:meshtrust-lab';
/** Nothing listens there: StopExecution fails, as for an execution moto has stopped already. */
const NO_MOTO = {
  endpoint: 'http://127.0.0.1:9',
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
};

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshtrust-attached-runs-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A pid no process has: far above Linux's pid_max default. */
const GONE_PID = 2 ** 22 + 7;

async function writeRecord(name: string, fields: Partial<AttachedRunRecord>): Promise<void> {
  const record: AttachedRunRecord = {
    schemaVersion: 1,
    pid: GONE_PID,
    executionArn: `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${name}`,
    stateMachineArn: STATE_MACHINE,
    name,
    startDate: '2026-12-01T10:00:00.000Z',
    events: [],
    statesEntered: [],
    ...fields,
  };
  await mkdir(join(dir, ATTACHED_RUNS_DIR), { recursive: true });
  await writeFile(join(dir, ATTACHED_RUNS_DIR, `${name}.json`), JSON.stringify(record));
}

/**
 * The record at `file` once `done` holds of it: entered() writes in the background, and a fixed sleep
 * lost that race on a loaded CI machine. Gives up after 10 s with the last record read, so that a
 * write that never lands still fails the assertions.
 */
async function recordOnceWritten(
  file: string,
  done: (record: AttachedRunRecord) => boolean,
): Promise<AttachedRunRecord | undefined> {
  let last: AttachedRunRecord | undefined;
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    last = await readFile(file, 'utf8')
      .then((text) => JSON.parse(text) as AttachedRunRecord)
      .catch(() => last);
    if (last !== undefined && done(last)) return last;
    await new Promise((wake) => setTimeout(wake, 20));
  }
  return last;
}

/** A preflight input as the state machine passes it: what the rollback stages read. */
const PREFLIGHT_STATE = {
  mode: 'scheduled',
  preflight: {
    clusters: [{ name: 'lab-1' }],
    currentRoot: {
      secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:root',
      versionId: 'v1',
      fingerprint: 'a'.repeat(64),
    },
  },
  stagedRoot: {
    secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:root',
    versionId: 'v2',
    fingerprint: 'b'.repeat(64),
  },
};

describe('attachedRunJournal', () => {
  it('records the execution with this process as its pid while it runs, and removes the record when it ends', async () => {
    // Prepare
    const journal = attachedRunJournal(dir)();

    // Act
    journal.started({
      executionArn: `${STATE_MACHINE}:run-1`,
      stateMachineArn: STATE_MACHINE,
      name: 'run-1',
      startDate: new Date(),
    });
    journal.entered(
      {
        type: 'TaskStateEntered',
        timestamp: new Date(),
        stateEnteredEventDetails: { name: 'acquire-lock', input: '{}' },
      },
      { name: 'acquire-lock', input: { executionId: 'x' } },
    );
    const whileRunning = await recordOnceWritten(
      join(dir, ATTACHED_RUNS_DIR, 'run-1.json'),
      (record) => record.statesEntered.length > 0,
    );
    const deadWhileRunning = await findDeadAttachedRuns(dir);
    await journal.ended();

    // Assess
    expect(whileRunning).toMatchObject({
      pid: process.pid,
      statesEntered: ['acquire-lock'],
      finalState: { executionId: 'x' },
    });
    expect(deadWhileRunning).toEqual([]);
    expect(await readdir(join(dir, ATTACHED_RUNS_DIR))).toEqual([]);
  });

  it('has the record on disk when started() resolves, before anything else is written', async () => {
    // Prepare
    const journal = attachedRunJournal(dir)();

    // Act: what the runner awaits before StartExecution
    await journal.started({
      executionArn: `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:run-2`,
      stateMachineArn: STATE_MACHINE,
      name: 'run-2',
      startDate: new Date(),
    });
    const onDisk = JSON.parse(
      await readFile(join(dir, ATTACHED_RUNS_DIR, 'run-2.json'), 'utf8'),
    ) as AttachedRunRecord;
    await journal.ended();

    // Assess
    expect(onDisk).toMatchObject({ pid: process.pid, name: 'run-2', statesEntered: [] });
  });

  it('keeps the record of an execution its run aborted (an interrupt), for the next run to judge', async () => {
    // Prepare
    const journal = attachedRunJournal(dir)();
    journal.started({
      executionArn: `${STATE_MACHINE}:interrupted`,
      stateMachineArn: STATE_MACHINE,
      name: 'interrupted',
      startDate: new Date(),
    });

    // Act
    await journal.ended({ aborted: true });

    // Assess
    expect(await readdir(join(dir, ATTACHED_RUNS_DIR))).toEqual(['interrupted.json']);
  });
});

describe('findDeadAttachedRuns', () => {
  it('leaves out a live run and finds one whose process is gone', async () => {
    // Prepare
    await writeRecord('live', { pid: process.pid });
    await writeRecord('dead', {});

    // Act
    const dead = await findDeadAttachedRuns(dir);

    // Assess
    expect(dead.map(({ record }) => record.name)).toEqual(['dead']);
  });

  it('takes a record whose pid now runs another process (another start time) for a dead run', async () => {
    // Prepare
    await writeRecord('reused-pid', { pid: process.pid, pidStartTicks: '1' });

    // Act
    const dead = await findDeadAttachedRuns(dir);

    // Assess
    expect(dead.map(({ record }) => record.name)).toEqual(['reused-pid']);
  });
});

describe('stopDeadAttachedRuns', () => {
  const quick = { moto: NO_MOTO, note: () => undefined, wait: async () => undefined };
  /** stopDeadAttachedRuns over `dir` without --retry-rollback, with the notes it printed. */
  const stopKeepingNotes = async () => {
    const notes: string[] = [];
    const found = await stopDeadAttachedRuns({
      ...quick,
      dir,
      retryRollback: false,
      note: (line) => notes.push(line),
    });
    return { found, notes };
  };

  it('lets a run go on over a dead run that stopped before its first write, and forgets it', async () => {
    // Prepare
    await writeRecord('before-write', {
      statesEntered: ['input-defaults', 'acquire-lock', 'preflight'],
      finalState: {},
    });

    // Act
    const { found, notes } = await stopKeepingNotes();
    await found.forget();

    // Assess
    expect(found.rollBack).toBeUndefined();
    expect(found.recorded.map((execution) => [execution.name, execution.status])).toEqual([
      ['before-write', 'ABORTED'],
    ]);
    expect(notes[0]).toContain('left execution before-write unfinished');
    expect(notes[0]).toContain('stopping it (StopExecution)');
    expect(await readdir(join(dir, ATTACHED_RUNS_DIR))).toEqual([]);
  });

  it('lets a run go on over one killed before StartExecution reached moto (no state entered), and forgets it', async () => {
    // Prepare: the record the runner writes first; NO_MOTO fails StopExecution as moto would for an
    // execution it never started
    await writeRecord('never-started', {});

    // Act
    const found = await stopDeadAttachedRuns({ ...quick, dir, retryRollback: false });
    await found.forget();

    // Assess
    expect(found.rollBack).toBeUndefined();
    expect(found.recorded.map((execution) => execution.name)).toEqual(['never-started']);
    expect(await readdir(join(dir, ATTACHED_RUNS_DIR))).toEqual([]);
  });

  it('refuses over a dead run that wrote, naming --retry-rollback, and keeps its record', async () => {
    // Prepare
    await writeRecord('wrote', {
      statesEntered: [
        'input-defaults',
        'acquire-lock',
        'preflight',
        'stage-root',
        'distribute-bundle',
        'soak',
      ],
      finalState: PREFLIGHT_STATE,
    });

    // Act
    const stop = stopDeadAttachedRuns({ ...quick, dir, retryRollback: false });

    // Assess
    await expect(stop).rejects.toThrow(DeadRunLeftPartWayError);
    await expect(stop).rejects.toThrow(`--lab ${dir} --retry-rollback`);
    expect(await readdir(join(dir, ATTACHED_RUNS_DIR))).toEqual(['wrote.json']);
  });

  it('with retryRollback hands back the rollback of the dead run that wrote', async () => {
    // Prepare
    await writeRecord('wrote', {
      statesEntered: ['input-defaults', 'acquire-lock', 'preflight', 'stage-root', 'soak'],
      finalState: PREFLIGHT_STATE,
    });

    // Act
    const found = await stopDeadAttachedRuns({ ...quick, dir, retryRollback: true });

    // Assess
    expect(found.rollBack?.deadName).toBe('wrote');
    expect(found.rollBack?.decision).toMatchObject({
      mode: 'scheduled',
      resumeRollback: { resumedFrom: expect.stringContaining(':wrote'), stagedRoot: { versionId: 'v2' } },
    });
  });

  /**
   * The rotation killed in retire-root, and the --retry-rollback run that resumed its rollback, killed
   * after `rollbackStates` (the rollback stages it entered).
   */
  async function writeRotationAndKilledResume(rollbackStates: readonly string[]): Promise<void> {
    const rotationArn = `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:rotation`;
    await writeRecord('rotation', {
      statesEntered: ['input-defaults', 'acquire-lock', 'preflight', 'stage-root', 'retire-root'],
      finalState: PREFLIGHT_STATE,
    });
    await writeRecord('rotation-rollback', {
      startDate: '2026-12-01T10:05:00.000Z',
      statesEntered: ['input-defaults', 'acquire-lock', 'resume-rollback', ...rollbackStates],
      finalState: {
        ...PREFLIGHT_STATE,
        resumeRollback: {
          executionArn: rotationArn,
          resumedFrom: rotationArn,
          clusters: PREFLIGHT_STATE.preflight.clusters,
          currentRoot: PREFLIGHT_STATE.preflight.currentRoot,
          stagedRoot: PREFLIGHT_STATE.stagedRoot,
          failure: null,
          rollbackFailure: null,
          restored: false,
        },
      },
    });
  }

  it('lets a run go on when a dead resume completed the rollback of the dead run it resumed', async () => {
    // Prepare: the resume killed once its rollback had completed (in release-lock-after-rollback)
    await writeRotationAndKilledResume([
      'rollback-trust',
      'rollback-restore',
      'rollback-drop-pending',
      'release-lock-after-rollback',
    ]);

    // Act
    const { found, notes } = await stopKeepingNotes();
    await found.forget();

    // Assess
    expect(found.rollBack).toBeUndefined();
    expect(notes.join('\n')).toContain(
      'rotation: nothing of it to undo (rotation-rollback completed its rollback)',
    );
    expect(await readdir(join(dir, ATTACHED_RUNS_DIR))).toEqual([]);
  });

  it('still rolls back the dead run a dead resume stopped part-way in its rollback', async () => {
    // Prepare: the resume killed in rollback-restore, before its rollback completed
    await writeRotationAndKilledResume(['rollback-trust', 'rollback-restore']);

    // Act
    const found = await stopDeadAttachedRuns({ ...quick, dir, retryRollback: true });

    // Assess
    expect(found.rollBack?.deadName).toBe('rotation-rollback');
  });

  it('hands back the promotion of a dead run that stopped in promote-root, without --retry-rollback: nothing to undo', async () => {
    // Prepare: killed in promote-root, after retire-root moved every cluster to the staged root alone
    await writeRecord('in-promote-root', {
      statesEntered: [
        'input-defaults',
        'acquire-lock',
        'preflight',
        'stage-root',
        'retire-root',
        'promote-root',
      ],
      finalState: PREFLIGHT_STATE,
    });

    // Act
    const { found, notes } = await stopKeepingNotes();

    // Assess
    expect(found.rollBack).toBeUndefined();
    expect(found.promote).toMatchObject({
      how: 'promotion',
      deadName: 'in-promote-root',
      decision: {
        mode: 'scheduled',
        resumePromotion: {
          resumedFrom: expect.stringContaining(':in-promote-root'),
          stagedRoot: { versionId: 'v2' },
          clusters: [{ name: 'lab-1' }],
        },
      },
    });
    expect(notes.join('\n')).toContain('meshtrust retry-promotion in-promote-root');
  });

  it('removes a record half-written by a process that is gone', async () => {
    // Prepare
    await writeRecord('dead', {});
    await writeFile(join(dir, ATTACHED_RUNS_DIR, `dead.json.${GONE_PID}.tmp`), '{"schema');
    await writeFile(join(dir, ATTACHED_RUNS_DIR, `live.json.${process.pid}.tmp`), '{"schema');

    // Act
    const found = await stopDeadAttachedRuns({ ...quick, dir, retryRollback: false });
    await found.forget();

    // Assess
    expect(await readdir(join(dir, ATTACHED_RUNS_DIR))).toEqual([`live.json.${process.pid}.tmp`]);
  });
});
