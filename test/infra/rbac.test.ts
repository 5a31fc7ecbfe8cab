import { execFileSync } from 'node:child_process';
import { EXPIRY_CHECK_GROUP, VERIFIER_GROUP, VIEWER_GROUP } from '../../lab/eks/lab-identities.js';
import { LAB_RBAC_RULES } from '../../lab/lab-rbac.js';
import {
  ENVOY_ADMIN_GROUPS,
  ENVOY_ADMIN_ONLY_POLICY,
  ENVOY_ADMIN_PORT,
  ENVOY_ADMIN_ROLE,
} from '../../lambdas/adapters/kube/served-certificate.js';
import { RESTART_ID_ANNOTATION, RESTARTED_AT_ANNOTATION } from '../../lambdas/adapters/kube/workload-ref.js';
import { REMOTE_ISTIOD_ROLE } from '../../lambdas/core/topology/remote-istiod-reach.js';
import {
  EXPIRY_CHECK_KUBERNETES_GROUP,
  ROTATOR_KUBERNETES_GROUP,
  VERIFIER_KUBERNETES_GROUP,
} from '../../lib/eks-access.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}
interface RbacObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string }[];
  spec?: AdmissionPolicySpec;
}
interface AdmissionPolicySpec {
  policyName?: string;
  validationActions?: string[];
  failurePolicy?: string;
  matchConstraints?: { resourceRules: { apiGroups: string[]; operations: string[]; resources: string[] }[] };
  matchConditions?: { name: string; expression: string }[];
  variables?: { name: string; expression: string }[];
  validations?: { expression: string; reason?: string; message: string }[];
}

const RBAC_FILE = new URL('../../deploy/kubernetes/rbac.yaml', import.meta.url).pathname;

