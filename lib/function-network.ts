import {
  type ISecurityGroup,
  type IVpc,
  Peer,
  Port,
  SecurityGroup,
  type SubnetSelection,
} from 'aws-cdk-lib/aws-ec2';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/**
 * What Lambda needs of a function's role to attach it to a VPC (the actions of the AWS managed policy
 * AWSLambdaVPCAccessExecutionRole, which CDK does not add to a role it is given). None of them has a
 * resource-level permission Lambda's own check accepts, so they are granted on `*`.
 */
export const VPC_ACCESS_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
] as const;

/** Where the functions run when the clusters' API endpoints are private (or limited by CIDR). */
export interface FunctionNetworkProps {
  readonly meshId: string;
  readonly vpc: IVpc;
  /** @default the VPC's private subnets with egress (CDK's default for a function in a VPC) */
  readonly vpcSubnets?: SubnetSelection;
  /** @default one security group made here that allows only HTTPS out */
  readonly securityGroups?: readonly ISecurityGroup[];
}

/**
 * The rotation functions' place in a VPC: the subnets, and security groups that, when the stack makes
 * them, allow nothing in and only HTTPS (443) out, which is all the functions speak: the clusters'
 * Kubernetes APIs, and STS, Secrets Manager, KMS, DynamoDB, EKS and Step Functions through VPC
 * endpoints or a NAT gateway (docs/deploy.md). Each cluster's security group must allow 443 from
 * `securityGroups` for the functions to reach its API.
 */
export class FunctionNetwork extends Construct {
  readonly vpc: IVpc;
  readonly vpcSubnets: SubnetSelection | undefined;
  readonly securityGroups: ISecurityGroup[];

  constructor(scope: Construct, id: string, props: FunctionNetworkProps) {
    super(scope, id);
    this.vpc = props.vpc;
    this.vpcSubnets = props.vpcSubnets;
    if (props.securityGroups !== undefined && props.securityGroups.length > 0) {
      this.securityGroups = [...props.securityGroups];
      return;
    }
    const group = new SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `meshtrust ${props.meshId}: rotation functions (HTTPS out only)`,
      allowAllOutbound: false,
    });
    group.addEgressRule(Peer.anyIpv4(), Port.tcp(443), 'HTTPS to the cluster APIs and AWS endpoints');
    this.securityGroups = [group];
  }

  /** Lets a function's role attach it to the VPC (its network interfaces). */
  grantVpcAccess(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ sid: 'AttachToVpc', actions: [...VPC_ACCESS_ACTIONS], resources: ['*'] }),
    );
  }
}
