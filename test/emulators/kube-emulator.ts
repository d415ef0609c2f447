/**
 * A local Kubernetes API server over real HTTPS, for tests and the demo. The
 * real @kubernetes/client-node talks to it unchanged through
 * createKubeApis(emulator.access, token): `access` has the shape GKE's
 * getCluster gives (endpoint without scheme, base64 of the CA PEM), so the
 * client's own TLS verification runs against a test CA
 * (test/emulators/kube-certs/, test-only).
 *
 * It serves the reads the gatherers make (GET of single objects) and answers
 * everything else the way an API server does, with Status bodies of the real
 * shape: 401 without the bearer token, 403 for denied resources, 404 for
 * unknown objects, 405 for any verb but GET. The function must never write to
 * a cluster, so every request is logged for tests to assert on.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { EMULATOR_ACCESS_TOKEN, type KubeAccess } from '../../lib/clients.js';
import { projectRoot } from '../support/fixtures.js';

export type KubeCertFile = 'ca.crt' | 'ca.key' | 'server.crt' | 'server.key' | 'other-ca.crt';

/** The committed test certificates (PEM text). */
export function kubeTestCert(file: KubeCertFile): string {
  return readFileSync(join(projectRoot(), 'test/emulators/kube-certs', file), 'utf8');
}

/** base64 of a PEM, as GKE's masterAuth.clusterCaCertificate carries it. */
export function base64Pem(pem: string): string {
  return Buffer.from(pem, 'utf8').toString('base64');
}

interface ResourceType {
  group: '' | 'apps' | 'batch';
  resource: string;
  kind: string;
  namespaced: boolean;
}

/** What this emulator serves; any other path answers 404 like an API server without that resource. */
const RESOURCE_TYPES: readonly ResourceType[] = [
  { group: '', resource: 'nodes', kind: 'Node', namespaced: false },
  { group: '', resource: 'namespaces', kind: 'Namespace', namespaced: false },
  { group: '', resource: 'pods', kind: 'Pod', namespaced: true },
  { group: 'apps', resource: 'replicasets', kind: 'ReplicaSet', namespaced: true },
  { group: 'apps', resource: 'deployments', kind: 'Deployment', namespaced: true },
  { group: 'apps', resource: 'statefulsets', kind: 'StatefulSet', namespaced: true },
  { group: 'apps', resource: 'daemonsets', kind: 'DaemonSet', namespaced: true },
  { group: 'batch', resource: 'jobs', kind: 'Job', namespaced: true },
  { group: 'batch', resource: 'cronjobs', kind: 'CronJob', namespaced: true },
];

export interface KubeOwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid?: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: KubeOwnerReference[];
  /** RFC 3339; defaults to the seeding time (whole seconds, as the API server writes it). */
  creationTimestamp?: string;
  /** Defaults to a random UUID. */
  uid?: string;
  [field: string]: unknown;
}

/** A Kubernetes object in its JSON (wire) shape. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: KubeObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface KubeRequestLogEntry {
  method: string;
  /** URL path without the query. */
  path: string;
  /** The bearer token was the configured one. */
  authorized: boolean;
  /** The status sent; null while pending or when the client went away first. */
  status: number | null;
  /** The client closed the connection before the response (e.g. it aborted at its deadline). */
  clientAborted: boolean;
}

/** A substring of the path, or a pattern tested against it; omitted = every request. */
export type PathMatch = string | RegExp;

export interface KubeFault {
  /** HTTP status to answer, e.g. 503 or 429. */
  status: number;
  /** How many matching requests fail; default 1. */
  count?: number;
  match?: PathMatch;
  message?: string;
  /** Sent as Retry-After (and in the Status details) with 429/503. */
  retryAfterSeconds?: number;
  /**
   * Sent as the response body, byte for byte, instead of a Status object: a
   * malformed answer (truncated JSON, the wrong shape) with any status, 200
   * included.
   */
  body?: string;
}

