// The istio engine's settings for what rotations depend on, and their defaults: the mesh an operator
// would run. `meshtrust lab` and `meshtrust rehearse` take the same flags for them.

export interface IstioEngineSettings {
  /** istiod's environment, e.g. { ISTIO_MULTIROOT_MESH: 'true' }. */
  readonly istiodEnv: Readonly<Record<string, string>>;
  /** The mesh's proxy metadata (pilot-agent's environment), e.g. { PROXY_CONFIG_XDS_AGENT: 'true' }. */
  readonly proxyEnv: Readonly<Record<string, string>>;
  /** kubelet's volume resync: how long a Secret change may take to reach a pod's files. */
  readonly volumeSyncDelaySeconds: number;
  readonly istiodReplicas: number;
}

export const ISTIO_ENGINE_DEFAULTS: IstioEngineSettings = {
  istiodEnv: { ISTIO_MULTIROOT_MESH: 'true' },
  proxyEnv: {},
  volumeSyncDelaySeconds: 5,
  istiodReplicas: 1,
};
