// Whether a process still runs, by pid: signal 0 checks without sending anything. EPERM means it
// runs as another user, which is still alive.
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
