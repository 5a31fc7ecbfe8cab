import type { CaSecretGrant, CaSecretPart } from '../lambdas/contract/ca-store.js';
import type { RootKeyUse } from '../lambdas/contract/root-keys.js';
import type { HandlerName } from './handler-entries.js';

/**
 * What one function reaches, and nothing more: the stack gives each function a role of its own made
 * from this table (lib/rotation-functions.ts), and docs/security.md shows what each role reaches.
 */
/** The cluster role a function assumes: the rotator's, or the read-only verifier's. */
export type ClusterAccess = 'rotate' | 'verify';

export interface FunctionAccess {
  /** The CA store's secrets it reads, or writes (which includes reading). */
  readonly secrets?: Partial<Record<CaSecretPart, 'read' | 'write'>>;
  /**
   * An imported root's key secret (`root-key/*`): `read` to sign with a root that was imported with
   * its key, `delete` to schedule its deletion when that root is retired.
   */
  readonly importedRootKeys?: 'read' | 'delete';
  /**
   * Schedules the deletion of the execution's cacerts backups (they hold the old intermediates' keys)
   * once they can restore nothing the run needs: promote-root (a root rotation), release-lock (a
   * succeeded intermediate rekey), rollback (its last stage, every cluster restored). Never reads them.
   */
  readonly deletesBackups?: boolean;
  /**
   * Root keys in KMS: create (and name) them, sign with them, retire them (their key policy, below), find
   * the keys of a root version that no alias names (the key and alias ids in IAM, the tags in the policy).
   */
  readonly rootKeys?: readonly RootKeyUse[];
  /** The rotation lock: `hold` (the writing phases confirm they hold it), `take` (take and release it). */
  readonly lock?: 'hold' | 'take';
  /**
   * Reaches the mesh's clusters: it describes them in EKS and talks to their Kubernetes API as a cluster
   * role, which it assumes for that alone. `rotate`: the rotator role (group meshtrust-rotator), which
   * writes cacerts and restarts workloads. `verify`: the verifier role (group meshtrust-verifier), which
   * reads what a rotation changed and no secret: the gates never need cacerts.
   */
  readonly clusters?: ClusterAccess;
}

/**
 * Every function's reach, from what its handler calls (lambdas/handlers/*.ts). check-expiry is not a
 * rotation phase: it has a role of its own, mapped to group meshtrust-expiry-check, and reads the root
 * secret only.
 */
export const FUNCTION_ACCESS: Readonly<Record<HandlerName, FunctionAccess>> = {
  'acquire-lock': { lock: 'take' },
  preflight: { secrets: { root: 'read' }, clusters: 'rotate' },
  'stage-root': { secrets: { root: 'write' }, rootKeys: ['create', 'sign', 'find'], lock: 'hold' },
  'distribute-bundle': { secrets: { backups: 'write' }, lock: 'hold', clusters: 'rotate' },
  'verify-trust': { clusters: 'verify' },
  'record-approval': {},
  'reissue-intermediate': {
    secrets: { root: 'read', intermediates: 'write', backups: 'write' },
    importedRootKeys: 'read',
    rootKeys: ['sign'],
    lock: 'hold',
    clusters: 'rotate',
  },
  'restart-workloads': { secrets: { intermediates: 'read' }, lock: 'hold', clusters: 'rotate' },
  'verify-workloads': { clusters: 'verify' },
  'retire-root': { lock: 'hold', clusters: 'rotate' },
  'promote-root': {
    secrets: { root: 'write' },
    importedRootKeys: 'delete',
    deletesBackups: true,
    rootKeys: ['retire'],
    lock: 'hold',
  },
  rollback: {
    secrets: { root: 'write', backups: 'read' },
    deletesBackups: true,
    // find: drop-pending-root retires every key of the dropped root version, named by its alias or not.
    rootKeys: ['retire', 'find'],
    lock: 'hold',
    clusters: 'rotate',
  },
  'release-lock': { lock: 'take', deletesBackups: true },
  'check-expiry': { secrets: { root: 'read' } },
};

/** The functions whose roles a cluster role trusts (`access`, or either): each assumes it to reach the clusters. */
export function clusterFunctions(access?: ClusterAccess): HandlerName[] {
  return (Object.keys(FUNCTION_ACCESS) as HandlerName[]).filter((name) =>
    access === undefined
      ? FUNCTION_ACCESS[name].clusters !== undefined
      : FUNCTION_ACCESS[name].clusters === access,
  );
}

/** The functions a root key's policy must name for `use`. */
export function rootKeyFunctions(use: RootKeyUse): HandlerName[] {
  return (Object.keys(FUNCTION_ACCESS) as HandlerName[]).filter((name) =>
    FUNCTION_ACCESS[name].rootKeys?.includes(use),
  );
}

/**
 * The functions a CA secret's resource policy names for `grant` (the handlers write that policy when they
 * create the secret): `<part>Read` and `<part>Write` from `secrets`, `backupsDelete` from
 * `deletesBackups`, `importedRootKeysRead`/`Delete` from `importedRootKeys`.
 */
export function caSecretFunctions(grant: CaSecretGrant): HandlerName[] {
  const granted = (access: FunctionAccess): boolean => {
    switch (grant) {
      case 'rootRead':
        return access.secrets?.root === 'read';
      case 'rootWrite':
        return access.secrets?.root === 'write';
      case 'intermediatesRead':
        return access.secrets?.intermediates === 'read';
      case 'intermediatesWrite':
        return access.secrets?.intermediates === 'write';
      case 'backupsRead':
        return access.secrets?.backups === 'read';
      case 'backupsWrite':
        return access.secrets?.backups === 'write';
      case 'backupsDelete':
        return access.deletesBackups === true;
      case 'importedRootKeysRead':
        return access.importedRootKeys === 'read';
      case 'importedRootKeysDelete':
        return access.importedRootKeys === 'delete';
    }
  };
  return (Object.keys(FUNCTION_ACCESS) as HandlerName[]).filter((name) => granted(FUNCTION_ACCESS[name]));
}
