// How a cluster's workloads move to certificates from the new intermediate: `restart` (every injected
// workload is rolled, today's path) or `resign` (no pod restarts: each running pilot-agent takes the new
// roots by istiod's PCDS push and asks for a new certificate at once, as in Istio's own rotation test,
// tests/integration/security/cacert_rotation). Pure: preflight reads, this decides.
//
// What a running proxy does, as read in istio/istio:
// - pilot-agent reads PROXY_CONFIG_XDS_AGENT from its own environment (pilot/cmd/pilot-agent/options,
//   a Go bool, default false). The injector writes every key of the merged proxy config's proxyMetadata
//   (mesh config defaultConfig, then the pod's `proxy.istio.io/config` annotation, key by key) into the
//   istio-proxy container's env, once, at injection: a pod injected before the mesh config changed keeps
//   what it had. So the running pod's env is what its agent runs with; the mesh config and the
//   annotation are what a pod created during the rotation (a scale-up, a crash, a restart) will run with.
// - With it on, the agent takes the trust bundle istiod pushes (ProxyConfig caCertificatesPem) and, when
//   the bundle's bytes change, drops its workload certificate and asks for a new one
//   (UpdateConfigTrustBundle in security/pkg/nodeagent/cache/secretcache.go). The re-request is
//   istio/istio#47424, merged in November 2023 after 1.20 branched, so meshtrust counts on it from 1.21
//   (RESIGN_MIN_PROXY_VERSION); an older agent takes the roots but keeps its certificate to renewal.
// - istiod must take the root-cert.pem changes at all: ISTIO_MULTIROOT_MESH on every istiod.
//
// The choice fails closed to `restart`: `resign` is chosen only when every condition is known to hold.
// A setting may force either; forcing `resign` where a condition is known not to hold is refused at
// preflight, naming what to change (an unknown one is let through, and noted).
import type { RotationMode } from '../plan/phases.js';
import { parseGoBool } from './go-values.js';
import type { ClusterIstioSettings, EnvSetting, IstioFinding } from './istio-settings.js';
import { MULTIROOT_ENV, PCDS_METADATA } from './istio-settings.js';
import { compareIstioVersions } from './istio-version.js';

export const ROTATION_STRATEGIES = ['resign', 'restart'] as const;
export type RotationStrategy = (typeof ROTATION_STRATEGIES)[number];
/** `auto`: preflight chooses per cluster; `resign` or `restart`: forced for every cluster. */
export type RotationStrategySetting = 'auto' | RotationStrategy;

/** The oldest pilot-agent that re-requests its certificate when PCDS pushes new roots. */
export const RESIGN_MIN_PROXY_VERSION = '1.21';
/** The annotation whose proxyMetadata overrides the mesh config's for a pod (and its replacements). */
export const PROXY_CONFIG_ANNOTATION = 'proxy.istio.io/config';

export const STRATEGY_RULES = {
  resignPossible: 'rotation-strategy-resign-possible',
} as const;

/** One running pod with Istio's proxy, as preflight reads it. */
export interface ProxiedPodReading {
  readonly namespace: string;
  readonly name: string;
  /** PROXY_CONFIG_XDS_AGENT in its istio-proxy container's env; undefined when not set there. */
  readonly pcdsEnv?: EnvSetting;
  /**
   * SECRET_TTL in the same env: the lifetime its pilot-agent requests (the injector wrote the mesh
   * config's proxyMetadata there); undefined when not set there. Read for remote clusters' proxies
   * (lambdas/core/topology/remote-proxy-settings.ts).
   */
  readonly secretTtlEnv?: EnvSetting;
  /**
   * The discoveryAddress of the proxy config its injector wrote into its PROXY_CONFIG env (JSON): where
   * its pilot-agent dials istiod. Undefined when that env is absent, not JSON or sets none.
   */
  readonly discoveryAddress?: string;
  /** That container's envFrom sources: a variable missing from env may be set there. */
  readonly envFrom: readonly string[];
  /**
   * The pod's `proxy.istio.io/config` annotation: the PROXY_CONFIG_XDS_AGENT of its proxyMetadata
   * (`pcds`, absent when it sets none), or why it does not read (`problem`). Absent without annotation.
   */
  readonly annotation?: { readonly pcds?: string } | { readonly problem: string };
  /** The minor Istio version its istio-proxy image names; undefined when the image names none. */
  readonly proxyVersion?: string;
  /** The istio-proxy image, for messages. */
  readonly proxyImage?: string;
}