export interface KubeDenyRule {
  /** Plural resource name: pods, nodes, replicasets, ... */
  resource: string;
  /** Omitted: in every namespace (and at the cluster scope). */
  namespace?: string;
  /** Omitted: every object of the resource. */
  name?: string;
}

export interface KubeEmulatorOptions {
  /** The bearer token accepted; default EMULATOR_ACCESS_TOKEN. */
  token?: string;
  /** The user named in 403 messages. */
  user?: string;
  now?: () => Date;
}

export interface KubeEmulator {
  /** What GKE's getCluster would give: endpoint 127.0.0.1:PORT and base64 of the test CA's PEM. */
  readonly access: KubeAccess;
  readonly port: number;
  readonly token: string;
  /** Stores (or replaces) an object; returns the stored copy with uid, creationTimestamp and resourceVersion filled in. */
  seed(object: KubeObject): KubeObject;
  /** Deletes an object, as when a pod is gone or a node recycled; false when it was not there. */
  remove(kind: string, name: string, namespace?: string): boolean;
  /** The stored object (a copy), or undefined. */
  get(kind: string, name: string, namespace?: string): KubeObject | undefined;
  /** Answers GETs matching the rule with 403 Forbidden. */
  deny(rule: KubeDenyRule): void;
  /** Every request received, oldest first. */
  readonly requestLog: readonly KubeRequestLogEntry[];
  clearRequestLog(): void;
  /** Delays responses to matching requests; 0 removes that delay. The longest matching delay applies. */
  setLatency(ms: number, match?: PathMatch): void;
  /** The next `count` matching requests are answered with `status` before anything else is checked. */
  injectFault(fault: KubeFault): void;
  /** Drops the faults still armed (objects, deny rules and latencies stay). */
  clearFaults(): void;
  /** Drops objects, deny rules, faults, latencies and the log. */
  reset(): void;
  /** Closes the server and every keep-alive connection; pending delayed responses are dropped. */
  stop(): Promise<void>;
}

interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: Record<string, unknown>;
  code: number;
}

