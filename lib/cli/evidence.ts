/**
 * `analyze FILE --evidence DIR`: the gathered sections from files a
 * responder exported (or `triage --save-evidence` wrote), converted by the
 * gatherers' own functions, so the decision is the one the function makes
 * on the same data. Every file is optional: a missing one is a gap, as a
 * gatherer that failed. A file that is not what its export command prints
 * is an InvalidInputError naming the file and the field (exit 2).
 *
 * A log file is taken as the complete read of the window the report names
 * (truncated: false; the section's `source` says so): the export command
 * reads every page, where the function reads a bounded number.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SocatFinding } from '../finding/types.js';
import { InvalidInputError } from '../errors.js';
import { clusterSection, type Cluster } from '../gather/cluster.js';
import type { GatherSettings } from '../gather/deps.js';
import { EVIDENCE_FILES, type EvidenceFile } from '../gather/evidence.js';
import { auditEvidence, auditLogsSpec } from '../gather/audit-logs.js';
import { decodeEntry, logSection, planLogQuery, type DecodedEntry, type LogQuerySpec } from '../gather/log-query.js';
import { namespaceSection } from '../gather/namespace.js';
import { nodeK8sLogsSpec } from '../gather/node-k8s-logs.js';
import { nodeLogsSpec } from '../gather/node-logs.js';
import { nodeSection } from '../gather/node.js';
import { podLogsSpec } from '../gather/pod-logs.js';
import { ownerChain, podSection } from '../gather/pod.js';
import { GATHERERS } from '../gather/registry.js';
import { RELATED_FINDINGS_DEFAULTS, selectRelated, toCandidate, type Candidate } from '../gather/related-findings.js';
import type { GatheredSections, LogSection } from '../gather/sections.js';
import type { Gap } from '../gather/types.js';
import type { Gathered } from '../report/analyze.js';
import { parseRfc3339, toMillis } from '../timestamp.js';
import { readNamespace, readNode, readOwners, readPod, type OwnerObject } from './kube-json.js';
import { FieldError, describeJson, isPlainObject, logEntryFromJson } from './log-entry-json.js';
import { protoType, fromJson } from './proto-json.js';
import { fromListResultJson } from './scc.js';

/** Larger than any export of one window is expected to be; bounds what a hostile directory can make us read. */
export const MAX_EVIDENCE_FILE_BYTES = 256 * 1024 * 1024;

/** Written beside the evidence by --save-evidence: the finding itself, so `analyze DIR/finding.json --evidence DIR` re-runs the triage. Not read here. */
export const FINDING_FILE = 'finding.json';

/**
 * Written by --save-evidence: the files whose live read stopped short (a
 * page cap), with why. Optional; hand-made exports need none, each of their
 * files being a complete read.
 */
export const MANIFEST_FILE = 'evidence.json';

export interface EvidenceManifest {
  schemaVersion: 1;
  incomplete: Partial<Record<EvidenceFile, string>>;
}

/** Files whose reads can stop short: the ones read page by page. */
const PAGED: readonly EvidenceFile[] = ['related-findings.json', 'pod-logs.json', 'audit-logs.json', 'node-logs.json', 'node-k8s-logs.json'];

async function readManifest(dir: string): Promise<Partial<Record<EvidenceFile, string>>> {
  const json = await readJson(dir, MANIFEST_FILE);
  if (json === undefined) return {};
  try {
    if (!isPlainObject(json)) throw new FieldError('', `expected an object, got ${describeJson(json)}`);
    if (json.schemaVersion !== 1) throw new FieldError('schemaVersion', `expected 1, got ${describeJson(json.schemaVersion)}`);
    if (!isPlainObject(json.incomplete)) throw new FieldError('incomplete', `expected an object, got ${describeJson(json.incomplete)}`);
    for (const [file, reason] of Object.entries(json.incomplete)) {
      if (!(PAGED as readonly string[]).includes(file)) throw new FieldError(`incomplete.${file}`, `not a file read page by page (${PAGED.join(', ')})`);
      if (typeof reason !== 'string') throw new FieldError(`incomplete.${file}`, `expected the reason as a string, got ${describeJson(reason)}`);
    }
    return json.incomplete as Partial<Record<EvidenceFile, string>>;
  } catch (err) {
    throw fileError(MANIFEST_FILE, err);
  }
}

