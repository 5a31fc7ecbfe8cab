import {
  EnvironmentVariableError,
  getBooleanFromEnv,
  getListFromEnv,
  getNumberFromEnv,
  getStringFromEnv,
} from '../../../lambdas/adapters/environment.js';

const KEY = 'MESHTRUST_TEST_ENV_HELPER';

afterEach(() => {
  delete process.env[KEY];
});

describe('getStringFromEnv', () => {
  it('returns the trimmed value', () => {
    // Prepare
    process.env[KEY] = ' mesh-a ';
    // Act / Assess
    expect(getStringFromEnv({ key: KEY })).toBe('mesh-a');
  });

  it('names a missing variable and says it is not set', () => {
    // Act
    const read = () => getStringFromEnv({ key: KEY });
    // Assess
    expect(read).toThrow(EnvironmentVariableError);
    expect(read).toThrow(`Environment variable ${KEY} is missing (it is not set).`);
  });

  it('counts an empty variable as missing', () => {
    // Prepare
    process.env[KEY] = '  ';
    // Act / Assess
    expect(() => getStringFromEnv({ key: KEY, errorMessage: 'Set the mesh id.' })).toThrow(
      `Environment variable ${KEY} is missing (it is empty). Set the mesh id.`,
    );
  });

  it('falls back to the default when missing', () => {
    // Act / Assess
    expect(getStringFromEnv({ key: KEY, defaultValue: 'fallback' })).toBe('fallback');
  });
});

describe('getNumberFromEnv', () => {
  it('parses a number', () => {
    // Prepare
    process.env[KEY] = '42';
    // Act / Assess
    expect(getNumberFromEnv({ key: KEY, integer: true, min: 1 })).toBe(42);
  });

  it('reports a missing variable as missing, not as "must be a number"', () => {
    // Act
    const read = () => getNumberFromEnv({ key: KEY });
    // Assess
    expect(read).toThrow(/is missing/);
    expect(read).not.toThrow(/must be/);
  });

  it('says what it got and what it expects', () => {
    // Prepare
    process.env[KEY] = '2.5';
    // Act / Assess
    expect(() => getNumberFromEnv({ key: KEY, integer: true, min: 1, max: 10 })).toThrow(
      `Environment variable ${KEY} must be a whole number >= 1 <= 10, got "2.5".`,
    );
  });

  it('keeps a secret value out of the message', () => {
    // Prepare
    process.env[KEY] = 'hunter2';
    // Act
    const read = () => getNumberFromEnv({ key: KEY, secret: true });
    // Assess
    expect(read).toThrow(/got a value \(not shown: secret\)/);
    expect(read).not.toThrow(/hunter2/);
  });
});

describe('getBooleanFromEnv', () => {
  it.each([
    ['true', true],
    ['YES', true],
    ['1', true],
    ['false', false],
    ['off', false],
    ['0', false],
  ])('reads %s as %p', (raw, expected) => {
    // Prepare
    process.env[KEY] = raw;
    // Act / Assess
    expect(getBooleanFromEnv({ key: KEY })).toBe(expected);
  });

  it('refuses anything else, saying what it got', () => {
    // Prepare
    process.env[KEY] = 'maybe';
    // Act / Assess
    expect(() => getBooleanFromEnv({ key: KEY })).toThrow(/must be true\/false .*got "maybe"/);
  });

  it('falls back to the default when missing', () => {
    // Act / Assess
    expect(getBooleanFromEnv({ key: KEY, defaultValue: false })).toBe(false);
  });
});

describe('getListFromEnv', () => {
  it('splits, trims and drops empty items', () => {
    // Prepare
    process.env[KEY] = ' east, west ,,north ';
    // Act / Assess
    expect(getListFromEnv({ key: KEY })).toEqual(['east', 'west', 'north']);
  });

  it('refuses a list without items', () => {
    // Prepare
    process.env[KEY] = ' , ,';
    // Act / Assess
    expect(() => getListFromEnv({ key: KEY })).toThrow(
      /must be a list separated by ',' with at least one item/,
    );
  });

  it('falls back to a copy of the default when missing', () => {
    // Prepare
    const defaultValue = ['east'];
    // Act
    const list = getListFromEnv({ key: KEY, defaultValue });
    // Assess
    expect(list).toEqual(['east']);
    expect(list).not.toBe(defaultValue);
  });
});
