// The Map Runs a parent's history names (bin/cli/execution-history.ts): what the CLI reads a Distributed
// Map's clusters from.
import { startedMapRuns } from '../../../bin/cli/execution-history.js';

const run = (label: string, id: string) =>
  `arn:aws:states:eu-west-1:123456789012:mapRun:meshtrust-payments-rotation/${label}:${id}`;
const started = (mapRunArn: string) => ({ type: 'MapRunStarted', mapRunStartedEventDetails: { mapRunArn } });

describe('startedMapRuns', () => {
  it('names each cluster Map by its label, in the order they started', () => {
    // Act
    const runs = startedMapRuns([
      { type: 'ExecutionStarted' },
      started(run('distribute-bundle', '1')),
      { type: 'MapRunSucceeded' },
      started(run('verify-trust', '2')),
    ]);
    // Assess
    expect(runs).toEqual([
      { state: 'distribute-bundle', mapRunArn: run('distribute-bundle', '1') },
      { state: 'verify-trust', mapRunArn: run('verify-trust', '2') },
    ]);
  });

  it("keeps a Map's newest Map Run only, placed where it started, and leaves out labels of no cluster Map", () => {
    // Act: restart-workloads is entered again after a wave (a new Map Run each time)
    const runs = startedMapRuns([
      started(run('restart-workloads', 'a')),
      started(run('verify-workloads', 'b')),
      started(run('restart-workloads', 'c')),
      started(run('someone-elses-map', 'd')),
      started('arn:aws:states:eu-west-1:123456789012:mapRun:no-label:e'),
      { type: 'MapRunStarted' },
    ]);
    // Assess
    expect(runs).toEqual([
      { state: 'verify-workloads', mapRunArn: run('verify-workloads', 'b') },
      { state: 'restart-workloads', mapRunArn: run('restart-workloads', 'c') },
    ]);
  });
});
