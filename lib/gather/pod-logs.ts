/**
 * Playbook step 4, first query: the pod's container logs around the
 * detection. A socat reverse shell rarely logs itself, but what the
 * application printed just before it (an exploited request, a crash, a
 * deserialisation error) is often how it got in.
 */
import type { GatherDeps } from './deps.js';
import type { SocatFinding } from '../finding/types.js';
import { LOGGING_API, LOGGING_PERMISSIONS, logProject, numberOnlyGap, readLogSection, restriction, type LogQuerySpec } from './log-query.js';
import type { GatheredSections, LogSection } from './sections.js';
import type { Gatherer } from './types.js';

/** The query of this section; null when the finding lacks what it needs (missing() says what). Pure. */
export function podLogsSpec(finding: SocatFinding): LogQuerySpec | null {
  const cluster = finding.cluster;
  const { namespace, pod } = finding.workload;
  const project = logProject(finding);
  if (!cluster || !project || !namespace || !pod) return null;
  return {
    restrictions: [
      restriction('resource.type', 'k8s_container'),
      restriction('resource.labels.project_id', project.id),
      restriction('resource.labels.location', cluster.location),
      restriction('resource.labels.cluster_name', cluster.name),
      restriction('resource.labels.namespace_name', namespace),
      restriction('resource.labels.pod_name', pod),
    ],
    resourceProject: project.resource,
    linkProject: project.id,
  };
}

export const podLogs: Gatherer<GatherDeps, GatheredSections, 'podLogs'> = {
  section: 'podLogs',
  description: "The pod's container logs (k8s_container) around the detection, as playbook step 4 queries them",
  needs: [],
  api: LOGGING_API,
  permissions: LOGGING_PERMISSIONS,
  enabledByDefault: true,
  missing(finding) {
    if (!finding.cluster) return 'the finding names no GKE cluster';
    if (!finding.workload.namespace || !finding.workload.pod) return 'the finding names no pod (namespace and pod name are both needed)';
    return null;
  },
  async gather(ctx): Promise<LogSection> {
    const spec = podLogsSpec(ctx.finding);
    const project = logProject(ctx.finding);
    if (!spec || !project) throw new Error('podLogs ran without the cluster and pod that missing() checks');
    if (project.numberOnly) ctx.addGap(numberOnlyGap(project));
    return readLogSection(ctx, spec, 'pod-logs.json');
  },
};
