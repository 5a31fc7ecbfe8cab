// How many clusters `meshtrust lab` and `meshtrust rehearse` take: the model lab up to LAB_MAX_CLUSTERS
// (issue 14's 100), the istio engine, a real control plane per cluster, up to ISTIO_LAB_MAX_CLUSTERS;
// both refused with exit 2 before moto or any cluster starts. In process, nothing is started.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_CODES } from '../../../bin/cli/cli-errors.js';
import { ISTIO_LAB_MAX_CLUSTERS, LAB_MAX_CLUSTERS } from '../../../lab/lab-options.js';
import { runMeshtrustInProcess } from './in-process-cli.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mt-cli-clusters-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.each(['lab', 'rehearse'])('meshtrust %s --clusters', (command) => {
  it(`refuses one cluster more than the model lab's ${LAB_MAX_CLUSTERS}, naming the range`, async () => {
    // Act
    const result = await runMeshtrustInProcess([command, '--clusters', '101', '--out', join(dir, command)]);

    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.usage);
    expect(result.stderr).toContain('expected a whole number from 1 to 100');
  });

  it(`refuses the istio engine more than ${ISTIO_LAB_MAX_CLUSTERS} clusters before anything starts`, async () => {
    // Act
    const result = await runMeshtrustInProcess([
      command,
      '--engine',
      'istio',
      '--clusters',
      '21',
      '--out',
      join(dir, command),
    ]);

    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.usage);
    expect(result.stderr).toContain('--clusters 21: the istio engine runs at most 20 clusters');
  });

  it("says the istio engine's limit in --help", async () => {
    // Act
    const result = await runMeshtrustInProcess([command, '--help']);

    // Assess: commander wraps the line (rehearse's says its --cluster-name-prefix between)
    expect(result.stdout).toMatch(
      /--clusters <n>.*lab-1 \.\. lab-N[^(]*\(istio\s+engine:\s+at\s+most\s+20\)/s,
    );
  });
});
