// The kill cases inside an approval gate come from the definition of the stack synthesized with approval
// on: one per gate (a Task whose Resource waits for a task token) that each mode's forward path enters,
// the killed run's gates answered late so the kill lands while the execution waits in one. A small
// definition of the rotation's shape stands in for the synthesized one, with and without its gates.
import {
  approvalGateKillCases,
  approvalGateStates,
  GATE_ANSWER_DELAY_SECONDS,
  GATE_ANSWER_HOLD_SECONDS,
  runsWithGates,
  withDelayedGateAnswers,
} from '../../../chaos/approval-gate-kill-cases.js';
import { matrixOf } from '../../../chaos/chaos-cli.js';
import { killCases } from '../../../chaos/kill-cases.js';
import type { Definition } from '../../../chaos/state-graph.js';
import { GATE_ANSWER_HOLD_ENV } from '../../../rehearsal/gate-answer-hold.js';

const CLUSTERS = ['lab-1', 'lab-2'];
const toRollback = [{ ErrorEquals: ['States.ALL'], Next: 'rollback-trust' }];
const DELAYED = ['--approve-delay', String(GATE_ANSWER_DELAY_SECONDS)];
const GATE_KILLS = [
  'kill/scheduled/approve-reissue',
  'kill/scheduled/approve-retire',
  'kill/emergency/approve-reissue',
  'kill/emergency/approve-retire',
  'kill/intermediate/approve-reissue',
];
const ANSWER_HELD_KILLS = GATE_KILLS.map((id) => `${id}/answer-held`);

function task(next: string) {
  return { Type: 'Task', Resource: 'arn:aws:lambda:::function:Fn', Next: next, Catch: toRollback };
}

function gate(next: string) {
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
    Parameters: { FunctionName: 'arn:aws:lambda:::function:RecordApproval', Payload: {} },
    Next: next,
    Catch: toRollback,
  };
}

function clusterMap(name: string, next: string) {
  return {
    Type: 'Map',
    ItemProcessor: {
      StartAt: `${name}-in-cluster`,
      States: { [`${name}-in-cluster`]: { Type: 'Task', Resource: 'arn:x', End: true } },
    },
    Next: next,
    Catch: toRollback,
  };
}

/** The rotation's shape; with `gates`, approve-reissue and approve-retire before the steps they guard. */
function definition(gates: boolean): Definition {
  const reissue = gates ? 'approve-reissue' : 'reissue-intermediate';
  const retire = gates ? 'approve-retire' : 'retire-root';
  return {
    StartAt: 'acquire-lock',
    States: {
      'acquire-lock': task('mode'),
      mode: {
        Type: 'Choice',
        Choices: [{ Variable: '$.mode', StringEquals: 'intermediate', Next: reissue }],
        Default: 'stage-root',
      },
      'stage-root': task('distribute-bundle'),
      'distribute-bundle': clusterMap('distribute-bundle', reissue),
      ...(gates ? { 'approve-reissue': gate('reissue-intermediate') } : {}),
      'reissue-intermediate': clusterMap('reissue-intermediate', 'after-workloads'),
      'after-workloads': {
        Type: 'Choice',
        Choices: [{ Variable: '$.mode', StringEquals: 'intermediate', Next: 'release-lock' }],
        Default: retire,
      },
      ...(gates ? { 'approve-retire': gate('retire-root') } : {}),
      'retire-root': clusterMap('retire-root', 'release-lock'),
      'release-lock': task('done'),
      done: { Type: 'Succeed' },
      'rollback-trust': {
        ...clusterMap('rollback-trust', 'rolled-back'),
        Catch: [{ ErrorEquals: ['States.ALL'], Next: 'rollback-failed' }],
      },
      'rolled-back': { Type: 'Fail', Error: 'RotationRolledBack' },
      'rollback-failed': { Type: 'Fail', Error: 'RollbackFailed' },
    },
  };
}

function failAtStates(withGates: boolean): string[] {
  return Object.entries(definition(withGates).States ?? {})
    .filter(([, state]) => state.Type === 'Task' || state.Type === 'Map')
    .map(([name]) => name);
}

/** What the matrix gives the kill cases: the definition, its fail-at states, the fleet. */
function gated() {
  return { definition: definition(true), failAtStates: failAtStates(true), clusters: CLUSTERS };
}

function ungated() {
  return { definition: definition(false), failAtStates: failAtStates(false), clusters: CLUSTERS };
}

describe('approvalGateStates', () => {
  it('names the Tasks that wait for a task token, and nothing else', () => {
    // Act
    const gates = approvalGateStates(definition(true));

    // Assess
    expect([...gates].sort()).toEqual(['approve-reissue', 'approve-retire']);
  });

  it('finds none in a stack synthesized without approval', () => {
    // Act / Assess
    expect(approvalGateStates(definition(false)).size).toBe(0);
  });
});

