// The largest state a rehearsal's execution carried, from its history.json, beside the bound preflight's
// estimate (lambdas/core/plan/state-size-estimate.ts) gives for the run's own clusters, answer and failure:
// the e2e tests hold the estimate to what the real state machine kept.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateBytesAtWorst, utf8Bytes } from '../../lambdas/core/plan/state-size-estimate.js';

/**
 * The largest state input or output of the run's history.json in bytes (as Step Functions counts its
 * payload quota), beside what preflight's estimate allows for its clusters and its own answer.
 */
export function stateSizeAgainstEstimate(dir: string): { largest: number; atWorst: number } {
  const history = JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8')) as {
    type: string;
    state?: {
      name: string;
      input?: { failure?: unknown };
      output?: { preflight?: { clusters: { name: string }[] } };
    };
  }[];
  const sizes = history.flatMap((event) =>
    event.state === undefined
      ? []
      : [event.state.input, event.state.output]
          .filter((payload) => payload !== undefined)
          .map((payload) => utf8Bytes(JSON.stringify(payload))),
  );
  const preflight = history.find((event) => event.type === 'StateExited' && event.state?.name === 'preflight')
    ?.state?.output?.preflight;
  if (preflight === undefined) throw new Error(`preflight recorded no answer in ${dir}/history.json`);
  // The run's own failure, not the longest a Cause can be: the bound is then as tight as the answers'.
  const failure = history.find((event) => event.state?.input?.failure !== undefined)?.state?.input?.failure;
  return {
    largest: Math.max(...sizes),
    atWorst: stateBytesAtWorst({
      clusters: preflight.clusters.map(({ name }) => name),
      preflightBytes: utf8Bytes(JSON.stringify(preflight)),
      failureBytes: failure === undefined ? 0 : utf8Bytes(JSON.stringify({ failure })),
    }),
  };
}