export interface ClusterStrategyInput {
  readonly settings: ClusterIstioSettings;
  /** Every running pod with Istio's proxy; undefined when they could not be read. */
  readonly proxies?: readonly ProxiedPodReading[];
  readonly mode: RotationMode;
  readonly setting: RotationStrategySetting;
}

/** One condition of `resign`, as found. */
export interface ResignCondition {
  readonly condition: 'root-rotation' | 'multi-root' | 'mesh-config-pcds' | 'proxies-pcds' | 'proxy-versions';
  /** `unknown`: meshtrust cannot tell (a setting it does not resolve, a version an image does not name). */
  readonly state: 'met' | 'unmet' | 'unknown';
  readonly reason: string;
}

export interface ClusterRotationStrategy {
  readonly cluster: string;
  readonly strategy: RotationStrategy;
  /** `mesh`: chosen from what the cluster runs (setting auto); `setting`: forced. */
  readonly chosenBy: 'mesh' | 'setting';
  /** Why, in a few lines: the conditions not met (restart) or a summary of those met (resign). */
  readonly reasons: readonly string[];
}

export interface ClusterStrategyDecision {
  readonly strategy: ClusterRotationStrategy;
  readonly conditions: readonly ResignCondition[];
  /** A refusal when `resign` is forced and a condition is known not to hold; notes otherwise. */
  readonly findings: readonly IstioFinding[];
}

/** Pods named in a message before "and N more". */
const PODS_NAMED = 3;

/** The conditions of `resign` for one cluster, each met, unmet or unknown. */
export function resignConditions(input: Omit<ClusterStrategyInput, 'setting'>): ResignCondition[] {
  const { settings, proxies, mode } = input;
  const conditions: ResignCondition[] = [];
  conditions.push(
    mode === 'intermediate'
      ? {
          condition: 'root-rotation',
          state: 'unmet',
          reason:
            'an intermediate rekey leaves root-cert.pem as it is, so istiod pushes no new roots and no proxy re-signs by itself',
        }
      : { condition: 'root-rotation', state: 'met', reason: `a ${mode} rotation changes root-cert.pem` },
  );
  conditions.push({
    condition: 'multi-root',
    state: settings.multiRoot === 'on' ? 'met' : settings.multiRoot === 'off' ? 'unmet' : 'unknown',
    reason:
      settings.multiRoot === 'on'
        ? `${MULTIROOT_ENV} is true on every istiod`
        : settings.multiRoot === 'off'
          ? `${MULTIROOT_ENV} is not true on every istiod, so istiod takes no root-cert.pem change`
          : `${MULTIROOT_ENV} of an istiod is set from a source meshtrust does not resolve`,
  });
  conditions.push({
    condition: 'mesh-config-pcds',
    state: settings.pcds ? 'met' : 'unmet',
    reason: settings.pcds
      ? `${PCDS_METADATA}=true in the mesh config of every revision, so pods created during the rotation get it too`
      : `${PCDS_METADATA} is not true in the defaultConfig.proxyMetadata of every revision's mesh config, so pods ` +
        'created during the rotation (scale-ups, replacements) would not take pushed roots',
  });
  if (proxies === undefined) {
    const reason = 'the pods running Istio’s proxy could not be read';
    conditions.push({ condition: 'proxies-pcds', state: 'unknown', reason });
    conditions.push({ condition: 'proxy-versions', state: 'unknown', reason });
    return conditions;
  }
  conditions.push(proxiesPcds(proxies));
  conditions.push(proxyVersions(proxies));
  return conditions;
}

/**
 * The strategy of one cluster. `auto`: `resign` when every condition is met, else `restart` with the
 * conditions that are not. Forced `restart`: always. Forced `resign`: refused when a condition is
 * unmet (the run would leave workloads on the old intermediate), noted when one is unknown.
 */
