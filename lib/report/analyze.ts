/**
 * Finding-only analysis: pure, no I/O, the same for the function and the
 * offline `analyze` command. Gathered context (later sections) is merged in
 * by the pipeline, never fetched from here.
 */
import { GATHERER_SECTIONS } from '../config.js';
import { decide } from '../decide/decide.js';
import { DEFAULT_VERDICT_SETTINGS, type VerdictSettings } from '../decide/verdict-settings.js';
import type { SocatFinding } from '../finding/types.js';
import type { GatheredSections } from '../gather/sections.js';
import type { Gap } from '../gather/types.js';
import { redactArgv } from '../redact.js';
import { findingConsoleUrl } from '../scc/names.js';
import { parseSocatArgs } from '../socat/args.js';
import { buildCommands } from './commands.js';
import { buildRunbook } from './runbook.js';
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

export interface Gathered {
  sections: Partial<GatheredSections>;
  gaps: Gap[];
}

/** What an offline analysis (no API calls) says about every section it did not gather. */
export const OFFLINE: Gathered = {
  sections: {},
  gaps: GATHERER_SECTIONS.map((section) => ({ section, reason: 'not gathered: offline analysis from the finding alone' })),
};

export interface AnalyzeOptions {
  verdict: VerdictSettings;
  attributionWindowMinutes: number;
}

export const DEFAULT_ANALYZE_OPTIONS: AnalyzeOptions = { verdict: DEFAULT_VERDICT_SETTINGS, attributionWindowMinutes: 30 };

export function analyzeFinding(f: SocatFinding, gathered: Gathered = OFFLINE, options: AnalyzeOptions = DEFAULT_ANALYZE_OPTIONS): TriagedReport {
  const p = f.socat;
  const s = gathered.sections;
  // The endpoint is read from the raw arguments; what is shown of them, the
  // command EXEC/SYSTEM runs included, has its secrets redacted (OPENSSL key=,
  // PROXY proxyauth=, tokens and passwords in the command). Nothing downstream
  // needs those values: the runbook addresses the pod and the binary, and
  // blocks the C2 by its host.
  const parsed = parseSocatArgs(p?.args ?? []);
  const c2 = parsed.program === null ? parsed : { ...parsed, program: redactArgv([parsed.program])[0] as string };
  const decision = decide({ finding: f, c2, sections: s, gaps: gathered.gaps }, options);
  let details = null;
  if (s.cluster) {
    const { access: _access, ...rest } = s.cluster;
    details = rest;
  }
  return {
    schemaVersion: 1,
    status: 'triaged',
    verdict: decision.verdict,
    finding: summarizeFinding(f),
    cluster: f.cluster === null ? null : { ...f.cluster, details },
    workload: { ...f.workload },
    process: { binary: p?.binary ?? null, args: redactArgv(p?.args ?? []), argsTruncated: p?.argsTruncated ?? false },
    c2: { ...c2, scope: decision.scope, hopScope: decision.hopScope },
    lineage: { ...decision.lineage, chain: decision.lineage.chain.map((e) => ({ ...e, args: redactArgv(e.args) })) },
    attribution: decision.attribution,
    mitre: decision.mitre,
    owners: decision.owners,
    commands: buildCommands(f),
    runbook: buildRunbook({ finding: f, c2, egressCidr: null, pod: s.pod ?? null, networkPolicyEnforced: s.cluster?.networkPolicyEnforced ?? null }),
    relatedFindings: s.relatedFindings ?? null,
    node: s.node ?? null,
    pod: s.pod ?? null,
    logs: { pod: s.podLogs ?? null, audit: s.auditLogs ?? null, node: s.nodeLogs ?? null, nodeKubernetes: s.nodeK8sLogs ?? null },
    gaps: [...gathered.gaps],
    links: {
      finding: findingConsoleUrl(f.name, f.organization),
      cluster: s.cluster?.consoleUrl ?? null,
      node: s.node?.consoleUrl ?? null,
      pod: s.pod?.consoleUrl ?? null,
    },
  };
}
