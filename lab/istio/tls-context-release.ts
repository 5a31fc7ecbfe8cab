// Frees a TLS context's OpenSSL memory (its SSL_CTX, certificate chain, key and CA store) as soon as the
// handshake that used it is over, rather than when V8 collects the context's small JavaScript object.
//
// Why: node:tls means to close a tls.connect() context when its socket closes (`singleUse`), but since
// Node 16 createSecureContext() drops that flag (nodejs/node#66002; the Node 20 this lab runs on has
// the bug), and a tls.Server's context has no such path. The lab's mTLS prober makes two contexts per
// handshake, up to ~80 a second; each waited for a full collection, which a large heap makes rare.
// A sampling heap profile of an emergency 30 x 100 rehearsal found 146 MB of live native memory in them
// at the process's peak (docs/workflow.md, slice 7). The binding's close() is what Node's own singleUse
// path calls; it is not public, so where it is missing this frees nothing (memory, not correctness).
// Close a context only once no socket will use it again: an SSL object holds its own reference to its
// SSL_CTX, but Node reads the context's fields while it sets a socket up.
import type { SecureContext, Server } from 'node:tls';

type ClosableBinding = { close?: () => void };

let released = 0;
const pending = new Set<Promise<void>>();

/** Frees `context`'s OpenSSL memory now; false where this Node offers no way to (nothing freed). */
export function releaseTlsContext(context: SecureContext | undefined): boolean {
  const binding = (context as { context?: ClosableBinding } | undefined)?.context;
  if (typeof binding?.close !== 'function') return false;
  binding.close();
  released += 1;
  return true;
}

/**
 * Frees `contexts` once `closed` settles and node:tls has torn down the TLS state of the sockets closed
 * by then (it does so on the turn after a socket closes, as its own singleUse path does).
 */
export function releaseTlsContextsAfter(
  closed: Promise<void> | undefined,
  contexts: readonly (SecureContext | undefined)[],
): Promise<void> {
  const release = (async () => {
    await closed;
    await new Promise((resolve) => setImmediate(resolve));
    for (const context of contexts) releaseTlsContext(context);
  })();
  pending.add(release);
  return release.finally(() => pending.delete(release));
}

/** The context a tls.Server presents to every client (node:tls keeps it as `_sharedCreds`). */
export function serverTlsContext(server: Server): SecureContext | undefined {
  return (server as { _sharedCreds?: SecureContext })._sharedCreds;
}

/** How many contexts this process has freed so far (tests: every handshake frees both of its own). */
export function releasedTlsContexts(): number {
  return released;
}

/** Resolves once every release asked for so far is done (tests: count only their own). */
export async function tlsContextReleasesSettled(): Promise<void> {
  while (pending.size > 0) await Promise.all([...pending]);
}
