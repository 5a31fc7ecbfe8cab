// The lab engine flags `meshtrust lab` and `meshtrust rehearse` share: which engine, and for the istio
// engine what the mesh runs with. Declared once so both commands take and check them alike.
import type { Command } from 'commander';
import {
  DEFAULT_ISTIO_VERSION,
  ISTIO_VERSIONS,
  type IstioVersion,
} from '../../lab/istio/istiod-cacerts-rules.js';
import {
  ISTIO_ENGINE_DEFAULTS,
  type IstioEngineSettings,
} from '../../lab/istio-install/istio-engine-settings.js';
import { LAB_ENGINES, type LabEngineName } from '../../lab/lab-files.js';
import { ISTIO_LAB_MAX_CLUSTERS } from '../../lab/lab-options.js';
import { parseGoBool } from '../../lambdas/core/istio/go-values.js';
import { PCDS_METADATA } from '../../lambdas/core/istio/istio-settings.js';
import { UsageError } from './cli-errors.js';
import { formatEnv, integerBetween, keyValue, oneOf } from './option-parsers.js';

export interface EngineCommandOptions {
  readonly engine: LabEngineName;
  readonly istiodEnv: Readonly<Record<string, string>>;
  readonly proxyEnv: Readonly<Record<string, string>>;
  readonly volumeSyncDelay: number;
  readonly istiodReplicas: number;
  readonly waitForLab: number;
  /** --istio-version: a minor version, or LATEST_ISTIO; undefined when not given. */
  readonly istioVersion?: IstioVersionFlag;
}

/** --istio-version's word for the newest Istio an engine runs: the model's newest rules, the pinned build. */
export const LATEST_ISTIO = 'latest';
export type IstioVersionFlag = IstioVersion | typeof LATEST_ISTIO;
const ISTIO_VERSION_CHOICES: readonly IstioVersionFlag[] = [...ISTIO_VERSIONS, LATEST_ISTIO];

export function addEngineOptions(command: Command, extra: { readonly proxyEnvNote?: string } = {}): Command {
  return command
    .option(
      '--engine <engine>',
      'model: the fast simulation; istio: real Kubernetes and Istio built from their Go modules (the first ' +
        'run builds them, about 12 minutes on 2 cores; see meshtrust lab build)',
      oneOf(LAB_ENGINES),
      'model',
    )
    .option(
      '--istiod-env <KEY=VALUE>',
      `istio engine: istiod's environment, repeatable (default ${formatEnv(ISTIO_ENGINE_DEFAULTS.istiodEnv)})`,
      keyValue,
      {},
    )
    .option(
      '--proxy-env <KEY=VALUE>',
      "the mesh's proxy metadata, repeatable, e.g. PROXY_CONFIG_XDS_AGENT=true (PCDS; off by default, as " +
        'Istio ships); the model engine takes only PROXY_CONFIG_XDS_AGENT' +
        (extra.proxyEnvNote ?? ''),
      keyValue,
      {},
    )
    .option(
      '--volume-sync-delay <seconds>',
      "istio engine: how long after a Secret changes its files in a pod may still be the old ones (kubelet's sync)",
      integerBetween(1, 600),
      ISTIO_ENGINE_DEFAULTS.volumeSyncDelaySeconds,
    )
    .option(
      '--istiod-replicas <n>',
      'istio engine: istiod replicas per cluster',
      integerBetween(1, 5),
      ISTIO_ENGINE_DEFAULTS.istiodReplicas,
    )
    .option(
      '--istio-version <minor>',
      `the Istio minor version the lab runs: model engine, the istiod rules it plays (${ISTIO_VERSIONS[0]} to ` +
        `${ISTIO_VERSIONS[ISTIO_VERSIONS.length - 1]}, or ${LATEST_ISTIO}; default ${DEFAULT_ISTIO_VERSION}, whose ` +
        `byte rule for root-cert.pem is the stricter); istio engine: only ${LATEST_ISTIO}, the commit lab/go pins ` +
        '(the Go module proxy serves no Istio commit before the 1.30 branch)',
      oneOf(ISTIO_VERSION_CHOICES),
    )
    .option(
      '--wait-for-lab <seconds>',
      'istio engine: one istio lab runs on a machine at a time; wait up to this long for another to end ' +
        '(default 0: refuse at once)',
      integerBetween(0, 86_400),
      0,
    );
}

