/** The execution input's free text is cut to this length in an audit event (it is never refused). */
export const REQUEST_TEXT_MAX = 512;

/**
 * Who the execution input says asked for the run (`requestedBy`, a claim: CloudTrail's StartExecution
 * is the proof) and why (`reason`), as audit event fields: `actor` and `detail.reason`, each present only
 * when the input has it, cut to REQUEST_TEXT_MAX. The execution log does not keep them; acquire-lock's
 * audit events do.
 */
export interface RunRequest {
  readonly actor: { readonly actor?: string };
  readonly detail: { readonly reason?: string };
}

export function runRequestOf(input: {
  readonly requestedBy?: string | null;
  readonly reason?: string | null;
}): RunRequest {
  const actor = cutRequestText(input.requestedBy);
  const reason = cutRequestText(input.reason);
  return {
    actor: actor === undefined ? {} : { actor },
    detail: reason === undefined ? {} : { reason },
  };
}

/** Free text of the execution input as an audit event keeps it: absent when empty, else cut to REQUEST_TEXT_MAX. */
function cutRequestText(text: string | null | undefined): string | undefined {
  return text === undefined || text === null || text === '' ? undefined : text.slice(0, REQUEST_TEXT_MAX);
}
