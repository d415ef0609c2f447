/**
 * Which findings are ours to triage. Our own mark update fires the
 * notification again (SCC treats marks as a finding update), so a finding
 * whose socat_triage_event_time mark equals its eventTime was already
 * triaged for this detection and is skipped; a re-detection moves eventTime
 * and is triaged again.
 */
import type { SocatFinding } from './finding/types.js';
import { MARK_EVENT_TIME, markValue } from './scc/marks.js';
import { canonicalTimestamp } from './timestamp.js';

export type FilterDecision = { triage: true } | { triage: false; reason: string };

export function alreadyTriaged(f: SocatFinding): boolean {
  const mark = markValue(f.securityMarks, MARK_EVENT_TIME);
  if (mark === undefined || f.eventTime === null) return false;
  const a = canonicalTimestamp(mark);
  return a !== null && a === canonicalTimestamp(f.eventTime);
}

/** A finding of our own source: an enrichment finding (organizations/O/sources/S/…/findings/F). */
export function isOwnSourceFinding(f: SocatFinding, ownSource: string | null): boolean {
  return ownSource !== null && f.name.startsWith(`${ownSource}/`);
}

export function decideFilter(
  f: SocatFinding,
  categories: readonly string[],
  options: { loopGuard?: boolean; ownSource?: string | null } = {},
): FilterDecision {
  // Our own findings are reports, never detections: the responder's and the triage's writes to them notify again,
  // and whatever TRIAGE_CATEGORIES says they are not triaged (loop guard between the triage and the responder).
  if (isOwnSourceFinding(f, options.ownSource ?? null)) return { triage: false, reason: 'the finding belongs to our own source (an enrichment finding): not triaged (loop guard)' };
  if (!categories.includes(f.category)) {
    return { triage: false, reason: `category ${JSON.stringify(f.category.slice(0, 100))} is not a triaged category` };
  }
  if (f.state !== 'ACTIVE') return { triage: false, reason: `finding state is ${f.state}, not ACTIVE` };
  if (options.loopGuard !== false && alreadyTriaged(f)) return { triage: false, reason: 'already triaged for this eventTime (loop guard: socat_triage_event_time mark)' };
  return { triage: true };
}
