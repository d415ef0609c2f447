/**
 * What every write and every log line must satisfy, whatever the input:
 * the enrichment finding's source properties and fields, the marks, and the
 * outcome lines. Each check returns its problems as text (empty when all is
 * well), so a test can report all of them at once. Also the in-memory
 * SccWriter the fuzzers write through (10,000 gRPC round trips per run would
 * cost more than the parsing they test).
 */
import type { protos } from '@google-cloud/security-center';
import { PROPERTIES_BUDGET_CHARS, VALUE_MAX_CHARS } from '../../lib/scc/properties.js';
import { reportFromFinding, STORED_COMMAND_MAX, STORED_REPORT_BUDGET_CHARS, STORED_REPORT_KEY, STORED_TEXT_MAX, StoredReportError } from '../../lib/scc/stored-report.js';
import type { SccWriter } from '../../lib/scc/writeback.js';
import { uncleanReason, uncleanStrings } from './support.js';

export type Finding = protos.google.cloud.securitycenter.v2.IFinding;
type ProtoValue = { stringValue?: string | null; numberValue?: number | null; boolValue?: boolean | null; structValue?: unknown };

/** The longest free-text field of an outcome line (reason, findingName, messageId). */
export const LOG_FIELD_MAX_CHARS = 2000;

/** properties.ts: the summary and links get 8192, every other value VALUE_MAX_CHARS. */
function capOf(key: string): number {
  return key === 'A5_Summary' || /^H\d_Link_/.test(key) || /_Link$/.test(key) ? 8192 : VALUE_MAX_CHARS;
}

function valueOf(v: ProtoValue): string | number | boolean | null {
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (typeof v.numberValue === 'number') return v.numberValue;
  if (typeof v.boolValue === 'boolean') return v.boolValue;
  return null;
}

// With the u flag a surrogate pair is one code point, so \p{Cs} matches only a lone surrogate (no UTF-8 encoding).
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * The structured report: a Struct that reads back as a valid StoredReport,
 * within its own budget; its strings are data (exact, so not "clean"), but
 * bounded and encodable as UTF-8. Returns the chars it counts toward the map.
 */
function storedReportProblems(raw: ProtoValue, problems: string[]): number {
  if (raw.structValue === undefined || raw.structValue === null) {
    problems.push(`${STORED_REPORT_KEY}: not a Struct`);
    return 0;
  }
  let report;
  try {
    report = reportFromFinding({ sourceProperties: { [STORED_REPORT_KEY]: raw } });
  } catch (err) {
    problems.push(`${STORED_REPORT_KEY}: ${err instanceof StoredReportError ? err.message : String(err)}`);
    return 0;
  }
  const chars = JSON.stringify(report).length;
  if (chars > STORED_REPORT_BUDGET_CHARS) problems.push(`${STORED_REPORT_KEY}: ${chars} chars, over its budget of ${STORED_REPORT_BUDGET_CHARS}`);
  const walk = (v: unknown, path: string): void => {
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) problems.push(`${path}: lone surrogate`);
      const cap = /\.command$|^\$\.commands\./.test(path) ? STORED_COMMAND_MAX : STORED_TEXT_MAX;
      if (v.length > cap) problems.push(`${path}: ${v.length} chars, over ${cap}`);
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) (walk(k, `${path}.(key)`), walk(x, `${path}.${k}`));
  };
  walk(report, '$');
  return STORED_REPORT_KEY.length + chars;
}

