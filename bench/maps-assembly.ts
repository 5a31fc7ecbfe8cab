// Where the bench's rehearsals find the stack of each kind of per-cluster Map: the default assembly
// (cdk.out) for inline Maps, one synthesized with `-c distributedMaps=true` into cdk.out.distributed for
// Distributed Maps. The rotation and cost sections both rehearse either.
import { join } from 'node:path';
import type { RotationMaps } from './rotation-figures.js';

export const DISTRIBUTED_ASSEMBLY_DIRECTORY = 'cdk.out.distributed';

/** ensureCloudAssembly's options for the stack with these Maps (none: the default assembly). */
export function mapsAssemblyOptions(
  projectRoot: string,
  maps: RotationMaps,
): { directory?: string; context?: Record<string, string> } {
  return maps === 'distributed'
    ? { directory: join(projectRoot, DISTRIBUTED_ASSEMBLY_DIRECTORY), context: { distributedMaps: 'true' } }
    : {};
}
