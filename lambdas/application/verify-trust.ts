import {
  type CacertsWriteAnswer,
  istiodLoadDueAt,
  latestCacertsWrite,
} from '../core/istio/istiod-load-window.js';
import { judgePublishedRoots } from '../core/istio/published-roots.js';
import {
  proxyRootsRefusal,
  publishedRootsRefusal,
  type TrustCheck,
} from '../core/rotation/trust-refusals.js';
import { VerificationFailed } from '../core/rotation-errors.js';
import { awaitProxyRoots } from './await-proxy-roots.js';
import { awaitPublishedRoots } from './await-published-roots.js';
import { primaryServing } from './remote-cluster.js';
import type { SecretVersion } from './root-ca.js';
import type { RotationRuntime } from './runtime.js';

const PHASE = 'verify-trust';

export interface VerifyTrustOutput {
  readonly cluster: string;
  /** The roots every namespace's istio-ca-root-cert holds (the root-cert.pem istiod loaded). */
  readonly roots: string[];
  readonly namespaces: number;
  /**
   * Root rotations: the running proxies whose agent takes istiod's pushes (PCDS) and were found holding
   * both roots in their Envoy's ROOTCA, and those without PCDS, which take them at renewal.
   */
  readonly proxies?: { readonly confirmed: number; readonly atRenewal: number };
}

/**
 * verify-trust on one cluster: the published wait on istio-ca-root-cert for the current and (a root
 * rotation) the staged root, then, in a root rotation, the wait on the proxies with PCDS in what is left
 * of VERIFY_TIMEOUT_SECONDS. Each refused (core/rotation/trust-refusals.ts) as VerificationFailed. The
 * published wait also ends once distribute-bundle's write (`writes`, its Map's answers) is past the time
 * istiod takes one (core/istio/istiod-load-window.ts): istiod missed it, and waiting longer shows nothing.
 */
export async function verifyTrust(
  runtime: RotationRuntime,
  step: {
    readonly cluster: string;
    readonly currentRoot: SecretVersion;
    readonly stagedRoot: SecretVersion | null;
    /** distribute-bundle's answers, every cluster's, as the state machine hands them on. */
    readonly writes?: readonly CacertsWriteAnswer[] | undefined;
  },
): Promise<VerifyTrustOutput> {
  const { cluster, currentRoot, stagedRoot } = step;
  const client = await runtime.clusterClient(cluster);
  const required = [currentRoot.fingerprint, ...(stagedRoot === null ? [] : [stagedRoot.fingerprint])];
  const primary = primaryServing(runtime, cluster);
  const check: TrustCheck = { cluster, required, ...(primary !== undefined && { primary }) };
  const deadline = Date.now() + runtime.config.verifyTimeoutSeconds * 1000;
  const writtenBy = latestCacertsWrite(step.writes);
  const { kubeletSyncPeriodSeconds } = runtime.config;
  const published = await awaitPublishedRoots(
    runtime,
    client,
    (configMaps) => judgePublishedRoots(configMaps, required, cluster),
    istiodLoadDueAt(writtenBy, kubeletSyncPeriodSeconds),
  );
  const overdue =
    published.overdue && writtenBy !== undefined
      ? { writtenBy, now: new Date(), kubeletSyncPeriodSeconds }
      : undefined;
  refuseIf(publishedRootsRefusal(check, published, overdue), cluster);
  const output = { cluster, roots: [...(published.roots ?? [])], namespaces: published.published };
  if (stagedRoot === null) return output;
  const proxies = await awaitProxyRoots(client, required, Math.max(0, deadline - Date.now()));
  refuseIf(proxyRootsRefusal(check, proxies), cluster);
  return { ...output, proxies: { confirmed: proxies.confirmed, atRenewal: proxies.atRenewal } };
}

function refuseIf(refusal: string | undefined, cluster: string): void {
  if (refusal !== undefined) throw new VerificationFailed(refusal, { cluster, phase: PHASE });
}
