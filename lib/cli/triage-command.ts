/**
 * `triage FINDING_NAME|FILE [--dry-run] [--json]`: the function's own
 * triage for one finding, on demand — after a permission was fixed, or for a
 * finding that arrived before the function did. It runs exactly what a
 * notification runs (createInstance from the environment, triageFinding),
 * with the loop guard off: an explicit re-run must not be skipped because the
 * finding was triaged before.
 */
import { parseArgs } from 'node:util';
import type { DestinationStream } from 'pino';
import { createSccClient, type SccClient } from '../clients.js';
import { parseJsonText, unwrapEnvelope } from '../finding/envelope.js';
import { parseNotification } from '../finding/parse.js';
import type { SocatFinding } from '../finding/types.js';
import { cleanLine } from '../sanitize.js';
import { triageFinding, type TriageResult } from '../triage.js';
import { createInstance } from '../wiring.js';
import { instanceEnv } from './env.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { classifyTarget, readInput, type Target } from './input.js';
import { colorEnabled, type Io } from './io.js';
import { COLOR, PLAIN, renderView } from './render.js';
import { checkEvidenceDir, EvidenceCollector, writeEvidence } from './save-evidence.js';
import { readFindingByName, type SccReader } from './scc.js';
import { viewFromReport } from './view.js';

/** Anything the function would log goes to stderr: stdout is the result. */
export function stderrDestination(io: Io): DestinationStream {
  return { write: (line: string) => io.stderr(line) };
}

/** The finding a target names: fetched from SCC for a name, parsed from the file otherwise; `text` is its JSON as read. */
export async function loadFinding(target: Target, io: Io, scc: () => Promise<SccReader>): Promise<{ finding: SocatFinding; text: string }> {
  if (target.kind === 'file') {
    const text = await readInput(target.path, io);
    const { notification } = unwrapEnvelope(parseJsonText(text, 'input'));
    return { finding: parseNotification(notification), text };
  }
  const read = await readFindingByName(await scc(), target.ref);
  if (!read) throw new CliError(`finding ${target.ref.name} not found (ListFindings on ${target.ref.parent} returned nothing)`, EXIT.USAGE);
  return read;
}

function resultJson(result: TriageResult, dryRun: boolean): Record<string, unknown> {
  return {
    outcome: result.outcome,
    reason: result.reason,
    dryRun,
    findingName: result.findingName,
    enrichmentFinding: result.written?.enrichmentFinding ?? null,
    marks: result.written?.marks ?? null,
    report: result.report,
  };
}

export async function triageCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { 'dry-run': { type: 'boolean' }, 'save-evidence': { type: 'string' }, json: { type: 'boolean' }, 'no-color': { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError('triage takes exactly one FINDING_NAME or FILE (- for standard input)');
  const dryRun = values['dry-run'] === true;
  const evidenceDir = values['save-evidence'];
  if (evidenceDir === '') throw new UsageError('--save-evidence takes a directory');
  // Checked before anything is gathered: a DIR that cannot take the files fails now, not after the triage.
  if (evidenceDir !== undefined) await checkEvidenceDir(evidenceDir);
  const collector = evidenceDir === undefined ? null : new EvidenceCollector();
  const instance = createInstance(instanceEnv(io.env, { dryRun }), { logDestination: stderrDestination(io), sccQuotaBackoff: null, evidence: collector });
  // Created only when a name must be looked up; a holder, because the closure assigns it.
  const reader: { client: SccClient | null } = { client: null };
  try {
    const { finding, text } = await loadFinding(classifyTarget(positionals[0]!), io, async () => (reader.client ??= await createSccClient(instance.config)));
    const result = await triageFinding(finding, instance, { loopGuard: false });
    if (evidenceDir !== undefined && collector !== null && result.report?.status === 'triaged') {
      const written = await writeEvidence(evidenceDir, collector, text);
      io.stderr(`evidence: ${written.length} files written to ${cleanLine(evidenceDir, 500)}: ${written.join(', ')}\n`);
    } else if (evidenceDir !== undefined) {
      io.stderr(`evidence: nothing gathered (${result.outcome}), nothing written to ${cleanLine(evidenceDir, 500)}\n`);
    }
    if (values.json) {
      io.stdout(JSON.stringify(resultJson(result, dryRun), null, 2) + '\n');
    } else {
      const head =
        result.outcome === 'triaged'
          ? dryRun
            ? 'triaged (dry run: nothing written)'
            : `triaged: enrichment finding ${result.written?.enrichmentFinding ?? '?'} written`
          : `${result.outcome}: ${result.reason}`;
      // A skip reason can quote the finding (its category): cleaned like every other text from it.
      io.stdout(`${cleanLine(head, 2000)}\n\n`);
      if (result.report) io.stdout(renderView(viewFromReport(result.report), colorEnabled(io, 'stdout', values['no-color']) ? COLOR : PLAIN));
    }
    if (result.outcome === 'triaged' || result.outcome === 'skipped') return EXIT.OK;
    if (result.outcome === 'rejected') throw new CliError(`finding rejected: ${result.reason}`, EXIT.USAGE);
    throw new CliError(`triage failed (${result.outcome}): ${result.reason}`, EXIT.FAILED);
  } finally {
    await reader.client?.close();
  }
}
