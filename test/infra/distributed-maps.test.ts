import aslValidator from 'asl-validator';
import { CLUSTER_MAP_STATES, WORKFLOW_STATES } from '../../lib/workflow-states.js';
import {
  type Asl,
  type AslState,
  aslOf,
  resourcesOfType,
  type SynthesizedMeshTrustStack,
  synthMeshTrustStack,
} from './synth-mesh-trust-stack.js';

// `distributedMaps` (docs/workflow.md, "Fleets past one execution's history", slice 4): each per-cluster
// Map a Distributed Map, one Standard child execution per cluster, and nothing else changed.

type PolicyStatement = { Action: string | string[]; Resource: unknown };

/** The statements of the policy CDK adds to the state machine's role for its Distributed Maps. */
function distributedMapStatements(synthesized: SynthesizedMeshTrustStack): PolicyStatement[] {
  return resourcesOfType(synthesized.template, 'AWS::IAM::Policy')
    .filter(([id]) => id.includes('DistributedMapPolicy'))
    .flatMap(([, props]) => (props.PolicyDocument as { Statement: PolicyStatement[] }).Statement);
}

describe('the rotation state machine with Distributed Maps', () => {
  let distributed: SynthesizedMeshTrustStack;
  let inline: SynthesizedMeshTrustStack;
  let asl: Asl;
  let inlineAsl: Asl;

  beforeAll(() => {
    distributed = synthMeshTrustStack({ approval: true, maxConcurrency: 3, distributedMaps: true });
    inline = synthMeshTrustStack({ approval: true, maxConcurrency: 3 });
    asl = aslOf(distributed);
    inlineAsl = aslOf(inline);
  });

  it('runs each per-cluster Map as Standard children labelled with its name, none tolerated to fail', () => {
    // WHEN
    const maps = CLUSTER_MAP_STATES.map((name) => [name, asl.States[name] as AslState] as const);

    // THEN
    for (const [name, map] of maps) {
      expect(map.Type).toBe('Map');
      expect(map.ItemProcessor).toMatchObject({
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
      });
      expect(map.Label).toBe(name);
      // one cluster per child, so that a failed child names one cluster; no S3 in or out
      for (const field of [
        'ToleratedFailureCount',
        'ToleratedFailurePercentage',
        'ToleratedFailureCountPath',
        'ToleratedFailurePercentagePath',
        'ItemBatcher',
        'ItemReader',
        'ResultWriter',
        'Retry',
      ]) {
        expect(map).not.toHaveProperty(field);
      }
    }
    // The Map of Waits keeps no per-cluster history worth a child: it stays inline.
    expect(asl.States[WORKFLOW_STATES.rollbackAwaitProxyTrust]?.ItemProcessor).toMatchObject({
      ProcessorConfig: { Mode: 'INLINE' },
    });
  });

  it('is otherwise the inline definition: the same items, selectors, Catches on the Map and Retries in the child', () => {
    // GIVEN
    const withoutDistribution = (definition: Asl): Asl => {
      const states = Object.fromEntries(
        Object.entries(definition.States).map(([name, state]) => {
          if (state.Type !== 'Map') return [name, state];
          const { Label: _label, ItemProcessor, ...rest } = state;
          const { ProcessorConfig: _config, ...processor } = ItemProcessor as Record<string, unknown>;
          return [name, { ...rest, ItemProcessor: processor }];
        }),
      );
      return { ...definition, States: states };
    };

    // THEN
    expect(withoutDistribution(asl)).toEqual(withoutDistribution(inlineAsl));
    expect(JSON.stringify(asl)).not.toEqual(JSON.stringify(inlineAsl));
  });

  it('is valid Amazon States Language for asl-validator', () => {
    // WHEN
    const result = aslValidator(asl as never);

    // THEN
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it("lets the state machine start, describe and stop its own children, and redrive each Map Run's, nothing wider", () => {
    // WHEN
    const statements = distributedMapStatements(distributed);
    const rendered = statements.map((statement) => ({
      actions: [statement.Action].flat().sort(),
      resource: JSON.stringify(statement.Resource),
    }));

    // THEN
    const [stateMachineId] = Object.keys(
      distributed.template.findResources('AWS::StepFunctions::StateMachine'),
    );
    expect(rendered).toHaveLength(3);
    expect(rendered[0]).toEqual({
      actions: ['states:StartExecution'],
      resource: JSON.stringify({ Ref: stateMachineId }),
    });
    expect(rendered[1]?.actions).toEqual(['states:DescribeExecution', 'states:StopExecution']);
    expect(rendered[1]?.resource).toMatch(/:execution:".*\{"Ref":"[^"]+"\}.*":\*"\]/);
    expect(rendered[2]?.actions).toEqual(['states:RedriveExecution']);
    for (const label of CLUSTER_MAP_STATES) expect(rendered[2]?.resource).toContain(`/${label}:*`);
    for (const { resource } of rendered) expect(resource).not.toMatch(/"\*"|execution:\*/);
    // the inline definition needs none of it
    expect(distributedMapStatements(inline)).toEqual([]);
  });
});
