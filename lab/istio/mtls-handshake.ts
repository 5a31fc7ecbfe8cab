// One real mutual-TLS 1.3 handshake between two lab workloads, as two sidecars make it: each side
// presents its own chain and key and verifies the peer against its OWN trust bundle, and both accept
// only a peer whose URI SAN is a SPIFFE id of the mesh's trust domain. A fresh loopback server per
// handshake, closed afterwards, so nothing lingers. The server judges only its own client's connection:
// on a shared machine another process may dial the loopback port the server just took (a port it used
// before), and its bytes are not this handshake's (a 10 x 100 idle once failed a handshake with
// ERR_SSL_HTTP_REQUEST: a plain HTTP request had reached the server). Both sides' TLS contexts are freed
// when the handshake is over, not when V8 gets to them (tls-context-release.ts says why).
import type { AddressInfo, Socket } from 'node:net';
import {
  connect,
  createSecureContext,
  createServer,
  type PeerCertificate,
  type SecureContext,
  type TLSSocket,
} from 'node:tls';
import type { WorkloadIdentity } from './istiod-model.js';
import { releaseTlsContextsAfter, serverTlsContext } from './tls-context-release.js';

export type HandshakeSide = 'client' | 'server';

export type HandshakeOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly side: HandshakeSide; readonly error: string };

const OK_MESSAGE = 'mtls-ok';

// Errors that mean "the client refused the server's certificate" (OpenSSL verify codes, our SAN check).
const CLIENT_VERIFY_CODES = /^(UNABLE_TO_|CERT_|SELF_SIGNED|DEPTH_ZERO|ERR_TLS_CERT_ALTNAME|SPIFFE_)/;

/** What a side of a handshake presents and trusts: a sidecar's SDS secrets. */
export type TlsIdentity = Pick<WorkloadIdentity, 'certChainPem' | 'keyPem' | 'trustBundlePem'>;

export async function mtlsHandshake(
  client: TlsIdentity,
  server: TlsIdentity,
  options: {
    readonly trustDomain: string;
    readonly timeoutMs: number;
    /** Called once the server listens, before the client connects (tests: a stranger on the port). */
    readonly onListening?: (port: number) => Promise<void>;
  },
): Promise<HandshakeOutcome> {
  let serverError: string | undefined;
  let clientSocket: TLSSocket | undefined;
  // Our client's connection is the one from its local port; before the client has one, none is.
  const fromOurClient = (peer: Socket) =>
    clientSocket?.localPort !== undefined && peer.remotePort === clientSocket.localPort;
  const tlsServer = createServer({
    cert: server.certChainPem,
    key: server.keyPem,
    ca: server.trustBundlePem,
    requestCert: true,
    // The server refuses an unverified client below, itself: with rejectUnauthorized Node destroys the
    // socket silently after a TLS 1.3 handshake and the reason (expired, unknown CA, ...) is lost.
    rejectUnauthorized: false,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
  });
  const connections = new Set<Socket>();
  tlsServer.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
  });
  tlsServer.on('tlsClientError', (error, socket) => {
    if (fromOurClient(socket)) serverError ??= describeError(error);
  });
  tlsServer.on('secureConnection', (socket: TLSSocket) => {
    if (!fromOurClient(socket)) {
      socket.destroy();
      return;
    }
    const problem = socket.authorized
      ? spiffeProblem(socket.getPeerCertificate(), options.trustDomain)
      : verifyProblem(socket.authorizationError);
    if (problem) {
      serverError ??= problem;
      socket.destroy();
      return;
    }
    socket.on('error', () => {});
    socket.end(OK_MESSAGE);
  });
  await new Promise<void>((resolve, reject) => {
    tlsServer.once('error', reject);
    tlsServer.listen(0, '127.0.0.1', () => {
      tlsServer.off('error', reject);
      resolve();
    });
  });
  const port = (tlsServer.address() as AddressInfo).port;
  await options.onListening?.(port);

  let clientContext: SecureContext | undefined;
  let clientClosed: Promise<void> | undefined;
  try {
    const secureContext = createSecureContext({
      cert: client.certChainPem,
      key: client.keyPem,
      ca: client.trustBundlePem,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
    });
    clientContext = secureContext;
    const clientResult = await new Promise<{ received: string; error?: unknown }>((resolve) => {
      let received = '';
      let settled = false;
      const finish = (error?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve({ received, error });
      };
      const socket = connect({
        host: '127.0.0.1',
        port,
        secureContext,
        rejectUnauthorized: true,
        // SPIFFE ids are URIs, not host names: check the URI SAN instead of the host.
        checkServerIdentity: (_host, certificate) => {
          const problem = spiffeProblem(certificate, options.trustDomain);
          if (!problem) return undefined;
          return Object.assign(new Error(problem), { code: 'SPIFFE_ID_MISMATCH' });
        },
      });
      clientSocket = socket;
      clientClosed = new Promise((resolve) => socket.once('close', () => resolve()));
      const timer = setTimeout(
        () =>
          finish(Object.assign(new Error(`no answer within ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' })),
        options.timeoutMs,
      );
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        received += chunk;
      });
      socket.on('end', () => finish());
      socket.on('close', () => finish());
      socket.on('error', (error) => finish(error));
    });
    if (clientResult.received === OK_MESSAGE && !serverError) return { ok: true };
    const clientError = clientResult.error === undefined ? undefined : describeError(clientResult.error);
    const clientCode = (clientResult.error as { code?: string } | undefined)?.code ?? '';
    if (clientError && CLIENT_VERIFY_CODES.test(clientCode)) {
      return { ok: false, side: 'client', error: clientError };
    }
    // In TLS 1.3 the client finishes first; the server's verdict on the client certificate arrives
    // after, so give its error event a moment to land before blaming the client.
    if (!serverError) await new Promise((resolve) => setTimeout(resolve, 20));
    if (serverError) {
      const seen = clientError ? ` (the client saw ${clientError})` : '';
      return { ok: false, side: 'server', error: `${serverError}${seen}` };
    }
    return {
      ok: false,
      side: 'client',
      error: clientError ?? 'connection closed before the server confirmed',
    };
  } finally {
    for (const socket of connections) socket.destroy();
    await new Promise<void>((resolve) => {
      tlsServer.close(() => resolve());
    });
    // Freed once node:tls has torn the sockets' TLS state down, without holding the outcome back: a
    // prober round waits for its handshakes, so a slower return would mean fewer of them.
    void releaseTlsContextsAfter(clientClosed, [clientContext, serverTlsContext(tlsServer)]);
  }
}

function spiffeProblem(certificate: PeerCertificate | undefined, trustDomain: string): string | undefined {
  const san = certificate?.subjectaltname ?? '';
  const uris = san
    .split(', ')
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice(4));
  const prefix = `spiffe://${trustDomain}/`;
  if (uris.some((uri) => uri.startsWith(prefix))) return undefined;
  return `peer certificate carries no SPIFFE id under ${prefix} (SAN: ${san || 'none'})`;
}

function verifyProblem(authorizationError: Error | string | undefined): string {
  const code = typeof authorizationError === 'string' ? authorizationError : authorizationError?.message;
  return `${code ?? 'NO_PEER_CERTIFICATE'}: the client certificate does not verify against the server's trust bundle`;
}

function describeError(error: unknown): string {
  if (error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error)) {
    const { code, message } = error as { code?: string; message: string };
    return code ? `${code}: ${message}` : message;
  }
  return String(error);
}
