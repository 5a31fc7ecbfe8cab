/**
 * The Istio settings a remote cluster's proxies run with, for the plan's proxy trust wait and soak.
 * A remote has no istiod to read (lambdas/core/istio/istio-settings.ts reviews primaries), so this reads
 * what reaches its proxies, as Istio sets it:
 * - A running proxy's pilot-agent reads SECRET_TTL and PROXY_CONFIG_XDS_AGENT from its own env
 *   (pilot/cmd/pilot-agent/options/options.go), which the injector wrote once from the mesh config's
 *   defaultConfig.proxyMetadata (manifests/charts/istio-control/istio-discovery/files/injection-template.yaml):
 *   the remote's running pods are read, each one.
 * - A pod created in the remote during the rotation (every restart) is injected through the remote's
 *   webhook by its primary's istiod, which renders it with its own mesh config (pkg/kube/inject/webhook.go
 *   takes the environment's mesh, istiod's): the primary's settings count for the remote too.
 * - The remote's own mesh config, ConfigMap istio-system/istio, which Istio's remote profile installs
 *   (templates/configmap.yaml) and an injector on the remote (istiodRemote.enabledLocalInjectorIstiod)
 *   reads: counted when it is read, so that it can only lengthen a wait or turn the push off, never
 *   shorten one.
 * The primary's istiod signs the remote's certificates: a proxy asking for no lifetime (SECRET_TTL 0 s or
 * less) gets the primary istiod's DEFAULT_WORKLOAD_CERT_TTL, and multi-root and the version are that
 * istiod's. Pure: the adapters read, lambdas/application/review-fleet.ts composes.
 */
import { parseGoBool, parseGoDuration } from '../istio/go-values.js';
import {
  type ClusterIstioSettings,
  type EnvSetting,
  ISTIO_DEFAULT_CERT_TTL_SECONDS,
  type IstiodDeployment,
  type IstioFinding,
  istiodDefaultTtl,
  type MeshConfigReading,
  PCDS_METADATA,
  SECRET_TTL_METADATA,
} from '../istio/istio-settings.js';
import { proxyRenewal } from '../istio/proxy-renewal.js';
import type { ProxiedPodReading } from '../istio/rotation-strategy.js';

export const REMOTE_PROXY_SETTINGS_RULE = 'remote-proxy-settings-known';

/** What the plan records for a remote: its proxies' settings, and what they were read from. */
export interface RemoteIstioSettings extends ClusterIstioSettings {
  /** The primary whose istiod serves the remote. */
  readonly primary: string;
  /** What was read to get the settings, for `meshtrust plan`. */
  readonly readFrom: readonly string[];
  /** How the remote reaches its primary's istiod (remote-istiod-reach.ts), when judged. */
  readonly istiodReach?: string;
}

export interface RemoteIstioInput {
  readonly remote: string;
  readonly primary: string;
  /** The primary's settings as reviewed; undefined when its Istio was not read. */
  readonly primarySettings?: ClusterIstioSettings;
  /** The primary's istiod Deployments (their DEFAULT_WORKLOAD_CERT_TTL). */
  readonly primaryIstiods: readonly IstiodDeployment[];
  /** The remote's own mesh config (istio-system/istio); undefined when not read. */
  readonly meshConfig?: MeshConfigReading;
  /** The remote's running proxies; undefined when they could not be read. */
  readonly proxies?: readonly ProxiedPodReading[];
}

