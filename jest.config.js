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

const shared = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': swc },
  testEnvironment: 'node',
};

/** @type {import('jest').Config} */
export default {
  projects: [
    { ...shared, ...scratch, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...shared,
      ...moto,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
    },
    { ...shared, ...scratch, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
    { ...shared, ...moto, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};
