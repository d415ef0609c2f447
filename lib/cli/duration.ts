/** --since: a look-back (30m, 12h, 7d, 2w) or an RFC 3339 instant. */
import { toMillis } from '../timestamp.js';
import { UsageError } from './errors.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

export function parseSince(value: string, now: Date): Date {
  const m = /^(\d{1,6})([smhdw])$/.exec(value.trim());
  if (m) return new Date(now.getTime() - Number(m[1]) * UNIT_MS[m[2]!]!);
  const ms = toMillis(value.trim());
  if (ms !== null) {
    if (ms > now.getTime()) throw new UsageError(`--since ${JSON.stringify(value)} is in the future`);
    return new Date(ms);
  }
  throw new UsageError(`--since takes a duration (30m, 12h, 7d, 2w) or an RFC 3339 time, got ${JSON.stringify(value.slice(0, 60))}`);
}
