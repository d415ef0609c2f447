/**
 * `triage ... --save-evidence DIR`: what the gatherers read, written as the
 * files `analyze --evidence` reads, each in the form its export command
 * prints (gcloud --format=json, kubectl -o json), so any triage can be re-run
 * offline and its decision checked.
 *
 * DIR is treated as hostile: it must not exist (it is created, mode 0700;
 * its parent must exist) or be an empty directory that is not a symbolic
 * link. Every file is created with O_EXCL, mode 0600, so nothing that
 * appeared in DIR meanwhile (a file, a symbolic link) is followed or
 * overwritten. The files hold raw log entries and Kubernetes objects,
 * secrets included, exactly as the exports would.
 */
import { lstat, mkdir, open, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { EvidenceFile, EvidenceRecorder } from '../gather/evidence.js';
import type { LogEntry } from '../gather/log-query.js';
import { InvalidInputError } from '../errors.js';
import type { Cluster } from '../gather/cluster.js';
import { FINDING_FILE, MANIFEST_FILE, type EvidenceManifest } from './evidence.js';
import { logEntryToJson } from './log-entry-json.js';
import { protoType, toJson } from './proto-json.js';
import { toNotificationJson, type ListFindingsResult } from './scc.js';


/** Checks DIR before any gathering, so a bad DIR fails fast. Returns whether it must be created. */
export async function checkEvidenceDir(dir: string): Promise<{ create: boolean }> {
  let info;
  try {
    info = await lstat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new InvalidInputError(`--save-evidence ${JSON.stringify(dir)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    let parent;
    try {
      parent = await lstat(dirname(dir));
    } catch {
      throw new InvalidInputError(`--save-evidence ${JSON.stringify(dir)}: its parent directory does not exist`);
    }
    if (!parent.isDirectory()) throw new InvalidInputError(`--save-evidence ${JSON.stringify(dir)}: its parent is not a directory`);
    return { create: true };
  }
  if (info.isSymbolicLink()) throw new InvalidInputError(`--save-evidence ${JSON.stringify(dir)} is a symbolic link; name a new or empty directory`);
  if (!info.isDirectory()) throw new InvalidInputError(`--save-evidence ${JSON.stringify(dir)} exists and is not a directory`);
  if ((await readdir(dir)).length > 0) throw new InvalidInputError(`--save-evidence ${JSON.stringify(dir)} is not empty; evidence is never written over other files`);
  return { create: false };
}

/** Keeps what the gatherers hand over until the triage is done. */
export class EvidenceCollector implements EvidenceRecorder {
  readonly recorded = new Map<EvidenceFile, unknown>();
  readonly incomplete = new Map<EvidenceFile, string>();
  record(file: EvidenceFile, value: unknown, incomplete: string | null = null): void {
    this.recorded.set(file, value);
    if (incomplete === null) this.incomplete.delete(file);
    else this.incomplete.set(file, incomplete);
  }
}

/** A Kubernetes object as kubectl prints it: the client's model as JSON, with its kind and apiVersion. */
function kubeJson(object: unknown, apiVersion: string, kind: string): unknown {
  return { apiVersion, kind, ...(JSON.parse(JSON.stringify(object)) as Record<string, unknown>) };
}

async function exportForm(file: EvidenceFile, value: unknown): Promise<unknown> {
  switch (file) {
    case 'related-findings.json':
      return (value as ListFindingsResult[]).filter((r) => r.finding).map(toNotificationJson);
    case 'cluster.json':
      return toJson(protoType('@google-cloud/container/build/protos/protos.json', 'google.container.v1.Cluster'), value as Cluster);
    case 'node.json':
      return kubeJson(value, 'v1', 'Node');
    case 'pod.json':
      return kubeJson(value, 'v1', 'Pod');
    case 'namespace.json':
      return kubeJson(value, 'v1', 'Namespace');
    case 'owners.json':
      return { apiVersion: 'v1', kind: 'List', items: JSON.parse(JSON.stringify(value)), metadata: { resourceVersion: '' } };
    case 'pod-logs.json':
    case 'audit-logs.json':
    case 'node-logs.json':
    case 'node-k8s-logs.json':
      return Promise.all((value as LogEntry[]).map(logEntryToJson));
  }
}

async function writeNew(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

/**
 * The evidence files' names and exact text, as writeEvidence writes them: the
 * finding, every recorded file in its export form, and the manifest. Also
 * what the capture action keeps when the responder re-gathers at capture time
 * (lib/respond/evidence-files.ts), so both ways give the same bytes.
 */
export async function renderEvidence(collector: EvidenceCollector, findingJson: string): Promise<{ name: string; text: string }[]> {
  const files = [{ name: FINDING_FILE, text: findingJson.endsWith('\n') ? findingJson : `${findingJson}\n` }];
  for (const [file, value] of collector.recorded) files.push({ name: file, text: `${JSON.stringify(await exportForm(file, value), null, 2)}\n` });
  // Which reads stopped short: analyze --evidence then reports them truncated instead of complete.
  const manifest: EvidenceManifest = { schemaVersion: 1, incomplete: Object.fromEntries(collector.incomplete) };
  files.push({ name: MANIFEST_FILE, text: `${JSON.stringify(manifest, null, 2)}\n` });
  return files;
}

/** Writes every recorded file and the finding; returns the names written. */
export async function writeEvidence(dir: string, collector: EvidenceCollector, findingJson: string): Promise<string[]> {
  const { create } = await checkEvidenceDir(dir);
  const files = await renderEvidence(collector, findingJson);
  if (create) await mkdir(dir, { mode: 0o700 });
  const written: string[] = [];
  try {
    for (const { name, text } of files) {
      await writeNew(join(dir, name), text);
      written.push(name);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new InvalidInputError(`--save-evidence ${JSON.stringify(dir)}: a file appeared in it while writing (${(err as Error).message}); nothing was overwritten`);
    throw err;
  }
  return written;
}
