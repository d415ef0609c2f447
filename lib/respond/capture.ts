/**
 * The `capture` action (issue #15): preserve evidence before anything in the
 * cluster changes.
 *
 * 1. A Compute Engine snapshot of the node's boot disk, where the container's
 *    writable layer lives. The GKE node name is its Compute instance name, and
 *    GKE does not name the boot disk, so Compute names it after the instance
 *    (AttachedDiskInitializeParams.diskName: "If not specified, the default is
 *    to use the name of the instance", Compute v1 reference). The plan reads
 *    the instance first (instances.get) and snapshots only when its disk with
 *    `boot: true` is that disk, as Google's own forensics library finds a boot
 *    disk (google/cloud-forensics-utils, GoogleComputeInstance.GetBootDisk);
 *    otherwise it stops and names the real disk.
 *    The snapshot name is fixed per detection (a hash of the finding's name),
 *    so a re-delivered approval meets Compute's 409 "already exists" and
 *    records already_done instead of a second snapshot.
 * 2. The evidence files (`triage --save-evidence DIR`), each uploaded once
 *    with ifGenerationMatch=0 (created only if no object has that name: 412
 *    otherwise, https://cloud.google.com/storage/docs/request-preconditions)
 *    into EVIDENCE_BUCKET, whose retention policy (locked in production)
 *    keeps any object from being replaced or deleted before the period ends.
 *    Object names hold the digest of the whole set, so an object that already
 *    exists holds exactly these bytes; the record keeps every sha256. The
 *    files come from a `--save-evidence` directory (CLI, --evidence DIR: as
 *    of that triage) or from re-gathering at capture time (the responder:
 *    as of the capture), lib/respond/evidence-files.ts; the record names
 *    which, since logs and objects read at different times can differ.
 *
 * Nothing here changes the cluster. The undo deletes the snapshot; the
 * evidence objects stay until the bucket's retention period ends.
 */
import { createHash } from 'node:crypto';
import type { ComputeClients, StorageClient } from '../clients.js';
import type { PermissionUse } from '../permissions.js';
import { cleanLine } from '../sanitize.js';
import { shellJoin } from '../shell/quote.js';
import { canonicalTimestamp } from '../timestamp.js';
import { refusedPlan } from './plan.js';
import type { CaptureArtifacts, CaptureEvidence, CapturedObject, PlanContext, PlannedRequest, ResponsePlan, ResponseRecord } from './types.js';

/** Prefix of every evidence object; also the label prefix. */
export const CAPTURE_PREFIX = 'socat-triage';

export const PERMISSIONS: readonly PermissionUse[] = [
  { permission: 'compute.instances.get', usedBy: "lib/respond/capture.ts: instances.get finds the node's boot disk" },
  { permission: 'compute.disks.createSnapshot', usedBy: "lib/respond/capture.ts: disks.createSnapshot of the node's boot disk" },
  { permission: 'compute.snapshots.create', usedBy: 'lib/respond/capture.ts: the snapshot created in the node\'s project' },
  {
    permission: 'compute.snapshots.setLabels',
    // Not confirmed in Compute's reference for createSnapshot's labels field; granted so a labelled snapshot cannot fail for want of it.
    usedBy: 'lib/respond/capture.ts: the snapshot is created with labels naming the detection',
  },
  { permission: 'compute.zoneOperations.get', usedBy: 'lib/respond/capture.ts: zoneOperations.wait until the snapshot operation is done' },
  { permission: 'storage.objects.create', usedBy: 'lib/respond/capture.ts: evidence files uploaded to EVIDENCE_BUCKET (granted on that bucket only)' },
];