/** The YAML documents as JSON, parsed by PyYAML (installed with cfn-lint). */
function loadRbac(): RbacObject[] {
  const json = execFileSync(
    'python3',
    [
      '-c',
      'import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))',
      RBAC_FILE,
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(json) as RbacObject[];
}

const find = (objects: RbacObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name) as RbacObject;

describe('deploy/kubernetes/rbac.yaml', () => {
  const objects = loadRbac();
  const rules = (kind: string, name: string) => find(objects, kind, name)?.rules ?? [];

  it('lets the rotator touch only the secret cacerts in istio-system, and only get/update/patch it', () => {
    // GIVEN
    const secretRules = objects
      .flatMap((o) => (o.rules ?? []).map((rule) => ({ o, rule })))
      .filter(({ rule }) => rule.resources.includes('secrets') || rule.resources.includes('*'));

    // THEN
    expect(secretRules).toHaveLength(1);
    const [{ o, rule }] = secretRules as [{ o: RbacObject; rule: Rule }];
    expect(o).toMatchObject({
      kind: 'Role',
      metadata: { name: 'meshtrust-rotator-cacerts', namespace: 'istio-system' },
    });
    expect(rule).toEqual({
      apiGroups: [''],
      resources: ['secrets'],
      resourceNames: ['cacerts'],
      verbs: ['get', 'update', 'patch'],
    });
  });

  it('grants no wildcard and no create or delete anywhere, but the port-forward that creates no object', () => {
    // GIVEN
    const all = objects.flatMap((o) => o.rules ?? []);

    // THEN
    expect(all.length).toBeGreaterThan(0);
    for (const rule of all) {
      expect([...rule.apiGroups, ...rule.resources, ...rule.verbs]).not.toContain('*');
      // `create` on pods/portforward is how RBAC names opening a port-forward (a connect subresource):
      // nothing is stored. Every other create is refused.
      if (rule.resources.length !== 1 || rule.resources[0] !== 'pods/portforward') {
        expect(rule.verbs).not.toEqual(expect.arrayContaining(['create']));
      }
      expect(rule.verbs).not.toEqual(expect.arrayContaining(['delete']));
    }
  });

  it("lets only the rotator and the verifier port-forward, to read proxies' served certificates", () => {
    // GIVEN
    const portForwards = objects.filter((o) =>
      (o.rules ?? []).some((rule) => rule.resources.includes('pods/portforward')),
    );
    const boundTo = (name: string) =>
      objects
        .filter((o) => o.kind.endsWith('Binding') && o.roleRef?.name === name)
        .flatMap((binding) => binding.subjects?.map((subject) => subject.name) ?? []);

    // THEN: one small ClusterRole, bound to those two groups and nothing bound to meshtrust-viewer
    expect(portForwards.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      `ClusterRole/${ENVOY_ADMIN_ROLE}`,
    ]);
    expect(rules('ClusterRole', ENVOY_ADMIN_ROLE)).toEqual([
      { apiGroups: [''], resources: ['pods/portforward'], verbs: ['get', 'create'] },
    ]);
    expect(boundTo(ENVOY_ADMIN_ROLE)).toEqual([ROTATOR_KUBERNETES_GROUP, VERIFIER_KUBERNETES_GROUP]);
    expect(Object.values(ENVOY_ADMIN_GROUPS)).toEqual(boundTo(ENVOY_ADMIN_ROLE));
    expect(boundTo(ENVOY_ADMIN_ROLE)).not.toContain(VIEWER_GROUP);
    expect(boundTo(ENVOY_ADMIN_ROLE)).not.toContain(EXPIRY_CHECK_KUBERNETES_GROUP);
  });

  it('lets the rotator restart workloads the way kubectl rollout restart does, and read pods and bundles', () => {
    // GIVEN
    const rotator = rules('ClusterRole', 'meshtrust-rotator');

    // THEN
    expect(rotator).toEqual(
      expect.arrayContaining([
        {
          apiGroups: ['apps'],
          resources: ['deployments', 'statefulsets', 'daemonsets'],
          verbs: ['get', 'list', 'watch', 'patch'],
        },
        { apiGroups: [''], resources: ['configmaps'], resourceNames: ['istio-ca-root-cert'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
        { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list'] },
        { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['list'] },
        // restart-workloads holds its restarts to the PodDisruptionBudgets: it lists them, nothing more.
        { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['list'] },
      ]),
    );
    expect(rotator).toHaveLength(6);
  });

  it('lets the rotator and the viewer read PodDisruptionBudgets, and nobody change them', () => {
    // GIVEN
    const pdbRules = objects
      .flatMap((o) => (o.rules ?? []).map((rule) => ({ o, rule })))
      .filter(({ rule }) => rule.resources.includes('poddisruptionbudgets'));

    // THEN
    expect(pdbRules.map(({ o, rule }) => [o.kind, o.metadata.name, rule.apiGroups, rule.verbs])).toEqual([
      ['ClusterRole', 'meshtrust-rotator', ['policy'], ['list']],
      ['ClusterRole', 'meshtrust-viewer', ['policy'], ['get', 'list']],
    ]);
  });

  it("lets rotator and viewer read istiod's mesh config ConfigMap in istio-system by name, and get it only", () => {
    // GIVEN
    const role = find(objects, 'Role', 'meshtrust-mesh-config');
    const binding = find(objects, 'RoleBinding', 'meshtrust-mesh-config');

    // THEN
    expect(role.metadata.namespace).toBe('istio-system');
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['istio'], verbs: ['get'] },
    ]);
    expect(binding.metadata.namespace).toBe('istio-system');
    expect(binding.roleRef).toMatchObject({ kind: 'Role', name: 'meshtrust-mesh-config' });
    expect(binding.subjects?.map((subject) => subject.name)).toEqual([
      ROTATOR_KUBERNETES_GROUP,
      'meshtrust-viewer',
    ]);
  });

  it("lets rotator and viewer read a remote's istiod Service by name and list its EndpointSlices, in istio-system, read only", () => {
    // GIVEN
    const role = find(objects, 'Role', REMOTE_ISTIOD_ROLE);
    const binding = find(objects, 'RoleBinding', REMOTE_ISTIOD_ROLE);

    // THEN
    expect(role.metadata.namespace).toBe('istio-system');
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['services'], resourceNames: ['istiod'], verbs: ['get'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list'] },
    ]);
    expect(binding.metadata.namespace).toBe('istio-system');
    expect(binding.roleRef).toMatchObject({ kind: 'Role', name: REMOTE_ISTIOD_ROLE });
    expect(binding.subjects?.map((subject) => subject.name)).toEqual([
      ROTATOR_KUBERNETES_GROUP,
      'meshtrust-viewer',
    ]);
  });

  it('lets only the rotator and the expiry check GET through a pod proxy, in istio-system only', () => {
    // GIVEN
    const proxyRules = objects
      .flatMap((o) => (o.rules ?? []).map((rule) => ({ o, rule })))
      .filter(({ rule }) => rule.resources.some((resource) => resource.endsWith('/proxy')));
    const subjectsOf = (name: string) =>
      find(objects, 'RoleBinding', name).subjects?.map((subject) => subject.name);

    // THEN
    expect(
      proxyRules.map(({ o, rule }) => ({
        kind: o.kind,
        name: o.metadata.name,
        namespace: o.metadata.namespace,
        rule,
      })),
    ).toEqual(
      ['meshtrust-istiod-monitoring', 'meshtrust-expiry-check'].map((name) => ({
        kind: 'Role',
        name,
        namespace: 'istio-system',
        rule: { apiGroups: [''], resources: ['pods/proxy'], verbs: ['get'] },
      })),
    );
    expect(subjectsOf('meshtrust-istiod-monitoring')).toEqual([ROTATOR_KUBERNETES_GROUP]);
    expect(subjectsOf('meshtrust-expiry-check')).toEqual([EXPIRY_CHECK_KUBERNETES_GROUP]);
  });

  it('lets the expiry check list pods and read through their proxy in istio-system, and nothing more', () => {
    // GIVEN: every rule bound to the group
    const bindings = objects.filter(
      (o) => o.kind.endsWith('Binding') && o.subjects?.some((s) => s.name === EXPIRY_CHECK_KUBERNETES_GROUP),
    );

    // THEN
    expect(
      bindings.map((b) => `${b.kind}/${b.metadata.namespace}/${b.roleRef?.kind}/${b.roleRef?.name}`),
    ).toEqual(['RoleBinding/istio-system/Role/meshtrust-expiry-check']);
    expect(rules('Role', 'meshtrust-expiry-check')).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
      { apiGroups: [''], resources: ['pods/proxy'], verbs: ['get'] },
    ]);
  });

  it('is what the lab enforces: lab/lab-rbac.ts holds, group by group, exactly the rules bound here', () => {
    // GIVEN: every rule bound to a group, with the namespace of its Role (none for a ClusterRole)
    const boundRules = (group: string) =>
      objects
        .filter((o) => o.kind.endsWith('Binding') && o.subjects?.some((subject) => subject.name === group))
        .flatMap((binding) => {
          const role = find(objects, binding.roleRef?.kind as string, binding.roleRef?.name as string);
          return (role.rules ?? []).map((rule) => ({
            ...(role.metadata.namespace === undefined ? {} : { namespace: role.metadata.namespace }),
            ...rule,
          }));
        });
    const canonical = (rules: readonly object[]) =>
      rules.map((rule) => JSON.stringify(rule, Object.keys(rule).sort())).sort();

    // THEN
    expect(EXPIRY_CHECK_GROUP).toBe(EXPIRY_CHECK_KUBERNETES_GROUP);
    expect(VERIFIER_GROUP).toBe(VERIFIER_KUBERNETES_GROUP);
    for (const group of [ROTATOR_KUBERNETES_GROUP, VIEWER_GROUP, VERIFIER_GROUP, EXPIRY_CHECK_GROUP]) {
      expect(canonical(LAB_RBAC_RULES[group] ?? [])).toEqual(canonical(boundRules(group)));
    }
  });

  // Proven on a real API server by test/integration/adapters/kube-served-certificate.test.ts; this keeps
  // the policy in step with the groups that may port-forward and the port the adapter forwards to.
  it('narrows the port-forwards of every group that may open one to the Envoy admin port the adapter reads', () => {
    // GIVEN
    const policy = find(objects, 'ValidatingAdmissionPolicy', ENVOY_ADMIN_ONLY_POLICY).spec;
    const binding = find(objects, 'ValidatingAdmissionPolicyBinding', ENVOY_ADMIN_ONLY_POLICY).spec;
    const mayPortForward = objects
      .filter((o) => (o.rules ?? []).some((rule) => rule.resources.includes('pods/portforward')))
      .flatMap((role) =>
        objects.filter(
          (o) =>
            o.kind.endsWith('Binding') &&
            o.roleRef?.kind === role.kind &&
            o.roleRef?.name === role.metadata.name,
        ),
      )
      .flatMap((roleBinding) => roleBinding.subjects?.map((subject) => subject.name) ?? []);

    // THEN
    expect(objects.some((o) => o.metadata.name === 'meshtrust-rotator-envoy-admin-only')).toBe(false);
    expect(binding).toEqual({ policyName: ENVOY_ADMIN_ONLY_POLICY, validationActions: ['Deny'] });
    expect(policy?.failurePolicy).toBe('Fail');
    expect(mayPortForward).toEqual([ROTATOR_KUBERNETES_GROUP, VERIFIER_KUBERNETES_GROUP]);
    expect(policy?.matchConditions).toEqual([
      expect.objectContaining({
        expression: mayPortForward.map((group) => `'${group}' in request.userInfo.groups`).join(' || '),
      }),
    ]);
    expect(policy?.matchConstraints?.resourceRules).toEqual([
      expect.objectContaining({ operations: ['CONNECT'], resources: ['pods/portforward'] }),
    ]);
    expect(policy?.validations).toEqual([
      expect.objectContaining({
        expression: `has(object.ports) && size(object.ports) > 0 && object.ports.all(port, port == ${ENVOY_ADMIN_PORT})`,
        reason: 'Forbidden',
      }),
    ]);
  });

  // What the policy does is proven on a real API server (test/integration/lab/rotator-restart-policy.test.ts);
  // this keeps it in step with the adapter and the ClusterRole without starting one.
  it('narrows every workload the rotator may patch to the restart annotations restart-workloads writes', () => {
    // GIVEN
    const policy = find(objects, 'ValidatingAdmissionPolicy', 'meshtrust-rotator-restart-only').spec;
    const binding = find(objects, 'ValidatingAdmissionPolicyBinding', 'meshtrust-rotator-restart-only').spec;
    const patchable = rules('ClusterRole', 'meshtrust-rotator')
      .filter((rule) => rule.verbs.includes('patch') || rule.verbs.includes('update'))
      .flatMap((rule) => rule.resources);

    // THEN
    expect(binding).toEqual({ policyName: 'meshtrust-rotator-restart-only', validationActions: ['Deny'] });
    expect(policy?.failurePolicy).toBe('Fail');
    expect(policy?.matchConditions).toEqual([
      expect.objectContaining({ expression: `'${ROTATOR_KUBERNETES_GROUP}' in request.userInfo.groups` }),
    ]);
    const matched = policy?.matchConstraints?.resourceRules.flatMap((rule) => rule.resources) ?? [];
    expect(patchable.length).toBeGreaterThan(0);
    for (const resource of patchable)
      expect(matched).toEqual(expect.arrayContaining([resource, `${resource}/*`]));
    expect(policy?.variables?.find((variable) => variable.name === 'restartAnnotations')?.expression).toBe(
      `['${RESTARTED_AT_ANNOTATION}', '${RESTART_ID_ANNOTATION}']`,
    );
    // A refusal is a 403 Forbidden, not the 422 Invalid an admission policy answers by default.
    for (const validation of policy?.validations ?? []) expect(validation.reason).toBe('Forbidden');
  });

  it('gives the viewer read verbs only', () => {
    // THEN
    const viewer = rules('ClusterRole', 'meshtrust-viewer');
    expect(viewer.length).toBeGreaterThan(0);
    for (const rule of viewer) expect(rule.verbs.every((verb) => ['get', 'list'].includes(verb))).toBe(true);
  });

  it('binds each role to its group, the group the EKS access entries map the rotator role to', () => {
    // THEN
    for (const [kind, name, groups] of [
      ['RoleBinding', 'meshtrust-rotator-cacerts', [ROTATOR_KUBERNETES_GROUP]],
      ['ClusterRoleBinding', 'meshtrust-rotator', [ROTATOR_KUBERNETES_GROUP]],
      // The rotation gates' role reads what people read: no secret, no write.
      ['ClusterRoleBinding', 'meshtrust-viewer', ['meshtrust-viewer', VERIFIER_KUBERNETES_GROUP]],
      // verify-workloads reads served certificates as the rotator can: port-forward, to port 15000 only.
      ['ClusterRoleBinding', ENVOY_ADMIN_ROLE, [ROTATOR_KUBERNETES_GROUP, VERIFIER_KUBERNETES_GROUP]],
    ] as const) {
      const binding = find(objects, kind, name);
      expect(binding.roleRef?.name).toBe(name);
      expect(binding.subjects).toEqual(
        groups.map((group) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group })),
      );
    }
  });
});
