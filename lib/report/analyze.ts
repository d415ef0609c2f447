/**
 * Finding-only analysis: pure, no I/O, the same for the function and the
 * offline `analyze` command. Gathered context (later sections) is merged in
 * by the pipeline, never fetched from here.
 */
import type { SocatFinding } from '../finding/types.js';
import { parseSocatArgs } from '../socat/args.js';
import { buildCommands } from './commands.js';
import type { FindingSummary, SkippedReport, TriagedReport } from './types.js';

export function summarizeFinding(f: SocatFinding): FindingSummary {
  return {
    name: f.name,
    category: f.category,
    state: f.state,
    severity: f.severity,
    eventTime: f.eventTime,
    resourceName: f.resourceName,
    projectDisplayName: f.projectDisplayName,
  };
}

export function skippedReport(f: SocatFinding, reason: string): SkippedReport {
  return { schemaVersion: 1, status: 'skipped', reason, finding: summarizeFinding(f) };
}

export function analyzeFinding(f: SocatFinding): TriagedReport {
  const p = f.socat;
  return {
    schemaVersion: 1,
    status: 'triaged',
    finding: summarizeFinding(f),
    cluster: f.cluster === null ? null : { ...f.cluster },
    workload: { ...f.workload },
    process: { binary: p?.binary ?? null, args: [...(p?.args ?? [])], argsTruncated: p?.argsTruncated ?? false },
    c2: parseSocatArgs(p?.args ?? []),
    commands: buildCommands(f),
  };
}
