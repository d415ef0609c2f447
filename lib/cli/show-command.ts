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
import { canonicalTimestamp } from '../timestamp.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { classifyTarget, parseFindingName, readInput, type FindingRef } from './input.js';
import { colorEnabled, type Io } from './io.js';
import { COLOR, PLAIN, renderView } from './render.js';
import { fetchFinding, marksOf, toNotificationJson, type SccReader } from './scc.js';
import { propertyValue, viewFromProperties, viewFromReport, type ShowView } from './view.js';

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

async function viewFromScc(scc: SccReader, ref: FindingRef, ownSource: string | null, config: OfflineConfig): Promise<ShowView> {
  const result = await fetchFinding(scc, ref);
  if (!result?.finding) throw new CliError(`finding ${ref.name} not found (ListFindings on ${ref.parent} returned nothing)`, EXIT.USAGE);
  const json = toNotificationJson(result);
  const props = (json.finding.sourceProperties ?? {}) as Obj;
  if (result.finding.category === ENRICHMENT_CATEGORY) return viewFromProperties(props);

  const marks = marksOf(result.finding);
  const marked = markValue(marks, MARK_REPORT);
  const enrichmentRef = (marked ? parseFindingName(marked) : null) ?? (ownSource ? parseFindingName(enrichmentFindingName(ownSource, ref.name)) : null);
  if (enrichmentRef) {
    const enrichment = await fetchFinding(scc, enrichmentRef);
    const eprops = enrichment?.finding ? ((toNotificationJson(enrichment).finding.sourceProperties ?? {}) as Obj) : null;
    // A mark anyone with marks permission can set must point at our report for this very finding.
    if (enrichment?.finding?.category === ENRICHMENT_CATEGORY && eprops !== null && propertyValue(eprops, 'Original_Finding') === ref.name) {
      const view = viewFromProperties(eprops, marks);
      view.finding.state = typeof json.finding.state === 'string' ? json.finding.state : view.finding.state;
      const guard = markValue(marks, MARK_EVENT_TIME);
      const eventTime = typeof json.finding.eventTime === 'string' ? json.finding.eventTime : null;
      if (eventTime !== null && (guard === undefined || canonicalTimestamp(guard) !== canonicalTimestamp(eventTime))) {
        view.notes.push(`this report may be for an earlier detection: the finding's eventTime is ${eventTime} and the triage mark says ${guard ?? '(none)'}; run \`triage\` to refresh it`);
      }
      return view;
    }
  }
  return offlineView(json, config, `no enrichment finding${ownSource || marked ? '' : ' (SCC_SOURCE_NAME unset and no socat_triage_report mark)'}: not triaged yet, so this is an offline analysis of the finding alone; \`scc-socat-triage triage ${ref.name}\` runs the full triage`);
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