export function chooseRotationStrategy(input: ClusterStrategyInput): ClusterStrategyDecision {
  const { settings, setting } = input;
  const cluster = settings.cluster;
  const conditions = resignConditions(input);
  const unmet = conditions.filter((condition) => condition.state === 'unmet');
  const unknown = conditions.filter((condition) => condition.state === 'unknown');
  const allMet = unmet.length === 0 && unknown.length === 0;

  if (setting === 'restart') {
    return {
      strategy: {
        cluster,
        strategy: 'restart',
        chosenBy: 'setting',
        reasons: [
          allMet
            ? 'forced by the rotation strategy setting (restart); the mesh would allow resign'
            : 'forced by the rotation strategy setting (restart)',
        ],
      },
      conditions,
      findings: [],
    };
  }
  if (setting === 'resign') {
    if (input.mode === 'intermediate') {
      // The stack-wide setting must not stop an operator's rekey: a rekey always restarts.
      return {
        strategy: { cluster, strategy: 'restart', chosenBy: 'mesh', reasons: unmet.map((c) => c.reason) },
        conditions,
        findings: [
          note(
            cluster,
            `cluster ${cluster}: the rotation strategy setting is resign, which applies to root rotations only; ` +
              'an intermediate rekey restarts the workloads',
          ),
        ],
      };
    }
    if (unmet.length > 0) {
      return {
        strategy: { cluster, strategy: 'resign', chosenBy: 'setting', reasons: unmet.map((c) => c.reason) },
        conditions,
        findings: [
          {
            rule: STRATEGY_RULES.resignPossible,
            level: 'refusal',
            status: 'non-compliant',
            cluster,
            reason:
              `cluster ${cluster}: the rotation strategy setting forces resign, which this cluster cannot do: ` +
              `${unmet.map((condition) => `${condition.reason} (${whatToChange(condition)})`).join('; ')}. ` +
              'Change that, or set the rotation strategy to auto or restart, then start again',
          },
        ],
      };
    }
    return {
      strategy: {
        cluster,
        strategy: 'resign',
        chosenBy: 'setting',
        reasons:
          unknown.length === 0
            ? ['forced by the rotation strategy setting (resign)']
            : unknown.map((c) => c.reason),
      },
      conditions,
      findings:
        unknown.length === 0
          ? []
          : [
              note(
                cluster,
                `cluster ${cluster}: resign is forced by the rotation strategy setting although meshtrust cannot ` +
                  `confirm that ${unknown.map((condition) => condition.reason).join('; ')}`,
              ),
            ],
    };
  }
  if (allMet) {
    return {
      strategy: {
        cluster,
        strategy: 'resign',
        chosenBy: 'mesh',
        reasons: conditions
          .filter((condition) => condition.condition !== 'root-rotation')
          .map((condition) => condition.reason),
      },
      conditions,
      findings: [],
    };
  }
  return {
    strategy: {
      cluster,
      strategy: 'restart',
      chosenBy: 'mesh',
      reasons: [...unmet, ...unknown].map((condition) => condition.reason),
    },
    conditions,
    findings: [],
  };
}

export interface FleetStrategyReview {
  readonly strategies: readonly ClusterRotationStrategy[];
  readonly findings: readonly IstioFinding[];
  /**
   * The clusters where istiod's push reaches every running proxy: PCDS in every revision's mesh config
   * and in every running proxy's env (conditions mesh-config-pcds and proxies-pcds met, whatever the
   * setting). Only there may the rotation count on the push rather than a renewal (proxy-trust-wait.ts).
   */
  readonly pushReaches: readonly string[];
}

/** Every cluster's strategy; `proxies` by cluster name (a cluster absent from it: not read). */
export function chooseFleetStrategies(input: {
  readonly clusters: readonly ClusterIstioSettings[];
  readonly proxies: ReadonlyMap<string, readonly ProxiedPodReading[]>;
  readonly mode: RotationMode;
  readonly setting: RotationStrategySetting;
}): FleetStrategyReview {
  const decisions = input.clusters.map((settings) => {
    const proxies = input.proxies.get(settings.cluster);
    return chooseRotationStrategy({
      settings,
      ...(proxies !== undefined && { proxies }),
      mode: input.mode,
      setting: input.setting,
    });
  });
  return {
    strategies: decisions.map((decision) => decision.strategy),
    findings: decisions.flatMap((decision) => decision.findings),
    pushReaches: decisions
      .filter((decision) =>
        (['mesh-config-pcds', 'proxies-pcds'] as const).every((name) =>
          decision.conditions.some((found) => found.condition === name && found.state === 'met'),
        ),
      )
      .map((decision) => decision.strategy.cluster),
  };
}

