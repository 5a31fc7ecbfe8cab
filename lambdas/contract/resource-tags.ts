/**
 * The tag that marks a mesh's AWS resources, declared once for the stack (lib/), the handlers and the
 * lab: its value is the mesh id. The stack's IAM conditions on it (kms:Sign on the mesh's root keys),
 * the CA store and the root keys carry it, and it is the default tag of the mesh's EKS clusters.
 * Nothing here imports anything, so lib/ can use it without pulling handler code into synthesis.
 */
export const MESH_TAG_KEY = 'meshtrust.io/mesh';
