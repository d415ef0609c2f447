/**
 * A local Compute Engine API for the capture action, speaking the transport
 * @google-cloud/compute uses: REST, HTTP/1.1 + JSON (gax's "fallback"
 * transport; Compute has no gRPC endpoint), paths of the Compute v1 JSON API
 * (https://cloud.google.com/compute/docs/reference/rest/v1):
 *
 * - GET  /compute/v1/projects/P/zones/Z/instances/I            instances.get
 * - POST /compute/v1/projects/P/zones/Z/disks/D/createSnapshot disks.createSnapshot
 * - POST /compute/v1/projects/P/zones/Z/operations/O/wait      zoneOperations.wait
 * - GET  /compute/v1/projects/P/zones/Z/operations/O           zoneOperations.get
 * - GET  /compute/v1/projects/P/global/snapshots/S             snapshots.get (for tests)
 *
 * It rejects what Compute rejects, in Google's JSON error shape
 * (google-rest.ts): a snapshot name that is not RFC 1035 (1-63 characters,
 * `[a-z]([-a-z0-9]*[a-z0-9])?`: snapshots resource, `name`), label keys and
 * values outside the label rules (lowercase letters, digits, '_' and '-',
 * keys starting with a letter, both at most 63 characters, at most 64 labels:
 * https://cloud.google.com/compute/docs/labeling-resources#requirements; this
 * emulator takes ASCII only, where Compute also takes international letters),
 * an unknown instance or disk (404 notFound, "The resource '...' was not
 * found"), a snapshot name already used in the project (409 alreadyExists,
 * "The resource 'projects/P/global/snapshots/S' already exists"), and a
 * denied permission (403 forbidden, "Required 'PERM' permission for 'RES'").
 *
 * createSnapshot answers at once with a zone Operation (status RUNNING), as
 * Compute does; the snapshot is taken when the operation ends. A client waits
 * with zoneOperations.wait, which returns the operation once it is DONE or
 * near a two-minute deadline, best effort, with no promise that it is DONE
 * then (https://cloud.google.com/compute/docs/reference/rest/v1/zoneOperations/wait),
 * so callers loop: the
 * public sample does (GoogleCloudPlatform/nodejs-docs-samples
 * compute/snapshots/createSnapshot.js: `while (operation.status !== 'DONE')`
 * around ZoneOperationsClient.wait). `waitsUntilDone` makes the emulator
 * answer RUNNING that many times first.
 */
import { randomBytes } from 'node:crypto';
import { googleError, startRestServer, type RestAnswer, type RestFault, type RestLogEntry } from './google-rest.js';

const API = 'https://www.googleapis.com/compute/v1';
const RFC1035 = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;

export interface ComputeInstanceSeed {
  project: string;
  zone: string;
  name: string;
  /** Name of the boot disk; default the instance's name (AttachedDiskInitializeParams.diskName's default). */
  bootDisk?: string;
  id?: string;
}

export interface ComputeOperation {
  kind: 'compute#operation';
  id: string;
  name: string;
  zone: string;
  operationType: string;
  targetLink: string;
  targetId: string;
  status: 'PENDING' | 'RUNNING' | 'DONE';
  user: string;
  progress: number;
  insertTime: string;
  startTime: string;
  endTime?: string;
  selfLink: string;
  error?: { errors: { code: string; message: string }[] };
}

export interface ComputeSnapshot {
  kind: 'compute#snapshot';
  id: string;
  name: string;
  description?: string;
  labels: Record<string, string>;
  sourceDisk: string;
  status: 'CREATING' | 'UPLOADING' | 'READY';
  creationTimestamp: string;
  selfLink: string;
}

export interface ComputeEmulatorOptions {
  /** zoneOperations.wait answers RUNNING this many times before DONE; default 1. */
  waitsUntilDone?: number;
  /** The principal named in operations and 403 messages. */
  user?: string;
  now?: () => Date;
}

export interface ComputeEmulator {
  /** 127.0.0.1:PORT, for createComputeClients({computeEmulatorHost}). */
  readonly endpoint: string;
  readonly log: readonly RestLogEntry[];
  seedInstance(seed: ComputeInstanceSeed): void;
  /** Every later request needing this permission is refused with 403. */
  deny(permission: string): void;
  /** The next createSnapshot operation(s) end DONE with this error instead of a snapshot. */
  failNextOperation(error: { code: string; message: string }): void;
  injectFault(fault: RestFault): void;
  snapshot(project: string, name: string): ComputeSnapshot | undefined;
  operations(): readonly ComputeOperation[];
  /** Drops instances, disks, snapshots, operations, denials, faults and the log. */
  reset(): void;
  stop(): Promise<void>;
}

interface Disk {
  project: string;
  zone: string;
  name: string;
  id: string;
}

interface PendingOp {
  op: ComputeOperation;
  project: string;
  waitsLeft: number;
  /** Taken when the operation ends. */
  snapshot: ComputeSnapshot | null;
  error: { code: string; message: string } | null;
}

