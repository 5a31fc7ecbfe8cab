import {
  admitWave,
  blockedNow,
  budgetsCovering,
  type DisruptionBudget,
  describeHeldWorkload,
  type HeldWorkload,
  heldWorkloadsHint,
  selectorSelects,
  type WaveWorkload,
} from '../../../../lambdas/core/rotation/disruption-budget.js';
import type { WorkloadPosition } from '../../../../lambdas/core/rotation/restart-progress.js';

const deployment = (name: string, namespace = 'shop'): WorkloadPosition => ({
  namespace,
  kind: 'Deployment',
  name,
});

function budget(
  name: string,
  app: string,
  disruptionsAllowed: number,
  extra: Partial<DisruptionBudget> = {},
) {
  return {
    namespace: 'shop',
    name,
    selector: { matchLabels: { app } },
    spec: 'minAvailable: 2',
    disruptionsAllowed,
    currentHealthy: 2 + disruptionsAllowed,
    desiredHealthy: 2,
    expectedPods: 3,
    stale: false,
    ...extra,
  } satisfies DisruptionBudget;
}

function item(name: string, app: string, state: WaveWorkload['state'] = 'pending'): WaveWorkload {
  return { workload: deployment(name), podLabels: { app, 'pod-template-hash': 'x' }, state };
}

const names = (workloads: readonly WorkloadPosition[]) => workloads.map((w) => w.name);

