// zod's small build (zod/mini: functions in place of methods, so a bundle holds only the checks it
// uses; 25-31 kB of a handler's bundle against 93 kB for the full build), made to speak English as the
// full build does: without a locale it says only "Invalid input", and parseInput's errors would no
// longer say what is wrong with a field. Every handler's schemas import zod from here, and only the
// parts named below (zod's error classes stay out of lambdas/' exports, whose errors are MeshTrustErrors).
import { en } from 'zod/locales';
import { config } from 'zod/mini';

config(en());

export type { infer, input, ZodMiniType } from 'zod/mini';
export {
  _default,
  array,
  boolean,
  enum,
  extend,
  int,
  iso,
  maxLength,
  minimum,
  minLength,
  nonnegative,
  nullable,
  nullish,
  object,
  optional,
  record,
  regex,
  strictObject,
  string,
  unknown,
} from 'zod/mini';