function numericId(): string {
  return BigInt(`0x${randomBytes(7).toString('hex')}`).toString();
}

export async function startComputeEmulator(options: ComputeEmulatorOptions = {}): Promise<ComputeEmulator> {
  const now = options.now ?? (() => new Date());
  const user = options.user ?? 'responder@sec-tools.iam.gserviceaccount.com';
  const instances = new Map<string, { seed: ComputeInstanceSeed; id: string; bootDisk: string }>();
  const disks = new Map<string, Disk>();
  const snapshots = new Map<string, ComputeSnapshot>();
  const ops = new Map<string, PendingOp>();
  const denied = new Set<string>();
  const operationFailures: { code: string; message: string }[] = [];

  const zoneKey = (p: string, z: string, n: string) => `${p}/${z}/${n}`;

  function forbidden(permission: string, resource: string): RestAnswer | null {
    if (!denied.has(permission)) return null;
    return { status: 403, body: googleError(403, 'forbidden', `Required '${permission}' permission for '${resource}'`) };
  }

  function notFound(resource: string): RestAnswer {
    return { status: 404, body: googleError(404, 'notFound', `The resource '${resource}' was not found`) };
  }

  function invalid(field: string, value: unknown, rule: string): RestAnswer {
    return { status: 400, body: googleError(400, 'invalid', `Invalid value for field '${field}': ${JSON.stringify(value)}. ${rule}`) };
  }

  function parseJson(entry: RestLogEntry): unknown {
    if (entry.body.length === 0) return null;
    return JSON.parse(entry.body.toString('utf8'));
  }

  function finish(pending: PendingOp): void {
    const t = now().toISOString();
    pending.op.status = 'DONE';
    pending.op.progress = 100;
    pending.op.endTime = t;
    if (pending.error) {
      pending.op.error = { errors: [pending.error] };
    } else if (pending.snapshot) {
      pending.snapshot.status = 'READY';
      snapshots.set(`${pending.project}/${pending.snapshot.name}`, pending.snapshot);
    }
  }

  function createSnapshot(entry: RestLogEntry, project: string, zone: string, diskName: string): RestAnswer {
    const resource = `projects/${project}/zones/${zone}/disks/${diskName}`;
    const denial = forbidden('compute.disks.createSnapshot', resource) ?? forbidden('compute.snapshots.create', `projects/${project}`);
    if (denial) return denial;
    let body: unknown;
    try {
      body = parseJson(entry);
    } catch {
      return { status: 400, body: googleError(400, 'parseError', 'Parse Error') };
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return { status: 400, body: googleError(400, 'required', "Required field 'resource' not specified") };
    const snap = body as { name?: unknown; labels?: unknown; description?: unknown };
    if (typeof snap.name !== 'string' || snap.name === '') return { status: 400, body: googleError(400, 'required', "Required field 'resource.name' not specified") };
    if (!RFC1035.test(snap.name)) return invalid('resource.name', snap.name, "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'");
    const labels: Record<string, string> = {};
    if (snap.labels !== undefined) {
      if (snap.labels === null || typeof snap.labels !== 'object' || Array.isArray(snap.labels)) return invalid('resource.labels', snap.labels, 'Labels must be a map.');
      const entries = Object.entries(snap.labels as Record<string, unknown>);
      if (entries.length > 64) return invalid('resource.labels', `${entries.length} labels`, 'At most 64 labels.');
      for (const [k, v] of entries) {
        if (!LABEL_KEY.test(k)) return invalid(`resource.labels.${k}`, k, 'Label keys must start with a lowercase letter and contain only lowercase letters, digits, underscores and dashes, at most 63 characters.');
        if (typeof v !== 'string' || !LABEL_VALUE.test(v)) return invalid(`resource.labels.${k}`, v, 'Label values must contain only lowercase letters, digits, underscores and dashes, at most 63 characters.');
        labels[k] = v;
      }
    }
    if (snap.description !== undefined && typeof snap.description !== 'string') return invalid('resource.description', snap.description, 'Must be a string.');
    if (Object.keys(labels).length > 0) {
      const labelDenial = forbidden('compute.snapshots.setLabels', `projects/${project}/global/snapshots/${snap.name}`);
      if (labelDenial) return labelDenial;
    }
    const disk = disks.get(zoneKey(project, zone, diskName));
    if (!disk) return notFound(resource);
    if (snapshots.has(`${project}/${snap.name}`) || [...ops.values()].some((p) => p.project === project && p.snapshot?.name === snap.name && p.op.status !== 'DONE')) {
      return { status: 409, body: googleError(409, 'alreadyExists', `The resource 'projects/${project}/global/snapshots/${snap.name}' already exists`) };
    }
    const t = now().toISOString();
    const name = `operation-${now().getTime()}-${randomBytes(6).toString('hex')}`;
    const op: ComputeOperation = {
      kind: 'compute#operation',
      id: numericId(),
      name,
      zone: `${API}/projects/${project}/zones/${zone}`,
      operationType: 'createSnapshot',
      targetLink: `${API}/${resource}`,
      targetId: disk.id,
      status: 'RUNNING',
      user,
      progress: 0,
      insertTime: t,
      startTime: t,
      selfLink: `${API}/projects/${project}/zones/${zone}/operations/${name}`,
    };
    const snapshot: ComputeSnapshot = {
      kind: 'compute#snapshot',
      id: numericId(),
      name: snap.name,
      ...(snap.description === undefined ? {} : { description: snap.description }),
      labels,
      sourceDisk: `${API}/${resource}`,
      status: 'CREATING',
      creationTimestamp: t,
      selfLink: `${API}/projects/${project}/global/snapshots/${snap.name}`,
    };
    ops.set(`${project}/${zone}/${name}`, { op, project, waitsLeft: options.waitsUntilDone ?? 1, snapshot, error: operationFailures.shift() ?? null });
    return { status: 200, body: op };
  }

  function operation(project: string, zone: string, name: string, wait: boolean): RestAnswer {
    const denial = forbidden('compute.zoneOperations.get', `projects/${project}/zones/${zone}/operations/${name}`);
    if (denial) return denial;
    const pending = ops.get(`${project}/${zone}/${name}`);
    if (!pending) return notFound(`projects/${project}/zones/${zone}/operations/${name}`);
    if (wait && pending.op.status !== 'DONE') {
      pending.waitsLeft--;
      if (pending.waitsLeft < 0) finish(pending);
    }
    return { status: 200, body: pending.op };
  }

  function route(entry: RestLogEntry): RestAnswer {
    const seg = entry.path.split('/');
    // ['', 'compute', 'v1', 'projects', P, ...]
    if (seg[1] !== 'compute' || seg[2] !== 'v1' || seg[3] !== 'projects' || !seg[4]) return notFound(entry.path);
    const project = seg[4];
    if (seg[5] === 'global' && seg[6] === 'snapshots' && seg[7] && seg.length === 8 && entry.method === 'GET') {
      const s = snapshots.get(`${project}/${seg[7]}`);
      return s ? { status: 200, body: s } : notFound(`projects/${project}/global/snapshots/${seg[7]}`);
    }
    if (seg[5] !== 'zones' || !seg[6]) return notFound(entry.path);
    const zone = seg[6];
    const [kind, name, verb] = [seg[7], seg[8], seg[9]];
    if (kind === 'instances' && name && seg.length === 9 && entry.method === 'GET') {
      const resource = `projects/${project}/zones/${zone}/instances/${name}`;
      const denial = forbidden('compute.instances.get', resource);
      if (denial) return denial;
      const inst = instances.get(zoneKey(project, zone, name));
      if (!inst) return notFound(resource);
      return {
        status: 200,
        body: {
          kind: 'compute#instance',
          id: inst.id,
          name,
          zone: `${API}/projects/${project}/zones/${zone}`,
          status: 'RUNNING',
          selfLink: `${API}/${resource}`,
          // A GKE node: boot disk first, as Compute lists it (index 0, boot true).
          disks: [
            {
              kind: 'compute#attachedDisk',
              type: 'PERSISTENT',
              mode: 'READ_WRITE',
              source: `${API}/projects/${project}/zones/${zone}/disks/${inst.bootDisk}`,
              deviceName: 'persistent-disk-0',
              index: 0,
              boot: true,
              autoDelete: true,
              interface: 'SCSI',
            },
          ],
          labels: { 'goog-gke-node': '' },
        },
      };
    }
    if (kind === 'disks' && name && verb === 'createSnapshot' && seg.length === 10 && entry.method === 'POST') return createSnapshot(entry, project, zone, name);
    if (kind === 'operations' && name && seg.length === 9 && entry.method === 'GET') return operation(project, zone, name, false);
    if (kind === 'operations' && name && verb === 'wait' && seg.length === 10 && entry.method === 'POST') return operation(project, zone, name, true);
    return notFound(entry.path);
  }

  const server = await startRestServer(route);
  return {
    endpoint: server.endpoint,
    log: server.log,
    seedInstance(seed) {
      const bootDisk = seed.bootDisk ?? seed.name;
      instances.set(zoneKey(seed.project, seed.zone, seed.name), { seed, id: seed.id ?? numericId(), bootDisk });
      disks.set(zoneKey(seed.project, seed.zone, bootDisk), { project: seed.project, zone: seed.zone, name: bootDisk, id: numericId() });
    },
    deny(permission) {
      denied.add(permission);
    },
    failNextOperation(error) {
      operationFailures.push(error);
    },
    injectFault: (fault) => server.injectFault(fault),
    snapshot: (project, name) => snapshots.get(`${project}/${name}`),
    operations: () => [...ops.values()].map((p) => p.op),
    reset() {
      instances.clear();
      disks.clear();
      snapshots.clear();
      ops.clear();
      denied.clear();
      operationFailures.length = 0;
      server.clearFaults();
      server.clearLog();
    },
    stop: () => server.stop(),
  };
}
