import { labClusterNames } from '../../../lab/lab-cluster-names.js';
import { LabOptionsError } from '../../../lab/lab-errors.js';
import {
  LAB_MAX_CLUSTERS,
  LAB_MAX_WORKLOADS,
  labRemoteClusters,
  resolveLabOptions,
} from '../../../lab/lab-options.js';

describe('resolveLabOptions: the istiod model settings', () => {
  it('defaults to Istio 1.29 (raw-bytes root rule, the stricter), multi-root on, a canonical root-cert.pem', () => {
    // Prepare, Act
    const resolved = resolveLabOptions();
    // Assess
    expect(resolved).toMatchObject({ istioVersion: '1.29', multiRootMesh: true, rootCertStyle: 'canonical' });
  });

  it('takes a stated minor version and the other settings as given', () => {
    // Prepare, Act
    const resolved = resolveLabOptions({ istioVersion: '1.30', multiRootMesh: false, rootCertStyle: 'crlf' });
    // Assess
    expect(resolved).toMatchObject({ istioVersion: '1.30', multiRootMesh: false, rootCertStyle: 'crlf' });
  });

  it.each(['1.3', '1.290', '1.29.3', 'v1.29', '129', '1.19', '2.0', ''])(
    'refuses the istioVersion typo %j, naming the option and what it takes',
    (istioVersion) => {
      // Prepare
      const act = () => resolveLabOptions({ istioVersion: istioVersion as '1.29' });
      // Act, Assess
      expect(act).toThrow(LabOptionsError);
      expect(act).toThrow(
        /lab option istioVersion must be an Istio minor version .*1\.20 to 1\.31.*no patch number/,
      );
    },
  );

  it('refuses a multiRootMesh that is not a boolean and an unknown rootCertStyle', () => {
    // Prepare, Act
    const multiRoot = () => resolveLabOptions({ multiRootMesh: 'true' as unknown as boolean });
    const style = () => resolveLabOptions({ rootCertStyle: 'windows' as 'crlf' });
    // Assess
    expect(multiRoot).toThrow(/lab option multiRootMesh must be true or false/);
    expect(style).toThrow(
      /lab option rootCertStyle must be one of canonical, crlf, openssl-text, no-final-newline/,
    );
  });
});

describe('resolveLabOptions: the topology', () => {
  it('defaults to multi-primary, with no remote cluster', () => {
    // Act
    const resolved = resolveLabOptions({ clusters: 3 });
    // Assess
    expect(resolved.topology).toBe('multi-primary');
    expect(labRemoteClusters(resolved)).toEqual([]);
  });

  it('makes lab-2 a remote of lab-1 in primary-remote', () => {
    // Act
    const resolved = resolveLabOptions({ clusters: 3, topology: 'primary-remote' });
    // Assess
    expect(labRemoteClusters(resolved)).toEqual([{ name: 'lab-2', primary: 'lab-1' }]);
  });

  it('refuses primary-remote with one cluster and an unknown topology, naming the option', () => {
    expect(() => resolveLabOptions({ clusters: 1, topology: 'primary-remote' })).toThrow(LabOptionsError);
    expect(() => resolveLabOptions({ clusters: 1, topology: 'primary-remote' })).toThrow(/topology/);
    expect(() => resolveLabOptions({ topology: 'star' as never })).toThrow(/multi-primary, primary-remote/);
  });
});

describe('resolveLabOptions: the fleet size', () => {
  it("takes 1 to 100 clusters, 100 being issue 14's largest fleet", () => {
    // Prepare, Act
    const smallest = resolveLabOptions({ clusters: 1 });
    const largest = resolveLabOptions({ clusters: 100, workloadsPerCluster: 10 });

    // Assess
    expect(LAB_MAX_CLUSTERS).toBe(100);
    expect(smallest.clusters).toBe(1);
    expect(largest.clusters).toBe(100);
  });

  it.each([0, 101, 2.5])('refuses %j clusters, naming the option and the range', (clusters) => {
    // Prepare
    const act = () => resolveLabOptions({ clusters });
    // Act, Assess
    expect(act).toThrow(LabOptionsError);
    expect(act).toThrow(/lab option clusters must be an integer from 1 to 100/);
  });

  it('takes up to 200 workloads a cluster and refuses one more', () => {
    // Prepare, Act, Assess
    expect(
      resolveLabOptions({ clusters: 1, workloadsPerCluster: LAB_MAX_WORKLOADS }).workloadsPerCluster,
    ).toBe(200);
    expect(() => resolveLabOptions({ workloadsPerCluster: 201 })).toThrow(
      /lab option workloadsPerCluster must be an integer from 1 to 200/,
    );
  });
});

describe('resolveLabOptions: the cluster names', () => {
  it('names the clusters lab-1 .. lab-N unless given a prefix, and makes the remote of that prefix', () => {
    // Prepare
    const prefix = 'prod_eu-west-1-';
    // Act
    const plain = resolveLabOptions({ clusters: 2 });
    const named = resolveLabOptions({ clusters: 2, topology: 'primary-remote', clusterNamePrefix: prefix });
    // Assess
    expect(labClusterNames(plain.clusters, plain.clusterNamePrefix)).toEqual(['lab-1', 'lab-2']);
    expect(labClusterNames(named.clusters, named.clusterNamePrefix)).toEqual([`${prefix}1`, `${prefix}2`]);
    expect(labRemoteClusters(named)).toEqual([{ name: `${prefix}2`, primary: `${prefix}1` }]);
  });

  it("takes a prefix that gives the last cluster EKS's longest name, 100 characters, and not one more", () => {
    // Prepare: 100 clusters, so the last name ends in 3 digits
    const longest = 'a'.repeat(97);
    // Act
    const resolved = resolveLabOptions({ clusters: 100, clusterNamePrefix: longest });
    const tooLong = () => resolveLabOptions({ clusters: 100, clusterNamePrefix: `${longest}b` });
    // Assess
    expect(labClusterNames(100, resolved.clusterNamePrefix).at(-1)).toHaveLength(100);
    expect(tooLong).toThrow(LabOptionsError);
    expect(tooLong).toThrow(/101-character names, and EKS takes at most 100: .*at most 97/);
  });

  it.each(['-lab', 'lab.', 'lab/', 'läb-', ' lab-'])(
    'refuses the prefix %j, which EKS would not take at the start of a name',
    (clusterNamePrefix) => {
      // Act
      const act = () => resolveLabOptions({ clusters: 2, clusterNamePrefix });
      // Assess
      expect(act).toThrow(LabOptionsError);
      expect(act).toThrow(
        /clusterNamePrefix .*letters, digits, "-" and "_", starting with a letter or digit/,
      );
    },
  );
});
