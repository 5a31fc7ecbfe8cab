export const DAY_MS = 24 * 60 * 60 * 1000;

/** A CA certificate whose expiry the daily check watches. */
export interface WatchedCertificate {
  /** What it is, e.g. `root` or `intermediate/cluster-a`. */
  readonly name: string;
  readonly notAfter: Date;
}

export interface ExpiryHeadroom {
  /** Whole days until the first of them expires (negative once expired). */
  readonly days: number;
  /** The certificate that expires first. */
  readonly first: string;
}

/** The smallest headroom over all watched certificates: the one number the expiry alarm needs. */
export function expiryHeadroom(certificates: readonly WatchedCertificate[], now: Date): ExpiryHeadroom {
  if (certificates.length === 0) {
    throw new RangeError('expiryHeadroom needs at least one certificate to watch');
  }
  const first = certificates.reduce((a, b) => (b.notAfter.getTime() < a.notAfter.getTime() ? b : a));
  return { days: Math.floor((first.notAfter.getTime() - now.getTime()) / DAY_MS), first: first.name };
}
