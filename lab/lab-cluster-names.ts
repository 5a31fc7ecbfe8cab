// The names of a lab fleet's clusters, PREFIX1 .. PREFIXN (lab-1 .. lab-N unless asked otherwise): the
// fleet is started with them, and a flag that names a cluster (`rehearse --cluster`, `--fail-at
// STATE:CLUSTER`) is checked against them before it is. A longer prefix gives the fleet EKS's longest
// names, so that what the product keeps per cluster (secret names and tags, the state's answers) is
// rehearsed at its largest.

/** The prefix of every lab's cluster names unless one is asked for. */
export const LAB_CLUSTER_NAME_PREFIX = 'lab-';

/**
 * What EKS takes as a cluster name, stated from its API Reference (CreateCluster, `name`): "The name can
 * contain only alphanumeric characters (case-sensitive), hyphens, and underscores. It must start with
 * an alphanumeric character and can't be longer than 100 characters." Stated here, not taken from the
 * product, which the lab's names are there to try.
 */
const EKS_NAME = /^[0-9A-Za-z][0-9A-Za-z_-]*$/;
export const EKS_CLUSTER_NAME_MAX = 100;

export function labClusterNames(count: number, prefix = LAB_CLUSTER_NAME_PREFIX): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}${index + 1}`);
}

/** Why `prefix` cannot name a fleet of `count` clusters as EKS would take them, or undefined. */
export function clusterNamePrefixProblem(prefix: string, count: number): string | undefined {
  const longest = `${prefix}${count}`;
  if (!EKS_NAME.test(longest)) {
    return (
      `${JSON.stringify(prefix)} cannot start an EKS cluster name: use letters, digits, "-" and "_", ` +
      'starting with a letter or digit'
    );
  }
  if (longest.length > EKS_CLUSTER_NAME_MAX) {
    const room = EKS_CLUSTER_NAME_MAX - String(count).length;
    return (
      `${JSON.stringify(prefix)} (${prefix.length} characters) makes ${longest.length}-character names, and EKS ` +
      `takes at most ${EKS_CLUSTER_NAME_MAX}: with ${count} cluster(s) the prefix may have at most ${room}`
    );
  }
  return undefined;
}
