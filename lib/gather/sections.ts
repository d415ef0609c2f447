/**
 * The report sections the gatherers produce: the contract between gatherers
 * and the report. Every field a gatherer could not learn is null (never a
 * guess). All strings are still untrusted text; rendering cleans them.
 */
import type { KubeAccess } from '../clients.js';
import type { ContactsSection } from './contacts.js';
import type { NamespaceSection } from './namespace.js';

export interface RelatedFinding {
  name: string;
  category: string;
  /** The source's display name (e.g. "Container Threat Detection"), when the API returns it. */
  source: string | null;
  eventTime: string | null;
  severity: string | null;
  state: string | null;
  namespace: string | null;
  pod: string | null;
  container: string | null;
}

export interface RelatedFindingsSection {
  windowMinutes: number;
  /** Same pod (and container, when both are known). */
  sameContainer: RelatedFinding[];
  /** Other pods of the same workload (same owner prefix / labels). */
  otherPodsSameWorkload: RelatedFinding[];
  /** Counts by category over sameContainer. */
  countsByCategory: Record<string, number>;
  /** Findings on the same cluster in the window that matched neither list. */
  otherInClusterCount: number;
  /** The query hit the page cap, or a list was cut to the list cap: lists may be incomplete. */
  truncated: boolean;
  /**
   * Every page of the query over the whole window was read. Only then does
   * finding nothing mean there is nothing ("no related findings"); otherwise
   * the gatherer adds a gap saying how far the read got.
   */
  complete: boolean;
}

export interface ClusterSection {
  location: string | null;
  locationType: 'zonal' | 'regional' | null;
  status: string | null;
  currentMasterVersion: string | null;
  labels: Record<string, string>;
  /** Labels whose key looks like an owner (owner, team, contact, ...). */
  ownerLabels: Record<string, string>;
  network: string | null;
  subnetwork: string | null;
  podCidr: string | null;
  servicesCidr: string | null;
  networkPolicyEnforced: boolean | null;
  workloadIdentityPool: string | null;
  privateEndpoint: boolean | null;
  /** loggingConfig.componentConfig.enableComponents (e.g. SYSTEM_COMPONENTS, WORKLOADS); null when unknown. */
  loggingComponents: string[] | null;
  /** The node pool the finding's node belongs to, when it can be told. */
  nodePool: string | null;
  consoleUrl: string | null;
  /** How the Kubernetes gatherers reach the control plane; null when no way is open (see controlPlaneUnreachable). */
  controlPlanePath: ControlPlanePath | null;
  /** Why no way is open, naming the setting that would open one. */
  controlPlaneUnreachable: string | null;
  /** For the Kubernetes gatherers only; never rendered into the report. */
  access: KubeAccess | null;
}

/** GKE's DNS-based endpoint, or the IP endpoint (public, or private only: needs VPC egress). */
export type ControlPlanePath = 'dns-endpoint' | 'public-ip' | 'private-ip';

export interface NodeSection {
  name: string;
  /** The container.googleapis.com/instance_id annotation: the Compute Engine instance id. */
  instanceId: string | null;
  labels: Record<string, string>;
  nodePool: string | null;
  zone: string | null;
  osImage: string | null;
  kernelVersion: string | null;
  containerRuntime: string | null;
  createdAt: string | null;
  consoleUrl: string | null;
}

export interface OwnerRef {
  kind: string;
  name: string;
  labels: Record<string, string>;
}

export interface PodContainer {
  name: string;
  image: string | null;
  /** containerStatuses[].imageID: the digest actually running. */
  imageDigest: string | null;
  restartCount: number | null;
  ready: boolean | null;
}

export interface PodSection {
  /** 'kubernetes' when read from the API; 'finding' when the pod is gone and only the finding's facts remain. */
  source: 'kubernetes' | 'finding';
  namespace: string;
  name: string;
  phase: string | null;
  startTime: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  serviceAccount: string | null;
  node: string | null;
  containers: PodContainer[];
  /** e.g. "privileged container checkout", "hostPID", "runs as root", "adds capability SYS_ADMIN", "hostPath /var/run". */
  redFlags: string[];
  /** Owner chain from the pod's direct owner up to the top-level workload. */
  owners: OwnerRef[];
  consoleUrl: string | null;
}

export interface LogLine {
  timestamp: string | null;
  severity: string | null;
  /** Length-capped, control characters stripped, secrets redacted. */
  text: string;
}

export interface LogSection {
  filter: string;
  window: { start: string; end: string };
  /** Entries read (at most LOG_ENTRIES_MAX). */
  count: number;
  /**
   * The read did not cover the whole window: a page token remained unread, or
   * the page/entry budget or the deadline stopped it. Only when false is an
   * absence in these entries evidence.
   */
  truncated: boolean;
  first: LogLine[];
  last: LogLine[];
  /** Logs Explorer deep link with the same filter and time range. */
  link: string;
  /** Set when the entries came from an exported file (`analyze --evidence`), not a live query: which file, and that it is taken as the complete read of the window. */
  source?: string;
}

/**
 * How a person or program got a process into the pod, as GKE's audit log
 * names it: pods/exec (`kubectl exec`; logged with verb create over SPDY and
 * get over WebSocket), pods/attach (`kubectl attach`, `kubectl run -it`) and
 * pods/ephemeralcontainers (`kubectl debug`).
 */
export type PodEntryKind = 'exec' | 'attach' | 'debug';

export interface ExecEvent {
  kind: PodEntryKind;
  /** protoPayload.methodName as logged (e.g. io.k8s.core.v1.pods.exec.get). */
  method: string | null;
  time: string | null;
  principal: string | null;
  callerIp: string | null;
  userAgent: string | null;
  /** The command, when the audit entry carries it (requestURI command= parameters, a debug container's command). */
  command: string[] | null;
  /** The container the session entered (?container=, or the debug container's target), when logged. */
  container: string | null;
  namespace: string | null;
  pod: string | null;
  mentionsSocat: boolean;
}

/** A request into the pod that the API server refused or that failed: who tried, never an explanation. */
export interface RefusedAttempt {
  kind: PodEntryKind;
  method: string | null;
  time: string | null;
  principal: string | null;
  callerIp: string | null;
  userAgent: string | null;
  namespace: string | null;
  pod: string | null;
  /** protoPayload.status.code (google.rpc.Code; 7 = PERMISSION_DENIED) */
  statusCode: number | null;
  /** authorization.k8s.io/decision or status message, when logged. */
  reason: string | null;
}

export interface PodChangeEvent {
  time: string | null;
  /** create, patch, update or delete */
  verb: string;
  principal: string | null;
}

export interface AuditLogSection extends LogSection {
  /** Sessions into the pod that were allowed and succeeded. */
  execs: ExecEvent[];
  /** Requests into the pod that were refused or failed. */
  refused: RefusedAttempt[];
  podChanges: PodChangeEvent[];
}

export interface GatheredSections {
  relatedFindings: RelatedFindingsSection;
  cluster: ClusterSection;
  node: NodeSection;
  pod: PodSection;
  podLogs: LogSection;
  auditLogs: AuditLogSection;
  nodeLogs: LogSection;
  nodeK8sLogs: LogSection;
  namespace: NamespaceSection;
  contacts: ContactsSection;
}
