// jest globalSetup of the projects without moto (unit, infra): only the per-run scratch folder.
import { enterScratchDir } from './scratch-dir.js';

export default function setup() {
  enterScratchDir();
}
