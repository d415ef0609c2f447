/**
 * `show FINDING_NAME|FILE [--json]`: a report for a person at a terminal.
 *
 * For a NAME the enrichment finding is read, not re-analysed: it holds what
 * the function gathered (cluster, pod, logs, related findings, the exec that
 * explains socat), which an offline analysis of the finding cannot know. The
 * original's socat_triage_report mark names it; without the mark the name is
 * derived from SCC_SOURCE_NAME as the write-back derives it. Only when there
 * is none (not triaged yet) does `show` fall back to an offline analysis, and
 * it says so. Passing the enrichment finding's own name works too.
 *
 * Only our own reports are shown (notOurReport): a mark or a finding that
 * leads anywhere else makes `show` say why and print nothing, since what it
 * prints includes commands an engineer pastes.
 *
 * An enrichment finding is read through its structured report (the
 * `Z_Report` Struct, lib/scc/stored-report.ts), the same way a report file
 * is. Its console text is parsed back only for findings written before that
 * property existed, or whose Z_Report cannot be read; the view's notes say
 * which.
 *
 * For a FILE: a report (`triage --json`, `analyze`) is shown as it is; a
 * notification or finding is analysed offline first.
 */
import { parseArgs } from 'node:util';
import { createSccClient, type SccClient } from '../clients.js';
import { parseConfig, readVerdictSettings, type Config } from '../config.js';
import { parseJsonText, unwrapEnvelope } from '../finding/envelope.js';
import { parseNotification } from '../finding/parse.js';
import { decideFilter } from '../filter.js';
import { analyzeFinding, DEFAULT_ANALYZE_OPTIONS, OFFLINE, skippedReport, type AnalyzeOptions } from '../report/analyze.js';
import { MARK_EVENT_TIME, MARK_REPORT } from '../scc/marks.js';
import { ENRICHMENT_CATEGORY, enrichmentFindingName } from '../scc/names.js';
import { reportFromFinding, STORED_REPORT_KEY, StoredReportError, type StoredReport } from '../scc/stored-report.js';
import { cleanLine } from '../sanitize.js';
import { canonicalTimestamp } from '../timestamp.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { classifyTarget, parseFindingName, readInput, type FindingRef } from './input.js';
import { colorEnabled, type Io } from './io.js';
import { COLOR, PLAIN, renderView } from './render.js';
import { fetchFinding, marksOf, toNotificationJson, type ListFindingsResult, type SccReader, type V2Finding } from './scc.js';
import { propertyValue, viewFromProperties, viewFromReport, viewFromStoredReport, type ShowView } from './view.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function markValue(marks: Record<string, string>, key: string): string | undefined {
  const found = Object.keys(marks).find((k) => k.toLowerCase() === key);
  return found === undefined ? undefined : marks[found];
}

/** What an offline analysis needs of the configuration: the categories and the verdict model. */
type OfflineConfig = Pick<Config, 'categories' | 'verdict' | 'logWindowBeforeMinutes'>;

function analyzeOptions(config: OfflineConfig): AnalyzeOptions {
  return { verdict: config.verdict, attributionWindowMinutes: config.logWindowBeforeMinutes };
}

function offlineView(notification: unknown, config: OfflineConfig, note: string): ShowView {
  const finding = parseNotification(notification);
  const decision = decideFilter(finding, config.categories, { loopGuard: false });
  const view = viewFromReport(decision.triage ? analyzeFinding(finding, OFFLINE, analyzeOptions(config)) : skippedReport(finding, decision.reason), 'offline_analysis');
  view.notes.push(note);
  return view;
}

export function viewFromFileText(text: string, config: OfflineConfig): ShowView {
  const value = parseJsonText(text, 'input');
  if (isObj(value) && typeof value.schemaVersion === 'number' && typeof value.status === 'string' && isObj(value.finding)) return viewFromReport(value);
  if (isObj(value) && isObj(value.report) && typeof value.outcome === 'string') return viewFromReport(value.report);
  const { notification } = unwrapEnvelope(value);
  return offlineView(notification, config, 'offline analysis of the finding alone: nothing was gathered (run `triage --dry-run` for the full report)');
}

/** The finding's structured report, or why there is none to use (null: the finding predates it). */
function storedOf(found: V2Finding): { stored: StoredReport | null; problem: string | null } {
  try {
    return { stored: reportFromFinding(found), problem: null };
  } catch (err) {
    if (err instanceof StoredReportError) return { stored: null, problem: err.message };
    throw err;
  }
}

/**
 * The view of one of our enrichment findings: its structured report when it
 * has one that reads, else its console text (older findings; a Z_Report this
 * release cannot read), with a note saying so.
 */
