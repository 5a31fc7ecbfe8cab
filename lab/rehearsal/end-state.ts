// Where a rehearsal left the fleet and the CA store: per cluster whether its cacerts is byte for byte
// what it started with, which roots it trusts (by letter) and whether it signs with its original
// intermediate; and whether a staged root is still pending. What an operator would need to know after
// a rollback that did not complete (RollbackFailed), so the report says it for every run.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CaSecretStore } from '../../lambdas/adapters/secrets/ca-secret-store.js';
import type { LabCredentials } from '../eks/lab-identities.js';

export interface ClusterEndState {
  readonly cluster: string;
  /** Every cacerts file byte for byte as at the start. */
  readonly asAtStart: boolean;
  /** The roots of root-cert.pem, as letters (A the start's, B the staged one) or fingerprints. */
  readonly roots: readonly string[];
  readonly intermediate: 'original' | 'new';
}

export interface EndState {
  readonly clusters: readonly ClusterEndState[];
  /** The root secret still has a version staged AWSPENDING (what rollback's drop-pending removes). */
  readonly pendingRoot: boolean;
}

interface CacertsSummary {
  readonly cluster: string;
  readonly roots: readonly string[];
  readonly caCert?: string;
}

export function clusterEndStates(input: {
  readonly initial: readonly CacertsSummary[];
  readonly final: readonly CacertsSummary[];
  readonly identicalToStart: Readonly<Record<string, boolean>>;
  readonly rootLetters: Readonly<Record<string, string>>;
}): ClusterEndState[] {
  const letterOf = new Map(
    Object.entries(input.rootLetters).map(([letter, fingerprint]) => [fingerprint, letter]),
  );
  return input.final.map((end) => ({
    cluster: end.cluster,
    asAtStart: input.identicalToStart[end.cluster] === true,
    roots: end.roots.map((fingerprint) => letterOf.get(fingerprint) ?? fingerprint),
    intermediate:
      input.initial.find((start) => start.cluster === end.cluster)?.caCert === end.caCert
        ? 'original'
        : 'new',
  }));
}

/** `lab-1: as at start (roots A, original intermediate)`, one line per cluster. */
export function describeEndState(state: EndState): string[] {
  return [
    ...state.clusters.map(
      (cluster) =>
        `${cluster.cluster}: ${cluster.asAtStart ? 'as at start' : 'changed'} (roots ${cluster.roots.join('+')}, ` +
        `${cluster.intermediate} intermediate)`,
    ),
    state.pendingRoot
      ? 'CA store: the staged root is still pending (AWSPENDING); docs/runbook.md, RollbackFailed'
      : 'CA store: no pending root',
  ];
}

/** Asks the mesh's CA store, as the functions see it, whether a root is staged AWSPENDING. */
export async function hasPendingRoot(options: {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: LabCredentials;
  readonly meshId: string;
}): Promise<boolean> {
  const client = new SecretsManagerClient({
    endpoint: options.endpoint,
    region: options.region,
    credentials: options.credentials,
  });
  try {
    return (await new CaSecretStore({ client, meshId: options.meshId }).describeRoot()).pending !== undefined;
  } finally {
    client.destroy();
  }
}