describe('approvalGateKillCases', () => {
  it('kills in each gate each mode enters, in order: both in scheduled and emergency, the reissue gate in intermediate', () => {
    // Act
    const cases = approvalGateKillCases(gated()).slice(0, GATE_KILLS.length);

    // Assess
    expect(cases.map((killCase) => killCase.id)).toEqual(GATE_KILLS);
    expect(cases.map((killCase) => killCase.killAt)).toEqual(
      cases.map((killCase) => ({ state: killCase.id.split('/')[2], inIteration: false })),
    );
  });

  it('kills in each of those gates once more with its answer on the way: answered at once, the answer held, the kill once the run says so', () => {
    // Act
    const cases = approvalGateKillCases(gated()).slice(GATE_KILLS.length);

    // Assess
    expect(cases.map((killCase) => killCase.id)).toEqual(ANSWER_HELD_KILLS);
    for (const killCase of cases) {
      expect(killCase).toMatchObject({
        assembly: 'approval',
        killAt: { state: killCase.id.split('/')[2], inIteration: false, answerHeld: true },
        killedRunEnv: { [GATE_ANSWER_HOLD_ENV]: String(GATE_ANSWER_HOLD_SECONDS) },
        expected: { result: 'SUCCEEDED' },
      });
      // Not answered late: the answer must be sent for it to be held.
      expect(killCase.killedRunFlags).toBeUndefined();
    }
    expect(GATE_ANSWER_HOLD_SECONDS).toBeGreaterThanOrEqual(10);
  });

  it('runs them on the approval assembly, the killed run alone answering its gates late', () => {
    // Act
    const [scheduled, , , , intermediate] = approvalGateKillCases(gated());

    // Assess
    expect(scheduled).toMatchObject({
      assembly: 'approval',
      flags: ['--mode', 'scheduled'],
      killedRunFlags: DELAYED,
      expected: { result: 'SUCCEEDED' },
    });
    expect(runsWithGates(scheduled as object)).toBe(true);
    expect(intermediate).toMatchObject({
      flags: ['--mode', 'intermediate', '--cluster', 'lab-2'],
      rekeyed: 'lab-2',
      killedRunFlags: DELAYED,
    });
  });

  it('leaves out every kill case that is not in a gate: those run on the chaos stack', () => {
    // Prepare
    const input = gated();

    // Act
    const gateIds = new Set(approvalGateKillCases(input).map((killCase) => killCase.id));

    // Assess
    const others = killCases(input).filter((killCase) => !gateIds.has(killCase.id));
    expect(others.length).toBeGreaterThan(0);
    expect(others.some((killCase) => /approve-/.test(killCase.killAt.state))).toBe(false);
  });

  it('refuses an approval assembly without gates: its cases would prove nothing', () => {
    // Act / Assess
    expect(() => approvalGateKillCases(ungated())).toThrow(/no approval gate/);
  });
});

describe('withDelayedGateAnswers', () => {
  it("delays the gates' answer of the cases that kill in one, for an assembly with gates run as it is", () => {
    // Act
    const cases = withDelayedGateAnswers(gated());

    // Assess
    const delayed = cases.filter((killCase) => killCase.killedRunFlags !== undefined);
    expect(delayed.map((killCase) => killCase.id)).toEqual(GATE_KILLS);
    expect(delayed.every((killCase) => killCase.killedRunFlags?.join(' ') === DELAYED.join(' '))).toBe(true);
    expect(
      cases.filter((killCase) => killCase.killAt.answerHeld === true).map((killCase) => killCase.id),
    ).toEqual(ANSWER_HELD_KILLS);
    expect(cases.some(runsWithGates)).toBe(false);
  });

  it('changes nothing of a stack without gates', () => {
    // Prepare
    const input = ungated();

    // Act / Assess
    expect(withDelayedGateAnswers(input)).toEqual(killCases(input));
  });
});

describe('matrixOf', () => {
  /** A synthesized template holding the definition, as cdk.out's does (its DefinitionString). */
  function template(withGates: boolean) {
    return {
      Resources: {
        Rotation: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: { DefinitionString: JSON.stringify(definition(withGates)) },
        },
      },
    };
  }

  it("appends the approval assembly's gate kill cases and leaves every case of the chaos stack as it was", () => {
    // Prepare
    const alone = matrixOf(template(false), 2);

    // Act
    const matrix = matrixOf(template(false), 2, template(true));

    // Assess
    expect(matrix.slice(0, alone.length)).toEqual(alone);
    expect(matrix.slice(alone.length).map((chaosCase) => chaosCase.id)).toEqual([
      ...GATE_KILLS,
      ...ANSWER_HELD_KILLS,
    ]);
    expect(matrix.slice(alone.length).every(runsWithGates)).toBe(true);
    expect(alone.some((chaosCase) => chaosCase.id.includes('approve-'))).toBe(false);
  });

  it('takes an assembly with gates run as it is (--cdk-out) once: its gate cases delayed, none added twice', () => {
    // Act
    const matrix = matrixOf(template(true), 2, template(true));

    // Assess
    const ids = matrix.map((chaosCase) => chaosCase.id);
    expect(new Set(ids).size).toBe(ids.length);
    const gateKills = matrix.filter((chaosCase) => /^kill\/[a-z]+\/approve-[a-z]+$/.test(chaosCase.id));
    expect(gateKills).toHaveLength(5);
    expect(ids.filter((id) => id.endsWith('/answer-held'))).toEqual(ANSWER_HELD_KILLS);
    expect(gateKills.every((chaosCase) => !runsWithGates(chaosCase))).toBe(true);
    expect(gateKills.map((chaosCase) => (chaosCase as { killedRunFlags?: unknown }).killedRunFlags)).toEqual(
      gateKills.map(() => DELAYED),
    );
  });
});
