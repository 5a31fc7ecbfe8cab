// history.json and children.json written a slice at a time: the same text JSON.stringify makes of the
// whole array, so every reader of those files (the report, the tests, an operator's jq) sees no change.
import { describe, expect, it } from '@jest/globals';
import { jsonArrayFileChunks } from '../../../rehearsal/json-array-file-chunks.js';

const whole = (items: readonly unknown[]) => `${JSON.stringify(items, null, 2)}\n`;

describe('jsonArrayFileChunks', () => {
  it.each([
    ['an empty array', []],
    ['one number', [1]],
    [
      'history events: nested objects and arrays, dates, strings with newlines and quotes',
      [
        { type: 'StateEntered', state: { name: 'preflight', input: { clusters: ['lab-1', 'lab-2'] } } },
        {
          type: 'MapIterationSucceeded',
          index: 0,
          at: new Date(Date.UTC(2026, 11, 4)),
          list: [[], {}, [1, [2]]],
        },
        { Cause: 'RollbackFailed: line one\nline "two"', empty: '', nothing: null },
      ],
    ],
    ['values JSON has no text for, which an array writes as null', [undefined, () => 1, Symbol('s'), 'kept']],
  ])('writes %s as JSON.stringify(items, null, 2) does', (_name, items) => {
    // Act
    const text = [...jsonArrayFileChunks(items)].join('');

    // Assess
    expect(text).toBe(whole(items));
    expect(JSON.parse(text)).toEqual(JSON.parse(whole(items)));
  });

  it('gives a large array in slices of about a mebibyte, never the whole text at once', () => {
    // Prepare: about 6 MB of text.
    const items = Array.from({ length: 20_000 }, (_, index) => ({ index, payload: 'x'.repeat(250) }));

    // Act
    const slices = [...jsonArrayFileChunks(items)];

    // Assess
    expect(slices.join('')).toBe(whole(items));
    expect(slices.length).toBeGreaterThan(4);
    for (const slice of slices) expect(slice.length).toBeLessThan(2 ** 20 + 1_000);
  });

  it('stringifies an item only when its slice is asked for', () => {
    // Prepare: the second item cannot be written.
    const items = [{ a: 1 }, { big: 1n }];
    const slices = jsonArrayFileChunks(items);

    // Act / Assess: the generator throws where JSON.stringify would, and not before it is read.
    expect(() => [...slices]).toThrow(TypeError);
  });
});
