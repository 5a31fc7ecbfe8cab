// meshtrust approve/reject send their answer to the approval URL SigV4-signed for service lambda (what a
// function URL with AWS_IAM auth verifies), with the execution, the verdict and the reason only: no
// task token and no approver name, since the approver is the identity AWS verified.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendApprovalAnswer } from '../../../bin/cli/approval-url.js';

interface Received {
  readonly method?: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

let server: Server;
let url: string;
let received: Received[];
let reply: { status: number; body: object };

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        method: request.method,
        headers: request.headers,
        body: Buffer.concat(chunks).toString(),
      });
      response.writeHead(reply.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  received = [];
});

const credentials = async () => ({ accessKeyId: 'AKIDAPPROVER', secretAccessKey: 'not-a-real-secret' });

describe('sendApprovalAnswer', () => {
  it('POSTs the answer SigV4-signed for lambda in the region, without token or approver name', async () => {
    // Prepare
    reply = { status: 200, body: { approvedBy: 'arn:aws:iam::123456789012:user/alice', verdict: 'approve' } };

    // Act
    const response = await sendApprovalAnswer({
      url,
      region: 'eu-west-1',
      answer: { execution: 'scheduled-1', verdict: 'approve', reason: 'green' },
      credentials,
    });

    // Assess
    expect(response).toEqual({ status: 200, body: reply.body });
    expect(received).toHaveLength(1);
    const [request] = received as [Received];
    expect(request.method).toBe('POST');
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDAPPROVER\/\d{8}\/eu-west-1\/lambda\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/,
    );
    expect(request.headers['x-amz-content-sha256'] ?? request.headers['x-amz-date']).toBeDefined();
    expect(JSON.parse(request.body)).toEqual({
      execution: 'scheduled-1',
      verdict: 'approve',
      reason: 'green',
    });
  });

  it('hands back a refusal as status and body, for the command to turn into its exit code', async () => {
    // Prepare
    reply = { status: 409, body: { error: 'execution x (RUNNING) waits at no approval gate' } };

    // Act
    const response = await sendApprovalAnswer({
      url,
      region: 'eu-west-1',
      answer: { execution: 'x', verdict: 'reject', reason: 'no' },
      credentials,
    });

    // Assess
    expect(response.status).toBe(409);
    expect(response.body.error).toContain('waits at no approval gate');
  });
});
