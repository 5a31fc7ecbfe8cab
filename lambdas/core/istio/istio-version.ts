// Which Istio an istiod runs, as its pilot image says: the tag of docker.io/istio/pilot:1.29.2 names the
// release. Only the minor version matters to a rotation (the root-cert.pem rule changed in 1.30).

/**
 * The Istio minor version ("1.29") an image's tag names: `1.29.2`, `1.29.2-distroless`, `1.31-dev`,
 * `v1.30.0`, also behind a registry port or with a digest (`pilot:1.29.2@sha256:...`). Undefined when
 * the image has no tag (a digest alone) or a tag of another form (`latest`, `master-abc123`).
 */
export function istioVersionOfImage(image: string | undefined): string | undefined {
  if (image === undefined) return undefined;
  const [reference = ''] = image.split('@');
  // The tag follows the last ':' of the last path segment; a ':' before it is a registry port.
  const lastSegment = reference.slice(reference.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon < 0) return undefined;
  const match = /^v?(\d+)\.(\d+)(?:$|[.-])/.exec(lastSegment.slice(colon + 1));
  if (match === null) return undefined;
  return `${Number(match[1])}.${Number(match[2])}`;
}

/** Orders minor versions numerically ("1.9" before "1.29"); negative when a is older. */
export function compareIstioVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}
