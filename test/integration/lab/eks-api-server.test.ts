import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import {
  DescribeClusterCommand,
  EKSClient,
  InvalidParameterException,
  ListClustersCommand,
  ListTagsForResourceCommand,
  paginateListClusters,
  ResourceNotFoundException,
} from '@aws-sdk/client-eks';
import { awsCliEnvironment } from '../../../lab/eks/aws-cli-token.js';
import { type EksApiServer, type LabEksCluster, startEksApiServer } from '../../../lab/eks/eks-api-server.js';
import { createLabIdentities, type LabCredentials } from '../../../lab/eks/lab-identities.js';

const execFileAsync = promisify(execFile);
const REGION = 'eu-west-1';
const NAMES = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
const identities = createLabIdentities({ clusterNames: NAMES });

// A certificate (no key kept: openssl writes it to /dev/null) standing in for a cluster's API CA.
const caPem = (name: string): string =>
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-keyout',
      '/dev/null',
    ].concat(['-nodes', '-subj', `/CN=${name}-api-ca`, '-days', '1']),
    { stdio: ['ignore', 'pipe', 'ignore'] },
  ).toString('utf8');

describe('lab EKS API server', () => {
  let server: EksApiServer;
  let clusters: LabEksCluster[];
  const clientAs = (credentials: LabCredentials) =>
    new EKSClient({ region: REGION, endpoint: server.url, credentials, maxAttempts: 1 });

  beforeAll(async () => {
    clusters = NAMES.map((name, index) => ({
      name,
      endpoint: `https://127.0.0.1:${6443 + index}`,
      caPem: caPem(name),
      version: '1.32',
      tags: { 'meshtrust.io/mesh': index % 2 === 0 ? 'blue' : 'green', team: name },
    }));
    server = await startEksApiServer({ region: REGION, clusters, identities });
  });

  afterAll(async () => {
    await server.stop();
  });

  it('lists every cluster across pages when there are more than maxResults', async () => {
    // Prepare
    const eks = clientAs(identities.viewer.credentials);
    const pages: string[][] = [];

    // Act
    for await (const page of paginateListClusters({ client: eks, pageSize: 2 }, {})) {
      pages.push(page.clusters ?? []);
    }

    // Assess
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(pages.flat().sort()).toEqual([...NAMES].sort());
  });

  it('returns a nextToken only while more clusters remain', async () => {
    // Prepare
    const eks = clientAs(identities.rotator.credentials);

    // Act
    const first = await eks.send(new ListClustersCommand({ maxResults: 3 }));
    const last = await eks.send(new ListClustersCommand({ maxResults: 3, nextToken: first.nextToken }));

    // Assess
    expect(first.clusters).toHaveLength(3);
    expect(first.nextToken).toEqual(expect.any(String));
    expect(last.clusters).toHaveLength(2);
    expect(last.nextToken).toBeUndefined();
  });

  it('describes a cluster with its endpoint, version, tags and CA as base64 PEM', async () => {
    // Prepare
    const eks = clientAs(identities.rotator.credentials);

    // Act
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: 'gamma' }));

    // Assess
    expect(cluster).toMatchObject({
      name: 'gamma',
      arn: `arn:aws:eks:${REGION}:000000000000:cluster/gamma`,
      status: 'ACTIVE',
      endpoint: 'https://127.0.0.1:6445',
      version: '1.32',
      tags: { 'meshtrust.io/mesh': 'blue', team: 'gamma' },
    });
    expect(cluster?.createdAt).toBeInstanceOf(Date);
    expect(Buffer.from(cluster?.certificateAuthority?.data ?? '', 'base64').toString('utf8')).toBe(
      clusters[2].caPem,
    );
  });

  it('lists the tags of a cluster by its ARN', async () => {
    // Prepare
    const eks = clientAs(identities.viewer.credentials);
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: 'beta' }));

    // Act
    const { tags } = await eks.send(new ListTagsForResourceCommand({ resourceArn: cluster?.arn }));

    // Assess
    expect(tags).toEqual({ 'meshtrust.io/mesh': 'green', team: 'beta' });
  });

  it('answers an unknown cluster with ResourceNotFoundException naming it', async () => {
    // Prepare
    const eks = clientAs(identities.rotator.credentials);

    // Act
    const error = await eks
      .send(new DescribeClusterCommand({ name: 'omega' }))
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error).toMatchObject({ clusterName: 'omega', $metadata: { httpStatusCode: 404 } });
  });

  it('answers a malformed nextToken with InvalidParameterException', async () => {
    // Prepare
    const eks = clientAs(identities.rotator.credentials);

    // Act
    const error = await eks
      .send(new ListClustersCommand({ nextToken: 'garbage' }))
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(InvalidParameterException);
  });

  it('refuses requests signed with an unknown access key or a wrong secret', async () => {
    // Prepare
    const stranger = createLabIdentities({ clusterNames: [] }).rotator.credentials;
    const wrongSecret = { ...identities.rotator.credentials, secretAccessKey: stranger.secretAccessKey };

    // Act
    const unknownKey = await clientAs(stranger)
      .send(new ListClustersCommand({}))
      .catch((caught: unknown) => caught);
    const badSignature = await clientAs(wrongSecret)
      .send(new ListClustersCommand({}))
      .catch((caught: unknown) => caught);

    // Assess
    expect(unknownKey).toMatchObject({
      name: 'UnrecognizedClientException',
      $metadata: { httpStatusCode: 403 },
    });
    expect(badSignature).toMatchObject({
      name: 'InvalidSignatureException',
      $metadata: { httpStatusCode: 403 },
    });
  });

  it('serves awscli too: list-clusters, describe-cluster and list-tags-for-resource', async () => {
    // Prepare
    const env = { ...awsCliEnvironment(identities.viewer, REGION), AWS_ENDPOINT_URL_EKS: server.url };
    const aws = async (...args: string[]) =>
      JSON.parse((await execFileAsync('aws', ['eks', ...args, '--output', 'json'], { env })).stdout);
    const epsilonArn = `arn:aws:eks:${REGION}:000000000000:cluster/epsilon`;

    // Act
    const [listed, described, tagged] = await Promise.all([
      aws('list-clusters'),
      aws('describe-cluster', '--name', 'delta'),
      aws('list-tags-for-resource', '--resource-arn', epsilonArn),
    ]);

    // Assess
    expect(listed.clusters.sort()).toEqual([...NAMES].sort());
    expect(described.cluster).toMatchObject({ name: 'delta', status: 'ACTIVE', version: '1.32' });
    expect(tagged.tags).toEqual({ 'meshtrust.io/mesh': 'blue', team: 'epsilon' });
  }, 30_000);
});
