// Value parsers for commander options: a bad value becomes a usage error (exit 2) naming the option's
// expected form, before any command runs.
import { InvalidArgumentError } from 'commander';

export function integerBetween(min: number, max: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    }
    return parsed;
  };
}

export function matching(pattern: RegExp, expected: string): (value: string) => string {
  return (value) => {
    if (!pattern.test(value)) throw new InvalidArgumentError(`expected ${expected}.`);
    return value;
  };
}

/** One of a fixed set of words; a typo is refused, naming the choices. */
export function oneOf<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}.`);
    }
    return value as T;
  };
}

/** A repeatable KEY=VALUE option (an environment variable), collected into one record. */
export function keyValue(value: string, previous: Readonly<Record<string, string>>): Record<string, string> {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(value);
  if (!match?.[1])
    throw new InvalidArgumentError('expected KEY=VALUE, KEY a variable name such as ISTIO_MULTIROOT_MESH.');
  return { ...previous, [match[1]]: match[2] ?? '' };
}

/** KEY=VALUE pairs as they would be typed. */
export function formatEnv(env: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(env).map(([key, value]) => `${key}=${value}`);
  return pairs.length > 0 ? pairs.join(' ') : 'none';
}
