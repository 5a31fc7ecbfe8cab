// A watch of a collection (GET ?watch=true): the API server streams one JSON event per line, first the
// objects as they are (no resourceVersion given), then each change, until timeoutSeconds or a close.
import { request } from 'node:https';
import { KubeApiError, type KubeConnection, type KubeQuery, pathWithQuery } from './kube-rest.js';

/** A watch quiet this long is ended with an error named TimeoutError (client-node's fetch did so too). */
export const WATCH_QUIET_MS = 30_000;

/**
 * Opens the watch; resolves once the API server accepted it, with the controller that ends it, or rejects
 * (a KubeApiError for a refusal). Then each event calls onEvent, and the watch's end calls done once:
 * null when the server ended it, the error otherwise (an abort included).
 */
export async function watchCollection<T>(
  connection: KubeConnection,
  path: string,
  query: KubeQuery,
  onEvent: (type: string, object: T) => void,
  done: (error: unknown) => void,
): Promise<AbortController> {
  const controller = new AbortController();
  const authorization = await connection.authorization();
  return new Promise<AbortController>((resolve, reject) => {
    let opened = false;
    let finished = false;
    const finish = (error: unknown): void => {
      if (!opened) reject(error);
      else if (!finished) done(error);
      finished = true;
    };
    const req = request(`${connection.server}${pathWithQuery(path, { ...query, watch: true })}`, {
      agent: connection.agent,
      headers: { accept: 'application/json', authorization },
      signal: controller.signal,
      timeout: WATCH_QUIET_MS,
    });
    req.on('timeout', () =>
      req.destroy(
        Object.assign(new Error(`The watch of ${path} was quiet for ${WATCH_QUIET_MS} ms`), {
          name: 'TimeoutError',
        }),
      ),
    );
    req.on('error', finish);
    req.on('response', (response) => {
      const status = response.statusCode ?? 0;
      if (status !== 200) {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          finish(new KubeApiError('GET', path, status, Buffer.concat(chunks).toString('utf8'))),
        );
        return;
      }
      opened = true;
      resolve(controller);
      let pending = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        pending += chunk;
        let newline = pending.indexOf('\n');
        while (newline >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          newline = pending.indexOf('\n');
          if (line === '') continue;
          let event: { type?: unknown; object?: unknown };
          try {
            event = JSON.parse(line) as typeof event;
          } catch (error) {
            req.destroy(error as Error);
            return;
          }
          if (typeof event.type === 'string') onEvent(event.type, event.object as T);
        }
      });
      response.on('end', () => finish(null));
      response.on('error', finish);
    });
    req.end();
  });
}
