// `npm test`: every jest suite, in two lanes side by side. One lane runs the istio project (the suites
// that start the real kube-apiserver, etcd, istiod and pilot-agent; see jest.config.js), one suite
// after another, the infra project (CDK synths, CPU-bound) and the balance project (long model-lab
// suites moved there so that both lanes end together); the other lane runs every other project. The
// istio suites mostly wait on certificate lifetimes and istiod's pushes, so the synths fill that lane's
// idle CPU, and the two lanes take about as long as each other. Each lane runs one suite at a time:
// with two in the main lane (f13dbb5) npm test took 2,414 s, where one a lane took 2,701 s (a dry run
// of CI, 4 December 2026), but CI's run of it failed handshakes in a model rehearsal and an istio one
// (16 and 11) that passed with one, so the 2 cores keep two suites at once. With arguments
// (`npm test -- <paths or jest flags>`) it runs one plain jest with them instead.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Lane, laneFailed, runLanes } from './support/test-lanes.js';

/** The projects of the first lane; the second runs every other project of jest.config.js. */
const FIRST_LANE_PROJECTS = ['istio', 'infra', 'balance'];
process.chdir(fileURLToPath(new URL('..', import.meta.url)));
const jest = [
  '--experimental-vm-modules',
  '--no-warnings=ExperimentalWarning',
  fileURLToPath(new URL('../node_modules/jest/bin/jest.js', import.meta.url)),
];

const args = process.argv.slice(2);
if (args.length > 0) {
  const child = spawn(process.execPath, [...jest, ...args], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.once('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  const first = FIRST_LANE_PROJECTS.join('+');
  const lanes: Lane[] = [
    { name: first, command: process.execPath, args: [...jest, '--selectProjects', ...FIRST_LANE_PROJECTS] },
    { name: 'main', command: process.execPath, args: [...jest, '--ignoreProjects', ...FIRST_LANE_PROJECTS] },
  ];
  console.log(
    `npm test: two lanes side by side, each line prefixed with its lane: ${first} (the suites with ` +
      'the real Kubernetes and Istio components, the CDK ones and the long model rehearsals of the ' +
      'balance project) and main (every other project). ' +
      'A suite prints when it ends; the longest, the istio rehearsals, take about 20 minutes.',
  );
  const aborted = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => aborted.abort());
  const results = await runLanes(lanes, {
    write: (line) => process.stdout.write(`${line}\n`),
    env: { ...process.env, ...(process.stdout.isTTY && { FORCE_COLOR: '1' }) },
    signal: aborted.signal,
  });
  // A lane that ended long before the other has its failures far above the log's tail: print them again.
  for (const result of results.filter(laneFailed)) {
    console.log(`npm test: the end of lane ${result.name}'s output again, as it failed:`);
    for (const line of result.tail) console.log(`${result.name} │ ${line}`);
  }
  for (const result of results) {
    const ended = laneFailed(result)
      ? `FAILED (${result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`})`
      : 'passed';
    console.log(`npm test: lane ${result.name} ${ended} in ${Math.round(result.seconds)} s`);
  }
  process.exitCode = results.some(laneFailed) ? 1 : 0;
}
