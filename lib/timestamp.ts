/**
 * RFC 3339 timestamps are compared in a canonical form (UTC, nanoseconds),
 * because the same instant can be rendered with 0, 3, 6 or 9 fractional
 * digits or an offset, and Date would drop everything past milliseconds.
 */
const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

export interface Instant {
  seconds: number;
  nanos: number;
}

export function parseRfc3339(value: string): Instant | null {
  const m = RFC3339.exec(value.trim());
  if (!m) return null;
  const [, date, hh, mm, ss, frac, zone] = m as unknown as [string, string, string, string, string, string | undefined, string];
  const ms = Date.parse(`${date}T${hh}:${mm}:${ss}${zone.toUpperCase()}`);
  if (Number.isNaN(ms)) return null;
  return { seconds: Math.floor(ms / 1000), nanos: Number((frac ?? '').padEnd(9, '0')) };
}

/** Canonical text, e.g. 2026-11-27T10:00:00.123000000Z; null when unparseable. */
export function canonicalTimestamp(value: string): string | null {
  const t = parseRfc3339(value);
  if (!t) return null;
  return `${new Date(t.seconds * 1000).toISOString().slice(0, 19)}.${String(t.nanos).padStart(9, '0')}Z`;
}

export function toMillis(value: string): number | null {
  const t = parseRfc3339(value);
  return t ? t.seconds * 1000 + Math.floor(t.nanos / 1e6) : null;
}

export function toProtoTimestamp(value: string): Instant | null {
  return parseRfc3339(value);
}