export function viewFromEnrichment(found: V2Finding, marks: Record<string, string> = {}): ShowView {
  const { stored, problem } = storedOf(found);
  if (stored !== null) return viewFromStoredReport(stored, marks);
  const view = viewFromProperties((toNotificationJson({ finding: found }).finding.sourceProperties ?? {}) as Obj, marks);
  view.notes.push(
    problem === null
      ? `this report was written before the structured ${STORED_REPORT_KEY} property existed: the view is read back from its console text, which may omit details (\`triage\` rewrites it)`
      : // The path in the message can hold a key someone else wrote: cleaned like any text shown.
        cleanLine(`the structured report could not be read (${problem}): the view is read back from the console text instead`, 1000),
  );
  return view;
}

/** The parent every finding of our own source lives under (any location). */
function inSource(ref: FindingRef, source: string): boolean {
  return ref.parent.startsWith(`${source}/locations/`);
}

/** What the write-back stores as the enrichment finding's resource: the original's resource, else its name (lib/scc/writeback.ts). */
function expectedResource(original: V2Finding): string {
  const r = original.resourceName;
  return typeof r === 'string' && r.trim() !== '' ? r : (original.name ?? '');
}

/**
 * Why a finding is not our report for `original`, or null when it is. Marks
 * can be set by anyone with securitycenter.findingsecuritymarks.update on the
 * finding (https://cloud.google.com/security-command-center/docs/reference/rest/v2/organizations.sources.findings/updateSecurityMarks),
 * and findings of any
 * category can be written into any source by whoever owns it, so neither the
 * mark nor the category proves anything; only our own source (SCC_SOURCE_NAME,
 * writable by the function's service account alone) and the links our
 * write-back records do: I01_Original_Finding and the structured report's
 * finding.name both name the original, and the finding's resource is the
 * original's.
 */
export function notOurReport(ref: FindingRef, found: V2Finding | null | undefined, ownSource: string, original: V2Finding | null): string | null {
  if (!inSource(ref, ownSource)) return `${ref.name} is not in our source ${ownSource} (SCC_SOURCE_NAME)`;
  if (!found) return `${ref.name} does not exist`;
  if (found.category !== ENRICHMENT_CATEGORY) return `${ref.name} is a ${JSON.stringify(found.category ?? '')} finding, not a ${ENRICHMENT_CATEGORY} report`;
  if (original === null) return null;
  const props = (toNotificationJson({ finding: found }).finding.sourceProperties ?? {}) as Obj;
  // What is shown comes from the structured report when it reads: its link must hold as well as the console's.
  const { stored } = storedOf(found);
  for (const link of [propertyValue(props, 'Original_Finding'), ...(stored ? [stored.finding.name] : [])]) {
    const linked = typeof link === 'string' ? parseFindingName(link) : null;
    const same = linked !== null && typeof original.name === 'string' && linked.name === parseFindingName(original.name)?.name;
    if (!same) return `${ref.name} is a report about ${typeof link === 'string' ? link : '(no original finding)'}, not about ${original.name}`;
  }
  if (found.resourceName !== expectedResource(original)) return `${ref.name} is about the resource ${found.resourceName || '(none)'}, not ${expectedResource(original)}`;
  return null;
}

/** A report that cannot be trusted is refused: one line on stderr, nothing on stdout, so no command of it is printed or carried out. */
function untrusted(verb: string, subject: string, why: string): CliError {
  return new CliError(`${verb} ${subject}: ${why} (\`scc-socat-triage triage FINDING --dry-run\` builds a fresh report)`, EXIT.USAGE);
}

/** Where a FINDING_NAME leads: our trusted enrichment finding for it, or only the finding (not triaged yet). */
export type LocatedReport =
  | { kind: 'enrichment'; enrichment: V2Finding; original: ListFindingsResult | null; marks: Record<string, string> }
  | { kind: 'not_triaged'; original: ListFindingsResult; note: string };

/**
 * The enrichment finding for a FINDING_NAME (the original, or the enrichment
 * finding itself), trusted only as notOurReport allows; `verb` starts the
 * refusal ("not showing", "not responding to").
 */