/** What the istio engine runs with: the defaults, then what the flags say. */
export function istioEngineSettings(options: EngineCommandOptions): IstioEngineSettings {
  return {
    istiodEnv: { ...ISTIO_ENGINE_DEFAULTS.istiodEnv, ...options.istiodEnv },
    proxyEnv: { ...ISTIO_ENGINE_DEFAULTS.proxyEnv, ...options.proxyEnv },
    volumeSyncDelaySeconds: options.volumeSyncDelay,
    istiodReplicas: options.istiodReplicas,
  };
}

/**
 * The Istio version the model engine's istiod plays (--istio-version, LATEST_ISTIO being the newest it
 * states), or undefined for the lab's default.
 */
export function modelIstioVersion(options: EngineCommandOptions): IstioVersion | undefined {
  const version = options.istioVersion;
  if (version === undefined) return undefined;
  return version === LATEST_ISTIO ? (ISTIO_VERSIONS[ISTIO_VERSIONS.length - 1] as IstioVersion) : version;
}

/**
 * The istio engine builds one Istio, the commit lab/go/go.mod pins: any other version is refused before
 * anything starts rather than run as the pinned one. The Go module proxy serves istio.io/istio only at
 * commits after the 1.30 branch (docs/lab.md, "Istio's version"), so 1.29 and earlier cannot be built.
 */
export function refuseIstioVersionBeyondEngine(options: EngineCommandOptions): void {
  const version = options.istioVersion;
  if (options.engine !== 'istio' || version === undefined || version === LATEST_ISTIO) return;
  throw new UsageError(
    `--istio-version ${version}: the istio engine runs only the Istio that lab/go/go.mod pins (--istio-version ` +
      `${LATEST_ISTIO}); the Go module proxy serves istio.io/istio at no commit before the 1.30 branch, so no other ` +
      `release can be built here. The model engine plays ${version}'s istiod rules: drop --engine istio`,
  );
}

/** The one proxy setting the model engine plays: PCDS, which decides when proxies learn new roots. */
const MODEL_PROXY_ENV = PCDS_METADATA;

/** Model engine: whether its proxies run with PCDS, as --proxy-env says (Go's bool spellings). */
export function modelPcds(options: EngineCommandOptions): boolean {
  const value = options.proxyEnv[MODEL_PROXY_ENV];
  if (value === undefined) return false;
  const parsed = parseGoBool(value);
  if (parsed === undefined) {
    throw new UsageError(
      `--proxy-env ${MODEL_PROXY_ENV}=${value}: not a boolean pilot-agent accepts (true, false, 1, 0, ...)`,
    );
  }
  return parsed;
}

/** The istio engine's settings mean nothing to the model: refuse them rather than ignore them. */
export function refuseIstioFlagsOnModel(options: EngineCommandOptions): void {
  if (options.engine === 'istio') return;
  const otherProxyEnv = Object.keys(options.proxyEnv).filter((key) => key !== MODEL_PROXY_ENV);
  if (otherProxyEnv.length > 0) {
    throw new UsageError(
      `--proxy-env ${otherProxyEnv.join(', ')}: the model engine plays only ${MODEL_PROXY_ENV}; add --engine istio, or drop them`,
    );
  }
  modelPcds(options);
  const given = [
    Object.keys(options.istiodEnv).length > 0 ? '--istiod-env' : undefined,
    options.volumeSyncDelay !== ISTIO_ENGINE_DEFAULTS.volumeSyncDelaySeconds
      ? '--volume-sync-delay'
      : undefined,
    options.istiodReplicas !== ISTIO_ENGINE_DEFAULTS.istiodReplicas ? '--istiod-replicas' : undefined,
    options.waitForLab !== 0 ? '--wait-for-lab' : undefined,
  ].filter((flag) => flag !== undefined);
  if (given.length > 0) {
    throw new UsageError(
      `${given.join(', ')} only apply to the istio engine; add --engine istio, or drop them`,
    );
  }
}

/**
 * --clusters takes what the model lab runs (LAB_MAX_CLUSTERS); the istio engine, a real control plane
 * per cluster, runs fewer: refused here, before moto or any cluster starts.
 */
export function refuseClustersBeyondEngine(
  options: EngineCommandOptions & { readonly clusters: number },
): void {
  if (options.engine === 'istio' && options.clusters > ISTIO_LAB_MAX_CLUSTERS) {
    throw new UsageError(
      `--clusters ${options.clusters}: the istio engine runs at most ${ISTIO_LAB_MAX_CLUSTERS} clusters (each a real ` +
        'control plane and istiod); the model engine takes more',
    );
  }
}
