/**
 * The Istio each cluster runs, as a rotation needs to know it: istiod's multi-root flag and version,
 * the workload certificate TTL and PCDS from the mesh config, the rotation strategy they allow, and which
 * intermediate a proxy's served certificate comes from. Pure: the Kubernetes adapter reads.
 */
export * from './go-values.js';
export * from './istio-settings.js';
export * from './istio-version.js';
export * from './istiod-ca-metrics.js';
export * from './proxy-renewal.js';
export * from './proxy-trust-wait.js';
export * from './rotation-strategy.js';
export * from './served-certificate.js';
export * from './soak.js';
