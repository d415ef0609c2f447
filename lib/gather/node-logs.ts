/**
 * Playbook step 4, third query: the GKE node's own logs (resource type
 * gce_instance) around the detection, for signs the shell reached the host.
 *
 * The node's serial console output (log serialconsole.googleapis.com%2Fserial_port_1_output)
 * is only there when serial port logging is enabled for the VM (metadata
 * serial-port-logging-enable, and not forbidden by the
 * compute.disableSerialPortLogging organization policy); without it this
 * query often finds little or nothing, which says nothing about the node.
 */
import type { GatherDeps } from './deps.js';
import type { SocatFinding } from '../finding/types.js';
import { LOGGING_API, LOGGING_PERMISSIONS, logProject, readLogSection, restriction, type LogQuerySpec } from './log-query.js';
import type { GatheredSections, LogSection } from './sections.js';
import type { Gatherer } from './types.js';

/** The query of this section for the node's instance id; null without a project. Pure. */
export function nodeLogsSpec(finding: SocatFinding, instanceId: string): LogQuerySpec | null {
  const project = logProject(finding);
  if (!project) return null;
  // Nodes live in the cluster's project; instance_id is unique there, so no project_id label is needed (and a project number does no harm).
  return {
    restrictions: [restriction('resource.type', 'gce_instance'), restriction('resource.labels.instance_id', instanceId)],
    resourceProject: project.resource,
    linkProject: project.id,
  };
}

export const nodeLogs: Gatherer<GatherDeps, GatheredSections, 'nodeLogs'> = {
  section: 'nodeLogs',
  description: "The node VM's logs (gce_instance, serial console when enabled) around the detection, as playbook step 4 queries them",
  needs: ['node'],
  api: LOGGING_API,
  permissions: LOGGING_PERMISSIONS,
  enabledByDefault: true,
  missing(finding, sections) {
    if (!finding.cluster) return 'the finding names no GKE cluster';
    if (!sections.node?.instanceId) return 'node instance id unknown';
    return null;
  },
  async gather(ctx): Promise<LogSection> {
    const instanceId = ctx.sections.node?.instanceId;
    const spec = instanceId ? nodeLogsSpec(ctx.finding, instanceId) : null;
    if (!spec) throw new Error('nodeLogs ran without the node instance id and project that missing() checks');
    return readLogSection(ctx, spec, 'node-logs.json');
  },
};
