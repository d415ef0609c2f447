/**
 * What the decision stage produces from the finding and the gathered
 * sections: where the shell connects (scope), who started it (lineage,
 * attribution), how bad it is (verdict), whom to call (owners), and how it
 * maps to MITRE ATT&CK. All of it is pure: no I/O happens in lib/decide/.
 */
import type { ExecEvent, RefusedAttempt } from '../gather/sections.js';

export const C2_SCOPES = ['loopback', 'link_local', 'metadata_server', 'pod_cidr', 'services_cidr', 'node_subnet', 'private', 'reserved', 'public', 'hostname'] as const;
export type C2Scope = (typeof C2_SCOPES)[number];

export type ProcessKind = 'socat' | 'shell' | 'web_server' | 'interpreter' | 'container_runtime' | 'init' | 'other';

export interface LineageEntry {
  pid: number | null;
  parentPid: number | null;
  name: string | null;
  binary: string | null;
  args: string[];
  kind: ProcessKind;
}

export interface Lineage {
  /** Oldest known ancestor first, socat last. */
  chain: LineageEntry[];
  /** The kind of socat's direct parent; null when the finding does not show it. */
  startedBy: ProcessKind | null;
  /** e.g. "java → sh → socat". */
  summary: string;
}

export type AttributionKind = 'interactive_exec_by_person' | 'exec_by_service_account' | 'no_exec_found' | 'unknown';

/** A session into the pod that was weighed as the start of socat, and why it was taken or not. */
export interface ConsideredSession {
  session: ExecEvent;
  taken: boolean;
  reason: string;
}

export interface Attribution {
  kind: AttributionKind;
  /** The session (exec, attach or debug container) taken as the start of socat; null when none can explain it. */
  exec: ExecEvent | null;
  /** Allowed sessions into this pod in the window, before the finding. */
  execCount: number;
  /** One sentence an engineer can read. */
  explanation: string;
  /** Every session into the pod in the window, latest first: the one taken and those rejected, each with why. */
  considered: ConsideredSession[];
  /** Refused requests into the pod in the read window: who tried, never the explanation. */
  refused: RefusedAttempt[];
}

export type VerdictLevel = 'likely_malicious' | 'suspicious' | 'likely_benign_admin';

export interface VerdictReason {
  /** Stable signal id, e.g. "public_c2". */
  signal: string;
  weight: number;
  /** What was seen, in words. */
  detail: string;
}

export interface Verdict {
  level: VerdictLevel;
  score: number;
  /** Every signal that fired, with its weight; the score is their sum. */
  reasons: VerdictReason[];
  /** Signals that could not be evaluated, and why (e.g. "attribution: audit logs not gathered"). */
  unavailable: string[];
}

export interface MitreEntry {
  /** The finding's enum name, e.g. UNIX_SHELL. */
  name: string;
  /** e.g. T1059.004 or TA0002; null when the enum is unknown to the table. */
  id: string | null;
  url: string | null;
}

export interface MitreMapping {
  primaryTactic: MitreEntry | null;
  tactics: MitreEntry[];
  techniques: MitreEntry[];
  version: string | null;
}

export interface OwnerHint {
  scope: 'cluster' | 'namespace' | 'workload';
  key: string;
  value: string;
}

export interface Contact {
  email: string;
  categories: string[];
}

export interface Owners {
  hints: OwnerHint[];
  /** Essential Contacts of the project for the SECURITY category (plus ALL). */
  contacts: Contact[];
}
