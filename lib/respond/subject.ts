/**
 * A report → what response planning needs (lib/respond/types.ts). The pod's
 * labels count only when the pod section is about the finding's own pod; the
 * node only when it is the pod's node.
 */
import type { ReportC2 } from '../report/types.js';
import type { VerdictLevel } from '../decide/types.js';
import type { ResponseSubject } from './types.js';

/**
 * What is read of a report: the part the triage's TriagedReport and the
 * report stored in the enrichment finding (lib/scc/stored-report.ts) share.
 */
export interface SubjectSource {
  finding: { name: string; eventTime: string | null };
  verdict: { level: VerdictLevel; score: number };
  cluster: { project: string; location: string; name: string; details: { networkPolicyEnforced: boolean | null } | null } | null;
  workload: { namespace: string | null; pod: string | null; container: string | null; node: string | null };
  pod: { source: 'kubernetes' | 'finding'; namespace: string; name: string; labels: Record<string, string>; node: string | null; owners: readonly { kind: string }[] } | null;
  node: { name: string; zone: string | null; instanceId: string | null } | null;
  c2: ReportC2;
}

export function subjectFromReport(report: SubjectSource, enrichmentFinding: string | null): ResponseSubject {
  const w = report.workload;
  const pod = report.pod !== null && report.pod.namespace === w.namespace && report.pod.name === w.pod ? report.pod : null;
  const nodeName = w.node ?? pod?.node ?? null;
  const node = report.node !== null && nodeName !== null && report.node.name === nodeName ? report.node : null;
  return {
    findingName: report.finding.name,
    enrichmentFinding,
    eventTime: report.finding.eventTime,
    verdict: { level: report.verdict.level, score: report.verdict.score },
    cluster:
      report.cluster === null
        ? null
        : {
            project: report.cluster.project,
            location: report.cluster.location,
            name: report.cluster.name,
            networkPolicyEnforced: report.cluster.details?.networkPolicyEnforced ?? null,
          },
    workload: { namespace: w.namespace, pod: w.pod, container: w.container, node: nodeName },
    pod: pod === null ? null : { source: pod.source, labels: { ...pod.labels }, topOwnerKind: pod.owners.at(-1)?.kind ?? null },
    node: nodeName === null ? null : { name: nodeName, zone: node?.zone ?? null, instanceId: node?.instanceId ?? null },
    c2: report.c2,
  };
}
