// lab/go/go.mod is the only place the lab's component versions are written; these tests read it the
// way `meshtrust lab build` does, and check that the binaries we build are the module's tools.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { componentVersionsOf, labComponentVersions } from '../../../lab/binaries/component-versions.js';
import { effectiveVersion, parseGoMod } from '../../../lab/binaries/go-mod.js';
import { LAB_BINARY_PACKAGES, LAB_GO_DIR } from '../../../lab/binaries/lab-binary-names.js';
import { LabBuildError } from '../../../lab/binaries/lab-build-errors.js';

const FIXTURE = `// a comment line
module example.test/lab

go 1.26.0

require go.etcd.io/etcd/server/v3 v3.6.8

require (
	istio.io/istio v0.0.0-20260827124520-eed52ebb66ad // indirect
	k8s.io/kubernetes v1.36.3 // indirect
	"k8s.io/api" v0.36.1 // quoted path
)

tool (
	k8s.io/kubernetes/cmd/kube-apiserver
)

tool istio.io/istio/pilot/cmd/pilot-agent

replace (
	k8s.io/api => k8s.io/api v0.36.3
	example.test/local => ../local
)
`;

describe('parseGoMod', () => {
  it('reads the module, the go directive, single-line and block requires, tools and replaces', () => {
    // Act
    const goMod = parseGoMod(FIXTURE);

    // Assess
    expect(goMod.module).toBe('example.test/lab');
    expect(goMod.go).toBe('1.26.0');
    expect(Object.fromEntries(goMod.requires)).toEqual({
      'go.etcd.io/etcd/server/v3': 'v3.6.8',
      'istio.io/istio': 'v0.0.0-20260827124520-eed52ebb66ad',
      'k8s.io/kubernetes': 'v1.36.3',
      'k8s.io/api': 'v0.36.1',
    });
    expect(goMod.tools).toEqual([
      'k8s.io/kubernetes/cmd/kube-apiserver',
      'istio.io/istio/pilot/cmd/pilot-agent',
    ]);
    expect(goMod.replaces).toEqual([
      { path: 'k8s.io/api', newPath: 'k8s.io/api', newVersion: 'v0.36.3' },
      { path: 'example.test/local', newPath: '../local' },
    ]);
  });

  it('gives a replaced module the version of its replacement', () => {
    // Prepare
    const goMod = parseGoMod(FIXTURE);

    // Act / Assess
    expect(effectiveVersion(goMod, 'k8s.io/api')).toBe('v0.36.3');
    expect(effectiveVersion(goMod, 'k8s.io/kubernetes')).toBe('v1.36.3');
    expect(effectiveVersion(goMod, 'example.test/absent')).toBeUndefined();
  });
});

describe('componentVersionsOf', () => {
  it('takes each component from the require of its module', () => {
    // Act
    const versions = componentVersionsOf(parseGoMod(FIXTURE), 'fixture/go.mod');

    // Assess
    expect(versions).toEqual({
      kubernetes: 'v1.36.3',
      etcd: 'v3.6.8',
      istio: 'v0.0.0-20260827124520-eed52ebb66ad',
    });
  });

  it('refuses a go.mod that does not pin a component, naming the component and the module', () => {
    // Prepare
    const withoutIstio = FIXTURE.replace(/^\tistio\.io\/istio .*$/m, '');

    // Act
    const read = () => componentVersionsOf(parseGoMod(withoutIstio), 'fixture/go.mod');

    // Assess
    expect(read).toThrow(LabBuildError);
    expect(read).toThrow(/fixture\/go\.mod does not pin istio: no require of istio\.io\/istio/);
  });
});

describe('labComponentVersions on lab/go/go.mod', () => {
  it('returns the pinned Kubernetes, etcd and Istio versions', async () => {
    // Act
    const versions = await labComponentVersions();

    // Assess
    expect(versions.kubernetes).toMatch(/^v1\.\d+\.\d+$/);
    expect(versions.etcd).toMatch(/^v3\.\d+\.\d+$/);
    // Istio is pinned to a commit: a pseudo-version.
    expect(versions.istio).toMatch(/^v\d+\.\d+\.\d+-(?:\d+\.)?\d{14}-[0-9a-f]{12}$/);
  });

  it('agrees with a plain reading of the require lines', async () => {
    // Prepare
    const text = await readFile(join(LAB_GO_DIR, 'go.mod'), 'utf8');
    const requiredAt = (modulePath: string) =>
      new RegExp(`^\\s*(?:require\\s+)?${modulePath.replaceAll('.', '\\.')} (\\S+)`, 'm').exec(text)?.[1];

    // Act
    const versions = await labComponentVersions(join(LAB_GO_DIR, 'go.mod'));

    // Assess
    expect(versions).toEqual({
      kubernetes: requiredAt('k8s.io/kubernetes'),
      etcd: requiredAt('go.etcd.io/etcd/server/v3'),
      istio: requiredAt('istio.io/istio'),
    });
  });
});

describe('LAB_BINARY_PACKAGES', () => {
  it('builds every upstream binary from a tool of lab/go/go.mod, and etcd from our own cmd/etcd', async () => {
    // Prepare
    const goMod = parseGoMod(await readFile(join(LAB_GO_DIR, 'go.mod'), 'utf8'));

    // Act
    const upstream = Object.values(LAB_BINARY_PACKAGES).filter((pkg) => !pkg.startsWith('./'));

    // Assess
    expect([...goMod.tools].sort()).toEqual(upstream.sort());
    expect(LAB_BINARY_PACKAGES.etcd).toBe('./cmd/etcd');
  });

  it('names each binary after the last element of its package path, as go build -o DIR/ does', () => {
    // Act
    const mismatched = Object.entries(LAB_BINARY_PACKAGES).filter(
      ([name, pkg]) => pkg.split('/').at(-1) !== name,
    );

    // Assess
    expect(mismatched).toEqual([]);
  });
});
