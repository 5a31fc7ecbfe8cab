// `meshtrust rehearse --cluster-name-prefix`: a prefix EKS would not take for every cluster of the
// fleet, or one given where the lab's names are not the rehearsal's to choose, is refused before
// anything starts (exit 2), with what to do. The rotation at EKS's longest names is in
// test/e2e/rehearse-distributed-maps.test.ts.
import { EXIT_CODES } from '../../../bin/cli/cli-errors.js';
import { runMeshtrustInProcess } from './in-process-cli.js';

describe('meshtrust rehearse --cluster-name-prefix', () => {
  it('refuses a prefix that would make a name EKS does not take, saying how long it may be', async () => {
    // Act: 100 clusters end in 3 digits, so 97 characters is the longest prefix
    const tooLong = await runMeshtrustInProcess([
      'rehearse',
      '--clusters',
      '100',
      '--cluster-name-prefix',
      'p'.repeat(98),
    ]);
    const badStart = await runMeshtrustInProcess(['rehearse', '--cluster-name-prefix', '-prod']);
    const dotted = await runMeshtrustInProcess(['rehearse', '--cluster-name-prefix', 'prod.eu-']);

    // Assess
    expect(tooLong.exitCode).toBe(EXIT_CODES.usage);
    expect(tooLong.stderr).toContain(
      '101-character names, and EKS takes at most 100: with 100 cluster(s) the prefix may have at most 97',
    );
    for (const refused of [badStart, dotted]) {
      expect(refused.exitCode).toBe(EXIT_CODES.usage);
      expect(refused.stderr).toContain('cannot start an EKS cluster name: use letters, digits, "-" and "_"');
    }
  });

  it('refuses it on the istio engine and with --lab, whose clusters are named already', async () => {
    // Act
    const istio = await runMeshtrustInProcess([
      'rehearse',
      '--engine',
      'istio',
      '--cluster-name-prefix',
      'prod-',
    ]);
    const attached = await runMeshtrustInProcess([
      'rehearse',
      '--lab',
      '/nonexistent-lab',
      '--cluster-name-prefix',
      'prod-',
    ]);

    // Assess
    expect(istio.exitCode).toBe(EXIT_CODES.usage);
    expect(istio.stderr).toContain('--cluster-name-prefix is played by the model engine only');
    expect(attached.exitCode).toBe(EXIT_CODES.usage);
    expect(attached.stderr).toContain('--cluster-name-prefix cannot go with --lab');
  });
});