/** The remote's settings and what is worth noting about them (notes only: nothing here refuses). */
export function reviewRemoteIstio(input: RemoteIstioInput): {
  readonly settings: RemoteIstioSettings;
  readonly findings: readonly IstioFinding[];
} {
  const { remote, primary, primarySettings, meshConfig, proxies } = input;
  const findings: IstioFinding[] = [];
  const noteOf = (reason: string) =>
    findings.push(note(remote, `cluster ${remote} (a remote of ${primary}): ${reason}`));
  const readFrom: string[] = [];

  // The primary's mesh config: what its istiod injects into the remote's new pods.
  const ttls: (number | undefined)[] = [primarySettings?.workloadCertTtlSeconds];
  let pcds = primarySettings?.pcds ?? false;
  const fractions =
    primarySettings?.latestRenewalFraction === undefined ? [] : [primarySettings.latestRenewalFraction];
  readFrom.push(`${primary}'s istiod and mesh config (its injector renders the remote's new pods)`);

  const meshName =
    meshConfig === undefined ? 'istio-system/istio' : `${meshConfig.namespace}/${meshConfig.name}`;
  if (meshConfig === undefined || meshConfig.state === 'forbidden' || meshConfig.state === 'unreadable') {
    pcds = false;
    noteOf(
      `its mesh config ${meshName} ${meshConfig?.problem === undefined ? 'was not read' : `does not read (${meshConfig.problem})`}; ` +
        "meshtrust does not count on PCDS for the remote's proxies",
    );
    readFrom.push(`mesh config ${meshName} (${meshConfig?.state ?? 'not read'})`);
  } else if (meshConfig.state === 'absent') {
    readFrom.push(`mesh config ${meshName} (absent: the primary's applies)`);
  } else {
    const metadata = meshConfig.proxyMetadata;
    if (parseGoBool(metadata[PCDS_METADATA] ?? '') !== true) {
      pcds = false;
      noteOf(
        `${PCDS_METADATA} is ${metadata[PCDS_METADATA] === undefined ? 'unset' : JSON.stringify(metadata[PCDS_METADATA])} ` +
          `in defaultConfig.proxyMetadata of its mesh config ${meshName}; meshtrust does not count on PCDS for its proxies`,
      );
    }
    ttls.push(requestedTtl(metadata[SECRET_TTL_METADATA], input, `${meshName} proxyMetadata`, noteOf));
    const renewal = proxyRenewal(metadata);
    if (renewal.configured) fractions.push(renewal.latestFraction);
    for (const problem of renewal.problems) noteOf(`${problem} (defaultConfig.proxyMetadata of ${meshName})`);
    readFrom.push(`mesh config ${meshName}`);
  }

  if (proxies === undefined) {
    ttls.push(undefined);
    noteOf('its running proxies could not be read, so their workload certificate TTL is unknown');
    readFrom.push('running proxies (not read)');
  } else {
    for (const pod of proxies) {
      ttls.push(
        requestedTtl(
          pod.secretTtlEnv,
          input,
          `the istio-proxy env of ${pod.namespace}/${pod.name}`,
          noteOf,
          pod.envFrom,
        ),
      );
    }
    readFrom.push(`the istio-proxy env of ${proxies.length} running pod(s)`);
  }

  const known = ttls.every((ttl) => ttl !== undefined);
  if (!known) {
    noteOf(
      `the workload certificate TTL of its proxies is unknown (a SECRET_TTL or ${primary}'s DEFAULT_WORKLOAD_CERT_TTL set ` +
        "from a source meshtrust does not resolve, or not read); Istio's default is assumed",
    );
  }
  const longest = known ? Math.max(...(ttls as number[])) : undefined;
  return {
    settings: {
      cluster: remote,
      primary,
      ...(primarySettings?.istioVersion !== undefined && { istioVersion: primarySettings.istioVersion }),
      multiRoot: primarySettings?.multiRoot ?? 'unknown',
      ...(longest !== undefined && { workloadCertTtlSeconds: longest }),
      pcds,
      ...(fractions.length > 0 && { latestRenewalFraction: Math.max(...fractions) }),
      readFrom,
    },
    findings,
  };
}

/**
 * The lifetime a proxy (or the pods a mesh config injects) requests: SECRET_TTL, a Go duration in whole
 * seconds, default 24h; a value Go rejects is ignored (the default); 0 s or less asks for none, and the
 * primary's istiod signs with its DEFAULT_WORKLOAD_CERT_TTL. Undefined when not known.
 */
function requestedTtl(
  setting: EnvSetting | string | undefined,
  input: RemoteIstioInput,
  where: string,
  noteOf: (reason: string) => void,
  envFrom: readonly string[] = [],
): number | undefined {
  let text: string | undefined;
  if (setting === undefined) {
    if (envFrom.length > 0) return undefined;
    return ISTIO_DEFAULT_CERT_TTL_SECONDS;
  }
  if (typeof setting === 'string') text = setting;
  else if ('valueFrom' in setting) return undefined;
  else text = setting.value;
  const ms = parseGoDuration(text);
  if (ms === undefined) {
    noteOf(
      `${SECRET_TTL_METADATA} ${JSON.stringify(text)} in ${where} is not a Go duration; pilot-agent ignores it`,
    );
    return ISTIO_DEFAULT_CERT_TTL_SECONDS;
  }
  const seconds = Math.trunc(ms / 1000);
  if (seconds > 0) return seconds;
  // Asks for no lifetime: the primary's istiod signs with its own default.
  const defaults = input.primaryIstiods.map((istiod) => istiodDefaultTtl(input.primary, istiod).seconds);
  if (defaults.length === 0) return ISTIO_DEFAULT_CERT_TTL_SECONDS;
  if (defaults.some((value) => value === undefined)) return undefined;
  return Math.max(...(defaults as number[]));
}

function note(cluster: string, reason: string): IstioFinding {
  return { rule: REMOTE_PROXY_SETTINGS_RULE, level: 'note', status: 'non-compliant', cluster, reason };
}
