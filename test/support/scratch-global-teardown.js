// jest globalTeardown of the projects without moto (unit, infra): removes the run's scratch folder.
import { leaveScratchDir } from './scratch-dir.js';

export default function teardown() {
  leaveScratchDir();
}
