import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { findInjectedWorkloads } from '../adapters/kube/injected-workloads.js';
import { callKube } from '../adapters/kube/kube-call.js';
import { readServedCertificate } from '../adapters/kube/served-certificate.js';
import { readRootCertConfigMaps } from '../adapters/kube/trust-bundles.js';
import { describeWorkload, readWorkload } from '../adapters/kube/workload-ref.js';
import {
  listWorkloadPods,
  RESTART_ID_ANNOTATION,
  RESTARTED_AT_ANNOTATION,
  waitForRollout,
} from '../adapters/kube/workload-restart.js';
import type { HandlerRuntime } from '../application/runtime.js';
import { isIssuedBy, type ParsedCertificate, parseCertificatesPem } from '../core/pki/index.js';
import { restartIdFor } from '../core/rotation/restart-id.js';
import { VerificationFailed } from '../core/rotation-errors.js';
import { type ClusterStepInput, clusterStepSchema, parseInput } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

const PHASE = 'verify-workloads';

export interface VerifyWorkloadsOutput {
  readonly cluster: string;
  readonly workloads: number;
  readonly pods: number;
}

/**
 * verify-workloads, per cluster (a gate, writes nothing): no pod can still hold a certificate from the
 * old intermediate. Every injected workload either was restarted by this execution, its rollout is
 * complete and every one of its pods is ready and started after the restart; or (a root rotation, the
 * `resign` strategy) every one of its pods is ready and its proxy serves a leaf whose issuer the new
 * root signed, as read from its Envoy admin port (adapters/kube/served-certificate.ts).
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<VerifyWorkloadsOutput> {
  const input = parseInput(clusterStepSchema, event, PHASE);
  return runHandler(
    { phase: PHASE, executionId: input.executionId, cluster: input.cluster, lambdaContext: context },
    (runtime) => verifyWorkloads(input, runtime),
  );
}

async function verifyWorkloads(
  input: ClusterStepInput,
  runtime: HandlerRuntime,
): Promise<VerifyWorkloadsOutput> {
  const { executionId, cluster } = input;
  const restartId = restartIdFor(executionId, cluster, 'rotation');
  const client = await runtime.clusterClient(cluster);
  const workloads = await findInjectedWorkloads(client);
  const problems: string[] = [];
  let pods = 0;
  let newRoot: Promise<ParsedCertificate | string> | undefined;
  for (const ref of workloads) {
    const what = describeWorkload(ref);
    const workload = await callKube(client, `read ${what}`, () => readWorkload(client, ref));
    const template = workload.spec?.template.metadata?.annotations ?? {};
    if (template[RESTART_ID_ANNOTATION] !== restartId) {
      if (input.stagedRoot === null) {
        problems.push(`${what} was not restarted by this rotation (run restart-workloads)`);
        continue;
      }
      // Not restarted: it passes only if each of its proxies re-signed under the new root.
      const first = newRoot === undefined;
      newRoot ??= findNewRoot(client, input.stagedRoot.fingerprint);
      const root = await newRoot;
      if (typeof root === 'string') {
        if (first) problems.push(root);
        problems.push(`${what} was not restarted by this rotation`);
        continue;
      }
      for (const pod of await listWorkloadPods(client, ref)) {
        pods++;
        if (!pod.ready) problems.push(`pod ${ref.namespace}/${pod.name} of ${what} is not ready`);
        else {
          const problem = await servedUnderRoot(client, { namespace: ref.namespace, name: pod.name }, root);
          if (problem !== undefined)
            problems.push(`${what} was not restarted by this rotation and ${problem}`);
        }
      }
      continue;
    }
    try {
      await waitForRollout(client, ref, { timeoutMs: 0 });
    } catch (error) {
      problems.push(error instanceof Error ? error.message : `${what} has not finished rolling out`);
      continue;
    }
    // restartedAt has seconds precision; a pod created in that second counts as after it.
    const restartedAt = Date.parse(template[RESTARTED_AT_ANNOTATION] ?? '');
    for (const pod of await listWorkloadPods(client, ref)) {
      pods++;
      if (!pod.ready) problems.push(`pod ${ref.namespace}/${pod.name} of ${what} is not ready`);
      else if (!(pod.createdAt.getTime() >= restartedAt)) {
        problems.push(`pod ${ref.namespace}/${pod.name} of ${what} started before the restart`);
      }
    }
  }
  if (problems.length > 0) {
    throw new VerificationFailed(
      `Workloads of cluster ${cluster} may still hold certificates from the old intermediate: ` +
        `${problems.slice(0, 10).join('; ')}${problems.length > 10 ? `; and ${problems.length - 10} more` : ''}.`,
      { cluster, phase: PHASE },
    );
  }
  return { cluster, workloads: workloads.length, pods };
}

/** The new root as the cluster publishes it (istio-ca-root-cert), or why it cannot be found. */
async function findNewRoot(client: ClusterClient, fingerprint: string): Promise<ParsedCertificate | string> {
  for (const { rootCertPem } of await readRootCertConfigMaps(client)) {
    if (rootCertPem === undefined) continue;
    const root = parseCertificatesPem(rootCertPem).find((candidate) => candidate.fingerprint === fingerprint);
    if (root !== undefined) return root;
  }
  return `no istio-ca-root-cert of cluster ${client.name} holds the new root (${fingerprint.slice(0, 12)}…), so no served certificate can be checked against it`;
}

/** undefined when the pod's proxy serves a leaf whose issuer `root` signed; else what it serves. */
async function servedUnderRoot(
  client: ClusterClient,
  pod: { readonly namespace: string; readonly name: string },
  root: ParsedCertificate,
): Promise<string | undefined> {
  try {
    const served = await readServedCertificate(client, pod);
    if (await isIssuedBy(served.issuerCertificate, root.certificate)) return undefined;
    return `pod ${pod.namespace}/${pod.name} serves a leaf of ${served.issuerSubject} (${served.issuerFingerprint.slice(0, 12)}…), which the new root did not sign`;
  } catch (error) {
    return `what pod ${pod.namespace}/${pod.name} serves could not be read: ${error instanceof Error ? error.message : String(error)}`;
  }
}
