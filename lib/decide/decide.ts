/**
 * The decision stage in one call: from the finding, socat's C2 endpoint and
 * whatever the gatherers brought back, where the shell connects, who started
 * it, how bad it is, whom to call, and how it maps to ATT&CK. Pure.
 */
import type { SocatFinding } from '../finding/types.js';
import type { GatheredSections } from '../gather/sections.js';
import type { Gap } from '../gather/types.js';
import type { C2Endpoint } from '../report/types.js';
import { attribute } from './attribution.js';
import { classifyC2, classifyHost } from './c2-scope.js';
import { buildLineage } from './lineage.js';
import { mapMitre } from './mitre.js';
import { collectOwners } from './owners.js';
import type { Attribution, C2Scope, Lineage, MitreMapping, Owners, Verdict } from './types.js';
import { decideVerdict } from './verdict.js';
import type { VerdictSettings } from './verdict-settings.js';

export interface Decision {
  scope: C2Scope | null;
  /** The scope of the proxy the pod connects to (SOCKS/PROXY); null without one. */
  hopScope: C2Scope | null;
  lineage: Lineage;
  attribution: Attribution;
  verdict: Verdict;
  mitre: MitreMapping | null;
  owners: Owners;
}

export interface DecideInput {
  finding: SocatFinding;
  c2: C2Endpoint;
  sections: Partial<GatheredSections>;
  gaps: readonly Gap[];
}

export interface DecideOptions {
  verdict: VerdictSettings;
  /** How far before the finding a kubectl exec can explain it (the audit-log query's own reach). */
  attributionWindowMinutes: number;
}

export function decide(input: DecideInput, options: DecideOptions): Decision {
  const { finding, c2, sections } = input;
  const cluster = sections.cluster ?? null;
  const ranges = { podCidr: cluster?.podCidr ?? null, servicesCidr: cluster?.servicesCidr ?? null };
  const scope = classifyC2(c2, ranges);
  const hopScope = c2.hop ? classifyHost(c2.hop.host, ranges) : null;
  const lineage = buildLineage(finding.processes, finding.socat);
  const attribution = attribute({
    audit: sections.auditLogs ?? null,
    namespace: finding.workload.namespace,
    pod: finding.workload.pod,
    container: finding.workload.container,
    eventTime: finding.eventTime,
    windowMinutes: options.attributionWindowMinutes,
    lineage,
  });
  const verdict = decideVerdict(
    {
      c2,
      scope,
      hopScope,
      lineage,
      attribution,
      pod: sections.pod ?? null,
      relatedFindings: sections.relatedFindings ?? null,
      image: finding.workload.image,
      process: finding.socat ? { binary: finding.socat.binary, argsTruncated: finding.socat.argsTruncated } : null,
      severity: finding.severity,
      gaps: [...input.gaps],
    },
    options.verdict,
  );
  const owners = collectOwners({
    cluster,
    namespace: sections.namespace ?? null,
    pod: sections.pod ?? null,
    contacts: sections.contacts ?? null,
  });
  return { scope, hopScope, lineage, attribution, verdict, mitre: mapMitre(finding.mitre), owners };
}
