// `meshtrust verify`: the fleet's trust now. Every cluster's cacerts valid and chaining to the CA store's
// current root, every namespace's istio-ca-root-cert holding the cluster's root set, and the expiry
// headroom of the root and each intermediate (a warning under EXPIRY_WARNING_DAYS, default 90).
// Exit 1 with the list of problems when anything is wrong. Reads only.
import type { Command } from 'commander';
import { rootSecretName } from '../../lambdas/adapters/secrets/secret-names.js';
import type { ClusterReading } from '../../lambdas/application/review-fleet.js';
import { certificateFingerprint } from '../../lambdas/core/pki/fingerprint.js';
import { TrustBundle } from '../../lambdas/core/pki/trust-bundle.js';
import { addFleetOptions, type FleetOptions, fleetConfig } from '../cli/aws-options.js';
import type { CliContext } from '../cli/cli-context.js';
import { EXIT_CODES } from '../cli/cli-errors.js';
import { type FleetReading, readFleet } from '../cli/fleet-reading.js';
import type { Terminal } from '../cli/terminal.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface VerifyCommandOptions extends FleetOptions {
  readonly json?: boolean;
}

interface Expiry {
  readonly fingerprint: string;
  readonly notAfter: string;
  readonly daysLeft: number;
}

/** What `verify --json` prints. */
export interface VerifyReport {
  readonly meshId: string;
  readonly ok: boolean;
  readonly currentRoot?: Expiry;
  readonly clusters: readonly {
    readonly name: string;
    readonly ok: boolean;
    readonly intermediate?: Expiry;
    /** Namespaces whose istio-ca-root-cert was checked. */
    readonly namespaces: number;
    readonly problems: readonly string[];
  }[];
  /** Everything wrong, cluster by cluster; exit 1 when not empty. */
  readonly problems: readonly string[];
  /** Worth acting on soon, but the fleet's trust holds: expiry headroom, a rotation in progress. */
  readonly warnings: readonly string[];
}

export function registerVerifyCommand(program: Command, context: CliContext): Command {
  const command = program
    .command('verify')
    .description(
      "Check the fleet's trust now: every cluster's cacerts valid and chaining to the current root (CA store), " +
        "every namespace's istio-ca-root-cert holding the cluster's root set, and expiry headroom of root and " +
        'intermediates (warning under 90 days, EXPIRY_WARNING_DAYS). Exit 1 with the list when anything is wrong.',
    )
    .option('--json', 'print the report as JSON');
  return addFleetOptions(command)
    .addHelpText(
      'after',
      '\nExamples:\n  source ./my-lab/env && meshtrust verify\n  meshtrust verify --region eu-west-1 --mesh-id prod --json\n\n' +
        'Exit codes: 0 all trust checks pass (warnings allowed), 1 a problem, 2 usage, 3 AWS/cluster access.',
    )
    .action(async (options: VerifyCommandOptions) => {
      const config = fleetConfig(options, context.env);
      const report = verifyReport(await readFleet(config, new Date()), new Date());
      if (!report.ok) context.exitCode = EXIT_CODES.checkFailed;
      if (options.json) context.terminal.out(JSON.stringify(report, null, 2));
      else printVerify(report, context.terminal);
    });
}

