// The package entry point (`import { MeshTrustRotation } from 'meshtrust'`): the construct a CDK app adds
// to one of its stacks, its props and errors, and the ready-made stack bin/app.ts deploys. Everything else
// under lib/ is the construct's own parts.

export { MeshTrustConfigError } from './mesh-trust-config-error.js';
export {
  type ClusterAccountRoles,
  type ClusterTag,
  DEFAULT_CLUSTER_TAG_KEY,
  DEFAULT_ROTATION_SCHEDULE,
  KEY_ALGORITHMS,
  type KeyAlgorithm,
  MeshTrustRotation,
  type MeshTrustRotationProps,
} from './mesh-trust-rotation.js';
export { MeshTrustStack, type MeshTrustStackProps } from './mesh-trust-stack.js';
export { rotationStateMachineName } from './rotation-state-machine.js';
