/**
 * respondSocatFinding: an engineer approves a response by setting the mark
 * `socat_response` (one action, or several separated by commas) on our
 * enrichment finding in the SCC console. A notification config on our own
 * source delivers that change here. SCC notifies on a finding's marks changes
 * as on any update (the triage's own loop guard rests on it, lib/filter.ts;
 * GoogleCloudPlatform/security-response-automation pull request 165 guards
 * against the same re-trigger), and the NotificationMessage's finding carries
 * its securityMarks (Finding.security_marks, google/cloud/securitycenter/v2/finding.proto).
 *
 * For each notification: establish who set the mark (lib/respond/approval.ts,
 * from the Data Access audit log), check them against RESPONSE_APPROVERS (or
 * the triage's own automatic request), plan each action (lib/respond/plan.ts),
 * carry it out through the injected action modules, and record the result on
 * the enrichment finding and the original (lib/respond/records.ts).
 *
 * Loop guard: the records' writes, and any re-triage's, notify this function
 * again while the mark stays set. Each record names the approval it carried
 * out (the audit entry of the mark change), so an approval is carried out
 * once; a new approval is a new setting of the mark.
 *
 * Like the triage (lib/triage.ts) it never throws: every path ends in an
 * Outcome, lib/outcome.ts decides ack or retry, and handleResponseDelivery
 * throws only for retry.
 */
import { parseFindingName } from '../cli/input.js';
import type { LoggingClient } from '../clients.js';
import type { Config } from '../config.js';
import { InvalidInputError } from '../errors.js';
import { unwrapEnvelope, type Delivery } from '../finding/envelope.js';
import { notificationSchema, type RawFinding } from '../finding/schema.js';
import type { Logger } from '../logger.js';
import { disposition, outcomeForError, RetryableFailure, type Outcome } from '../outcome.js';
import { reportFromFinding, STORED_REPORT_KEY, StoredReportError } from '../scc/stored-report.js';
import { markValue } from '../scc/marks.js';
import { ENRICHMENT_CATEGORY } from '../scc/names.js';
import { toMillis } from '../timestamp.js';
import { APPROVAL_MARK, decideApprover, findMarkSetter, parseRequestedActions, shown, type SetterLookup } from './approval.js';
import { planAction, type ActionPlanners } from './plan.js';
import { recordsFromProperties, writeRecord, type ApprovalRef, type RecordWriter, type StoredRecord } from './records.js';
import { subjectFromReport, type SubjectSource } from './subject.js';
import { RESPONSE_ACTIONS, type PlanContext, type ResponseAction, type ResponsePlan, type ResponseRecord } from './types.js';

/** One action as the responder uses it; the modules (kube-actions.ts, capture.ts) are wired in lib/respond/actions.ts. */
export interface ResponseActionModule {
  plan(ctx: PlanContext): ResponsePlan;
  /**
   * What planning needs that must be read first, when the action has such a
   * step (capture: the evidence files re-gathered at capture time, since its
   * plan lists each upload with its sha256). Called only when a plan from the
   * context as given is allowed, then the action is planned again from what
   * it returns. Resolves with what it could not get said in the context; it
   * must not reject for an API's answer.
   */
  prepare?(ctx: PlanContext): Promise<PlanContext>;
  /** Makes exactly the plan's requests; an API's refusal is a `failed` record, never a throw. */
  execute(plan: ResponsePlan, ctx: PlanContext): Promise<ResponseRecord>;
}

export type ResponseActionModules = Readonly<Record<ResponseAction, ResponseActionModule>>;

/** The report the triage stored on the enrichment finding, or why it cannot be read. */
export type ReportReader = (finding: RawFinding) => { report: SubjectSource } | { unavailable: string };

/** The report stored in the enrichment finding's Z_Report (lib/scc/stored-report.ts), as the notification carries it. */
export const storedReportReader: ReportReader = (finding) => {
  try {
    const report = reportFromFinding(finding);
    if (report === null) return { unavailable: `the enrichment finding holds no stored report (${STORED_REPORT_KEY}): it was written by an older release; re-triage the original finding, then set the mark again` };
    return { report };
  } catch (err) {
    if (err instanceof StoredReportError) return { unavailable: `its stored report cannot be used: ${err.message}` };
    throw err;
  }
};

export interface ResponderDeps {
  config: Config;
  now: () => Date;
  scc: () => Promise<RecordWriter>;
  logging: () => Promise<LoggingClient>;
  readReport: ReportReader;
  actions: ResponseActionModules;
}

export interface ResponseResult extends Outcome {
  findingName: string | null;
  messageId: string | null;
  /** The records written by this delivery, in order. */
  written: StoredRecord[];
}