export async function locateReport(scc: SccReader, ref: FindingRef, ownSource: string | null, verb: string): Promise<LocatedReport> {
  const result = await fetchFinding(scc, ref);
  if (!result?.finding) throw new CliError(`finding ${ref.name} not found (ListFindings on ${ref.parent} returned nothing)`, EXIT.USAGE);
  if (result.finding.category === ENRICHMENT_CATEGORY) {
    // Asked for a report by its own name: it is ours only if it is in our source.
    if (ownSource === null) throw untrusted(verb, 'this report', 'SCC_SOURCE_NAME is not set, so whether it comes from our source cannot be checked');
    const why = notOurReport(ref, result.finding, ownSource, null);
    if (why !== null) throw untrusted(verb, 'this report', why);
    return { kind: 'enrichment', enrichment: result.finding, original: null, marks: {} };
  }

  const marks = marksOf(result.finding);
  const marked = markValue(marks, MARK_REPORT);
  if (marked !== undefined) {
    const subject = `the report the ${MARK_REPORT} mark names`;
    if (ownSource === null) throw untrusted(verb, subject, 'SCC_SOURCE_NAME is not set, so whether the mark points into our source cannot be checked');
    const markedRef = parseFindingName(marked);
    if (markedRef === null) throw untrusted(verb, subject, `the mark is not a finding name: ${JSON.stringify(marked.slice(0, 200))}`);
    if (!inSource(markedRef, ownSource)) throw untrusted(verb, subject, notOurReport(markedRef, null, ownSource, result.finding)!);
  }
  const enrichmentRef = (marked !== undefined ? parseFindingName(marked) : null) ?? (ownSource ? parseFindingName(enrichmentFindingName(ownSource, ref.name)) : null);
  if (enrichmentRef && ownSource) {
    const enrichment = await fetchFinding(scc, enrichmentRef);
    // Without a mark, a missing report at the derived name means: not triaged yet.
    if (enrichment?.finding || marked !== undefined) {
      const why = notOurReport(enrichmentRef, enrichment?.finding, ownSource, result.finding);
      if (why !== null) throw untrusted(verb, `the report ${marked !== undefined ? `the ${MARK_REPORT} mark names` : 'at our derived name'}`, why);
      return { kind: 'enrichment', enrichment: enrichment!.finding!, original: result, marks };
    }
  }
  return {
    kind: 'not_triaged',
    original: result,
    note: `no enrichment finding${ownSource ? '' : ' (SCC_SOURCE_NAME unset and no socat_triage_report mark)'}: not triaged yet`,
  };
}

async function viewFromScc(scc: SccReader, ref: FindingRef, ownSource: string | null, config: OfflineConfig): Promise<ShowView> {
  const located = await locateReport(scc, ref, ownSource, 'not showing');
  if (located.kind === 'not_triaged') {
    return offlineView(toNotificationJson(located.original), config, `${located.note}, so this is an offline analysis of the finding alone; \`scc-socat-triage triage ${ref.name}\` runs the full triage`);
  }
  if (located.original === null) return viewFromEnrichment(located.enrichment);
  const json = toNotificationJson(located.original);
  const { marks } = located;
  const view = viewFromEnrichment(located.enrichment, marks);
  view.finding.state = typeof json.finding.state === 'string' ? json.finding.state : view.finding.state;
  const guard = markValue(marks, MARK_EVENT_TIME);
  const eventTime = typeof json.finding.eventTime === 'string' ? json.finding.eventTime : null;
  if (eventTime !== null && (guard === undefined || canonicalTimestamp(guard) !== canonicalTimestamp(eventTime))) {
    view.notes.push(`this report may be for an earlier detection: the finding's eventTime is ${eventTime} and the triage mark says ${guard ?? '(none)'}; run \`triage\` to refresh it`);
  }
  return view;
}

export async function showCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean' }, 'no-color': { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new UsageError('show takes exactly one FINDING_NAME or FILE (- for standard input)');
  const target = classifyTarget(positionals[0]!);
  let view: ShowView;
  if (target.kind === 'file') {
    // Reading a file calls no API: only the variables an offline analysis uses are read, so no other can fail it.
    const config: OfflineConfig = {
      categories: parseConfig({ TRIAGE_CATEGORIES: io.env.TRIAGE_CATEGORIES, DRY_RUN: 'true' }).categories,
      verdict: readVerdictSettings(io.env),
      logWindowBeforeMinutes: DEFAULT_ANALYZE_OPTIONS.attributionWindowMinutes,
    };
    view = viewFromFileText(await readInput(target.path, io), config);
  } else {
    // Reading needs no source of our own: DRY_RUN lifts parseConfig's SCC_SOURCE_NAME requirement.
    const config = parseConfig({ ...io.env, DRY_RUN: 'true' });
    let scc: SccClient | null = null;
    try {
      scc = await createSccClient(config);
      view = await viewFromScc(scc, target.ref, config.sccSourceName, config);
    } finally {
      await scc?.close();
    }
  }
  if (values.json) io.stdout(JSON.stringify(view, null, 2) + '\n');
  else io.stdout(renderView(view, colorEnabled(io, 'stdout', values['no-color']) ? COLOR : PLAIN));
  return EXIT.OK;
}
