/**
 * The evidence files: what each gatherer read from its API, in the form the
 * matching export command prints it, so a triage can be re-run offline
 * (`analyze FILE --evidence DIR`) and the decision tested on real exports.
 * Gatherers hand the raw objects they read to an optional recorder
 * (`triage --dry-run --save-evidence DIR`); lib/cli/evidence-*.ts write and
 * read the files.
 */
import type { GatheredSections } from './sections.js';

/** File name → the section it feeds. owners.json feeds the pod section's owner chain. */
export const EVIDENCE_FILES = {
  'related-findings.json': 'relatedFindings',
  'cluster.json': 'cluster',
  'node.json': 'node',
  'pod.json': 'pod',
  'owners.json': 'pod',
  'namespace.json': 'namespace',
  'pod-logs.json': 'podLogs',
  'audit-logs.json': 'auditLogs',
  'node-logs.json': 'nodeLogs',
  'node-k8s-logs.json': 'nodeK8sLogs',
} as const satisfies Record<string, keyof GatheredSections>;

export type EvidenceFile = keyof typeof EVIDENCE_FILES;

/**
 * Receives what a gatherer read, as the client library returned it: the
 * ListFindings results, the GKE Cluster, the Kubernetes objects, the raw
 * LogEntry objects of every page read. Called at most once per file and
 * triage (owners.json: the whole chain at once). `incomplete` says why the
 * read did not cover everything that matched (a page cap), so the file is
 * never taken offline for the complete read it was not.
 */
export interface EvidenceRecorder {
  record(file: EvidenceFile, value: unknown, incomplete?: string | null): void;
}

/** Why a log read stopped short; the same words for every log file. */
export const LOG_READ_CUT = 'more entries matched than were read (the read budget LOG_ENTRIES_MAX / LOG_PAGES_MAX, or the deadline)';
