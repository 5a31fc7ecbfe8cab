import { keptOf, nestPaths } from '../../../lambdas/contract/kept-paths.js';

describe('nestPaths', () => {
  it('puts each dotted path at its place, sharing the parents', () => {
    expect(nestPaths(['a', 'b.c', 'b.d.e'], (path) => `<${path}>`)).toEqual({
      a: '<a>',
      b: { c: '<b.c>', d: { e: '<b.d.e>' } },
    });
  });

  it('does not take a path for another that only starts with the same letters', () => {
    expect(nestPaths(['plan', 'planned.x'], () => 1)).toEqual({ plan: 1, planned: { x: 1 } });
  });
});

describe('keptOf', () => {
  const answer = {
    clusters: [{ name: 'eu-1' }],
    plan: { soak: { seconds: 60, reason: 'floor' }, notes: ['long note'], strategies: [] },
  };

  it('keeps the value at each path whole, and nothing else', () => {
    expect(keptOf(answer, ['clusters', 'plan.soak'])).toEqual({
      clusters: [{ name: 'eu-1' }],
      plan: { soak: { seconds: 60, reason: 'floor' } },
    });
  });

  it('gives undefined where the answer has nothing, as a ResultSelector would find no value', () => {
    expect(keptOf(answer, ['plan.historyEvents', 'missing.deep'])).toEqual({
      plan: { historyEvents: undefined },
      missing: { deep: undefined },
    });
  });

  it('leaves the answer as it was', () => {
    const before = structuredClone(answer);
    keptOf(answer, ['plan.soak', 'clusters']);
    expect(answer).toEqual(before);
  });
});
