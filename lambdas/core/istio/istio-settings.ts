// What preflight needs to know about the Istio each cluster runs, from its istiod Deployments and mesh
// config as read (lambdas/adapters/kube/istio-settings.ts): whether every istiod takes a root change
// (ISTIO_MULTIROOT_MESH), which Istio version it is, how long workload certificates live, and whether
// proxies get new roots pushed (PCDS). Pure: rules in the cdk-nag style, each returning findings, a
// refusal or a note, composed per cluster and across the fleet.
//
// How Istio decides, as read in istio/istio (pilot/pkg/features, pilot/pkg/bootstrap/istio_ca.go and
// mesh.go, pilot/cmd/pilot-agent/options, security/pkg/pki/ca, security/pkg/nodeagent/cache):
// - ISTIO_MULTIROOT_MESH is istiod's env, a Go bool, default false: off, istiod drops every change of
//   root-cert.pem.
// - pilot-agent asks for SECRET_TTL (a Go duration, default 24h, whole seconds) in each CSR; istiod
//   signs for that long, and only for a request of 0 s or less uses its DEFAULT_WORKLOAD_CERT_TTL
//   (default 24h). pilot-agent gets SECRET_TTL, like PROXY_CONFIG_XDS_AGENT, from the mesh config's
//   defaultConfig.proxyMetadata, as env at injection.
// - A value Go cannot parse is ignored with a warning: the default applies.
// - istiod reads the mesh config from ConfigMap `istio` (revision default) or `istio-<revision>` in its
//   namespace; SHARED_MESH_CONFIG names one more, merged under it.
import type { Finding } from '../pki/findings.js';
import type { RotationMode } from '../plan/phases.js';
import { formatSeconds, parseGoBool, parseGoDuration } from './go-values.js';
import { compareIstioVersions } from './istio-version.js';
import { type ProxyRenewal, proxyRenewal } from './proxy-renewal.js';

/** One variable of istiod's container env, as the Deployment states it. */
export type EnvSetting =
  | { readonly value: string }
  /** Set from elsewhere (`configMapKeyRef ConfigMap istio-env key X`, `fieldRef`...): not resolved. */
  | { readonly valueFrom: string };

/** One istiod Deployment (label app=istiod) as read. */
export interface IstiodDeployment {
  readonly namespace: string;
  readonly name: string;
  /** REVISION in its env, else its istio.io/rev label, else `default`. */
  readonly revision: string;
  readonly replicas: number;
  readonly readyReplicas: number;
  readonly image?: string;
  /** The minor version its image tag names; undefined when the tag names none. */
  readonly istioVersion?: string;
  /** The discovery container's env by name (the last of duplicates, as Kubernetes does). */
  readonly env: Readonly<Record<string, EnvSetting>>;
  /** Its envFrom sources (`configMap istio-env`): a variable missing from env may be set there. */
  readonly envFrom: readonly string[];
}

/** The mesh config ConfigMap of one revision, as read. */
export interface MeshConfigReading {
  readonly namespace: string;
  /** `istio` or `istio-<revision>`. */
  readonly name: string;
  readonly revision: string;
  /**
   * `read`; `absent` (no ConfigMap, or no `mesh` key: istiod runs Istio's default mesh config);
   * `forbidden` (RBAC refused the read); `unreadable` (the `mesh` key is not a YAML mesh config).
   */
  readonly state: 'read' | 'absent' | 'forbidden' | 'unreadable';
  /** defaultConfig.proxyMetadata, values as text; empty unless read and set. */
  readonly proxyMetadata: Readonly<Record<string, string>>;
  /** defaultConfig.discoveryAddress when read and set (a remote's proxies reach istiod there). */
  readonly discoveryAddress?: string;
  /** Why it could not be read (forbidden, unreadable). */
  readonly problem?: string;
}

/** Everything read about one cluster's Istio. */
export interface ClusterIstioReading {
  readonly cluster: string;
  readonly istiods: readonly IstiodDeployment[];
  /** One per revision of the istiods. */
  readonly meshConfigs: readonly MeshConfigReading[];
}

