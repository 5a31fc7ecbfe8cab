import { formatRemoteClusters } from '../../../../lambdas/contract/topology.js';
import {
  parseRemoteClusters,
  primaryOf,
  remotesOf,
  reviewTopology,
  roleOf,
  TopologyError,
} from '../../../../lambdas/core/topology/mesh-topology.js';

describe('parseRemoteClusters', () => {
  it('reads remote=primary pairs, ignoring blanks and spaces', () => {
    // Act
    const remotes = parseRemoteClusters(' eu-remote = eu-primary,, us-remote=us-primary ');
    // Assess
    expect(remotes).toEqual([
      { name: 'eu-remote', primary: 'eu-primary' },
      { name: 'us-remote', primary: 'us-primary' },
    ]);
  });

  it('reads an empty value as every cluster a primary', () => {
    expect(parseRemoteClusters('')).toEqual([]);
  });

  it('round-trips what the stack formats', () => {
    // Prepare
    const declared = [
      { name: 'r1', primary: 'p1' },
      { name: 'r2', primary: 'p1' },
    ];
    // Act
    const parsed = parseRemoteClusters(formatRemoteClusters(declared));
    // Assess
    expect(parsed).toEqual(declared);
  });

  it.each([
    ['a pair without its primary', 'eu-remote', /"eu-remote" is not remote=primary/],
    ['a pair with an empty primary', 'eu-remote=', /"eu-remote=" is not remote=primary/],
    ['a pair with two separators', 'a=b=c', /"a=b=c" is not remote=primary/],
    ['a cluster its own primary', 'a=a', /cluster a is declared its own primary/],
    ['a remote declared twice', 'r=p1,r=p2', /remote cluster r is declared twice \(primaries p1 and p2\)/],
    ['a remote named as a primary', 'r=p,s=r', /cluster r is a remote \(of p\) and the primary of s/],
  ])('refuses %s, naming the source', (_label, text, message) => {
    // Act
    const parse = () => parseRemoteClusters(text, '--remote-clusters');
    // Assess
    expect(parse).toThrow(TopologyError);
    expect(parse).toThrow(message);
    expect(parse).toThrow(/^--remote-clusters: /);
  });
});

describe('roles', () => {
  const remotes = parseRemoteClusters('r1=p,r2=p');

  it('names a remote and its primary, and a primary its remotes', () => {
    expect(roleOf(remotes, 'r1')).toBe('remote');
    expect(roleOf(remotes, 'p')).toBe('primary');
    expect(roleOf(remotes, 'other')).toBe('primary');
    expect(primaryOf(remotes, 'r2')).toBe('p');
    expect(primaryOf(remotes, 'p')).toBeUndefined();
    expect(remotesOf(remotes, 'p')).toEqual(['r1', 'r2']);
    expect(remotesOf(remotes, 'r1')).toEqual([]);
  });
});

describe('reviewTopology', () => {
  it('finds nothing wrong with primaries holding cacerts and remotes holding none', () => {
    // Act
    const problems = reviewTopology(parseRemoteClusters('lab-2=lab-1'), [
      { name: 'lab-1', hasCacerts: true },
      { name: 'lab-2', hasCacerts: false },
      { name: 'lab-3', hasCacerts: true },
    ]);
    // Assess
    expect(problems).toEqual([]);
  });

  it('refuses a remote that is not in the fleet', () => {
    // Act
    const problems = reviewTopology(parseRemoteClusters('lab-9=lab-1'), [
      { name: 'lab-1', hasCacerts: true },
    ]);
    // Assess
    expect(problems).toEqual([
      {
        cluster: 'lab-9',
        problem: expect.stringMatching(
          /remote cluster lab-9, which is not in the mesh's fleet \(the fleet is lab-1\)/,
        ),
      },
    ]);
  });

  it('refuses a remote whose primary is a typo', () => {
    // Act
    const problems = reviewTopology(parseRemoteClusters('lab-2=lab1'), [
      { name: 'lab-1', hasCacerts: true },
      { name: 'lab-2', hasCacerts: false },
    ]);
    // Assess
    expect(problems).toEqual([
      {
        cluster: 'lab-2',
        problem: expect.stringMatching(/declares lab-2 a remote of lab1, which is not in the mesh's fleet/),
      },
    ]);
  });

  it('refuses a primary without cacerts, suggesting to declare it a remote', () => {
    // Act
    const problems = reviewTopology(
      [],
      [
        { name: 'lab-1', hasCacerts: true },
        { name: 'lab-2', hasCacerts: false },
      ],
    );
    // Assess
    expect(problems).toEqual([
      {
        cluster: 'lab-2',
        problem: expect.stringMatching(
          /lab-2 is a primary .* no istio-system\/cacerts; .* as lab-2=<primary>/,
        ),
      },
    ]);
  });

  it('refuses a remote holding cacerts: the topology is wrong', () => {
    // Act
    const problems = reviewTopology(parseRemoteClusters('lab-2=lab-1'), [
      { name: 'lab-1', hasCacerts: true },
      { name: 'lab-2', hasCacerts: true },
    ]);
    // Assess
    expect(problems).toEqual([
      {
        cluster: 'lab-2',
        problem: expect.stringMatching(
          /lab-2 is declared a remote of lab-1 .* but has istio-system\/cacerts/,
        ),
      },
    ]);
  });

  it('says nothing about cacerts of a cluster that could not be read', () => {
    // Act
    const problems = reviewTopology(parseRemoteClusters('lab-2=lab-1'), [
      { name: 'lab-1' },
      { name: 'lab-2' },
    ]);
    // Assess
    expect(problems).toEqual([]);
  });
});