/** Source properties: SCC-valid keys, clean bounded values, the structured report valid, the whole map within the budget. */
export function propertyProblems(props: Record<string, ProtoValue> | null | undefined): string[] {
  const problems: string[] = [];
  let total = 0;
  for (const [key, raw] of Object.entries(props ?? {})) {
    if (!/^[A-Za-z][A-Za-z0-9_]{0,254}$/.test(key)) problems.push(`invalid key ${JSON.stringify(key)}`);
    if (key === STORED_REPORT_KEY) {
      total += storedReportProblems(raw, problems);
      continue;
    }
    const value = valueOf(raw);
    if (value === null) {
      problems.push(`${key}: not a string, number or boolean`);
      continue;
    }
    total += key.length + String(value).length;
    if (typeof value !== 'string') continue;
    const why = uncleanReason(value, { newlines: true });
    if (why !== null) problems.push(`${key}: ${why}`);
    if (value.length > capOf(key)) problems.push(`${key}: ${value.length} chars, over its cap of ${capOf(key)}`);
  }
  if (total > PROPERTIES_BUDGET_CHARS) problems.push(`source properties hold ${total} chars, over the ${PROPERTIES_BUDGET_CHARS} budget`);
  return problems;
}

/** The enrichment finding as written: properties plus the text fields people read. */
export function enrichmentProblems(f: Finding): string[] {
  const problems = propertyProblems(f.sourceProperties as Record<string, ProtoValue>);
  for (const field of ['description', 'externalUri', 'category'] as const) {
    const value = f[field];
    const why = typeof value === 'string' ? uncleanReason(value) : null;
    if (why !== null) problems.push(`${field}: ${why}`);
  }
  const why = typeof f.nextSteps === 'string' ? uncleanReason(f.nextSteps, { newlines: true }) : null;
  if (why !== null) problems.push(`nextSteps: ${why}`);
  return problems;
}

export function markProblems(marks: Record<string, string> | undefined): string[] {
  return Object.entries(marks ?? {}).flatMap(([k, v]) => {
    const why = uncleanReason(k) ?? uncleanReason(v);
    return why === null ? [] : [`mark ${k}: ${why}`];
  });
}

/** One JSON log line of ours: nothing unclean in any field, free text bounded. */
export function logLineProblems(line: Record<string, unknown>): string[] {
  const problems = uncleanStrings(line).map(([path, why]) => `log ${path}: ${why}`);
  for (const key of ['reason', 'findingName', 'messageId']) {
    const v = line[key];
    if (typeof v === 'string' && v.length > LOG_FIELD_MAX_CHARS) problems.push(`log ${key}: ${v.length} chars`);
  }
  return problems;
}

/**
 * SCC's write surface in memory, for the fuzzers: upsert by name, marks
 * merged by mask as SCC merges them. Not a mock of the SDK: the function
 * depends on this narrow interface, and the emulator suites drive the real
 * client through it.
 */
export class MemoryScc implements SccWriter {
  readonly findings = new Map<string, Finding>();
  readonly marks = new Map<string, Record<string, string>>();
  writes = 0;
  lastFinding: Finding | null = null;

  async updateFinding(request: protos.google.cloud.securitycenter.v2.IUpdateFindingRequest): Promise<unknown> {
    this.writes += 1;
    const finding = structuredClone(request.finding ?? {});
    this.findings.set(String(finding.name), finding);
    this.lastFinding = finding;
    return [finding];
  }

  async updateSecurityMarks(request: protos.google.cloud.securitycenter.v2.IUpdateSecurityMarksRequest): Promise<unknown> {
    this.writes += 1;
    const name = String(request.securityMarks?.name);
    const current = this.marks.get(name) ?? {};
    for (const path of request.updateMask?.paths ?? []) {
      const key = path.replace(/^marks\./, '');
      const value = request.securityMarks?.marks?.[key];
      if (value === undefined) delete current[key];
      else current[key] = value;
    }
    this.marks.set(name, current);
    return [{ name, marks: current }];
  }

  /** The one query write-back makes: a name="…" filter on a source. */
  async listFindings(request: protos.google.cloud.securitycenter.v2.IListFindingsRequest): Promise<[Array<{ finding: Finding }>, null, unknown]> {
    const name = /^name="(.*)"$/.exec(String(request.filter ?? ''))?.[1];
    const found = name === undefined ? undefined : this.findings.get(name);
    return [found ? [{ finding: structuredClone(found) }] : [], null, {}];
  }

  clear(): void {
    this.findings.clear();
    this.marks.clear();
    this.writes = 0;
    this.lastFinding = null;
  }
}