/** What the plan records per cluster. */
export interface ClusterIstioSettings {
  readonly cluster: string;
  /** The oldest minor version among the cluster's istiods; absent when one of them names none. */
  readonly istioVersion?: string;
  /** `on` only when every istiod has ISTIO_MULTIROOT_MESH true; `unknown` when one is set from elsewhere. */
  readonly multiRoot: 'on' | 'off' | 'unknown';
  /** The longest workload certificate lifetime over the cluster's revisions; absent when unknown. */
  readonly workloadCertTtlSeconds?: number;
  /** PROXY_CONFIG_XDS_AGENT true in the proxy metadata of every revision's mesh config. */
  readonly pcds: boolean;
  /**
   * The latest point of its certificate's life at which a proxy renews, as a fraction (proxy-renewal.ts),
   * over the cluster's revisions; only when a mesh config sets SECRET_GRACE_PERIOD_RATIO(_JITTER), else
   * pilot-agent's defaults apply (0.51).
   */
  readonly latestRenewalFraction?: number;
}

/** A finding that stops preflight (`refusal`) or is only shown (`note`). */
export interface IstioFinding extends Finding {
  readonly level: 'refusal' | 'note';
}

export interface IstioSettingsReview {
  readonly clusters: readonly ClusterIstioSettings[];
  readonly findings: readonly IstioFinding[];
}

export interface ReviewIstioSettingsInput {
  readonly clusters: readonly ClusterIstioReading[];
  /** Scheduled and emergency rotations change root-cert.pem; an intermediate rekey does not. */
  readonly mode: RotationMode;
}

export const ISTIO_RULES = {
  istiodPresent: 'istiod-present',
  istiodReady: 'istiod-ready',
  multiRootOn: 'istiod-multiroot-on',
  versionKnown: 'istio-version-known',
  versionsAgree: 'istio-versions-agree',
  meshConfigReadable: 'mesh-config-readable',
  sharedMeshConfig: 'mesh-config-not-shared',
  workloadCertTtlKnown: 'workload-cert-ttl-known',
  pcdsOn: 'proxy-config-xds-on',
  renewalKnown: 'proxy-renewal-known',
} as const;

export const MULTIROOT_ENV = 'ISTIO_MULTIROOT_MESH';
export const DEFAULT_WORKLOAD_CERT_TTL_ENV = 'DEFAULT_WORKLOAD_CERT_TTL';
export const SHARED_MESH_CONFIG_ENV = 'SHARED_MESH_CONFIG';
export const SECRET_TTL_METADATA = 'SECRET_TTL';
export const PCDS_METADATA = 'PROXY_CONFIG_XDS_AGENT';
/** Istio's default for both SECRET_TTL (pilot-agent) and DEFAULT_WORKLOAD_CERT_TTL (istiod). */
export const ISTIO_DEFAULT_CERT_TTL_SECONDS = 24 * 60 * 60;

/**
 * Reviews every cluster's Istio and the fleet as a whole. Refusals: no istiod, no istiod replica
 * ready, a mesh config meshtrust may not or cannot read, and, for a mode that changes root-cert.pem,
 * an istiod without ISTIO_MULTIROOT_MESH true. Everything else that is worth knowing is a note.
 */
export function reviewIstioSettings(input: ReviewIstioSettingsInput): IstioSettingsReview {
  const reviewed = input.clusters.map((reading) => reviewCluster(reading, input.mode));
  return {
    clusters: reviewed.map((review) => review.settings),
    findings: [...reviewed.flatMap((review) => review.findings), ...versionsAgree(input.clusters)],
  };
}

/** The findings that stop preflight, each naming its cluster. */
export function istioRefusals(review: IstioSettingsReview): IstioFinding[] {
  return review.findings.filter(
    (finding) => finding.level === 'refusal' && finding.status === 'non-compliant',
  );
}

/** The reasons of the notes worth showing (non-compliant notes). */
export function istioNotes(review: IstioSettingsReview): string[] {
  return review.findings
    .filter((finding) => finding.level === 'note' && finding.status === 'non-compliant')
    .map((finding) => finding.reason);
}

