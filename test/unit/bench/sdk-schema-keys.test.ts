import { literalSchemaKeys } from '../../../bench/sdk-schema-keys.js';

describe('literalSchemaKeys', () => {
  it("writes each computed key that names one of the file's string constants as that string", () => {
    // Prepare: the shape of a client's schemas/schemas_0.js
    const source = [
      'const _CN = "CreateNodegroup";',
      'const _ht = "http";',
      'const _e = "error";',
      'const _q = "say \\"hi\\"";',
      'export var CreateNodegroup$ = [9, n0, _CN, { [_ht]: ["POST", "/node-groups", 200] }, () => A$, () => B$];',
      'export var Oops$ = [-3, n0, _e, { [_e]: _c, [_q]: 1 }, [], []];',
    ].join('\n');

    // Act
    const literal = literalSchemaKeys(source);

    // Assess: keys only; the constants and their other uses stay
    expect(literal).toContain('{ "http": ["POST", "/node-groups", 200] }');
    expect(literal).toContain('[-3, n0, _e, { "error": _c, "say \\"hi\\"": 1 }');
    expect(literal).toContain('const _ht = "http";');
    expect(literal).not.toMatch(/\[_\w+\]:/);
  });

  it('leaves a computed key alone when the file declares no string constant of that name', () => {
    // Prepare: _n is a number, _x is not declared here
    const source = 'const _n = 4;\nexport var A$ = [3, n0, "A", { [_n]: 1, [_x]: 2 }];';

    // Act
    const literal = literalSchemaKeys(source);

    // Assess
    expect(literal).toBe(source);
  });
});
