/**
 * The security marks this project writes on the original CTD finding. Marks
 * are the only thing we may write there: CTD owns its source properties.
 * MARK_EVENT_TIME is written last, so its presence means the rest landed.
 */
export const MARK_STATUS = 'socat_triage_status';
export const MARK_VERDICT = 'socat_triage_verdict';
export const MARK_REPORT = 'socat_triage_report';
export const MARK_EVENT_TIME = 'socat_triage_event_time';

/** Mark keys are case-insensitive in SCC: the value under `key` whatever its case; undefined when absent or not a string. */
export function markValue(marks: Readonly<Record<string, unknown>> | null | undefined, key: string): string | undefined {
  if (!marks) return undefined;
  const found = Object.keys(marks).find((k) => k.toLowerCase() === key.toLowerCase());
  const value = found === undefined ? undefined : marks[found];
  return typeof value === 'string' ? value : undefined;
}
