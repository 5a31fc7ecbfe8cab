// How far V8 lets the heap of a process that hosts a lab grow past what is live. V8 sets the next full
// collection's threshold at up to 4 times the heap that survived the last one when the process may use
// gigabytes (its default limit on a machine of 16 GiB or more is 4 GiB), and a lab makes garbage fast:
// every renewal and handshake. The rehearsal of 100 clusters x 100 workloads held 334 MiB of live
// objects at its busiest (a heap snapshot during restart-workloads) while V8's heap stood at 777 MiB at
// the lab's highest reading; with a growth of 50% it stood at 571 MiB. A growth factor scales with the
// fleet by itself: a fixed heap limit would have to be sized to it, and one under the live objects ends
// the run. (The process's peak at that size is now bound by memory outside V8's heap: docs/workflow.md.)
import { setFlagsFromString } from 'node:v8';

/** After a full collection the heap may grow this many percent past what survived it. */
export const LAB_HEAP_GROWING_PERCENT = 50;

const HEAP_FLAGS = /--(heap[-_]growing[-_]percent|max[-_]old[-_]space[-_]size)\b/;

/**
 * Applies LAB_HEAP_GROWING_PERCENT to this process, unless its node options already say how its heap
 * grows or how large it may be (--heap-growing-percent, --max-old-space-size): an operator's choice
 * wins. Returns whether it applied. V8 reads the flag at each collection, so it takes effect when set
 * after start (node:v8 setFlagsFromString).
 */
export function limitLabHeapGrowth(
  nodeOptions: readonly string[] = [...process.execArgv, process.env.NODE_OPTIONS ?? ''],
): boolean {
  if (nodeOptions.some((option) => HEAP_FLAGS.test(option))) return false;
  setFlagsFromString(`--heap-growing-percent=${LAB_HEAP_GROWING_PERCENT}`);
  return true;
}
