// A cacerts-writing step's answer with every field its Map's ResultSelector keeps for the gate after it
// (lambdas/contract/map-answers.ts): a remote's `skipped` answer has no write time, a rollback stage that
// changed nothing has none either, and a primary's forward answer says nothing of `skipped`. Pure.
import type { CacertsWriteHandoff } from '../../contract/map-answers.js';

/** What an answer may say of its write, as the steps build it. */
export interface CacertsWriteParts {
  readonly cluster: string;
  readonly skipped?: boolean;
  readonly changed?: boolean;
  readonly cacertsWrittenBy?: string;
}

/**
 * The answer with `skipped`, `changed` and `cacertsWrittenBy` always present, false, false and null where
 * it says nothing (a remote's skip says nothing of a change; a step that wrote nothing has no time), so
 * the gate reads exactly what it read before (core/istio/istiod-load-window.ts).
 */
export function cacertsWriteHandoff<T extends CacertsWriteParts>(answer: T): T & CacertsWriteHandoff {
  return {
    ...answer,
    skipped: answer.skipped ?? false,
    changed: answer.changed ?? false,
    cacertsWrittenBy: answer.cacertsWrittenBy ?? null,
  };
}
