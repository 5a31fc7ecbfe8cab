/**
 * Typed reads of the environment variables the stack sets on each function. A missing variable is
 * reported as missing, by name; a present but invalid one says what it holds (unless secret) and what
 * is expected. An empty or blank value counts as missing: CloudFormation writes '' for an unset parameter.
 */
import { MeshTrustError } from '../core/meshtrust-error.js';

/** A variable is missing or does not hold what its reader expects. */
export class EnvironmentVariableError extends MeshTrustError {
  readonly key: string;

  constructor(message: string, key: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EnvironmentVariableError';
    this.key = key;
  }
}

interface EnvOptions<T> {
  /** The variable's name. */
  readonly key: string;
  /** Used when the variable is missing; without it a missing variable throws. */
  readonly defaultValue?: T;
  /** What to do about it, appended to the error message. @default set it in the function's environment */
  readonly errorMessage?: string;
  /** Keep the value out of error messages. @default false */
  readonly secret?: boolean;
}

export type StringFromEnvOptions = EnvOptions<string>;

export interface NumberFromEnvOptions extends EnvOptions<number> {
  /** Require a whole number. @default false */
  readonly integer?: boolean;
  readonly min?: number;
  readonly max?: number;
}

export type BooleanFromEnvOptions = EnvOptions<boolean>;

export interface ListFromEnvOptions extends EnvOptions<readonly string[]> {
  /** @default ',' */
  readonly separator?: string;
}

const DEFAULT_HINT = "Set it in the function's environment (the meshtrust stack sets it on deploy).";

export function getStringFromEnv(options: StringFromEnvOptions): string {
  const raw = readRaw(options);
  return raw ?? (options.defaultValue as string);
}

export function getNumberFromEnv(options: NumberFromEnvOptions): number {
  const raw = readRaw(options);
  if (raw === undefined) return options.defaultValue as number;
  const value = Number(raw);
  const { integer = false, min, max } = options;
  const expected = [
    integer ? 'a whole number' : 'a number',
    min !== undefined ? `>= ${min}` : undefined,
    max !== undefined ? `<= ${max}` : undefined,
  ]
    .filter(Boolean)
    .join(' ');
  const valid =
    Number.isFinite(value) &&
    (!integer || Number.isInteger(value)) &&
    (min === undefined || value >= min) &&
    (max === undefined || value <= max);
  if (!valid) throw invalid(options, raw, expected);
  return value;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

export function getBooleanFromEnv(options: BooleanFromEnvOptions): boolean {
  const raw = readRaw(options);
  if (raw === undefined) return options.defaultValue as boolean;
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw invalid(options, raw, 'true/false (also 1/0, yes/no, on/off)');
}

/** A separated list, items trimmed, empty items dropped. */
export function getListFromEnv(options: ListFromEnvOptions): string[] {
  const raw = readRaw(options);
  if (raw === undefined) return [...(options.defaultValue as readonly string[])];
  const items = raw
    .split(options.separator ?? ',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) {
    throw invalid(options, raw, `a list separated by '${options.separator ?? ','}' with at least one item`);
  }
  return items;
}

/** The trimmed value, or undefined when missing and a default exists; throws when missing without one. */
function readRaw<T>(options: EnvOptions<T>): string | undefined {
  const { key, defaultValue } = options;
  const raw = process.env[key];
  if (raw !== undefined && raw.trim() !== '') return raw.trim();
  if (defaultValue !== undefined) return undefined;
  const state = raw === undefined ? 'is not set' : 'is empty';
  throw new EnvironmentVariableError(
    `Environment variable ${key} is missing (it ${state}). ${options.errorMessage ?? DEFAULT_HINT}`,
    key,
  );
}

function invalid<T>(options: EnvOptions<T>, raw: string, expected: string): EnvironmentVariableError {
  const got = options.secret ? 'a value (not shown: secret)' : JSON.stringify(raw);
  return new EnvironmentVariableError(
    `Environment variable ${options.key} must be ${expected}, got ${got}. ${options.errorMessage ?? DEFAULT_HINT}`,
    options.key,
  );
}
