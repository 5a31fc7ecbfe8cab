// Kubernetes' LabelSelector semantics, term by term (apimachinery's LabelSelectorAsSelector).
import { labelSelectorMatches } from '../../../../lambdas/core/rotation/label-selector.js';

const labels = { app: 'web', tier: 'front' };

describe('labelSelectorMatches', () => {
  it('matches when every matchLabels pair is present and equal', () => {
    expect(labelSelectorMatches({ matchLabels: { app: 'web', tier: 'front' } }, labels)).toBe(true);
    expect(labelSelectorMatches({ matchLabels: { app: 'web', tier: 'back' } }, labels)).toBe(false);
    expect(labelSelectorMatches({ matchLabels: { zone: '' } }, labels)).toBe(false);
  });

  it('reads In and NotIn of an absent key as Kubernetes does: In fails, NotIn holds', () => {
    expect(
      labelSelectorMatches({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, labels),
    ).toBe(false);
    expect(
      labelSelectorMatches({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, labels),
    ).toBe(true);
    expect(
      labelSelectorMatches(
        { matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'web'] }] },
        labels,
      ),
    ).toBe(true);
    expect(
      labelSelectorMatches(
        { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['db', 'web'] }] },
        labels,
      ),
    ).toBe(false);
  });

  it('reads Exists and DoesNotExist by the key alone', () => {
    expect(labelSelectorMatches({ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, labels)).toBe(
      true,
    );
    expect(
      labelSelectorMatches({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, labels),
    ).toBe(false);
    expect(
      labelSelectorMatches({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels),
    ).toBe(true);
  });

  it('needs every term: labels and expressions together', () => {
    const selector = {
      matchLabels: { app: 'web' },
      matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }],
    };
    expect(labelSelectorMatches(selector, labels)).toBe(false);
    expect(labelSelectorMatches(selector, { ...labels, tier: 'back' })).toBe(true);
  });

  it('matches everything with an empty selector', () => {
    expect(labelSelectorMatches({}, labels)).toBe(true);
    expect(labelSelectorMatches({ matchLabels: {}, matchExpressions: [] }, {})).toBe(true);
  });

  it('says it cannot tell for an operator Kubernetes does not have, even after a term that fails', () => {
    const unknown = { key: 'app', operator: 'Near', values: ['web'] };
    expect(labelSelectorMatches({ matchExpressions: [unknown] }, labels)).toBeUndefined();
    expect(
      labelSelectorMatches({ matchLabels: { app: 'db' }, matchExpressions: [unknown] }, labels),
    ).toBeUndefined();
  });
});