/** The original CTD finding, from the report's I01 property; null when it is not a finding name. */
function originalFindingOf(f: RawFinding): string | null {
  const v = f.sourceProperties?.['I01_Original_Finding'];
  const text = typeof v === 'string' ? v : typeof (v as { stringValue?: unknown } | undefined)?.stringValue === 'string' ? (v as { stringValue: string }).stringValue : null;
  // Kept as written (the marks go to exactly that name), checked with the one finding-name grammar.
  return text !== null && parseFindingName(text) !== null ? text : null;
}

function planners(actions: ResponseActionModules): ActionPlanners {
  return Object.fromEntries(RESPONSE_ACTIONS.map((a) => [a, (ctx: PlanContext) => actions[a].plan(ctx)])) as unknown as ActionPlanners;
}

/** Why an automatic request no longer qualifies, or null. */
function automaticRefusal(actions: readonly ResponseAction[], report: SubjectSource, config: Config): string | null {
  const { autoActions, autoMinScore } = config.response;
  const extra = actions.filter((a) => !autoActions.includes(a));
  if (extra.length > 0) return `the triage's service account asked for ${extra.join(', ')}, which AUTO_RESPONSE (${autoActions.join(', ') || 'empty'}) does not list. Nothing was done`;
  if (report.verdict.level !== 'likely_malicious' || report.verdict.score < autoMinScore) {
    return `an automatic response needs a likely_malicious verdict with score ≥ AUTO_RESPONSE_MIN_SCORE (${autoMinScore}); the report says ${report.verdict.level} (score ${report.verdict.score}). Nothing was done`;
  }
  return null;
}

async function lookupSetter(f: RawFinding, value: string, delivery: Delivery | null, deps: ResponderDeps): Promise<SetterLookup> {
  const organization = /^(organizations\/\d+)\//.exec(f.name)?.[1];
  if (organization === undefined) return { status: 'unavailable', reason: 'the enrichment finding is not under an organization', retryable: false };
  return findMarkSetter(await deps.logging(), {
    organization,
    enrichmentFinding: f.name,
    value,
    publishedAt: delivery?.publishTime ?? null,
    now: deps.now(),
    windowMinutes: deps.config.response.approvalLogWindowMinutes,
    budget: { pages: deps.config.logPagesMax, entries: deps.config.logEntriesMax },
    signal: AbortSignal.timeout(deps.config.gatherDeadlineMs),
  });
}

