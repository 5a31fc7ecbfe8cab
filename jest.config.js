// Native ES modules: @kubernetes/client-node 2.x and aws-local-stepfunctions ship only as ESM, so
// jest runs under `node --experimental-vm-modules` (see package.json) and @swc/jest emits ESM.
// Imports use NodeNext `.js` specifiers; the mapper points them back at the `.ts` sources.
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

// Integration and e2e tests share one moto_server per run (AWS API emulator, test/support/).
const moto = {
  globalSetup: '<rootDir>/test/support/moto-global-setup.js',
  globalTeardown: '<rootDir>/test/support/moto-global-teardown.js',
};

// The others only get the per-run scratch folder for temp files (test/support/scratch-dir.js).
const scratch = {
  globalSetup: '<rootDir>/test/support/scratch-global-setup.js',
  globalTeardown: '<rootDir>/test/support/scratch-global-teardown.js',
};

// The suites that start the istio engine's real components (kube-apiserver, etcd, istiod, pilot-agent,
// built from lab/go): their own project, which `npm test` runs in a lane of its own with infra, beside
// the others (test/run-test-lanes.mts). Istio labs run one at a time on a machine (they wait for each
// other), and they leave the CPU idle most of the time, waiting on certificate lifetimes and istiod's
// pushes.
const ISTIO_SUITES = [
  'test/e2e/rehearse-istio.test.ts',
  'test/e2e/rehearse-attached-istio-lab.test.ts',
  'test/integration/adapters/kube-served-certificate.test.ts',
  'test/integration/cli/lab-build.test.ts',
  'test/integration/cli/meshtrust-lab-istio.test.ts',
  'test/integration/lab/control-plane.test.ts',
  'test/integration/lab/envoy-admin-stand-in.test.ts',
  'test/integration/lab/envoy-stand-in-pilot-agent.test.ts',
  'test/integration/lab/istio-engine-kube-faults.test.ts',
  'test/integration/lab/istio-engine.test.ts',
  'test/integration/lab/istio-multicluster.test.ts',
  'test/integration/lab/istio-pcds-off.test.ts',
  'test/integration/lab/istio-primary-remote.test.ts',
  'test/integration/lab/istio-resign.test.ts',
  'test/integration/lab/istiod-calibration.test.ts',
  'test/integration/lab/kubelet-port-forward.test.ts',
  'test/integration/lab/lab-binaries-build.test.ts',
  'test/integration/lab/rotator-restart-policy.test.ts',
].map((suite) => `<rootDir>/${suite}`);

// Long model-lab suites that run in the istio lane all the same, in a project of their own: the main
// lane's suites add up to a few minutes more than the istio lane's, and the lanes should end together
// (npm test's wall time is the longer lane). A suite here still starts only the model lab and moto.
const BALANCE_SUITES = [
  'test/integration/cli/rehearse-attached-lab-killed.test.ts',
  // About 300 s under CI's load: the last CI run's main lane took 4,608 s of suites, the other 3,753.
  'test/integration/cli/rehearse-attached-lab.test.ts',
  // About 200 s since it rehearses discovery across accounts and regions too (af7c130).
  'test/integration/cli/rehearse-other-account.test.ts',
  // About 240 s (7 chaos cases on the model): CI's dry run of 4 December 2026 ended the main lane 520 s
  // after the other (2,701 s, 2,181 s).
  'test/integration/chaos/run-chaos.test.ts',
].map((suite) => `<rootDir>/${suite}`);

/** Suites that the integration and e2e projects leave to the istio and balance projects. */
const OWN_LANE_SUITES = [...ISTIO_SUITES, ...BALANCE_SUITES];

const shared = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': swc },
  testEnvironment: 'node',
};

/** A testPathIgnorePatterns entry (a regular expression) that matches exactly `suite`. */
function exactPath(suite) {
  return `${suite.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}

/** @type {import('jest').Config} */
export default {
  // Every test and hook that sets no timeout of its own: 30 s, not jest's 5 s. npm test runs two lanes
  // on 2 cores, and a unit suite's key generation in beforeAll once took over 5 s beside an istio lab.
  testTimeout: 30_000,
  projects: [
    { ...shared, ...scratch, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...shared,
      ...moto,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      testPathIgnorePatterns: OWN_LANE_SUITES.map(exactPath),
    },
    { ...shared, ...scratch, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
    {
      ...shared,
      ...moto,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      testPathIgnorePatterns: OWN_LANE_SUITES.map(exactPath),
    },
    { ...shared, ...moto, displayName: 'istio', testMatch: ISTIO_SUITES },
    { ...shared, ...moto, displayName: 'balance', testMatch: BALANCE_SUITES },
  ],
};
