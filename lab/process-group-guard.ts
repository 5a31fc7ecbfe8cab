// A process group that must not outlive this process, however this process ends: a clean exit, a
// crash, or SIGKILL (of it or of its own process group). The guard is a tiny shell in a session of its
// own, blocked reading a pipe whose writing end only this process holds. When this process ends, the
// kernel closes that end, `read` returns, and the guard kills the whole group, then exits itself.
//
// Why not PR_SET_PDEATHSIG (`setpriv --pdeathsig`, as lab-process.ts uses for single components): it
// reaches only the direct child, not a group (moto_server may be a shim that starts python, `npx cdk
// synth` starts node and esbuild), and it fires when the *thread* that forked exits.
import { type ChildProcess, spawn } from 'node:child_process';

export interface ProcessGroupGuard {
  /** The group is stopped by its owner: the guard goes, without touching the group. */
  release(): void;
}

const GUARD_SCRIPT = 'read -r _; kill -s KILL -- "-$1" 2>/dev/null';

/** Guards the process group `pgid` (a child started with `detached: true` leads its own group). */
export function guardProcessGroup(pgid: number): ProcessGroupGuard {
  const guard: ChildProcess = spawn(
    '/bin/sh',
    ['-c', GUARD_SCRIPT, 'meshtrust-process-group-guard', String(pgid)],
    {
      // Its own session: a terminal's Ctrl-C or a kill of this process's group leaves it to do its job.
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    },
  );
  // A guard that cannot start leaves the group to its owner's stop() and exit hook, as before.
  guard.once('error', () => undefined);
  guard.stdin?.on('error', () => undefined);
  // Neither the guard nor its pipe keeps this process alive.
  guard.unref();
  (guard.stdin as { unref?: () => void } | null)?.unref?.();
  return {
    release: () => {
      if (guard.exitCode === null && guard.signalCode === null) guard.kill('SIGKILL');
    },
  };
}