/** Respond to one parsed enrichment finding. Never throws. */
export async function respondToFinding(f: RawFinding, deps: ResponderDeps, delivery: Delivery | null = null): Promise<ResponseResult> {
  const written: StoredRecord[] = [];
  const result = (o: Outcome): ResponseResult => ({ ...o, findingName: f.name, messageId: delivery?.messageId ?? null, written });
  let stage = 'respond';
  try {
    const source = deps.config.sccSourceName;
    // parseConfig requires it outside dry runs; a misconfiguration must retry (and park), never drop.
    if (source === null) throw new Error('SCC_SOURCE_NAME is not configured');
    if (!f.name.startsWith(`${source}/`) || f.category !== ENRICHMENT_CATEGORY) {
      return result({ outcome: 'skipped', reason: `not an enrichment finding of our source ${source}: nothing to respond to` });
    }
    const value = markValue(f.securityMarks?.marks, APPROVAL_MARK)?.trim();
    if (value === undefined || value === '') return result({ outcome: 'skipped', reason: `no ${APPROVAL_MARK} mark: nothing was approved` });
    const requested = parseRequestedActions(value);
    if (!requested.ok) return result({ outcome: 'rejected', reason: requested.reason });
    const published = delivery?.publishTime ? toMillis(delivery.publishTime) : null;
    if (published !== null && (deps.now().getTime() - published) / 1000 > deps.config.maxEventAgeSeconds) {
      return result({ outcome: 'failed_permanent', reason: `delivery is older than MAX_EVENT_AGE_SECONDS=${deps.config.maxEventAgeSeconds}; approval not carried out` });
    }
    const { records, problems } = recordsFromProperties(f.sourceProperties);
    const problemNote = problems.length > 0 ? ` (${problems.join('; ')})` : '';
    const where = { enrichmentFinding: f.name, originalFinding: originalFindingOf(f) };
    const record = async (r: StoredRecord) => {
      stage = `record ${r.action}`;
      await writeRecord(await deps.scc(), where, r);
      written.push(r);
    };

    stage = 'audit log';
    const lookup = await lookupSetter(f, value, delivery, deps);
    if (lookup.status === 'unavailable') {
      if (lookup.retryable) return result({ outcome: 'retry', reason: `approver not established yet: ${lookup.reason}` });
      // Recorded once per mark value: the record's own write notifies again, and must not be recorded again.
      const pending = requested.actions.filter((a) => !records.some((r) => r.action === a && r.approval.markValue === value));
      if (pending.length === 0) return result({ outcome: 'skipped', reason: `approver unavailable (${lookup.reason}); already recorded for this mark value${problemNote}` });
      for (const action of pending) {
        await record({
          action,
          approver: null,
          at: deps.now().toISOString(),
          result: 'refused',
          detail: `The approver could not be established: ${lookup.reason}. Nothing was done.`,
          undo: null,
          approval: { entryId: null, markValue: value, setAt: null },
        });
      }
      return result({ outcome: 'responded', reason: `approver unavailable: ${lookup.reason}; refused ${pending.join(', ')}${problemNote}` });
    }

    const change = lookup.change;
    const approval: ApprovalRef = { entryId: change.entryId, markValue: value, setAt: change.time };
    const pending = requested.actions.filter((a) => !records.some((r) => r.action === a && r.approval.entryId === change.entryId));
    if (pending.length === 0) {
      return result({ outcome: 'skipped', reason: `approval ${shown(change.entryId, 80)} (${change.time ?? 'no time'}) already carried out (loop guard)${problemNote}` });
    }
    const refuseAll = async (approver: string | null, detail: string) => {
      for (const action of pending) await record({ action, approver, at: deps.now().toISOString(), result: 'refused', detail, undo: null, approval });
      return result({ outcome: 'responded', reason: `refused ${pending.join(', ')}: ${detail}` });
    };

    const decision = decideApprover(change.principal as string, deps.config.response);
    if (decision.kind === 'refused') return await refuseAll(null, decision.reason);
    const stored = deps.readReport(f);
    if ('unavailable' in stored) return await refuseAll(decision.kind === 'automatic' ? 'automatic' : decision.approver, `The report could not be read: ${stored.unavailable}. Nothing was done.`);
    const report = stored.report;
    if (decision.kind === 'automatic') {
      const refusal = automaticRefusal(requested.actions, report, deps.config);
      if (refusal !== null) return await refuseAll(null, refusal);
    }
    const approver = decision.kind === 'automatic' ? 'automatic' : decision.approver;
    const subject = subjectFromReport(report, f.name);
    let previous: StoredRecord[] = [...records];
    const outcomes: string[] = [];
    for (const action of pending) {
      let ctx: PlanContext = { subject, previous, force: false, now: deps.now() };
      let plan = planAction(action, ctx, planners(deps.actions));
      const prepare = deps.actions[action].prepare;
      if (plan.allowed && prepare !== undefined) {
        stage = `prepare ${action}`;
        ctx = await prepare(ctx);
        plan = planAction(action, ctx, planners(deps.actions));
      }
      let done: ResponseRecord;
      if (!plan.allowed) {
        done = { action, approver, at: deps.now().toISOString(), result: 'refused', detail: plan.reason, undo: null };
      } else {
        stage = `execute ${action}`;
        done = await deps.actions[action].execute(plan, ctx);
      }
      const r: StoredRecord = { ...done, action, approver, approval };
      await record(r);
      previous = [...previous.filter((p) => p.action !== action), r];
      outcomes.push(`${action}: ${r.result}`);
    }
    return result({ outcome: 'responded', reason: `approved by ${approver}: ${outcomes.join(', ')}${lookup.note ? ` (${lookup.note})` : ''}${problemNote}` });
  } catch (err) {
    return result(outcomeForError(err, stage));
  }
}

/** One delivery: unwrap and parse as the triage does (lib/finding/envelope.ts), then respondToFinding. Never throws. */
export async function respondEvent(body: unknown, deps: ResponderDeps): Promise<ResponseResult> {
  let delivery: Delivery | null = null;
  try {
    const unwrapped = unwrapEnvelope(body);
    delivery = unwrapped.delivery;
    const parsed = notificationSchema.safeParse(unwrapped.notification);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidInputError(`invalid notification: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unreadable'}`);
    }
    return await respondToFinding(parsed.data.finding, deps, delivery);
  } catch (err) {
    return { ...outcomeForError(err, 'input'), findingName: null, messageId: delivery?.messageId ?? null, written: [] };
  }
}

const LEVEL = { triaged: 'info', responded: 'info', skipped: 'info', rejected: 'warn', failed_permanent: 'error', retry: 'warn' } as const;

/** One delivery → one outcome line; throws only for retry, which makes Pub/Sub redeliver. */
export async function handleResponseDelivery(body: unknown, deps: ResponderDeps & { logger: Logger }): Promise<ResponseResult> {
  const started = performance.now();
  const result = await respondEvent(body, deps);
  deps.logger[LEVEL[result.outcome]](
    {
      outcome: result.outcome,
      reason: result.reason,
      findingName: result.findingName,
      messageId: result.messageId,
      records: result.written.map((r) => ({ action: r.action, result: r.result, approver: r.approver })),
      durationMs: Math.round(performance.now() - started),
    },
    'response outcome',
  );
  if (disposition(result.outcome) === 'retry') throw new RetryableFailure(result.reason);
  return result;
}