function reviewCluster(
  reading: ClusterIstioReading,
  mode: RotationMode,
): { settings: ClusterIstioSettings; findings: IstioFinding[] } {
  const { cluster, istiods } = reading;
  if (istiods.length === 0) {
    return {
      settings: { cluster, multiRoot: 'unknown', pcds: false },
      findings: [
        refusal(
          ISTIO_RULES.istiodPresent,
          cluster,
          `cluster ${cluster}: no istiod Deployment (label app=istiod) in istio-system, so there is no plug-in CA ` +
            "to rotate and no istiod settings to check. Install Istio's istiod with the plug-in CA there, or leave " +
            'the cluster out of the mesh (CLUSTERS or the mesh tag)',
        ),
      ],
    };
  }
  const findings: IstioFinding[] = [];
  const multiRoots = istiods.map((istiod) => multiRootOf(istiod));
  for (const [index, istiod] of istiods.entries()) {
    findings.push(istiodReady(cluster, istiod));
    findings.push(multiRootFinding(cluster, istiod, multiRoots[index] as MultiRootReading, mode));
    if (istiod.istioVersion === undefined) {
      findings.push(
        note(
          ISTIO_RULES.versionKnown,
          cluster,
          `cluster ${cluster}: the image of istiod Deployment ${where(istiod)} (${istiod.image ?? 'none'}) names no ` +
            'Istio version; meshtrust keeps to the stricter root-cert.pem rule of Istio up to 1.29 (raw bytes)',
        ),
      );
    }
    if (istiod.env[SHARED_MESH_CONFIG_ENV] !== undefined) {
      findings.push(
        note(
          ISTIO_RULES.sharedMeshConfig,
          cluster,
          `cluster ${cluster}: istiod Deployment ${where(istiod)} sets ${SHARED_MESH_CONFIG_ENV}, whose mesh config ` +
            'meshtrust does not read: the TTL and PCDS shown come from the revision mesh config only',
        ),
      );
    }
  }

  const revisions = [...new Set(istiods.map((istiod) => istiod.revision))].sort();
  const perRevision = revisions.map((revision) => {
    const meshConfig = reading.meshConfigs.find((config) => config.revision === revision);
    const ofRevision = istiods.filter((istiod) => istiod.revision === revision);
    return reviewRevision(cluster, revision, meshConfig, ofRevision);
  });
  findings.push(...perRevision.flatMap((revision) => revision.findings));

  const versions = istiods.map((istiod) => istiod.istioVersion);
  const known = versions.filter((version): version is string => version !== undefined);
  const oldest = known.length === versions.length ? [...known].sort(compareIstioVersions)[0] : undefined;
  const renewals = perRevision.flatMap((revision) => (revision.renewal ? [revision.renewal] : []));
  const ttls = perRevision.map((revision) => revision.ttlSeconds);
  const longest = ttls.every((ttl) => ttl !== undefined) ? Math.max(...(ttls as number[])) : undefined;
  const multiRoot = multiRoots.every((reading) => reading.state === 'on')
    ? 'on'
    : multiRoots.some((reading) => reading.state === 'off')
      ? 'off'
      : 'unknown';
  return {
    settings: {
      cluster,
      ...(oldest !== undefined && { istioVersion: oldest }),
      multiRoot,
      ...(longest !== undefined && { workloadCertTtlSeconds: longest }),
      pcds: perRevision.every((revision) => revision.pcds),
      ...(renewals.some((renewal) => renewal.configured) && {
        latestRenewalFraction: Math.max(...renewals.map((renewal) => renewal.latestFraction)),
      }),
    },
    findings,
  };
}

function istiodReady(cluster: string, istiod: IstiodDeployment): IstioFinding {
  const { replicas, readyReplicas } = istiod;
  if (readyReplicas === 0) {
    return refusal(
      ISTIO_RULES.istiodReady,
      cluster,
      `cluster ${cluster}: istiod Deployment ${where(istiod)} has no ready replica (0 of ${replicas}), so no istiod ` +
        `would load a new CA. Let it become ready (kubectl -n ${istiod.namespace} rollout status deployment/${istiod.name}) ` +
        'or remove an unused revision, then start again',
    );
  }
  if (readyReplicas < replicas) {
    return note(
      ISTIO_RULES.istiodReady,
      cluster,
      `cluster ${cluster}: istiod Deployment ${where(istiod)} has ${readyReplicas} of ${replicas} replicas ready`,
    );
  }
  return compliant(
    ISTIO_RULES.istiodReady,
    'refusal',
    cluster,
    `istiod Deployment ${where(istiod)}: ${readyReplicas} of ${replicas} ready`,
  );
}

