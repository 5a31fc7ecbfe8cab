import type { MachineInfo } from '../../bench/bench-results.js';

/** A machine description for result files made in tests (bench and chaos results name one). */
export const TEST_MACHINE: MachineInfo = {
  cpuModel: 'Test CPU',
  cpuCount: 2,
  memoryGiB: 8,
  os: 'linux x64 6.0',
  node: 'v22.0.0',
  nodeOpenssl: '3.0.15',
  loadAverageAtStart: 0.1,
};
