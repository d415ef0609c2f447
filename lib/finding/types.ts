/**
 * The domain type every stage after parsing works on. Built only by
 * lib/finding/parse.ts from an untrusted NotificationMessage; every string in
 * it is still attacker-influenced text, never trusted for shell or markup.
 * Missing facts are null, never invented.
 */

export type LocationType = 'zonal' | 'regional';

export interface ClusterRef {
  /** Project id or number as it appears in the resource name. */
  project: string;
  /** Zone (two dashes, e.g. us-central1-a) or region (one dash). */
  location: string;
  name: string;
  locationType: LocationType;
  /** The full resource name as the finding gave it. */
  resourceName: string;
}

export interface Workload {
  namespace: string | null;
  pod: string | null;
  container: string | null;
  image: string | null;
  /** GKE node = Compute Engine VM instance name. */
  node: string | null;
}

export interface ProcessInfo {
  name: string | null;
  /** binary.path, JSON-encoding quotes removed. */
  binary: string | null;
  /** argv including argv[0] when the finding carries it. */
  args: string[];
  argsTruncated: boolean;
  pid: number | null;
  parentPid: number | null;
}

export interface MitreInfo {
  primaryTactic: string | null;
  primaryTechniques: string[];
  additionalTactics: string[];
  additionalTechniques: string[];
  version: string | null;
}

/** One entry of the finding's kubernetes.pods[].labels (proto Label {name, value}), exactly as received: untrusted. */
export interface FindingLabel {
  name: string;
  value: string;
}

export interface SocatFinding {
  /** Full finding name, e.g. organizations/O/sources/S/locations/global/findings/F. */
  name: string;
  category: string;
  state: string;
  severity: string | null;
  /** RFC 3339, exactly as received (the loop guard compares normalised forms). */
  eventTime: string | null;
  createTime: string | null;
  /** Numeric organization id when the finding's or notification's names reveal it. */
  organization: string | null;
  /** The project's number, from resource.gcpMetadata.project or a numeric cluster project; APIs such as Essential Contacts take only this. */
  projectNumber: string | null;
  /** resource.projectDisplayName (v1) or resource.gcpMetadata.projectDisplayName (v2). */
  projectDisplayName: string | null;
  /** The finding's resourceName, whatever it names. */
  resourceName: string | null;
  /** Parsed when resourceName is a GKE cluster. */
  cluster: ClusterRef | null;
  workload: Workload;
  /**
   * The labels the finding itself lists for the workload's pod
   * (kubernetes.pods[] entry with the same namespace and name), in order;
   * null when it lists no labels for that pod. Unvalidated: the runbook
   * checks each against Kubernetes' label syntax before selecting with it.
   */
  podLabels: FindingLabel[] | null;
  /** All processes of the finding, in order. */
  processes: ProcessInfo[];
  /** The process the finding is about (findingProcess in parse.ts): the deepest listed, socat binary first. */
  socat: ProcessInfo | null;
  /** Security marks on the original finding (keys as received). */
  securityMarks: Record<string, string>;
  mitre: MitreInfo | null;
  /** notificationConfigName, when the input was a NotificationMessage. */
  notificationConfigName: string | null;
}
