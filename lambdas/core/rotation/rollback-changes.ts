import type { CacertsFiles } from '../pki/cacerts.js';
import { appendRootPem, checkRootCertBytes } from '../pki/root-cert-bytes.js';
import { checkRootTransition, TrustBundle } from '../pki/trust-bundle.js';
import { PreconditionFailed } from '../rotation-errors.js';
import { type CacertsChange, changeTo, identicalCacerts } from './cacerts-change.js';
import { distributeBundleChange } from './distribute-bundle-change.js';

/**
 * Rollback walks a rotation back in the safe order (docs/workflow.md), each stage a pure decision on
 * the cluster's current `cacerts` and its backup (the start state), a no-op where nothing was touched.
 */

/**
 * Stage 1, restore-trust: the cluster trusts the start roots again next to the new one. Nothing is
 * written when root-cert.pem already contains the backup's text (an untouched or distributed cluster,
 * a retry). Otherwise the cluster was retired (root-cert.pem = B's PEM), and it gets back what
 * distribute-bundle wrote (`stagedRootPem`: the start's text with B's PEM appended), which contains
 * both B's PEM and the start's text: istiod up to Istio 1.29 accepts it whether it last loaded
 * distribute's file or retire's. That matters because istiod reads the mounted file a kubelet sync
 * later: when retire-root and this stage fall within one sync, istiod never saw B alone and compares
 * with distribute's text, which the start appended after B (B+A) would neither contain nor be part
 * of, so it would drop the write. Without the staged root (or when distribute's text does not contain
 * the current one), the start's text is appended to the current text. Stage 3 then writes the backup
 * back, a part of this file.
 */
export function restoreTrustChange(
  current: CacertsFiles,
  backup: CacertsFiles,
  stagedRootPem?: string,
): CacertsChange {
  if (current['root-cert.pem'].includes(backup['root-cert.pem'])) {
    return {
      write: false,
      files: current,
      reason: "root-cert.pem already contains the start state's root-cert.pem byte for byte",
    };
  }
  if (stagedRootPem !== undefined) {
    const distributed = distributeBundleChange(backup, stagedRootPem).files['root-cert.pem'];
    if (distributed.includes(current['root-cert.pem'])) {
      return {
        write: true,
        files: { ...current, 'root-cert.pem': distributed },
        reason:
          "root-cert.pem is what distribute-bundle wrote: the start state's text with the new root appended",
      };
    }
  }
  return {
    write: true,
    files: { ...current, 'root-cert.pem': appendRootPem(current['root-cert.pem'], backup['root-cert.pem']) },
    reason: "root-cert.pem regains the start state's roots, its root-cert.pem appended byte for byte",
  };
}

/**
 * Stage 2, restore-intermediate: the original ca-cert, ca-key and cert-chain come back, root-cert
 * stays as restore-trust left it (which holds the original chain's root).
 */
export function restoreIntermediateChange(
  cluster: string,
  current: CacertsFiles,
  backup: CacertsFiles,
): CacertsChange {
  const trusted = TrustBundle.parse(current['root-cert.pem']);
  if (!TrustBundle.parse(backup['root-cert.pem']).isSubsetOf(trusted)) {
    throw new PreconditionFailed(
      `root-cert.pem of cluster ${cluster} lacks roots of its start state; restoring the original intermediate ` +
        'now could break mTLS. Run the restore-trust stage first.',
      { cluster, phase: 'rollback' },
    );
  }
  const desired: CacertsFiles = {
    'ca-cert.pem': backup['ca-cert.pem'],
    'ca-key.pem': backup['ca-key.pem'],
    'cert-chain.pem': backup['cert-chain.pem'],
    'root-cert.pem': current['root-cert.pem'],
  };
  return changeTo(current, desired, {
    write: 'the original intermediate comes back',
    unchanged: 'the cluster already runs on its original intermediate',
  });
}

/** True when the cluster's intermediate (ca-cert, ca-key, cert-chain) is the one of its backup. */
export function runsOriginalIntermediate(current: CacertsFiles, backup: CacertsFiles): boolean {
  return (
    current['ca-cert.pem'] === backup['ca-cert.pem'] &&
    current['ca-key.pem'] === backup['ca-key.pem'] &&
    current['cert-chain.pem'] === backup['cert-chain.pem']
  );
}

/**
 * Stage 3, restore-original: every key byte-identical to the backup. Refused while the cluster still
 * runs another intermediate, or when istiod would drop the root-cert.pem change silently: a root set
 * neither subset nor superset (Istio 1.30), or bytes where neither file contains the other (up to 1.29).
 */
export function restoreOriginalChange(
  cluster: string,
  current: CacertsFiles,
  backup: CacertsFiles,
): CacertsChange {
  if (!runsOriginalIntermediate(current, backup)) {
    throw new PreconditionFailed(
      `Cluster ${cluster} does not run its original intermediate yet; restoring the original root-cert now ` +
        'could strand workload certificates. Run restore-intermediate and the rollback restart first.',
      { cluster, phase: 'rollback' },
    );
  }
  const where = { cluster, file: 'root-cert.pem' };
  const refused = [
    checkRootTransition(
      TrustBundle.parse(current['root-cert.pem']),
      TrustBundle.parse(backup['root-cert.pem']),
      where,
    ),
    checkRootCertBytes(current['root-cert.pem'], backup['root-cert.pem'], where),
  ].find((finding) => finding.status === 'non-compliant');
  if (refused) {
    throw new PreconditionFailed(
      `Restoring root-cert.pem of cluster ${cluster}: ${refused.reason} Run the restore-trust stage first.`,
      { cluster, phase: 'rollback' },
    );
  }
  return changeTo(
    current,
    backup,
    {
      write: 'cacerts is written back byte-identical to the backup',
      unchanged: 'cacerts is already byte-identical to the backup',
    },
    identicalCacerts,
  );
}
