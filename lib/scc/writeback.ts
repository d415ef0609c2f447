/**
 * Write-back through the SCC v2 API. CTD owns the original finding's source
 * properties, so the report goes into a finding of our own source (one per
 * original finding, id derived from its name: redeliveries converge on it)
 * and only compact marks go onto the original. The loop-guard mark is
 * written last: if anything before it fails, the redelivery is not skipped.
 */
import type { protos } from '@google-cloud/security-center';
import { canonicalTimestamp, toProtoTimestamp } from '../timestamp.js';
import { description, nextSteps } from '../report/render.js';
import type { TriagedReport } from '../report/types.js';
import { MARK_EVENT_TIME, MARK_REPORT, MARK_STATUS, MARK_VERDICT } from './marks.js';
import { ENRICHMENT_CATEGORY, enrichmentFindingName, findingConsoleUrl } from './names.js';
import { fetchFinding, type SccReader } from './find.js';
import { reportProperties, toProtoValues } from './properties.js';
import { RESPONSE_PROPERTY } from '../respond/records.js';
import { APPROVAL_MARK } from '../respond/approval.js';

/** The part of v2.SecurityCenterClient the write-back needs (it reads the response records it carries over). */
export interface SccWriter extends SccReader {
  updateFinding(request: protos.google.cloud.securitycenter.v2.IUpdateFindingRequest): Promise<unknown>;
  updateSecurityMarks(request: protos.google.cloud.securitycenter.v2.IUpdateSecurityMarksRequest): Promise<unknown>;
}

export interface WriteContext {
  sourceName: string;
  organization: string | null;
  now: Date;
  /**
   * The original finding's marks say it was triaged before (socat_triage_report
   * is set), so the enrichment finding may hold response records to carry over.
   */
  priorTriage?: boolean;
  /** AUTO_RESPONSE: actions to request on the enrichment finding (the approval mark), set before the loop-guard mark. */
  autoResponse?: readonly string[];
}

type ProtoValues = ReturnType<typeof toProtoValues>;

/** The response records (lib/respond/records.ts) already on the enrichment finding. */
async function responseProperties(scc: SccWriter, sourceName: string, name: string): Promise<ProtoValues> {
  const props = (await fetchFinding(scc, { name, parent: sourceName }))?.finding?.sourceProperties ?? {};
  return Object.fromEntries(Object.entries(props).filter(([k]) => RESPONSE_PROPERTY.test(k))) as ProtoValues;
}

export interface WriteResult {
  enrichmentFinding: string;
  marks: Record<string, string>;
}

/** SCC rejects an eventTime in the future; a skewed detector clock must not make our write fail. */
function eventTimeNoLaterThan(eventTime: string | null, now: Date): { seconds: number; nanos: number } {
  const nowTs = { seconds: Math.floor(now.getTime() / 1000), nanos: (now.getTime() % 1000) * 1e6 };
  const t = eventTime === null ? null : toProtoTimestamp(eventTime);
  if (t === null) return nowTs;
  return t.seconds < nowTs.seconds || (t.seconds === nowTs.seconds && t.nanos <= nowTs.nanos) ? t : nowTs;
}

export function enrichmentFinding(report: TriagedReport, ctx: WriteContext): protos.google.cloud.securitycenter.v2.IFinding {
  return {
    name: enrichmentFindingName(ctx.sourceName, report.finding.name),
    resourceName: report.finding.resourceName ?? report.finding.name,
    category: ENRICHMENT_CATEGORY,
    findingClass: 'OBSERVATION',
    severity: SEVERITY_BY_VERDICT[report.verdict.level],
    eventTime: eventTimeNoLaterThan(report.finding.eventTime, ctx.now),
    sourceProperties: toProtoValues(reportProperties(report)),
    description: description(report),
    nextSteps: nextSteps(report).join('\n'),
    externalUri: findingConsoleUrl(report.finding.name, ctx.organization),
  };
}

/** The enrichment finding's severity follows the verdict, so the console sorts what matters first. */
const SEVERITY_BY_VERDICT = { likely_malicious: 'CRITICAL', suspicious: 'HIGH', likely_benign_admin: 'LOW' } as const;

export async function writeBack(scc: SccWriter, report: TriagedReport, ctx: WriteContext): Promise<WriteResult> {
  const finding = enrichmentFinding(report, ctx);
  // No update mask: creates the finding when missing, else replaces all mutable fields and the whole source_properties map
  // (UpdateFindingRequest.update_mask). The response records are not the report's to replace: they are carried over.
  // A record written between this read and the write is lost from the properties, and this write notifies the
  // responder, which then finds the approval without its record and carries it out again: idempotently, already_done.
  if (ctx.priorTriage) finding.sourceProperties = { ...(await responseProperties(scc, ctx.sourceName, finding.name as string)), ...finding.sourceProperties };
  await scc.updateFinding({ finding });
  const marks: Record<string, string> = {
    [MARK_STATUS]: report.status,
    [MARK_VERDICT]: report.verdict.level,
    [MARK_REPORT]: finding.name as string,
  };
  const marksName = `${report.finding.name}/securityMarks`;
  await scc.updateSecurityMarks({
    securityMarks: { name: marksName, marks },
    updateMask: { paths: Object.keys(marks).map((k) => `marks.${k}`) },
  });
  if (ctx.autoResponse && ctx.autoResponse.length > 0) {
    // The same mark an engineer sets in the console; the responder accepts it only from this function's service account.
    await scc.updateSecurityMarks({
      securityMarks: { name: `${finding.name as string}/securityMarks`, marks: { [APPROVAL_MARK]: ctx.autoResponse.join(',') } },
      updateMask: { paths: [`marks.${APPROVAL_MARK}`] },
    });
  }
  // The timestamp parser ignores surrounding whitespace; the mark must not carry it (a newline or U+2028 in a mark is a control character in the console).
  const eventTime = report.finding.eventTime?.trim() ?? null;
  const guard = eventTime === null || canonicalTimestamp(eventTime) === null ? null : eventTime;
  if (guard !== null) {
    await scc.updateSecurityMarks({
      securityMarks: { name: marksName, marks: { [MARK_EVENT_TIME]: guard } },
      updateMask: { paths: [`marks.${MARK_EVENT_TIME}`] },
    });
    marks[MARK_EVENT_TIME] = guard;
  }
  return { enrichmentFinding: finding.name as string, marks };
}
