/**
 * preflight's refusal rules, as pure findings: each takes what preflight has read so far and returns
 * why the rotation must not start (a `PreflightRefusal`), or undefined when the rule has nothing to say.
 * The caller (lambdas/application/preflight-reading.ts, preflight-verdict.ts) reads, asks, and stops at
 * the first refusal; the handler audits it and fails with PreconditionFailed. Nothing was written then.
 */
import type { RotationMode } from '../plan/phases.js';

/** Why preflight refuses to start the rotation, and the one cluster it is about, when it is one. */
export interface PreflightRefusal {
  readonly reason: string;
  readonly cluster?: string;
}

/** One problem that stops the rotation, with the cluster it was found in (none: the fleet's or the store's). */
export interface StartProblem {
  readonly problem: string;
  readonly cluster?: string;
}

/** An execution started without a mode (Step Functions gives preflight `mode: null`): refused before any read. */
export const MISSING_MODE_REFUSAL: PreflightRefusal = {
  reason: 'The execution input has no mode; start it with mode scheduled, emergency or intermediate.',
};

/**
 * The CA store's root secret as describeRoot found it: a current root to rotate from, and no pending
 * root but this execution's own (`ownToken`, the version stage-root stages under). Another pending root
 * is a run left unfinished (aborted, or its rollback failed), which the rotation lock no longer shows
 * once it was released or taken over.
 */
export function rootStagesRefusal(input: {
  readonly stages: { readonly current?: string; readonly pending?: string };
  readonly ownToken: string;
  readonly rootSecretName: string;
}): PreflightRefusal | undefined {
  const { stages, ownToken, rootSecretName } = input;
  if (stages.current === undefined) {
    return {
      reason:
        `No current root CA is stored in ${rootSecretName}, so there is nothing to rotate from. Import the mesh's ` +
        'existing root with meshtrust import-root (its certificate, with or without its key; the rehearsal seeds the ' +
        'lab root), then start again.',
    };
  }
  if (stages.pending !== undefined && stages.pending !== ownToken) {
    return {
      reason:
        `Another rotation is running or was left unfinished: ${rootSecretName} has a pending root (version ` +
        `${stages.pending}). Let it finish, or roll it back (rollback drops AWSPENDING), then start again.`,
    };
  }
  return undefined;
}

/** Intermediate mode signs with the current root, which an offline key (imported without it) cannot. */
export function rootKeyRefusal(
  mode: RotationMode,
  rootKey: 'kms' | 'secret' | 'offline',
): PreflightRefusal | undefined {
  if (mode !== 'intermediate' || rootKey !== 'offline') return undefined;
  return {
    reason:
      `Intermediate mode signs the new intermediates with the current root, whose key was imported offline ` +
      `(meshtrust import-root without a key), so meshtrust cannot sign with it. Run a scheduled rotation, which ` +
      'moves the mesh to a root whose key is in KMS, or import the root again with its key.',
  };
}

/** The fleet EKS discovery (or CLUSTERS) found: no cluster, nothing to rotate. */
export function emptyFleetRefusal(
  clusters: readonly unknown[],
  config: { readonly meshId: string; readonly clusterTagKey: string; readonly clusterTagValue: string },
): PreflightRefusal | undefined {
  if (clusters.length > 0) return undefined;
  return {
    reason:
      `No EKS cluster belongs to mesh ${config.meshId} (tag ${config.clusterTagKey}=${config.clusterTagValue}, or CLUSTERS). ` +
      'Tag the clusters or list them.',
  };
}

/**
 * The problems found in what was read (clusters' cacerts, Istio, the root's expiry, the soak, workloads'
 * rollouts, the execution history), as one refusal naming them all: about one cluster when every
 * problem that names a cluster names that one.
 */
export function startRefusal(problems: readonly StartProblem[]): PreflightRefusal | undefined {
  if (problems.length === 0) return undefined;
  const failing = new Set(problems.flatMap(({ cluster }) => (cluster === undefined ? [] : [cluster])));
  const [only] = failing;
  return {
    reason: `preflight refused to start the rotation; nothing was written. ${problems.map(({ problem }) => problem).join('. ')}.`,
    ...(failing.size === 1 && only !== undefined && { cluster: only }),
  };
}