export interface EvidenceOptions {
  settings: GatherSettings;
  /** SCC_SOURCE_NAME: our own findings are never "related". */
  ownSourceName: string | null;
  /** Where a window is centred when the finding has no usable eventTime. */
  now: Date;
}

function fileError(file: string, err: unknown): InvalidInputError {
  if (err instanceof FieldError) return new InvalidInputError(`evidence file ${file}: field ${err.path === '' ? '(root)' : err.path.replace(/^\./, '')}: ${err.message.slice(err.path.length + 2)}`);
  return new InvalidInputError(`evidence file ${file}: ${(err as Error).message}`);
}

async function readJson(dir: string, file: string): Promise<unknown | undefined> {
  const path = join(dir, file);
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InvalidInputError(`evidence file ${file}: cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  // A FIFO or device would block or never end: only regular files are read.
  if (!info.isFile()) throw new InvalidInputError(`evidence file ${file}: not a regular file`);
  if (info.size > MAX_EVIDENCE_FILE_BYTES) throw new InvalidInputError(`evidence file ${file}: larger than ${MAX_EVIDENCE_FILE_BYTES / 1024 / 1024} MiB`);
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(`evidence file ${file}: not valid JSON: ${(err as Error).message}`);
  }
}

function arrayOf(json: unknown, what: string): unknown[] {
  if (!Array.isArray(json)) throw new FieldError('', `expected a JSON array of ${what}, got ${describeJson(json)}`);
  return json;
}

/** The object's name must be the one the finding names: evidence about another object would be read as this one's. */
function sameName(actual: string | undefined, expected: string | null, what: string): void {
  if (expected !== null && actual !== undefined && actual !== expected) throw new FieldError('metadata.name', `names ${what} ${JSON.stringify(actual)}, but the finding's ${what} is ${JSON.stringify(expected)}`);
}

function instantCompare(a: DecodedEntry, b: DecodedEntry): number {
  const x = a.timestamp === null ? null : parseRfc3339(a.timestamp);
  const y = b.timestamp === null ? null : parseRfc3339(b.timestamp);
  if (x === null || y === null) return x === null ? (y === null ? 0 : 1) : -1;
  return x.seconds !== y.seconds ? x.seconds - y.seconds : x.nanos - y.nanos;
}

/** One line for a gap: how the missing log file is exported, with the filter the report would name. */
function oneLine(filter: string): string {
  return filter.replace(/\n/g, ' ');
}

export async function readEvidence(dir: string, finding: SocatFinding, options: EvidenceOptions): Promise<Gathered> {
  let info;
  try {
    info = await stat(dir);
  } catch (err) {
    throw new InvalidInputError(`--evidence ${JSON.stringify(dir)}: cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!info.isDirectory()) throw new InvalidInputError(`--evidence ${JSON.stringify(dir)} is not a directory`);
  // A misspelt file would otherwise be a silent gap.
  for (const name of await readdir(dir)) {
    if (name.endsWith('.json') && name !== FINDING_FILE && name !== MANIFEST_FILE && !Object.hasOwn(EVIDENCE_FILES, name)) {
      throw new InvalidInputError(`evidence file ${name}: not a file --evidence reads (known: ${Object.keys(EVIDENCE_FILES).join(', ')})`);
    }
  }

  const incomplete = await readManifest(dir);
  const files: Partial<Record<EvidenceFile, unknown>> = {};
  for (const file of Object.keys(EVIDENCE_FILES) as EvidenceFile[]) files[file] = await readJson(dir, file);

  const sections: Partial<GatheredSections> = {};
  const gaps: Gap[] = [];
  const gap = (section: string, reason: string) => gaps.push({ section, reason });
  const missingFile = (file: string, how: string) => `not gathered: ${file} is not in the evidence directory (${how})`;
  const w = finding.workload;
  const settings = options.settings;

  /** Runs one section's conversion; a FieldError becomes the file's error. */
  const convert = async <T>(file: EvidenceFile, fn: (json: unknown) => T | Promise<T>): Promise<T> => {
    try {
      return await fn(files[file]);
    } catch (err) {
      throw err instanceof InvalidInputError ? err : fileError(file, err);
    }
  };
  /** The gatherer's own check of what the finding must carry, worded as the runner words it. */
  const missing = (section: keyof GatheredSections): string | null => GATHERERS.find((g) => g.section === section)?.missing(finding, sections) ?? null;

  // cluster
  const clusterMissing = missing('cluster');
  if (clusterMissing !== null) gap('cluster', clusterMissing);
  else if (files['cluster.json'] === undefined) gap('cluster', missingFile('cluster.json', 'gcloud container clusters describe --format=json'));
  else {
    sections.cluster = await convert('cluster.json', (json) => {
      // gcloud prints the Cluster resource in proto3 JSON (camelCase, enums by name):
      // https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters#Cluster
      const cluster = fromJson(protoType('@google-cloud/container/build/protos/protos.json', 'google.container.v1.Cluster'), json, '') as Cluster;
      if (finding.cluster && typeof cluster.name === 'string' && cluster.name !== '' && cluster.name !== finding.cluster.name) {
        throw new FieldError('name', `names cluster ${JSON.stringify(cluster.name)}, but the finding's cluster is ${JSON.stringify(finding.cluster.name)}`);
      }
      // Offline, nothing calls the cluster: its endpoint and CA are not kept.
      return { ...clusterSection(cluster, finding), access: null };
    });
  }

  // node
  const nodeMissing = missing('node');
  if (nodeMissing !== null) gap('node', nodeMissing);
  else if (files['node.json'] === undefined) gap('node', missingFile('node.json', 'kubectl get node NODE -o json'));
  else {
    sections.node = await convert('node.json', (json) => {
      const node = readNode(json);
      sameName(node.metadata?.name, w.node, 'node');
      return nodeSection(w.node as string, node, finding.cluster);
    });
  }

  // pod, with the owner chain from owners.json
  const podMissing = missing('pod');
  if (podMissing !== null) gap('pod', podMissing);
  else if (files['pod.json'] === undefined) gap('pod', missingFile('pod.json', 'kubectl get pod POD -n NAMESPACE -o json'));
  else {
    const namespace = w.namespace as string;
    const name = w.pod as string;
    const pod = await convert('pod.json', (json) => {
      const p = readPod(json);
      sameName(p.metadata?.name, name, 'pod');
      return p;
    });
    const owners: OwnerObject[] | null = files['owners.json'] === undefined ? null : await convert('owners.json', readOwners);
    const chain = await ownerChain(
      pod,
      namespace,
      async (kind, reader, ownerName) => {
        if (owners === null) throw new Error('owners.json is not in the evidence directory');
        const found = owners.find((o) => o.kind === kind && o.apiVersion.split('/')[0] === reader.group && o.metadata.name === ownerName && (o.metadata.namespace ?? namespace) === namespace);
        if (!found) throw new Error(`not in owners.json`);
        return found;
      },
      (reason) => gap('pod', reason),
    );
    sections.pod = podSection(pod, chain, finding, namespace, name);
  }

  // namespace
  const namespaceMissing = missing('namespace');
  if (namespaceMissing !== null) gap('namespace', namespaceMissing);
  else if (files['namespace.json'] === undefined) gap('namespace', missingFile('namespace.json', 'kubectl get namespace NAMESPACE -o json'));
  else {
    sections.namespace = await convert('namespace.json', (json) => {
      const ns = readNamespace(json);
      sameName(ns.metadata?.name, w.namespace, 'namespace');
      return namespaceSection(w.namespace as string, ns);
    });
  }

  // related findings
  const relatedMissing = missing('relatedFindings');
  if (relatedMissing !== null) gap('relatedFindings', relatedMissing);
  else if (files['related-findings.json'] === undefined) {
    gap('relatedFindings', missingFile('related-findings.json', 'gcloud scc findings list organizations/ORG --location=global --filter=... --format=json'));
  } else {
    const candidates = await convert('related-findings.json', (json) =>
      arrayOf(json, 'ListFindingsResult objects ({finding, resource})').flatMap((r, i): Candidate[] => {
        if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new FieldError(`[${i}]`, `expected a ListFindingsResult object, got ${describeJson(r)}`);
        const c = toCandidate(fromListResultJson(r as Record<string, unknown>, `[${i}]`));
        return c ? [c] : [];
      }),
    );
    let centerMs = finding.eventTime === null ? null : toMillis(finding.eventTime);
    if (centerMs === null) {
      gap('relatedFindings', 'the finding has no usable eventTime: the window is centred on the time of analysis');
      centerMs = options.now.getTime();
    }
    sections.relatedFindings = selectRelated(
      { candidates, truncated: incomplete['related-findings.json'] !== undefined, pages: null },
      { finding, centerMs, windowMinutes: settings.relatedWindowMinutes, ownSourceName: options.ownSourceName, listCap: RELATED_FINDINGS_DEFAULTS.listCap },
    );
  }

  // logs
  const readLogs = async (file: EvidenceFile, spec: LogQuerySpec): Promise<{ section: LogSection; decoded: DecodedEntry[] }> => {
    const plan = planLogQuery(finding.eventTime, spec, settings, options.now);
    const entries = await convert(file, (json) => arrayOf(json, 'LogEntry objects').map((e, i) => logEntryFromJson(e, `[${i}]`)));
    // gcloud logging read prints newest first by default (--order=desc,
    // https://cloud.google.com/sdk/gcloud/reference/logging/read); the excerpts read oldest first, as the gatherer queries.
    const decoded = (await Promise.all(entries.map(decodeEntry))).sort(instantCompare);
    if (plan.gap !== null) gap(EVIDENCE_FILES[file], plan.gap.replace('time of triage', 'time of analysis'));
    const cut = incomplete[file];
    const section = logSection(plan, spec, decoded, cut !== undefined, settings);
    const source =
      cut === undefined
        ? `${file}, taken as the complete read of the window ${plan.window.start} to ${plan.window.end} for this filter`
        : `${file}, an incomplete read of the window ${plan.window.start} to ${plan.window.end} for this filter: ${cut} (${MANIFEST_FILE})`;
    return { section: { ...section, source }, decoded };
  };
  const logExport = (spec: LogQuerySpec, eventTime: string | null) =>
    `gcloud logging read --format=json with the filter ${oneLine(planLogQuery(eventTime, spec, settings, options.now).filter)}`;

  const podLogsMissing = missing('podLogs');
  const podSpec = podLogsSpec(finding);
  if (podLogsMissing !== null || podSpec === null) gap('podLogs', podLogsMissing ?? 'the finding names no pod');
  else if (files['pod-logs.json'] === undefined) gap('podLogs', missingFile('pod-logs.json', logExport(podSpec, finding.eventTime)));
  else sections.podLogs = (await readLogs('pod-logs.json', podSpec)).section;

  const auditMissing = missing('auditLogs');
  const auditSpec = auditLogsSpec(finding);
  if (auditMissing !== null || auditSpec === null) gap('auditLogs', auditMissing ?? 'the finding names no pod');
  else if (files['audit-logs.json'] === undefined) gap('auditLogs', missingFile('audit-logs.json', logExport(auditSpec, finding.eventTime)));
  else {
    const { section, decoded } = await readLogs('audit-logs.json', auditSpec);
    sections.auditLogs = { ...section, ...auditEvidence(decoded, { namespace: w.namespace, pod: w.pod as string }) };
  }

  // The node's instance id names the node-log query, as the gatherer needs the node section for it.
  const nodeLogsMissing = sections.node ? missing('nodeLogs') : 'needs node, which is unavailable';
  const nodeSpec = sections.node?.instanceId ? nodeLogsSpec(finding, sections.node.instanceId) : null;
  if (nodeLogsMissing !== null || nodeSpec === null) gap('nodeLogs', nodeLogsMissing ?? 'node instance id unknown');
  else if (files['node-logs.json'] === undefined) gap('nodeLogs', missingFile('node-logs.json', logExport(nodeSpec, finding.eventTime)));
  else sections.nodeLogs = (await readLogs('node-logs.json', nodeSpec)).section;

  // k8s_node (kubelet, runtime) is named by the node name the finding carries: no node section needed.
  const nodeK8sMissing = missing('nodeK8sLogs');
  const nodeK8sSpec = nodeK8sLogsSpec(finding);
  if (nodeK8sMissing !== null || nodeK8sSpec === null) gap('nodeK8sLogs', nodeK8sMissing ?? 'the finding names no project');
  else if (files['node-k8s-logs.json'] === undefined) gap('nodeK8sLogs', missingFile('node-k8s-logs.json', logExport(nodeK8sSpec, finding.eventTime)));
  else sections.nodeK8sLogs = (await readLogs('node-k8s-logs.json', nodeK8sSpec)).section;

  gap('contacts', 'not gathered: Essential Contacts have no evidence file');
  return { sections, gaps };
}
