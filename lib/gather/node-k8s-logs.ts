/**
 * Playbook step 4, the node's own Kubernetes components: what GKE writes under
 * resource type k8s_node (kubelet, the container runtime, node-problem-detector,
 * and the node's journald units). On current GKE the kubelet and containerd log
 * here, not under gce_instance, so the node-logs gatherer alone misses them.
 *
 * A gatherer of its own rather than a second query of nodeLogs: k8s_node is
 * keyed by the node NAME the finding already carries (VM_Instance_Name), so it
 * waits for nothing and still runs when the node cannot be read (deleted,
 * offline, denied), while nodeLogs needs the Compute Engine instance id that
 * only the Kubernetes node object holds. One section, one link, one gap each.
 *
 * Labels of k8s_node, as GKE writes them: project_id, location, cluster_name,
 * node_name (public sample: SEKOIA-IO/documentation,
 * _shared_content/operations_center/integrations/generated/00bbde4f-cb17-4c3f-9f5e-a585fc7c8fc0.md,
 * "gke_container_runtime2.json"; resource list:
 * https://cloud.google.com/monitoring/api/resources#tag_k8s_node). location is
 * left out of the filter on purpose: for a node it may be the node's zone
 * where the cluster's is a region, and GKE node names already embed the
 * cluster and node-pool names, so project, cluster and node name identify it.
 */
import type { SocatFinding } from '../finding/types.js';
import type { GatherDeps } from './deps.js';
import { LOGGING_API, LOGGING_PERMISSIONS, logProject, numberOnlyGap, readLogSection, restriction, type LogQuerySpec } from './log-query.js';
import type { GatheredSections, LogSection } from './sections.js';
import type { Gatherer } from './types.js';

/** The query of this section, by node name; null without the cluster, the node name or a project. Pure; shared with `analyze --evidence`. */
export function nodeK8sLogsSpec(finding: SocatFinding): LogQuerySpec | null {
  const cluster = finding.cluster;
  const node = finding.workload.node;
  const project = logProject(finding);
  if (!cluster || !node || !project) return null;
  return {
    restrictions: [
      restriction('resource.type', 'k8s_node'),
      restriction('resource.labels.project_id', project.id),
      restriction('resource.labels.cluster_name', cluster.name),
      restriction('resource.labels.node_name', node),
    ],
    resourceProject: project.resource,
    linkProject: project.id,
  };
}

export const nodeK8sLogs: Gatherer<GatherDeps, GatheredSections, 'nodeK8sLogs'> = {
  section: 'nodeK8sLogs',
  description: "The node's Kubernetes component logs (k8s_node: kubelet, container runtime, journald units) around the detection, by node name",
  needs: [],
  api: LOGGING_API,
  permissions: LOGGING_PERMISSIONS,
  enabledByDefault: true,
  missing(finding) {
    if (!finding.cluster) return 'the finding names no GKE cluster';
    if (!finding.workload.node) return 'the finding names no node (VM_Instance_Name)';
    return null;
  },
  async gather(ctx): Promise<LogSection> {
    const spec = nodeK8sLogsSpec(ctx.finding);
    const project = logProject(ctx.finding);
    if (!spec || !project) throw new Error('nodeK8sLogs ran without the cluster and node name that missing() checks');
    if (project.numberOnly) ctx.addGap(numberOnlyGap(project));
    return readLogSection(ctx, spec, 'node-k8s-logs.json');
  },
};
