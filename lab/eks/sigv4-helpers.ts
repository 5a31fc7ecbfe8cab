// Small pieces both lab SigV4 checks need (presigned EKS tokens and signed EKS API requests).
import { timingSafeEqual } from 'node:crypto';

/** Parses a SigV4 date (`YYYYMMDDTHHMMSSZ`, as in X-Amz-Date); undefined when malformed. */
export function parseAmzDate(text: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) {
    return undefined;
  }
  const [, year, month, day, hour, minute, second] = match.map(Number);
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Compares two signatures without leaking, through timing, how much of a forgery was right. */
export function signaturesEqual(received: string, expected: string): boolean {
  const a = Buffer.from(received, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
