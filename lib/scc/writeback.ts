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
import { reportProperties, toProtoValues } from './properties.js';

/** The part of v2.SecurityCenterClient the write-back needs. */
export interface SccWriter {
  updateFinding(request: protos.google.cloud.securitycenter.v2.IUpdateFindingRequest): Promise<unknown>;
  updateSecurityMarks(request: protos.google.cloud.securitycenter.v2.IUpdateSecurityMarksRequest): Promise<unknown>;
}

export interface WriteContext {
  sourceName: string;
  organization: string | null;
  now: Date;
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
  // No update mask: creates the finding when missing, else replaces all mutable fields and the whole source_properties map.
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
