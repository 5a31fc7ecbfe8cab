// One fresh process of the handlers bench (handler-bench.ts): imports a function's own bundle from the
// cloud assembly, as the Lambda Node.js runtime does on a cold start, and times the import. Given an
// event, it then invokes the handler once (the first call may still initialise things) and `count`
// more times, timing each: the warm invocations. Plain JavaScript run by plain node, so nothing but
// the bundle is loaded; results go over IPC because the handler logs on stdout. The import's start and
// end on the monotonic clock, in microseconds, let a CPU profile of this process be read for the
// import alone (a profile's timestamps are on that clock).
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const { bundle, exportName, event, count } = JSON.parse(process.env._BENCH_PROBE ?? '{}');
delete process.env._BENCH_PROBE;

const failed = (stage, error) => {
  const errorType = typeof error?.name === 'string' && error.name !== '' ? error.name : 'Error';
  process.send({ type: 'failed', stage, errorType, message: String(error?.message ?? error) }, () =>
    process.exit(1),
  );
};

const microseconds = () => Number(process.hrtime.bigint() / 1000n);
const importWindowUs = { fromUs: microseconds() };
const importStarted = performance.now();
let module;
try {
  module = await import(pathToFileURL(bundle).href);
} catch (error) {
  failed('import', error);
}
if (module !== undefined) {
  const importMs = performance.now() - importStarted;
  importWindowUs.toUs = microseconds();
  const handler = module[exportName];
  if (event === undefined) {
    process.send({ type: 'result', importMs, importWindowUs }, () => process.exit(0));
  } else if (typeof handler !== 'function') {
    failed('invoke', new TypeError(`${bundle} exports no function ${exportName}`));
  } else {
    try {
      const firstStarted = performance.now();
      await handler(structuredClone(event), {});
      const firstInvokeMs = performance.now() - firstStarted;
      const invokeMs = [];
      for (let index = 0; index < count; index += 1) {
        const started = performance.now();
        await handler(structuredClone(event), {});
        invokeMs.push(performance.now() - started);
      }
      process.send({ type: 'result', importMs, firstInvokeMs, invokeMs }, () => process.exit(0));
    } catch (error) {
      failed('invoke', error);
    }
  }
}