interface MultiRootReading {
  readonly state: 'on' | 'off' | 'unknown';
  /** How the setting reads, for the message: `unset`, `set to "false"`... */
  readonly says: string;
}

function multiRootOf(istiod: IstiodDeployment): MultiRootReading {
  const setting = istiod.env[MULTIROOT_ENV];
  if (setting === undefined) {
    if (istiod.envFrom.length > 0) {
      return {
        state: 'unknown',
        says: `not in env; its envFrom (${istiod.envFrom.join(', ')}) may set ${MULTIROOT_ENV}, which meshtrust does not read`,
      };
    }
    return { state: 'off', says: `${MULTIROOT_ENV} unset` };
  }
  if ('valueFrom' in setting) {
    return {
      state: 'unknown',
      says: `${MULTIROOT_ENV} set from ${setting.valueFrom}, which meshtrust does not resolve`,
    };
  }
  const value = parseGoBool(setting.value);
  if (value === true)
    return { state: 'on', says: `${MULTIROOT_ENV} set to ${JSON.stringify(setting.value)}` };
  if (value === false)
    return { state: 'off', says: `${MULTIROOT_ENV} set to ${JSON.stringify(setting.value)}` };
  return {
    state: 'off',
    says: `${MULTIROOT_ENV} set to ${JSON.stringify(setting.value)}, which is not a Go boolean, so istiod takes its default, false`,
  };
}

function multiRootFinding(
  cluster: string,
  istiod: IstiodDeployment,
  multiRoot: MultiRootReading,
  mode: RotationMode,
): IstioFinding {
  if (multiRoot.state === 'on') {
    const level = mode === 'intermediate' ? 'note' : 'refusal';
    return compliant(
      ISTIO_RULES.multiRootOn,
      level,
      cluster,
      `istiod Deployment ${where(istiod)}: ${multiRoot.says}`,
    );
  }
  const found = `cluster ${cluster}: istiod Deployment ${where(istiod)} has ${multiRoot.says}`;
  if (mode === 'intermediate') {
    return note(
      ISTIO_RULES.multiRootOn,
      cluster,
      `${found}; an intermediate rekey keeps root-cert.pem as it is and does not need it, but a root rotation would be refused`,
    );
  }
  return refusal(
    ISTIO_RULES.multiRootOn,
    cluster,
    `${found}; a root rotation needs it true on every istiod, or istiod silently drops every root-cert.pem change. ` +
      `Set ${MULTIROOT_ENV}="true" in istiod's env (IstioOperator values.pilot.env, or env of the istiod Helm chart), ` +
      'wait for its rollout, then start again',
  );
}

interface RevisionReview {
  readonly ttlSeconds?: number;
  readonly pcds: boolean;
  /** Absent when the mesh config was not read. */
  readonly renewal?: ProxyRenewal;
  readonly findings: IstioFinding[];
}

