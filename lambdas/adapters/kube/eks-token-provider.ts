// Bearer tokens for one cluster, made with createEksToken and reused until one minute before they
// expire. A token is honoured for 15 minutes and createEksToken reports expiry at 14, so a token is
// never sent with less than two minutes of life left, enough for one slow request and its retries.
import { type CreateEksTokenOptions, createEksToken, type EksToken } from '../eks/eks-token.js';

export interface EksTokenProviderOptions extends Omit<CreateEksTokenOptions, 'now'> {
  /** Make a new token when the current one expires within this. @default 60000 */
  readonly refreshBeforeMs?: number;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** A tokenProvider for createClusterClient; concurrent callers share one signing. */
export function createEksTokenProvider(options: EksTokenProviderOptions): () => Promise<string> {
  const { refreshBeforeMs = 60_000, now = () => new Date(), ...tokenOptions } = options;
  let current: EksToken | undefined;
  let signing: Promise<EksToken> | undefined;
  return async () => {
    if (current && current.expiresAt.getTime() - now().getTime() > refreshBeforeMs) return current.token;
    signing ??= createEksToken({ ...tokenOptions, now: now() }).finally(() => {
      signing = undefined;
    });
    current = await signing;
    return current.token;
  };
}