describe('selectorSelects', () => {
  it('selects by Kubernetes label selector rules (label-selector.test.ts has each operator)', () => {
    const labels = { app: 'web', tier: 'front' };
    expect(selectorSelects({ matchLabels: { app: 'web' } }, labels)).toBe(true);
    expect(
      selectorSelects({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, labels),
    ).toBe(false);
  });

  it('selects nothing with an operator Kubernetes does not have, so such a budget holds nothing back', () => {
    expect(
      selectorSelects(
        { matchExpressions: [{ key: 'app', operator: 'Near', values: ['web'] }] },
        { app: 'web' },
      ),
    ).toBe(false);
  });

  it('selects every pod with an empty selector and none without a selector (policy/v1)', () => {
    expect(selectorSelects({}, { app: 'web' })).toBe(true);
    expect(selectorSelects(undefined, { app: 'web' })).toBe(false);
  });
});

describe('budgetsCovering', () => {
  it('covers only workloads of its own namespace', () => {
    const other = { workload: deployment('web', 'billing'), podLabels: { app: 'web' } };
    expect(budgetsCovering(other, [budget('web', 'web', 1)])).toEqual([]);
    expect(budgetsCovering(item('web', 'web'), [budget('web', 'web', 1)])).toHaveLength(1);
  });
});

describe('admitWave', () => {
  it('admits every workload no budget covers', () => {
    const admission = admitWave([item('a', 'a'), item('b', 'b')], [budget('other', 'other', 0)]);
    expect(names(admission.admitted)).toEqual(['a', 'b']);
    expect(admission.held).toEqual([]);
  });

  it('holds a workload whose budget allows no disruption', () => {
    const admission = admitWave([item('web', 'web'), item('api', 'api')], [budget('web-pdb', 'web', 0)]);
    expect(names(admission.admitted)).toEqual(['api']);
    expect(admission.held.map((held) => [held.workload.name, held.budget.name])).toEqual([
      ['web', 'web-pdb'],
    ]);
  });

  it('admits only as many workloads under one budget as it allows disruptions, in wave order', () => {
    // Prepare: three workloads whose pods one budget selects (app=shared)
    const wave = [item('a', 'shared'), item('b', 'shared'), item('c', 'shared')];
    // Act
    const one = admitWave(wave, [budget('shared', 'shared', 1)]);
    const two = admitWave(wave, [budget('shared', 'shared', 2)]);
    // Assess
    expect(names(one.admitted)).toEqual(['a']);
    expect(one.held.map((held) => held.workload.name)).toEqual(['b', 'c']);
    expect(names(two.admitted)).toEqual(['a', 'b']);
  });

  it("counts the wave's restarts still rolling out against the budget, and not those rolled out", () => {
    const rolling = admitWave(
      [item('a', 'shared', 'rolling'), item('b', 'shared')],
      [budget('shared', 'shared', 1)],
    );
    const done = admitWave(
      [item('a', 'shared', 'done'), item('b', 'shared')],
      [budget('shared', 'shared', 1)],
    );
    expect(names(rolling.admitted)).toEqual([]);
    expect(rolling.held[0]?.rollingUnderBudget).toBe(1);
    expect(names(done.admitted)).toEqual(['b']);
  });

  it('holds a workload when any one of the budgets covering it allows nothing', () => {
    const admission = admitWave(
      [item('web', 'web')],
      [budget('loose', 'web', 3), { ...budget('strict', 'web', 0), selector: {} }],
    );
    expect(admission.held.map((held) => held.budget.name)).toEqual(['strict']);
  });

  it('treats a budget whose status predates its spec as allowing nothing', () => {
    const admission = admitWave([item('web', 'web')], [budget('web', 'web', 2, { stale: true })]);
    expect(admission.admitted).toEqual([]);
    expect(describeHeldWorkload(admission.held[0] as HeldWorkload)).toMatch(
      /observedGeneration < generation/,
    );
  });
});

describe('describeHeldWorkload and heldWorkloadsHint', () => {
  it('name the workload, the budget, its spec and status, and what the operator can do', () => {
    const [held] = admitWave([item('web', 'web')], [budget('web-pdb', 'web', 0)]).held;
    expect(describeHeldWorkload(held as HeldWorkload)).toBe(
      'Deployment shop/web: PodDisruptionBudget shop/web-pdb (minAvailable: 2) allows 0 disruption(s): 2 of 3 expected pods healthy, 2 required',
    );
    expect(heldWorkloadsHint([held as HeldWorkload])).toContain('kubectl -n shop get pdb web-pdb');
  });
});

describe('blockedNow', () => {
  it('names the workloads a budget allowing nothing (or stale) covers, and not those a budget allowing one covers', () => {
    const held = blockedNow(
      [item('web', 'web'), item('api', 'api'), item('db', 'db'), item('free', 'free')],
      [budget('web', 'web', 0), budget('api', 'api', 1), budget('db', 'db', 3, { stale: true })],
    );
    expect(held.map((h) => [h.workload.name, h.budget.name])).toEqual([
      ['web', 'web'],
      ['db', 'db'],
    ]);
  });
});

describe('admitWave with rollouts wider than one pod', () => {
  it('admits a restart only when its budget allows as many disruptions as its rollout takes pods', () => {
    // Prepare: a rollout of 2 pods at once under a budget allowing 1, then 2
    const wide = { ...item('web', 'web'), rolloutPods: 2 };
    // Act
    const tight = admitWave([wide], [budget('web-pdb', 'web', 1)]);
    const enough = admitWave([wide], [budget('web-pdb', 'web', 2)]);
    // Assess
    expect(names(tight.admitted)).toEqual([]);
    expect(tight.held[0]?.rolloutPods).toBe(2);
    expect(describeHeldWorkload(tight.held[0] as HeldWorkload)).toContain(
      'its rollout takes down 2 pods at once, so it waits until the budget allows 2',
    );
    expect(names(enough.admitted)).toEqual(['web']);
  });

  it("counts a wide rollout still running as its width against the budget's allowance", () => {
    // Prepare: api rolls out 2 pods at once; the budget allows 3
    const wave = [
      { ...item('api', 'web', 'rolling'), rolloutPods: 2 },
      { ...item('web', 'web'), rolloutPods: 2 },
      item('worker', 'web'),
    ];
    // Act
    const admission = admitWave(wave, [budget('web-pdb', 'web', 3)]);
    // Assess: 3 - 2 leaves 1: web (2) waits, worker (1) goes
    expect(names(admission.admitted)).toEqual(['worker']);
    expect(names(admission.held.map((held) => held.workload))).toEqual(['web']);
  });
});