function reviewRevision(
  cluster: string,
  revision: string,
  meshConfig: MeshConfigReading | undefined,
  istiods: readonly IstiodDeployment[],
): RevisionReview {
  const name =
    meshConfig === undefined ? meshConfigMapName(revision) : `${meshConfig.namespace}/${meshConfig.name}`;
  const findings: IstioFinding[] = [];
  if (meshConfig === undefined || meshConfig.state === 'forbidden' || meshConfig.state === 'unreadable') {
    const why =
      meshConfig?.state === 'unreadable'
        ? `its mesh key does not read as a mesh config (${meshConfig.problem ?? 'no reason given'}); istiod cannot read it either. Fix the YAML`
        : meshConfig?.state === 'forbidden'
          ? `meshtrust may not read it (${meshConfig.problem ?? '403'}). Add ${meshConfig.name} to the resourceNames of Role ` +
            'meshtrust-mesh-config in deploy/kubernetes/rbac.yaml (one name per Istio revision) and apply it'
          : 'it was not read';
    findings.push(
      refusal(
        ISTIO_RULES.meshConfigReadable,
        cluster,
        `cluster ${cluster}: the mesh config of revision ${revision}, ConfigMap ${name}, gives no workload certificate ` +
          `TTL or PCDS setting: ${why}`,
      ),
    );
    return { pcds: false, findings };
  }
  if (meshConfig.state === 'absent') {
    findings.push(
      note(
        ISTIO_RULES.meshConfigReadable,
        cluster,
        `cluster ${cluster}: no mesh config ConfigMap ${name} (key mesh) for revision ${revision}; istiod runs ` +
          "Istio's default mesh config (no proxy metadata)",
      ),
    );
  }
  const metadata = meshConfig.proxyMetadata;
  const pcds = metadata[PCDS_METADATA] !== undefined && parseGoBool(metadata[PCDS_METADATA]) === true;
  if (!pcds) {
    findings.push(
      note(
        ISTIO_RULES.pcdsOn,
        cluster,
        `cluster ${cluster}: PCDS is off for revision ${revision} (${PCDS_METADATA} is ` +
          `${metadata[PCDS_METADATA] === undefined ? 'unset' : JSON.stringify(metadata[PCDS_METADATA])} in ` +
          `defaultConfig.proxyMetadata of ${name}): running proxies take new roots only when their workload certificate renews`,
      ),
    );
  }
  const renewal = proxyRenewal(metadata);
  for (const problem of renewal.problems) {
    findings.push(
      note(
        ISTIO_RULES.renewalKnown,
        cluster,
        `cluster ${cluster}: ${problem} (defaultConfig.proxyMetadata of ${name})`,
      ),
    );
  }
  const ttl = workloadCertTtl(cluster, revision, name, metadata, istiods);
  findings.push(...ttl.findings);
  return { pcds, renewal, findings, ...(ttl.seconds !== undefined && { ttlSeconds: ttl.seconds }) };
}

/**
 * How long istiod signs a workload certificate for: pilot-agent requests SECRET_TTL (default 24h) in
 * whole seconds; a request of 0 s or less gets istiod's DEFAULT_WORKLOAD_CERT_TTL (default 24h).
 */
function workloadCertTtl(
  cluster: string,
  revision: string,
  meshConfigName: string,
  metadata: Readonly<Record<string, string>>,
  istiods: readonly IstiodDeployment[],
): { seconds?: number; findings: IstioFinding[] } {
  const findings: IstioFinding[] = [];
  const secretTtl = metadata[SECRET_TTL_METADATA];
  let requestedSeconds = ISTIO_DEFAULT_CERT_TTL_SECONDS;
  if (secretTtl !== undefined) {
    const ms = parseGoDuration(secretTtl);
    if (ms === undefined) {
      findings.push(
        note(
          ISTIO_RULES.workloadCertTtlKnown,
          cluster,
          `cluster ${cluster}: ${SECRET_TTL_METADATA} ${JSON.stringify(secretTtl)} in defaultConfig.proxyMetadata of ` +
            `${meshConfigName} is not a Go duration (e.g. 24h, 90m); pilot-agent ignores it and requests ${formatSeconds(ISTIO_DEFAULT_CERT_TTL_SECONDS)}`,
        ),
      );
    } else {
      requestedSeconds = Math.trunc(ms / 1000);
    }
  }
  if (requestedSeconds > 0) return { seconds: requestedSeconds, findings };
  // The agent asks for no lifetime: each istiod of the revision signs with its own default.
  const defaults = istiods.map((istiod) => istiodDefaultTtl(cluster, istiod));
  findings.push(...defaults.flatMap((entry) => entry.findings));
  const seconds = defaults.map((entry) => entry.seconds);
  if (seconds.some((value) => value === undefined)) {
    findings.push(
      note(
        ISTIO_RULES.workloadCertTtlKnown,
        cluster,
        `cluster ${cluster}: the workload certificate TTL of revision ${revision} is unknown: proxies request none ` +
          `(${SECRET_TTL_METADATA} ${JSON.stringify(secretTtl)}) and istiod's ${DEFAULT_WORKLOAD_CERT_TTL_ENV} is not a plain value`,
      ),
    );
    return { findings };
  }
  return { seconds: Math.max(...(seconds as number[])), findings };
}

