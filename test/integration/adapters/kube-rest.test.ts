// The cluster client's HTTP layer (kube-rest.ts, kube-api.ts, kube-watch.ts) against a scripted HTTPS
// server on 127.0.0.1, to see what the lab API servers never send: a watch's events cut anywhere across
// chunks, a refusal with its Status body, a server whose certificate the cluster's CA did not sign.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServingCertificates } from '../../../lab/tls/serving-certificates.js';
import { createKubeApi } from '../../../lambdas/adapters/kube/kube-api.js';
import { isTlsVerificationError } from '../../../lambdas/adapters/kube/kube-errors.js';
import { SECRETS } from '../../../lambdas/adapters/kube/kube-objects.js';
import { createKubeConnection, KubeApiError } from '../../../lambdas/adapters/kube/kube-rest.js';
import { watchCollection } from '../../../lambdas/adapters/kube/kube-watch.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

let server: Server;
let caPem: string;
let otherCaPem: string;
let handler: Handler;
let url: string;

beforeAll(async () => {
  const serving = await createServingCertificates({ clusterName: 'rest' });
  otherCaPem = (await createServingCertificates({ clusterName: 'other' })).caPem;
  caPem = serving.caPem;
  server = createServer({ cert: serving.certChainPem, key: serving.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function connect(trust = caPem) {
  let issued = 0;
  return createKubeConnection({
    server: `${url}/`,
    caPem: trust,
    tokenProvider: async () => `token-${++issued}`,
  });
}

describe('kube-api over kube-rest', () => {
  it('sends the PUT as JSON with a fresh bearer token each time, and returns the answer parsed', async () => {
    // Prepare
    const seen: { method?: string; url?: string; auth?: string; type?: string; body: string }[] = [];
    handler = (req, body, res) => {
      seen.push({
        method: req.method,
        url: req.url,
        auth: req.headers.authorization,
        type: req.headers['content-type'],
        body,
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Secret', metadata: { name: 'cacerts', resourceVersion: '8' } }));
    };
    const api = createKubeApi(connect());
    const secret = { metadata: { name: 'cacerts', resourceVersion: '7' }, data: { a: 'Yg==' } };

    // Act
    const first = await api.replace(SECRETS, 'istio-system', 'cacerts', secret);
    await api.list(SECRETS, { namespace: 'istio-system', labelSelector: 'app=x' });

    // Assess
    expect(first.metadata?.resourceVersion).toBe('8');
    expect(seen).toEqual([
      {
        method: 'PUT',
        url: '/api/v1/namespaces/istio-system/secrets/cacerts',
        auth: 'Bearer token-1',
        type: 'application/json',
        body: JSON.stringify(secret),
      },
      {
        method: 'GET',
        url: '/api/v1/namespaces/istio-system/secrets?labelSelector=app%3Dx',
        auth: 'Bearer token-2',
        type: undefined,
        body: '',
      },
    ]);
  });

  it('rejects a non-2xx answer with its status and Status body, and never the data it sent', async () => {
    // Prepare
    const status = { kind: 'Status', reason: 'Conflict', code: 409, message: 'the object has been modified' };
    handler = (_req, _body, res) => {
      res.writeHead(409, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status));
    };
    const api = createKubeApi(connect());

    // Act
    const replacing = api.replace(SECRETS, 'istio-system', 'cacerts', {
      data: { 'ca-key.pem': 'S0VZLU1BVEVSSUFM' },
    });

    // Assess
    const error = await replacing.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({ code: 409, body: JSON.stringify(status) });
    expect((error as Error).message).toBe(
      'HTTP 409 from PUT /api/v1/namespaces/istio-system/secrets/cacerts',
    );
    expect(JSON.stringify(error)).not.toContain('S0VZLU1BVEVSSUFM');
  });

  it("refuses a server whose certificate the cluster's CA did not sign, before sending anything", async () => {
    // Prepare
    let asked = 0;
    handler = (_req, _body, res) => {
      asked += 1;
      res.end('{}');
    };
    const api = createKubeApi(connect(otherCaPem));

    // Act
    const error = await api.read(SECRETS, 'istio-system', 'cacerts').catch((caught: unknown) => caught);

    // Assess
    expect(isTlsVerificationError(error)).toBe(true);
    expect(asked).toBe(0);
  });

  it("GETs a pod port's path through pods/proxy and returns the text as it came", async () => {
    // Prepare
    let path: string | undefined;
    handler = (req, _body, res) => {
      path = req.url;
      res.end('# TYPE citadel_server_root_cert_expiry_timestamp gauge\n');
    };

    // Act
    const text = await createKubeApi(connect()).podProxyGet('istio-system', 'istiod-7f9', 15014, '/metrics');

    // Assess
    expect(path).toBe('/api/v1/namespaces/istio-system/pods/istiod-7f9:15014/proxy/metrics');
    expect(text).toBe('# TYPE citadel_server_root_cert_expiry_timestamp gauge\n');
  });
});

describe('watchCollection', () => {
  it('delivers events cut anywhere across chunks, in order, then ends with null', async () => {
    // Prepare: three events, written in pieces that split lines and hold two at once
    const lines = ['ADDED', 'MODIFIED', 'DELETED']
      .map((type, at) => `${JSON.stringify({ type, object: { metadata: { name: `w${at}` } } })}\n`)
      .join('');
    let query: string | undefined;
    handler = (req, _body, res) => {
      query = req.url;
      res.writeHead(200, { 'content-type': 'application/json' });
      const pieces = [lines.slice(0, 10), lines.slice(10, 70), lines.slice(70, 71), lines.slice(71)];
      const next = () => {
        const piece = pieces.shift();
        if (piece === undefined) res.end();
        else res.write(piece, () => setTimeout(next, 20));
      };
      next();
    };
    const events: string[] = [];

    // Act
    const ended = await new Promise<unknown>((resolve, reject) => {
      watchCollection<{ metadata: { name: string } }>(
        connect(),
        '/apis/apps/v1/namespaces/shop/deployments',
        { timeoutSeconds: 60, fieldSelector: undefined },
        (type, object) => events.push(`${type} ${object.metadata.name}`),
        resolve,
      ).catch(reject);
    });

    // Assess
    expect(query).toBe('/apis/apps/v1/namespaces/shop/deployments?timeoutSeconds=60&watch=true');
    expect(events).toEqual(['ADDED w0', 'MODIFIED w1', 'DELETED w2']);
    expect(ended).toBeNull();
  });

  it('rejects a refused watch with the Status, and calls done for an abort, after which no event comes', async () => {
    // Prepare
    handler = (req, _body, res) => {
      if (req.url?.includes('forbidden')) {
        res.writeHead(403);
        res.end('{"kind":"Status","reason":"Forbidden","message":"no watch"}');
        return;
      }
      res.writeHead(200);
      res.write(`${JSON.stringify({ type: 'ADDED', object: {} })}\n`);
      setTimeout(() => res.write(`${JSON.stringify({ type: 'MODIFIED', object: {} })}\n`), 300);
    };
    const events: string[] = [];
    let ended: unknown = 'not yet';

    // Act
    const refused = await watchCollection(
      connect(),
      '/forbidden',
      {},
      () => {},
      () => {},
    ).catch((caught: unknown) => caught);
    const controller = await watchCollection(
      connect(),
      '/apis/apps/v1/deployments',
      {},
      (type) => events.push(type),
      (error) => {
        ended = error;
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    await new Promise((resolve) => setTimeout(resolve, 400));

    // Assess
    expect(refused).toBeInstanceOf(KubeApiError);
    expect(refused).toMatchObject({ code: 403 });
    expect(events).toEqual(['ADDED']);
    expect((ended as Error).name).toBe('AbortError');
  });
});
