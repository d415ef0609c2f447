/**
 * The report's JSON contract (schemaVersion 1). Printed by `analyze`, flattened
 * into the enrichment finding's source properties. Later sections are added,
 * these names stay. Missing facts are null, never invented.
 */
import type { Attribution, C2Scope, Lineage, MitreMapping, Owners, Verdict } from '../decide/types.js';
import type { LocationType } from '../finding/types.js';
import type { Runbook } from './runbook.js';
import type { Gap } from '../gather/types.js';
import type { AuditLogSection, ClusterSection, LogSection, NodeSection, PodSection, RelatedFindingsSection } from '../gather/sections.js';

export const C2_ROLES = ['reverse', 'bind', 'relay', 'unknown'] as const;
export type C2Role = (typeof C2_ROLES)[number];
export const C2_TRANSPORTS = ['tcp', 'udp', 'tls', 'socks', 'proxy', 'unix', 'other'] as const;
export type C2Transport = (typeof C2_TRANSPORTS)[number];

/** The proxy socat connects to for SOCKS/PROXY addresses: the pod's own next hop. */
export interface C2Hop {
  host: string | null;
  /** socksport=/proxyport= or socat 1.8's proxy:port form; socat's default (1080, 8080) when neither is given. */
  port: number | null;
  ipVersion: 4 | 6 | null;
}

/** One network address socat opens; both halves of a dual `A!!B` are listed. */
export interface C2Peer {
  direction: 'connect' | 'listen';
  transport: C2Transport | null;
  host: string | null;
  port: number | null;
  ipVersion: 4 | 6 | null;
  hop: C2Hop | null;
}

export interface C2Endpoint {
  role: C2Role;
  transport: C2Transport | null;
  /** Final target host (for SOCKS/PROXY the target, not the proxy); brackets removed from IPv6. */
  host: string | null;
  /** As socat converts it: leading-zero octal, 16-bit wrap, service names through the services database. */
  port: number | null;
  ipVersion: 4 | 6 | null;
  /** The command EXEC/SYSTEM runs, after socat's own unquoting and unescaping. */
  program: string | null;
  pty: boolean;
  /**
   * The fields below are always set by parseSocatArgs; they are optional so
   * that endpoints recorded before they existed (stored reports, scenario
   * fixtures) still read as endpoints with none of these facts.
   */
  /** SOCKS/PROXY: the proxy the pod connects to (host/port stay the final target). */
  hop?: C2Hop | null;
  /** Every network address socat opens, the reported one first (a dual `A!!B` names both). */
  peers?: C2Peer[];
  /** The UNIX socket a network address is bridged to (docker.sock, X11, a database socket). */
  socket?: string | null;
  /** Why socat would refuse this argv at start-up; then role is 'unknown' and nothing was connected. */
  refused?: string | null;
  /** What else the reader must know about the role (an inherited descriptor, two programs, a socat chain). */
  note?: string | null;
}

/** Null when a fact the command needs is missing (never a placeholder). */
export interface Commands {
  getCredentials: string | null;
  copyBinary: string | null;
  exec: string | null;
}

export interface FindingSummary {
  name: string;
  category: string;
  state: string;
  severity: string | null;
  eventTime: string | null;
  resourceName: string | null;
  projectDisplayName: string | null;
}

/** GKE's view of the cluster, without the Kubernetes access data (never reported). */
export type ClusterDetails = Omit<ClusterSection, 'access'>;

export interface ReportCluster {
  project: string;
  location: string;
  name: string;
  locationType: LocationType;
  resourceName: string;
  /** From GKE getCluster; null when it was not gathered (see gaps). */
  details: ClusterDetails | null;
}

export interface ReportLogs {
  pod: LogSection | null;
  audit: AuditLogSection | null;
  node: LogSection | null;
  /** The node's k8s_node logs (kubelet, container runtime), read by node name. */
  nodeKubernetes: LogSection | null;
}

export interface ConsoleLinks {
  finding: string;
  cluster: string | null;
  node: string | null;
  pod: string | null;
}

/** The C2 endpoint with where it points: loopback, cluster-internal, private, public, ... */
export interface ReportC2 extends C2Endpoint {
  scope: C2Scope | null;
  /** Where the proxy (hop) is, as the pod sees it; null without a proxy. */
  hopScope?: C2Scope | null;
}

export interface TriagedReport {
  schemaVersion: 1;
  status: 'triaged';
  /** How bad it is, with every signal that made the score. */
  verdict: Verdict;
  finding: FindingSummary;
  cluster: ReportCluster | null;
  workload: { namespace: string | null; pod: string | null; container: string | null; image: string | null; node: string | null };
  process: { binary: string | null; args: string[]; argsTruncated: boolean };
  c2: ReportC2;
  /** What started socat, from the finding's processes. */
  lineage: Lineage;
  /** Who started it: the kubectl exec that explains it, or none. */
  attribution: Attribution;
  mitre: MitreMapping | null;
  /** Whom to call: owner-like labels and the project's security contacts. */
  owners: Owners;
  commands: Commands;
  /** Ready-to-paste next steps, every value shell-quoted; never executed by the function. */
  runbook: Runbook;
  relatedFindings: RelatedFindingsSection | null;
  node: NodeSection | null;
  pod: PodSection | null;
  logs: ReportLogs;
  /** What could not be learned, and why: {section, reason}. */
  gaps: Gap[];
  links: ConsoleLinks;
}

export interface SkippedReport {
  schemaVersion: 1;
  status: 'skipped';
  reason: string;
  finding: FindingSummary;
}

export type Report = TriagedReport | SkippedReport;