function statusBody(code: number, reason: string, message: string, details?: Record<string, unknown>): StatusBody {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

const FAULT_REASONS: Record<number, string> = {
  400: 'BadRequest',
  408: 'Timeout',
  409: 'Conflict',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

function matches(match: PathMatch | undefined, path: string): boolean {
  if (match === undefined) return true;
  return typeof match === 'string' ? path.includes(match) : match.test(path);
}

function groupOf(apiVersion: string): string | null {
  if (apiVersion === 'v1') return '';
  const m = /^([a-z0-9.-]+)\/v1$/.exec(apiVersion);
  return m ? (m[1] as string) : null;
}

function typeByKind(kind: string): ResourceType {
  const type = RESOURCE_TYPES.find((t) => t.kind === kind);
  if (!type) throw new Error(`the Kubernetes emulator does not serve kind ${JSON.stringify(kind)} (serves ${RESOURCE_TYPES.map((t) => t.kind).join(', ')})`);
  return type;
}

function storeKey(type: ResourceType, namespace: string | undefined, name: string): string {
  return `${type.group}/${type.resource}/${type.namespaced ? (namespace ?? '') : ''}/${name}`;
}

/** "pods" for the core group, "deployments.apps" otherwise, as API server messages name resources. */
function qualified(type: ResourceType): string {
  return type.group ? `${type.resource}.${type.group}` : type.resource;
}

function objectDetails(type: ResourceType, name: string): Record<string, unknown> {
  return { name, ...(type.group ? { group: type.group } : {}), kind: type.resource };
}

interface Route {
  type: ResourceType;
  namespace: string | undefined;
  name: string;
}

const CORE_PATH = /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?([^/]+)\/([^/]+)$/;
const GROUP_PATH = /^\/apis\/([^/]+)\/v1\/(?:namespaces\/([^/]+)\/)?([^/]+)\/([^/]+)$/;

function route(path: string): Route | null {
  let group: string;
  let ns: string | undefined;
  let resource: string;
  let name: string;
  const core = CORE_PATH.exec(path);
  const grouped = core ? null : GROUP_PATH.exec(path);
  if (core) {
    [, ns, resource, name] = core as unknown as [string, string | undefined, string, string];
    group = '';
  } else if (grouped) {
    [, group, ns, resource, name] = grouped as unknown as [string, string, string | undefined, string, string];
  } else {
    return null;
  }
  const type = RESOURCE_TYPES.find((t) => t.group === group && t.resource === resource);
  if (!type || type.namespaced !== (ns !== undefined)) return null;
  try {
    return { type, namespace: ns === undefined ? undefined : decodeURIComponent(ns), name: decodeURIComponent(name) };
  } catch {
    return null;
  }
}

function rfc3339Seconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export async function startKubeEmulator(options: KubeEmulatorOptions = {}): Promise<KubeEmulator> {
  const token = options.token ?? EMULATOR_ACCESS_TOKEN;
  const user = options.user ?? 'scc-socat-triage@emulator.iam.gserviceaccount.com';
  const now = options.now ?? (() => new Date());
  const objects = new Map<string, KubeObject>();
  const denyRules: KubeDenyRule[] = [];
  const faults: { fault: KubeFault; remaining: number }[] = [];
  const latencies = new Map<string, { ms: number; match: PathMatch | undefined }>();
  const log: KubeRequestLogEntry[] = [];
  const pendingTimers = new Set<NodeJS.Timeout>();
  let resourceVersion = 1000;

  function latencyFor(path: string): number {
    let ms = 0;
    for (const l of latencies.values()) if (matches(l.match, path)) ms = Math.max(ms, l.ms);
    return ms;
  }

  function takeFault(path: string): KubeFault | null {
    const i = faults.findIndex((f) => f.remaining > 0 && matches(f.fault.match, path));
    if (i < 0) return null;
    const f = faults[i] as { fault: KubeFault; remaining: number };
    f.remaining -= 1;
    if (f.remaining <= 0) faults.splice(i, 1);
    return f.fault;
  }

  function isDenied(r: Route): boolean {
    return denyRules.some((d) => d.resource === r.type.resource && (d.namespace === undefined || d.namespace === r.namespace) && (d.name === undefined || d.name === r.name));
  }

  function bearerOk(header: string | undefined): boolean {
    // The API server's bearer authenticator compares the scheme case-insensitively and the token exactly.
    const m = /^bearer\s+(\S+)\s*$/i.exec(header ?? '');
    return m !== null && m[1] === token;
  }

  function decide(req: IncomingMessage, path: string, entry: KubeRequestLogEntry): { status: number; body: unknown; raw?: string; headers?: Record<string, string> } {
    const fault = takeFault(path);
    if (fault?.body !== undefined) return { status: fault.status, body: null, raw: fault.body };
    if (fault) {
      const reason = FAULT_REASONS[fault.status] ?? 'InternalError';
      const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      const details = fault.retryAfterSeconds !== undefined ? { retryAfterSeconds: fault.retryAfterSeconds } : undefined;
      return { status: fault.status, body: statusBody(fault.status, reason, fault.message ?? `injected fault: ${reason}`, details), headers };
    }
    entry.authorized = bearerOk(req.headers.authorization);
    if (!entry.authorized) return { status: 401, body: statusBody(401, 'Unauthorized', 'Unauthorized') };
    if (req.method !== 'GET') {
      return { status: 405, body: statusBody(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource') };
    }
    const r = route(path);
    if (!r) return { status: 404, body: statusBody(404, 'NotFound', 'the server could not find the requested resource', {}) };
    if (isDenied(r)) {
      const scope = r.namespace === undefined ? 'at the cluster scope' : `in the namespace "${r.namespace}"`;
      const message = `${qualified(r.type)} "${r.name}" is forbidden: User "${user}" cannot get resource "${r.type.resource}" in API group "${r.type.group}" ${scope}`;
      return { status: 403, body: statusBody(403, 'Forbidden', message, objectDetails(r.type, r.name)) };
    }
    const obj = objects.get(storeKey(r.type, r.namespace, r.name));
    if (!obj) return { status: 404, body: statusBody(404, 'NotFound', `${qualified(r.type)} "${r.name}" not found`, objectDetails(r.type, r.name)) };
    return { status: 200, body: obj };
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'https://emulator').pathname;
    const entry: KubeRequestLogEntry = { method: req.method ?? '', path, authorized: false, status: null, clientAborted: false };
    log.push(entry);
    // Request bodies are never read (nothing is written), but must be drained for keep-alive to work.
    req.resume();
    const answer = decide(req, path, entry);
    let timer: NodeJS.Timeout | undefined;
    const send = () => {
      if (timer) pendingTimers.delete(timer);
      if (res.destroyed || res.writableEnded) return;
      const payload = answer.raw ?? JSON.stringify(answer.body);
      res.writeHead(answer.status, {
        'content-type': 'application/json',
        'cache-control': 'no-cache, private',
        'audit-id': randomUUID(),
        'content-length': Buffer.byteLength(payload),
        ...answer.headers,
      });
      res.end(payload);
      entry.status = answer.status;
    };
    res.on('close', () => {
      if (!res.writableEnded) {
        entry.clientAborted = true;
        if (timer) {
          clearTimeout(timer);
          pendingTimers.delete(timer);
        }
      }
    });
    const delay = latencyFor(path);
    if (delay > 0) {
      timer = setTimeout(send, delay);
      pendingTimers.add(timer);
    } else {
      send();
    }
  }

  const server: Server = createServer({ key: kubeTestCert('server.key'), cert: kubeTestCert('server.crt') }, handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const access: KubeAccess = { endpoint: `127.0.0.1:${port}`, caCertificate: base64Pem(kubeTestCert('ca.crt')) };

  return {
    access,
    port,
    token,
    seed(object) {
      const type = typeByKind(object.kind);
      const group = groupOf(object.apiVersion);
      if (group !== type.group) throw new Error(`${object.kind} has apiVersion ${type.group ? `${type.group}/v1` : 'v1'}, not ${JSON.stringify(object.apiVersion)}`);
      const meta = object.metadata;
      if (!meta || typeof meta.name !== 'string' || meta.name === '') throw new Error('metadata.name is required');
      if (type.namespaced && !meta.namespace) throw new Error(`${object.kind} ${meta.name}: metadata.namespace is required`);
      if (!type.namespaced && meta.namespace !== undefined) throw new Error(`${object.kind} is cluster-scoped: no metadata.namespace`);
      const stored = structuredClone(object);
      stored.metadata.uid ??= randomUUID();
      stored.metadata.creationTimestamp ??= rfc3339Seconds(now());
      stored.metadata.resourceVersion = String(++resourceVersion);
      objects.set(storeKey(type, meta.namespace, meta.name), stored);
      return structuredClone(stored);
    },
    remove(kind, name, namespace) {
      return objects.delete(storeKey(typeByKind(kind), namespace, name));
    },
    get(kind, name, namespace) {
      const obj = objects.get(storeKey(typeByKind(kind), namespace, name));
      return obj ? structuredClone(obj) : undefined;
    },
    deny(rule) {
      denyRules.push({ ...rule });
    },
    get requestLog() {
      return log;
    },
    clearRequestLog() {
      log.length = 0;
    },
    setLatency(ms, match) {
      const key = match === undefined ? '*' : typeof match === 'string' ? `s:${match}` : `r:${match.source}/${match.flags}`;
      if (ms > 0) latencies.set(key, { ms, match });
      else latencies.delete(key);
    },
    injectFault(fault) {
      faults.push({ fault: { ...fault }, remaining: fault.count ?? 1 });
    },
    clearFaults() {
      faults.length = 0;
    },
    reset() {
      objects.clear();
      denyRules.length = 0;
      faults.length = 0;
      latencies.clear();
      log.length = 0;
    },
    async stop() {
      for (const t of pendingTimers) clearTimeout(t);
      pendingTimers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Clients keep TLS connections alive; without this, close() waits for them and jest never exits.
      server.closeAllConnections();
      await closed;
    },
  };
}
