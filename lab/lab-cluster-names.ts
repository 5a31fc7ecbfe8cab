// The names of a lab fleet's clusters, lab-1 .. lab-N: the fleet is started with them, and a flag that
// names a cluster (`rehearse --cluster`, `--fail-at STATE:CLUSTER`) is checked against them before it is.

export function labClusterNames(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `lab-${index + 1}`);
}
