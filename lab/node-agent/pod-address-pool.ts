// Pod addresses of one cluster's node: the lowest free one first, returned to the pool when the pod
// is gone, so a long rehearsal with many restarts never runs out.

import { PODS_PER_CLUSTER_MAX, podAddress } from '../control-plane/lab-addresses.js';
import { LabError } from '../lab-errors.js';

export class PodAddressPool {
  private readonly inUse = new Set<number>();
  private readonly ordinals = new Map<string, number>();

  constructor(private readonly clusterIndex: number) {}

  allocate(): string {
    for (let ordinal = 0; ordinal < PODS_PER_CLUSTER_MAX; ordinal++) {
      if (this.inUse.has(ordinal)) continue;
      this.inUse.add(ordinal);
      const address = podAddress(this.clusterIndex, ordinal);
      this.ordinals.set(address, ordinal);
      return address;
    }
    throw new LabError(
      `cluster ${this.clusterIndex} has no free pod address left (${PODS_PER_CLUSTER_MAX} in use)`,
    );
  }

  release(address: string): void {
    const ordinal = this.ordinals.get(address);
    if (ordinal === undefined) return;
    this.ordinals.delete(address);
    this.inUse.delete(ordinal);
  }
}