/** What the running pod's agent does with PCDS, and what a pod created from it would. */
function proxiesPcds(proxies: readonly ProxiedPodReading[]): ResignCondition {
  const off: string[] = [];
  const unknown: string[] = [];
  const overridden: string[] = [];
  for (const pod of proxies) {
    const where = `${pod.namespace}/${pod.name}`;
    const env = pod.pcdsEnv;
    if (env === undefined) {
      if (pod.envFrom.length > 0) unknown.push(`${where} (envFrom ${pod.envFrom.join(', ')})`);
      else off.push(`${where} (unset)`);
    } else if ('valueFrom' in env) {
      unknown.push(`${where} (set from ${env.valueFrom})`);
    } else if (parseGoBool(env.value) !== true) {
      off.push(`${where} (${JSON.stringify(env.value)})`);
    }
    const annotation = pod.annotation;
    if (annotation !== undefined) {
      if ('problem' in annotation) {
        unknown.push(
          `${where} (its ${PROXY_CONFIG_ANNOTATION} annotation does not read: ${annotation.problem})`,
        );
      } else if (annotation.pcds !== undefined && parseGoBool(annotation.pcds) !== true) {
        overridden.push(`${where} (${JSON.stringify(annotation.pcds)})`);
      }
    }
  }
  if (off.length > 0 || overridden.length > 0) {
    const parts = [
      ...(off.length > 0
        ? [
            `${off.length} running proxy pod(s) without ${PCDS_METADATA}=true in their istio-proxy env: ${listed(off)}`,
          ]
        : []),
      ...(overridden.length > 0
        ? [
            `${overridden.length} pod(s) whose ${PROXY_CONFIG_ANNOTATION} annotation sets ${PCDS_METADATA} other than true: ` +
              listed(overridden),
          ]
        : []),
    ];
    return { condition: 'proxies-pcds', state: 'unmet', reason: parts.join('; ') };
  }
  if (unknown.length > 0) {
    return {
      condition: 'proxies-pcds',
      state: 'unknown',
      reason: `${unknown.length} running proxy pod(s) whose ${PCDS_METADATA} meshtrust cannot read: ${listed(unknown)}`,
    };
  }
  return {
    condition: 'proxies-pcds',
    state: 'met',
    reason: `every running proxy (${proxies.length} pod(s)) has ${PCDS_METADATA}=true`,
  };
}

function proxyVersions(proxies: readonly ProxiedPodReading[]): ResignCondition {
  const old: string[] = [];
  const unnamed: string[] = [];
  for (const pod of proxies) {
    const where = `${pod.namespace}/${pod.name}`;
    if (pod.proxyVersion === undefined) unnamed.push(`${where} (${pod.proxyImage ?? 'no image'})`);
    else if (compareIstioVersions(pod.proxyVersion, RESIGN_MIN_PROXY_VERSION) < 0) {
      old.push(`${where} (${pod.proxyVersion})`);
    }
  }
  if (old.length > 0) {
    return {
      condition: 'proxy-versions',
      state: 'unmet',
      reason:
        `${old.length} proxy pod(s) older than Istio ${RESIGN_MIN_PROXY_VERSION}, whose agent takes pushed roots but ` +
        `keeps its certificate until renewal: ${listed(old)}`,
    };
  }
  if (unnamed.length > 0) {
    return {
      condition: 'proxy-versions',
      state: 'unknown',
      reason: `${unnamed.length} proxy pod(s) whose image names no Istio version: ${listed(unnamed)}`,
    };
  }
  return {
    condition: 'proxy-versions',
    state: 'met',
    reason: `every proxy runs Istio ${RESIGN_MIN_PROXY_VERSION} or newer`,
  };
}

function whatToChange(condition: ResignCondition): string {
  switch (condition.condition) {
    case 'root-rotation':
      return 'only a root rotation can re-sign without restarts';
    case 'multi-root':
      return `set ${MULTIROOT_ENV}="true" in istiod's env`;
    case 'mesh-config-pcds':
      return `set ${PCDS_METADATA}: "true" in meshConfig.defaultConfig.proxyMetadata of every revision`;
    case 'proxies-pcds':
      return `after setting ${PCDS_METADATA} in the mesh config, restart those workloads once so that the injector writes it into their proxies' env, and drop any ${PROXY_CONFIG_ANNOTATION} override of it`;
    case 'proxy-versions':
      return `upgrade those proxies to Istio ${RESIGN_MIN_PROXY_VERSION} or newer`;
  }
}

function listed(items: readonly string[]): string {
  const named = items.slice(0, PODS_NAMED).join(', ');
  return items.length > PODS_NAMED ? `${named} and ${items.length - PODS_NAMED} more` : named;
}

function note(cluster: string, reason: string): IstioFinding {
  return { rule: STRATEGY_RULES.resignPossible, level: 'note', status: 'non-compliant', cluster, reason };
}
