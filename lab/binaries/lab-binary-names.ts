// The lab's real components: which binaries `meshtrust lab build` makes and the Go package each comes
// from. Versions are not here on purpose: lab/go/go.mod pins them, and component-versions.ts reads it.
import { fileURLToPath } from 'node:url';

export const LAB_BINARY_NAMES = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'pilot-discovery',
  'pilot-agent',
  'istioctl',
  'kubelet-streaming',
] as const;

export type LabBinaryName = (typeof LAB_BINARY_NAMES)[number];

/**
 * The package each binary is built from, inside lab/go. `go build -o DIR/` names a binary after the
 * last element of its package path, so every name here must be that element. etcd ships its main in
 * a module of its own, hence our thin ./cmd/etcd (lab/go/cmd/etcd/main.go). kubelet-streaming is the
 * lab nodes' port-forward endpoint, Kubernetes' streaming library behind a small main of ours
 * (lab/go/cmd/kubelet-streaming/main.go).
 */
export const LAB_BINARY_PACKAGES: { readonly [name in LabBinaryName]: string } = {
  etcd: './cmd/etcd',
  'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
  'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
  'pilot-discovery': 'istio.io/istio/pilot/cmd/pilot-discovery',
  'pilot-agent': 'istio.io/istio/pilot/cmd/pilot-agent',
  istioctl: 'istio.io/istio/istioctl/cmd/istioctl',
  'kubelet-streaming': './cmd/kubelet-streaming',
};

/** The Go module whose required version is the version of each component. */
export const LAB_COMPONENT_MODULES = {
  kubernetes: 'k8s.io/kubernetes',
  etcd: 'go.etcd.io/etcd/server/v3',
  istio: 'istio.io/istio',
} as const;

export type LabComponent = keyof typeof LAB_COMPONENT_MODULES;

export type LabComponentVersions = { readonly [component in LabComponent]: string };

/** lab/go: the Go module the binaries are built from. */
export const LAB_GO_DIR = fileURLToPath(new URL('../go', import.meta.url));
