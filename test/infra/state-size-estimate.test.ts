// preflight's bound on the state's size (lambdas/core/plan/state-size-estimate.ts) counts, per cluster,
// what each Map keeps of its answers. Held here to the synthesized definition: a Map that keeps another
// field, or a Map added, fails this test until the estimate counts it.
import { PREFLIGHT_KEPT_PATHS } from '../../lambdas/contract/preflight-answer.js';
import { KEPT_PER_CLUSTER } from '../../lambdas/core/plan/state-size-estimate.js';
import {
  CLUSTER_MAP_STATES,
  clusterDoneName,
  clusterTaskName,
  RESTART_LOOP_MAP_STATES,
  type RestartLoopMapState,
} from '../../lib/workflow-states.js';
import { type Asl, aslOf, synthMeshTrustStack } from './synth-mesh-trust-stack.js';

/** The fields a template keeps, as `"field.$": "$...field"` entries. */
function keptFieldsOf(template: Record<string, unknown> | undefined): string[] {
  return Object.keys(template ?? {}).map((key) => key.replace(/\.\$$/, ''));
}

/** A template's kept values as [dotted path, JSONPath], depth first: `{ a: { "b.$": "$.a.b" } }` -> a.b. */
function keptPathsOf(template: unknown, prefix = ''): [string, unknown][] {
  return Object.entries((template ?? {}) as Record<string, unknown>).flatMap(([key, value]) =>
    key.endsWith('.$')
      ? [[`${prefix}${key.slice(0, -2)}`, value] as [string, unknown]]
      : keptPathsOf(value, `${prefix}${key}.`),
  );
}

describe('the state-size estimate against the synthesized state machine', () => {
  let asl: Asl;

  beforeAll(() => {
    asl = aslOf(synthMeshTrustStack({ approval: true }));
  });

  it('counts for each per-cluster Map exactly the fields its answers keep in the state', () => {
    // WHEN: a Map's iteration ends in its per-cluster Task (ResultSelector) or, in a restart loop, in
    // `<map>-cluster-done` (Parameters over the last answer).
    const kept = CLUSTER_MAP_STATES.map((map) => {
      const states = asl.States[map]?.ItemProcessor?.States ?? {};
      const loop = (RESTART_LOOP_MAP_STATES as readonly string[]).includes(map);
      const end = loop
        ? states[clusterDoneName(map as RestartLoopMapState)]?.Parameters
        : states[clusterTaskName(map)]?.ResultSelector;
      return keptFieldsOf(end as Record<string, unknown> | undefined);
    });

    // THEN: the same fields, Map for Map, in the order the worst case runs them.
    expect(kept.every((fields) => fields.includes('cluster'))).toBe(true);
    expect(kept).toEqual(KEPT_PER_CLUSTER.map((fields) => [...fields]));
  });

  it("keeps of preflight's answer exactly the paths preflight counts, each at its own place", () => {
    expect(keptPathsOf(asl.States.preflight?.ResultSelector)).toEqual(
      PREFLIGHT_KEPT_PATHS.map((path) => [path, `$.${path}`]),
    );
    expect(asl.States.preflight?.ResultPath).toBe('$.preflight');
  });

  it('keeps nothing of the wait Map, whose per-cluster waits end in the state only as their Map', () => {
    expect(asl.States['rollback-await-proxy-trust']?.ResultPath).toBeNull();
  });
});