// Compute names (RFC 1035, at most 63), project ids and zones: anything else
// would change the request path, so it is refused instead of encoded.
const RESOURCE_NAME = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const ZONE = /^[a-z]+-[a-z]+[0-9]+-[a-z]$/;
// GKE cluster names: lowercase letters, digits and '-', at most 40.
const CLUSTER_NAME = /^[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?$/;
// Compute label values (https://cloud.google.com/compute/docs/labeling-resources#requirements).
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;
const FINDING_NAME = /^[A-Za-z0-9/_.-]{1,512}$/;

function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** 16 hex digits naming one detection: in the snapshot's name and label, and in the evidence objects' prefix. */
export function detectionKey(findingName: string): string {
  return sha256Hex(findingName).slice(0, 16);
}

export function snapshotNameFor(findingName: string): string {
  return `socat-evidence-${detectionKey(findingName)}`;
}

/** A label value as is when Compute takes it, else a short hash: never raw outside text. */
function labelValue(value: string): string {
  return LABEL_VALUE.test(value) ? value : `h-${sha256Hex(value).slice(0, 16)}`;
}

/**
 * The digest of a set of files: sha256 over `sha256sum`'s lines sorted by
 * name, so `sha256sum *` in a download of the objects reproduces it.
 */
export function evidenceSetDigest(files: readonly { name: string; sha256: string }[]): string {
  const lines = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((f) => `${f.sha256}  ${f.name}\n`);
  return sha256Hex(lines.join(''));
}

const COMPUTE_INSTANCE = /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/instances\/([^/]+)$/;
const COMPUTE_SNAPSHOT = /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/disks\/([^/]+)\/createSnapshot$/;
const STORAGE_UPLOAD = /^\/upload\/storage\/v1\/b\/([^/]+)\/o\?uploadType=multipart&name=([^&]+)&ifGenerationMatch=0$/;

/** The body of a planned multipart upload: the object resource sent as its first part, and the media by name, size and digest. */
export interface UploadBody {
  resource: { contentType: string; md5Hash: string; metadata: Record<string, string> };
  media: { file: string; bytes: number; sha256: string };
}

export interface SnapshotBody {
  name: string;
  labels: Record<string, string>;
  description: string;
}

function refused(reason: string): ResponsePlan {
  return refusedPlan('capture', reason);
}

export function planCapture(ctx: PlanContext): ResponsePlan {
  const s = ctx.subject;
  const node = s.node;
  if (s.cluster === null) {
    return refused(
      'Capture refused: the cluster is unknown, and with it the project the node\'s boot disk lives in. Re-run the triage once the finding\'s cluster can be read, or snapshot the node\'s boot disk by hand in the Compute Engine console.',
    );
  }
  if (node === null) {
    return refused(
      'Capture refused: the node the pod ran on is unknown (the finding names none and the pod could not be read). Find the node in the GKE console (the pod\'s page), then snapshot its boot disk, which has the node\'s name, with gcloud compute disks snapshot.',
    );
  }
  const project = s.cluster.project;
  if (!PROJECT_ID.test(project)) return refused(`Capture refused: the cluster's project ${JSON.stringify(cleanLine(project, 80))} is not a Compute Engine project id; nothing was requested.`);
  if (!RESOURCE_NAME.test(node.name)) {
    return refused(`Capture refused: the node name ${JSON.stringify(cleanLine(node.name, 80))} is not a Compute Engine instance name, so it cannot name the boot disk; nothing was requested.`);
  }
  if (node.zone === null) {
    const find = shellJoin(['gcloud', 'compute', 'instances', 'list', `--filter=name=${node.name}`, `--project=${project}`, '--format=value(zone)']);
    return refused(
      `Capture refused: the zone of node ${node.name} is unknown (the node could not be read from the cluster). Find it with: ${find} — then snapshot the disk ${node.name} in that zone with gcloud compute disks snapshot.`,
    );
  }
  if (!ZONE.test(node.zone)) return refused(`Capture refused: the node's zone ${JSON.stringify(cleanLine(node.zone, 80))} is not a Compute Engine zone; nothing was requested.`);
  const zone = node.zone;
  const key = detectionKey(s.findingName);
  const snapshot = snapshotNameFor(s.findingName);
  const clusterName = CLUSTER_NAME.test(s.cluster.name) ? s.cluster.name : null;
  const findingText = FINDING_NAME.test(s.findingName) ? s.findingName : `(detection key ${key})`;
  const snapshotBody: SnapshotBody = {
    name: snapshot,
    labels: {
      [`${CAPTURE_PREFIX}-finding`]: key,
      [`${CAPTURE_PREFIX}-action`]: 'capture',
      [`${CAPTURE_PREFIX}-node`]: labelValue(node.name),
      [`${CAPTURE_PREFIX}-cluster`]: labelValue(s.cluster.name),
    },
    description: `Boot disk of GKE node ${node.name}${clusterName ? ` (cluster ${clusterName})` : ''}, preserved by scc-socat-triage before any containment, for Security Command Center finding ${findingText}.`,
  };
  const requests: PlannedRequest[] = [
    { api: 'compute', method: 'GET', path: `/compute/v1/projects/${project}/zones/${zone}/instances/${node.name}`, body: null },
    { api: 'compute', method: 'POST', path: `/compute/v1/projects/${project}/zones/${zone}/disks/${node.name}/createSnapshot`, body: snapshotBody },
  ];

  const evidence = ctx.evidence ?? null;
  const kept = evidenceNotKept(evidence);
  let evidenceText: string;
  if (kept !== null) {
    evidenceText = `The evidence files are not kept: ${kept}.`;
  } else {
    const ev = evidence as CaptureEvidence & { bucket: string };
    const hashed = ev.files.map((f) => ({ name: f.name, sha256: sha256Hex(f.bytes), bytes: f.bytes.length, md5: createHash('md5').update(f.bytes).digest('base64') }));
    const prefix = `${CAPTURE_PREFIX}/${key}/${evidenceSetDigest(hashed).slice(0, 16)}`;
    for (const f of hashed) {
      const object = `${prefix}/${f.name}`;
      const body: UploadBody = {
        // md5Hash in the resource: Cloud Storage checks it against what it received and refuses a mismatch
        // with 400 (https://cloud.google.com/storage/docs/data-validation), so no partial or altered copy is kept.
        resource: { contentType: 'application/json', md5Hash: f.md5, metadata: { sha256: f.sha256, [`${CAPTURE_PREFIX}-finding`]: key, file: f.name } },
        media: { file: f.name, bytes: f.bytes, sha256: f.sha256 },
      };
      requests.push({ api: 'storage', method: 'POST', path: `/upload/storage/v1/b/${ev.bucket}/o?uploadType=multipart&name=${encodeURIComponent(object)}&ifGenerationMatch=0`, body });
    }
    evidenceText =
      `Keep ${hashed.length} evidence file${hashed.length === 1 ? '' : 's'} (${cleanLine(ev.origin, 200)}) write-once in gs://${ev.bucket}/${prefix}/; ` +
      "the bucket's retention policy keeps them from being replaced or deleted until it expires.";
  }
  const undo = shellJoin(['gcloud', 'compute', 'snapshots', 'delete', snapshot, `--project=${project}`]);
  return {
    action: 'capture',
    allowed: true,
    reason:
      `Snapshot the boot disk of node ${node.name} (zone ${zone}, project ${project}) as ${snapshot}, labelled ${CAPTURE_PREFIX}-finding=${key}. ${evidenceText} ` +
      'Nothing in the cluster changes. Undo (deleting the snapshot) only once the investigation is closed: it destroys the evidence.',
    requests,
    undo,
  };
}

/** Why no evidence file will be kept; null when there are files and a bucket. */
function evidenceNotKept(evidence: CaptureEvidence | null): string | null {
  if (evidence?.unavailable !== undefined) return cleanLine(evidence.unavailable, 400);
  if (evidence === null || evidence.files.length === 0) {
    return 'none were handed over (the CLI takes them with respond --evidence DIR, a directory written by triage --save-evidence)';
  }
  if (evidence.bucket === null) return 'EVIDENCE_BUCKET is not set, so there is no write-once store for them (only the snapshot is taken)';
  return null;
}

// ---------------------------------------------------------------------------
// Execution

export interface CaptureClients {
  compute: Pick<ComputeClients, 'instances' | 'disks' | 'zoneOperations'>;
  /** Needed only when the plan uploads evidence. */
  storage: StorageClient | null;
}

export interface CaptureRun {
  approver: string | null;
  /** The same evidence the plan was made from (the bytes travel here, the digests in the plan). */
  evidence: CaptureEvidence | null;
  now?: () => Date;
  /** How long to wait for the snapshot operation; default 10 minutes. */
  operationWaitMs?: number;
}

/** An API answer, for a record: HTTP status, Google's reason when given, and the message's first line (cleaned, capped). */
export function describeApiFailure(err: unknown): { status: number | null; text: string } {
  const e = err as { httpStatusCode?: unknown; code?: unknown; errors?: { reason?: unknown }[]; message?: unknown };
  const status = typeof e.httpStatusCode === 'number' ? e.httpStatusCode : typeof e.code === 'number' && e.code >= 100 ? e.code : null;
  const reason = Array.isArray(e.errors) && typeof e.errors[0]?.reason === 'string' ? e.errors[0].reason : null;
  const message = typeof e.message === 'string' ? (e.message.split('\n')[0] ?? '') : String(err);
  return { status, text: cleanLine(`${status ?? 'no HTTP status'}${reason ? ` ${reason}` : ''}: ${message}`, 300) };
}

interface GaxOperation {
  name?: string | null;
  status?: string | null;
  error?: { errors?: { code?: string | null; message?: string | null }[] | null } | null;
}

const DEFAULT_OPERATION_WAIT_MS = 10 * 60_000;

export async function executeCapture(plan: ResponsePlan, clients: CaptureClients, run: CaptureRun): Promise<ResponseRecord> {
  const now = run.now ?? (() => new Date());
  const at = (): string => canonicalTimestamp(now().toISOString()) as string;
  if (!plan.allowed || plan.action !== 'capture') {
    return { action: 'capture', approver: run.approver, at: at(), result: 'refused', detail: plan.reason, undo: null };
  }
  const failures: string[] = [];
  let snapshotInfo: CaptureArtifacts['snapshot'] | null = null;
  let bootDiskChecked = false;
  const objects: CapturedObject[] = [];
  let bucket: string | null = null;
  const filesByName = new Map((run.evidence?.files ?? []).map((f) => [f.name, f.bytes]));

  for (const req of plan.requests) {
    const where = `${req.method} ${req.path.split('?')[0]}`;
    let m: RegExpExecArray | null;
    if (req.api === 'compute' && req.method === 'GET' && (m = COMPUTE_INSTANCE.exec(req.path))) {
      const [, project, zone, instance] = m as unknown as [string, string, string, string];
      const disk = plannedDisk(plan);
      try {
        const [found] = await clients.compute.instances.get({ project, zone, instance });
        const boot = (found.disks ?? []).find((d) => d.boot === true);
        const bootName = boot?.source?.split('/').pop() ?? null;
        if (bootName === disk) {
          bootDiskChecked = true;
        } else {
          const by = bootName === null ? 'it lists no boot disk' : `its boot disk is ${JSON.stringify(cleanLine(bootName, 80))}`;
          const hint = bootName !== null && RESOURCE_NAME.test(bootName) ? ` Snapshot it by hand: ${shellJoin(['gcloud', 'compute', 'disks', 'snapshot', bootName, `--zone=${zone}`, `--project=${project}`])}.` : '';
          failures.push(`instance ${instance} was read, but ${by}, not ${disk} as GKE names it; no snapshot was requested.${hint}`);
        }
      } catch (err) {
        failures.push(`${where}: ${describeApiFailure(err).text}; no snapshot was requested`);
      }
      continue;
    }
    if (req.api === 'compute' && req.method === 'POST' && (m = COMPUTE_SNAPSHOT.exec(req.path))) {
      const [, project, zone, disk] = m as unknown as [string, string, string, string];
      const body = req.body as SnapshotBody;
      snapshotInfo = { project, zone, disk, name: body.name, state: 'not_taken', operation: null };
      if (!bootDiskChecked) continue;
      try {
        const [lro] = await clients.compute.disks.createSnapshot({ project, zone, disk, snapshotResource: { name: body.name, labels: body.labels, description: body.description } });
        let op = (lro as { latestResponse?: GaxOperation }).latestResponse ?? null;
        snapshotInfo.operation = op?.name ?? null;
        const deadline = Date.now() + (run.operationWaitMs ?? DEFAULT_OPERATION_WAIT_MS);
        // zoneOperations.wait returns at DONE or near its own deadline, with no promise it is DONE: loop (see test/emulators/compute-emulator.ts).
        while (op !== null && op.status !== 'DONE' && op.name && Date.now() < deadline) {
          [op] = (await clients.compute.zoneOperations.wait({ project, zone, operation: op.name })) as unknown as [GaxOperation];
        }
        const opErrors = op?.error?.errors ?? [];
        if (op === null || op.status !== 'DONE') {
          const describe = op?.name ? ` Check it with: ${shellJoin(['gcloud', 'compute', 'operations', 'describe', op.name, `--zone=${zone}`, `--project=${project}`])}.` : '';
          failures.push(`snapshot ${body.name} was requested but its operation had not finished after ${Math.round((run.operationWaitMs ?? DEFAULT_OPERATION_WAIT_MS) / 1000)} s.${describe}`);
        } else if (opErrors.length > 0) {
          failures.push(`snapshot ${body.name}: the operation ended with ${cleanLine(opErrors.map((e) => `${e.code ?? 'ERROR'}: ${e.message ?? ''}`).join('; '), 300)}`);
        } else {
          snapshotInfo.state = 'created';
        }
      } catch (err) {
        const f = describeApiFailure(err);
        // Compute answers a taken name with 409 "The resource '.../snapshots/NAME' already exists" (reason alreadyExists).
        if (f.status === 409 && /already exists/i.test(f.text)) snapshotInfo.state = 'already_existed';
        else failures.push(`${where}: ${f.text}`);
      }
      continue;
    }
    if (req.api === 'storage' && req.method === 'POST' && (m = STORAGE_UPLOAD.exec(req.path))) {
      const [, bucketName, encoded] = m as unknown as [string, string, string];
      bucket = bucketName;
      const body = req.body as UploadBody;
      const object = decodeURIComponent(encoded);
      const item: CapturedObject = { file: body.media.file, object, sha256: body.media.sha256, bytes: body.media.bytes, state: 'not_stored', generation: null };
      objects.push(item);
      const bytes = filesByName.get(body.media.file);
      if (bytes === undefined || sha256Hex(bytes) !== body.media.sha256) {
        failures.push(`evidence file ${body.media.file} is not the one planned (missing or changed since planning); not uploaded`);
        continue;
      }
      if (clients.storage === null) {
        failures.push(`no Cloud Storage client to upload ${body.media.file}`);
        continue;
      }
      try {
        const file = clients.storage.bucket(bucketName).file(object);
        // resumable: false is one multipart request (what the plan shows); validation off: md5Hash in the resource has the server check the bytes.
        await file.save(Buffer.from(bytes), { resumable: false, validation: false, preconditionOpts: { ifGenerationMatch: 0 }, metadata: body.resource });
        item.state = 'stored';
        const generation = (file.metadata as { generation?: unknown }).generation;
        item.generation = generation === undefined ? null : String(generation);
      } catch (err) {
        const f = describeApiFailure(err);
        // 412: the object exists, and its name holds the digest of this very set of files.
        if (f.status === 412) item.state = 'already_stored';
        else failures.push(`${where} (${body.media.file}): ${f.text}`);
      }
      continue;
    }
    failures.push(`${where}: not a request of the capture action; not sent`);
  }

  const notKept = evidenceNotKept(run.evidence);
  const artifacts: CaptureArtifacts = {
    snapshot: snapshotInfo ?? { project: '', zone: '', disk: '', name: '', state: 'not_taken', operation: null },
    evidence: { bucket, origin: run.evidence ? cleanLine(run.evidence.origin, 200) : null, objects, notKept },
  };
  const stored = objects.filter((o) => o.state === 'stored').length;
  const already = objects.filter((o) => o.state === 'already_stored').length;
  const snap = artifacts.snapshot;
  const snapText =
    snap.state === 'created'
      ? `Snapshot ${snap.name} of boot disk ${snap.disk} taken (operation ${snap.operation ?? 'unknown'}).`
      : snap.state === 'already_existed'
        ? `Snapshot ${snap.name} of boot disk ${snap.disk} already existed (an earlier capture of this detection).`
        : 'No snapshot was taken.';
  const filesText =
    notKept !== null
      ? `Evidence files not kept: ${notKept}.`
      : `${stored} evidence file${stored === 1 ? '' : 's'} kept now${already > 0 ? `, ${already} already kept` : ''} in gs://${bucket}/ (sha256 of each in the record).`;
  const failed = failures.length > 0;
  const nothingNew = snap.state === 'already_existed' && stored === 0 && objects.every((o) => o.state === 'already_stored');
  return {
    action: 'capture',
    approver: run.approver,
    at: at(),
    result: failed ? 'failed' : nothingNew ? 'already_done' : 'done',
    detail: failed ? `${snapText} ${filesText} Failed: ${failures.join(' ')}` : `${snapText} ${filesText}`,
    undo: snap.state === 'not_taken' ? null : plan.undo,
    capture: artifacts,
  };
}

function plannedDisk(plan: ResponsePlan): string | null {
  for (const r of plan.requests) {
    const m = r.api === 'compute' ? COMPUTE_SNAPSHOT.exec(r.path) : null;
    if (m) return m[3] as string;
  }
  return null;
}
