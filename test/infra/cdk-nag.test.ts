import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { synthMeshTrustStack } from './synth-mesh-trust-stack.js';

interface ValidationReport {
  pluginReports: { pluginName: string; violations: { ruleName: string }[] }[];
}

// cdk-nag 3.x: rule packs are CDK policy-validation plugins (Validations.of(app).addPlugins), findings
// are acknowledged with Validations.of(construct).acknowledge, and synth throws on any finding left.
describe('cdk-nag AwsSolutions', () => {
  const network = { vpcId: 'vpc-0a1b2c3d', subnetIds: ['subnet-0a1', 'subnet-0b2'] };
  const variants = [
    ['clusters discovered by tag, no approval', {}, undefined],
    ['explicit clusters with approval gates', { clusters: ['eu-1', 'us-1'], approval: true }, undefined],
    ['functions in a VPC', { clusters: ['eu-1'] }, network],
    ['distributed Maps', { distributedMaps: true }, undefined],
    [
      'clusters in other regions and accounts',
      {
        clusters: [
          'eu-1',
          'arn:aws:eks:us-east-1:222222222222:cluster/us-1',
          'arn:aws:eks:us-west-2:222222222222:cluster/*',
          'arn:aws:eks:us-west-2:123456789012:cluster/*',
        ],
      },
      undefined,
    ],
  ] as const;

  it.each(variants)('reports zero unacknowledged findings (%s)', (_name, rotation, vpc) => {
    // GIVEN
    let outdir = '';

    // WHEN
    const synth = () =>
      synthMeshTrustStack(rotation, {
        ...(vpc !== undefined && { network: vpc }),
        prepareApp: (app) => {
          outdir = app.outdir;
          Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
        },
      });

    // THEN
    expect(synth).not.toThrow();
    const report = JSON.parse(
      readFileSync(join(outdir, 'validation-report.json'), 'utf8'),
    ) as ValidationReport;
    const nag = report.pluginReports.filter((plugin) => plugin.pluginName.includes('AwsSolutions'));
    // (no plugin report at all means no violation; the test below shows the plugin does report)
    expect(nag.flatMap((plugin) => plugin.violations.map((violation) => violation.ruleName))).toEqual([]);
  });

  it('acknowledges single findings only, each with a written reason', () => {
    // GIVEN
    const { stack } = synthMeshTrustStack();

    // WHEN
    const acknowledged = stack.node
      .findAll()
      .flatMap((construct) => construct.node.metadata)
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>));

    // THEN
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledged) {
      expect(id).toMatch(/^(Annotation|AwsSolutions)::AwsSolutions-IAM5\[Resource::.+\]$/);
      expect(reason.length).toBeGreaterThan(60);
    }
  });

  it('fails synthesis on a finding nobody acknowledged', () => {
    // GIVEN a wildcard policy added next to the rotation, without an acknowledgement
    const addWildcardRole = (stack: Stack) => {
      const role = new Role(stack, 'Unreviewed', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
      role.addToPolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: ['*'] }));
    };

    // WHEN
    let message = '';
    try {
      synthMeshTrustStack(
        {},
        {
          prepareApp: (app) => {
            addWildcardRole(app.node.findChild('MeshTrustTest') as Stack);
            Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
          },
        },
      );
    } catch (error) {
      message = String(error);
    }

    // THEN
    expect(message).toMatch(/AwsSolutions-IAM5\[Resource::\*\]/);
    expect(message).toMatch(/MeshTrustTest\/Unreviewed\/DefaultPolicy/);
  });
});
