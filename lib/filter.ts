/**
 * Which findings are ours to triage. Our own mark update fires the
 * notification again (SCC treats marks as a finding update), so a finding
 * whose socat_triage_event_time mark equals its eventTime was already
 * triaged for this detection and is skipped; a re-detection moves eventTime
 * and is triaged again.
 */
import type { SocatFinding } from './finding/types.js';
import { MARK_EVENT_TIME } from './scc/marks.js';
import { canonicalTimestamp } from './timestamp.js';

export type FilterDecision = { triage: true } | { triage: false; reason: string };

/** Marks are case-insensitive in SCC. */
function markValue(marks: Record<string, string>, key: string): string | undefined {
  const found = Object.keys(marks).find((k) => k.toLowerCase() === key);
  return found === undefined ? undefined : marks[found];
}

export function alreadyTriaged(f: SocatFinding): boolean {
  const mark = markValue(f.securityMarks, MARK_EVENT_TIME);
  if (mark === undefined || f.eventTime === null) return false;
  const a = canonicalTimestamp(mark);
  return a !== null && a === canonicalTimestamp(f.eventTime);
}

export function decideFilter(f: SocatFinding, categories: readonly string[], options: { loopGuard?: boolean } = {}): FilterDecision {
  if (!categories.includes(f.category)) {
    return { triage: false, reason: `category ${JSON.stringify(f.category.slice(0, 100))} is not a triaged category` };
  }
  if (f.state !== 'ACTIVE') return { triage: false, reason: `finding state is ${f.state}, not ACTIVE` };
  if (options.loopGuard !== false && alreadyTriaged(f)) return { triage: false, reason: 'already triaged for this eventTime (loop guard: socat_triage_event_time mark)' };
  return { triage: true };
}
