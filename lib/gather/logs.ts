/**
 * The three Cloud Logging gatherers of playbook step 4, for the gatherer
 * registry: pod container logs, cluster audit logs (with kubectl exec and pod
 * changes pulled out), the node VM's logs and the node's Kubernetes
 * component logs (k8s_node). Each is one file; this module
 * only collects them.
 */
import { auditLogs } from './audit-logs.js';
import { nodeK8sLogs } from './node-k8s-logs.js';
import { nodeLogs } from './node-logs.js';
import { podLogs } from './pod-logs.js';

export { auditLogs, auditEvidence, extractExecs, extractPodChanges, EXEC_METHOD } from './audit-logs.js';
export { nodeK8sLogs } from './node-k8s-logs.js';
export { nodeLogs } from './node-logs.js';
export { podLogs } from './pod-logs.js';
export { LOGGING_API, LOGGING_PERMISSIONS, excerptLine, logProject, logWindow, logsExplorerLink, quoteValue } from './log-query.js';

export const logGatherers = [podLogs, auditLogs, nodeLogs, nodeK8sLogs] as const;