/**
 * The lifetime istiod signs for when a proxy requests none: its DEFAULT_WORKLOAD_CERT_TTL (default 24h);
 * no seconds when it is set from a source meshtrust does not resolve. Also for a remote's proxies, which
 * their primary's istiod signs (lambdas/core/topology/remote-proxy-settings.ts).
 */
export function istiodDefaultTtl(
  cluster: string,
  istiod: IstiodDeployment,
): { seconds?: number; findings: IstioFinding[] } {
  const setting = istiod.env[DEFAULT_WORKLOAD_CERT_TTL_ENV];
  if (setting === undefined) {
    return istiod.envFrom.length > 0
      ? { findings: [] }
      : { seconds: ISTIO_DEFAULT_CERT_TTL_SECONDS, findings: [] };
  }
  if ('valueFrom' in setting) return { findings: [] };
  const ms = parseGoDuration(setting.value);
  if (ms === undefined) {
    return {
      seconds: ISTIO_DEFAULT_CERT_TTL_SECONDS,
      findings: [
        note(
          ISTIO_RULES.workloadCertTtlKnown,
          cluster,
          `cluster ${cluster}: istiod Deployment ${where(istiod)} has ${DEFAULT_WORKLOAD_CERT_TTL_ENV} ` +
            `${JSON.stringify(setting.value)}, not a Go duration; istiod ignores it and uses ${formatSeconds(ISTIO_DEFAULT_CERT_TTL_SECONDS)}`,
        ),
      ],
    };
  }
  return { seconds: Math.trunc(ms / 1000), findings: [] };
}

/** Versions that differ across the fleet (or within a cluster, between revisions): a note, not a refusal. */
function versionsAgree(clusters: readonly ClusterIstioReading[]): IstioFinding[] {
  const running = clusters.flatMap(({ cluster, istiods }) =>
    istiods
      .filter((istiod) => istiod.istioVersion !== undefined)
      .map((istiod) => ({ cluster, istiod, version: istiod.istioVersion as string })),
  );
  const versions = [...new Set(running.map((entry) => entry.version))].sort(compareIstioVersions);
  if (versions.length <= 1) {
    return [
      {
        rule: ISTIO_RULES.versionsAgree,
        level: 'note',
        status: versions.length === 1 ? 'compliant' : 'not-applicable',
        reason:
          versions.length === 1 ? `every istiod runs Istio ${versions[0]}` : 'no istiod names its version',
      },
    ];
  }
  const listing = running
    .map(({ cluster, istiod, version }) => `${cluster} ${istiod.name} ${version}`)
    .join(', ');
  return [
    {
      rule: ISTIO_RULES.versionsAgree,
      level: 'note',
      status: 'non-compliant',
      reason:
        `Istio versions differ across the fleet (${listing}): each istiod applies its own version's rule to a ` +
        'root-cert.pem change (raw bytes up to 1.29, certificate sets from 1.30); meshtrust writes what both accept',
    },
  ];
}

/** The mesh config ConfigMap istiod of `revision` reads: `istio` for the default revision, else `istio-<revision>`. */
export function meshConfigMapName(revision: string): string {
  return revision === '' || revision === 'default' ? 'istio' : `istio-${revision}`;
}

function where(istiod: IstiodDeployment): string {
  return `${istiod.namespace}/${istiod.name}`;
}

function refusal(rule: string, cluster: string, reason: string): IstioFinding {
  return { rule, level: 'refusal', status: 'non-compliant', cluster, reason };
}

function note(rule: string, cluster: string, reason: string): IstioFinding {
  return { rule, level: 'note', status: 'non-compliant', cluster, reason };
}

function compliant(
  rule: string,
  level: IstioFinding['level'],
  cluster: string,
  reason: string,
): IstioFinding {
  return { rule, level, status: 'compliant', cluster, reason };
}
