/**
 * The security marks this project writes on the original CTD finding. Marks
 * are the only thing we may write there: CTD owns its source properties.
 * MARK_EVENT_TIME is written last, so its presence means the rest landed.
 */
export const MARK_STATUS = 'socat_triage_status';
export const MARK_VERDICT = 'socat_triage_verdict';
export const MARK_REPORT = 'socat_triage_report';
export const MARK_EVENT_TIME = 'socat_triage_event_time';
