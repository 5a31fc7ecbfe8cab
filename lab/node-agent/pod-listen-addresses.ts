// The lab's pods share the host's network namespace (loopback addresses are per machine, not per
// namespace, and the lab must stay on 127.0.0.0/8), so a port two pods both open would clash, and a
// server that listens on every interface would leave loopback. Where a real pod's runtime gives each
// container its own network namespace, the lab gives each pod its own address and tells each Istio
// component to listen only there, through that component's own settings:
// - pilot-discovery: its listen-address flags, every one of them, with their upstream default ports;
// - pilot-agent: its only TCP server is the status server on ":15020", which no setting moves; the
//   lab holds that port so that it never starts (status-port-guard.ts).

/** pilot-discovery's listen flags and default ports (pilot/cmd/pilot-discovery/app/cmd.go). */
const DISCOVERY_LISTEN_FLAGS: Readonly<Record<string, number>> = {
  httpAddr: 8080,
  httpsAddr: 15017,
  grpcAddr: 15010,
  secureGRPCAddr: 15012,
  monitoringAddr: 15014,
};

export interface ProcessLaunch {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export function discoveryOnPodAddress(launch: ProcessLaunch, podAddress: string): ProcessLaunch {
  const argv: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < launch.argv.length; i++) {
    const arg = launch.argv[i] ?? '';
    const match = /^--?([A-Za-z]+)(?:=(.*))?$/.exec(arg);
    const flag = match?.[1];
    if (flag !== undefined && (flag in DISCOVERY_LISTEN_FLAGS || flag === 'ctrlz_address')) {
      // --flag=value or --flag value
      const value = match?.[2] ?? launch.argv[++i] ?? '';
      seen.add(flag);
      argv.push(
        flag === 'ctrlz_address'
          ? `--ctrlz_address=${podAddress}`
          : `--${flag}=${onAddress(value, podAddress)}`,
      );
      continue;
    }
    argv.push(arg);
  }
  for (const [flag, port] of Object.entries(DISCOVERY_LISTEN_FLAGS)) {
    if (!seen.has(flag)) argv.push(`--${flag}=${podAddress}:${port}`);
  }
  // ctrlz, istiod's introspection page, listens on localhost:9876 by default: one per machine.
  if (!seen.has('ctrlz_address')) argv.push(`--ctrlz_address=${podAddress}`);
  return { argv, env: launch.env };
}

/** ":8080" -> "<pod>:8080"; "0.0.0.0:8080" and "[::]:8080" too; a loopback host is kept. */
function onAddress(value: string, podAddress: string): string {
  const port = /:(\d+)$/.exec(value)?.[1];
  if (port === undefined) return value;
  const host = value.slice(0, value.length - port.length - 1);
  return host.startsWith('127.') ? value : `${podAddress}:${port}`;
}