export function verifyReport(fleet: FleetReading, now: Date): VerifyReport {
  const { config, currentRoot, stages } = fleet;
  const warnDays = config.expiryWarningDays;
  const expiry = (fingerprint: string, notAfter: Date): Expiry => ({
    fingerprint,
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS),
  });
  const problems: string[] = [];
  const warnings: string[] = [];
  if (currentRoot === undefined) {
    problems.push(
      `the CA store holds no current root (${rootSecretName(config.meshId)}), so nothing can be verified against it; import the mesh's root first`,
    );
  }
  if (fleet.clusters.length === 0) {
    problems.push(
      `no EKS cluster belongs to mesh ${config.meshId} (tag ${config.clusterTagKey}=${config.clusterTagValue}, or --clusters)`,
    );
  }
  if (stages.pending !== undefined) {
    warnings.push(
      `a rotation is in progress or was left unfinished (pending root version ${stages.pending}); see meshtrust status`,
    );
  }
  const root = currentRoot && expiry(currentRoot.fingerprint, currentRoot.notAfter);
  if (root !== undefined && root.daysLeft < warnDays) {
    warnings.push(
      `the current root ${root.fingerprint} expires in ${root.daysLeft} days (${root.notAfter}); plan the annual rotation now (meshtrust plan)`,
    );
  }
  const clusters = fleet.readings.map((reading) => {
    const clusterProblems = [...reading.review.problems, ...bundleProblems(reading)];
    const { intermediateNotAfter } = reading.review;
    // Shown whenever the intermediate parses, also for a cluster with problems (e.g. one on another root).
    const intermediatePem = reading.snapshot?.files['ca-cert.pem'];
    const intermediate =
      intermediateNotAfter !== undefined && intermediatePem !== undefined
        ? expiry(certificateFingerprint(intermediatePem), intermediateNotAfter)
        : undefined;
    if (intermediate !== undefined && intermediate.daysLeft < warnDays) {
      warnings.push(
        `cluster ${reading.cluster}: the intermediate expires in ${intermediate.daysLeft} days (${intermediate.notAfter}); rekey it (meshtrust rotate --mode intermediate --cluster ${reading.cluster})`,
      );
    }
    problems.push(...clusterProblems);
    return {
      name: reading.cluster,
      ok: clusterProblems.length === 0,
      ...(intermediate !== undefined && { intermediate }),
      namespaces: reading.bundles.filter((bundle) => bundle.rootCertPem !== undefined).length,
      problems: clusterProblems,
    };
  });
  return {
    meshId: config.meshId,
    ok: problems.length === 0,
    ...(root !== undefined && { currentRoot: root }),
    clusters,
    problems,
    warnings,
  };
}

/** Namespaces whose published bundle is not the cluster's root-cert set (istio-ca-root-cert lags or is wrong). */
function bundleProblems(reading: ClusterReading): string[] {
  const rootCert = reading.snapshot?.files['root-cert.pem'];
  if (rootCert === undefined) return [];
  let expected: TrustBundle;
  try {
    expected = TrustBundle.parse(rootCert, { cluster: reading.cluster, file: 'root-cert.pem' });
  } catch {
    return []; // the review has already reported the unreadable root-cert.pem
  }
  const published = reading.bundles.filter((bundle) => bundle.rootCertPem !== undefined);
  if (published.length === 0) {
    return [
      `cluster ${reading.cluster}: no namespace has istio-ca-root-cert; is istiod running? Check istiod in istio-system`,
    ];
  }
  const differing = published
    .filter((bundle) => {
      try {
        return !TrustBundle.parse(bundle.rootCertPem as string).equals(expected);
      } catch {
        return true;
      }
    })
    .map((bundle) => bundle.namespace);
  if (differing.length === 0) return [];
  return [
    `cluster ${reading.cluster}: istio-ca-root-cert does not hold the cluster's root set {${expected.fingerprints().join(', ')}} ` +
      `in ${differing.length} namespace(s): ${differing.join(', ')}. istiod may still be pushing (check again in a minute); ` +
      'if it persists, istiod rejected the cacerts: check its log',
  ];
}

function printVerify(report: VerifyReport, terminal: Terminal): void {
  const { out, styleOut } = terminal;
  if (report.currentRoot !== undefined) {
    out(
      `mesh ${report.meshId}: current root ${report.currentRoot.fingerprint}, expires ${report.currentRoot.notAfter} (${report.currentRoot.daysLeft} days)`,
    );
  }
  for (const cluster of report.clusters) {
    const mark = cluster.ok ? styleOut('green', 'ok  ') : styleOut('red', 'FAIL');
    const intermediate =
      cluster.intermediate === undefined
        ? ''
        : `, intermediate ${cluster.intermediate.fingerprint} expires in ${cluster.intermediate.daysLeft} days`;
    out(`${mark} ${cluster.name}: ${cluster.namespaces} namespace bundle(s) checked${intermediate}`);
  }
  for (const warning of report.warnings) out(styleOut('yellow', `warning: ${warning}`));
  if (report.ok) {
    out(
      styleOut(
        'green',
        'trust verified: every cluster chains to the current root and every namespace holds its roots',
      ),
    );
    return;
  }
  out(styleOut('red', `${report.problems.length} problem(s):`));
  for (const problem of report.problems) out(`  - ${problem}`);
}
