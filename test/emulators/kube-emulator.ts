/**
 * A local Kubernetes API server over real HTTPS, for tests and the demo. The
 * real @kubernetes/client-node talks to it unchanged through
 * createKubeApis(emulator.access, token): `access` has the shape GKE's
 * getCluster gives (endpoint without scheme, base64 of the CA PEM), so the
 * client's own TLS verification runs against a test CA
 * (test/emulators/kube-certs/, test-only).
 *
 * It serves the reads the gatherers make (GET of single objects) and the
 * writes the responder's Kubernetes actions make (lib/respond/kube-actions.ts):
 * NetworkPolicy create, replace and delete, pod and node PATCH (merge patch,
 * and strategic merge patch for patches without lists or directives), pod
 * DELETE; and the discovery documents kubectl reads, so tests can run real
 * kubectl against it. Everything else is answered the way an API server does, with
 * Status bodies of the real shape (API conventions, "Response Status Kind":
 * https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md#response-status-kind):
 * 401 without the bearer token, 403 for denied verbs and resources, 404 for
 * unknown objects, 405 for verbs it does not serve on a resource, 409
 * AlreadyExists / Conflict, 415 for a PATCH content type it does not apply,
 * 422 Invalid for a body the API server's validation rejects. The triage
 * function must never write to a cluster, so every request is logged (with
 * its body and content type) for tests to assert on.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
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
  group: '' | 'apps' | 'batch' | 'networking.k8s.io';
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
  { group: 'networking.k8s.io', resource: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true },
];

/** RBAC verbs by HTTP method (https://kubernetes.io/docs/reference/access-authn-authz/authorization/#determine-the-request-verb). */
const VERB_OF_METHOD: Readonly<Record<string, string>> = { GET: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/** The verbs served per resource besides get; any other answers 405. */
const WRITES: Readonly<Record<string, ReadonlySet<string>>> = {
  // delete: the undo of block-c2 and isolate (kubectl delete networkpolicy), run by the tests with real kubectl.
  networkpolicies: new Set(['create', 'update', 'delete']),
  pods: new Set(['patch', 'delete']),
  nodes: new Set(['patch']),
};

/**
 * PATCH content types (https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/).
 * The API server's 415 lists these; the emulator applies the first two only
 * and answers 415 for the others too, saying so, rather than mis-apply them.
 */
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml', 'application/strategic-merge-patch+json', 'application/apply-patch+cbor'];
const APPLIED_PATCH_TYPES = new Set(['application/merge-patch+json', 'application/strategic-merge-patch+json']);

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
  /** The request body parsed as JSON (the raw text when it is not JSON); absent when none was sent. */
  body?: unknown;
  /** The Content-Type header without parameters; absent when no body was sent. */
  contentType?: string;
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
  /** RBAC verb: get, create, update, patch, delete; omitted: every verb. */
  verb?: string;
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
  /** Answers requests matching the rule with 403 Forbidden, as RBAC denying that verb would. */
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
  return { ...(name ? { name } : {}), ...(type.group ? { group: type.group } : {}), kind: type.resource };
}

/**
 * What the API server's decoder and request checks refuse with 400 before
 * validation: not an object, the wrong apiVersion or kind, no metadata, a
 * namespace in the body other than the URL's.
 */
function objectShape(type: ResourceType, body: unknown, namespace: string | undefined): { status: number; body: unknown } | null {
  const bad = (message: string) => ({ status: 400, body: statusBody(400, 'BadRequest', message) });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return bad('the object provided is unrecognized (must be a JSON object)');
  const o = body as Partial<KubeObject>;
  const apiVersion = type.group ? `${type.group}/v1` : 'v1';
  if (o.apiVersion !== undefined && o.apiVersion !== apiVersion) return bad(`the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${apiVersion})`);
  if (o.kind !== undefined && o.kind !== type.kind) return bad(`the kind in the data (${String(o.kind)}) does not match the expected kind (${type.kind})`);
  if (typeof o.metadata !== 'object' || o.metadata === null || typeof o.metadata.name !== 'string') return bad('metadata.name is required in the body');
  if (o.metadata.namespace !== undefined && o.metadata.namespace !== namespace) return bad('the namespace of the provided object does not match the namespace sent on the request');
  return null;
}

interface Route {
  type: ResourceType;
  namespace: string | undefined;
  /** Undefined for the collection (POST creates in it). */
  name: string | undefined;
}

const CORE_PATH = /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?([^/]+)(?:\/([^/]+))?$/;
const GROUP_PATH = /^\/apis\/([^/]+)\/v1\/(?:namespaces\/([^/]+)\/)?([^/]+)(?:\/([^/]+))?$/;

function route(path: string): Route | null {
  let group: string;
  let ns: string | undefined;
  let resource: string;
  let name: string | undefined;
  const core = CORE_PATH.exec(path);
  const grouped = core ? null : GROUP_PATH.exec(path);
  if (core) {
    [, ns, resource, name] = core as unknown as [string, string | undefined, string, string | undefined];
    group = '';
  } else if (grouped) {
    [, group, ns, resource, name] = grouped as unknown as [string, string, string | undefined, string, string | undefined];
  } else {
    return null;
  }
  const type = RESOURCE_TYPES.find((t) => t.group === group && t.resource === resource);
  if (!type || type.namespaced !== (ns !== undefined)) return null;
  try {
    return { type, namespace: ns === undefined ? undefined : decodeURIComponent(ns), name: name === undefined ? undefined : decodeURIComponent(name) };
  } catch {
    return null;
  }
}

/** A request body as received. */
interface Received {
  text: string;
  /** Parsed JSON; undefined when the text is empty or not JSON. */
  parsed: unknown;
  /** Media type without parameters, lower-cased. */
  contentType: string | undefined;
}

function receivedBody(text: string, header: string | undefined): Received {
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const contentType = header?.split(';')[0]?.trim().toLowerCase() || undefined;
  return { text, parsed, contentType };
}

const JSON_TYPES: ReadonlySet<string> = new Set(['application/json']);

interface FieldError {
  field: string;
  reason: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueForbidden';
  message: string;
}

// Validation as apimachinery does it (IsDNS1123Subdomain for object names, IsQualifiedName / IsValidLabelValue for
// labels: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/ and .../labels/#syntax-and-character-set),
// written here independently of lib/ so the emulator can catch what lib/ gets wrong.
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

function labelKeyErrors(key: string): string | null {
  const parts = key.split('/');
  if (parts.length > 2) return 'a qualified name must consist of alphanumeric characters, "-", "_" or ".", with an optional DNS subdomain prefix and "/"';
  const [prefix, name] = parts.length === 2 ? [parts[0]!, parts[1]!] : [null, parts[0]!];
  if (prefix !== null && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) return 'prefix part must be a lowercase RFC 1123 subdomain';
  if (name.length > 63 || !QUALIFIED_NAME_PART.test(name)) return 'name part must consist of alphanumeric characters, "-", "_" or ".", and must start and end with an alphanumeric character';
  return null;
}

function labelValueErrors(value: unknown): string | null {
  if (typeof value !== 'string') return 'must be a string';
  if (value === '') return null;
  return value.length <= 63 && QUALIFIED_NAME_PART.test(value) ? null : 'a valid label must be an empty string or consist of alphanumeric characters, "-", "_" or ".", and must start and end with an alphanumeric character';
}

function labelMapErrors(field: string, labels: unknown): FieldError[] {
  if (labels === undefined || labels === null) return [];
  if (typeof labels !== 'object' || Array.isArray(labels)) return [{ field, reason: 'FieldValueInvalid', message: 'Invalid value: must be a map of strings' }];
  const out: FieldError[] = [];
  for (const [k, v] of Object.entries(labels)) {
    const keyError = labelKeyErrors(k);
    if (keyError) out.push({ field, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(k)}: ${keyError}` });
    const valueError = labelValueErrors(v);
    if (valueError) out.push({ field: `${field}[${k}]`, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(v)}: ${valueError}` });
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function cidrError(text: unknown): string | null {
  if (typeof text !== 'string') return 'must be a string';
  try {
    const [addr, bits] = ipaddr.parseCIDR(text);
    // The API server wants the network address: 10.0.0.1/8 is refused.
    const network = addr.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(text) : ipaddr.IPv6.networkAddressFromCIDR(text);
    return network.toString() === addr.toString() && bits >= 0 ? null : 'must be a valid CIDR (the network address)';
  } catch {
    return 'must be a valid CIDR';
  }
}

/** NetworkPolicy validation (pkg/apis/networking/validation, ValidateNetworkPolicySpec): the parts the responder's policies use. */
function networkPolicyErrors(spec: unknown): FieldError[] {
  if (!isObject(spec)) return [{ field: 'spec', reason: 'FieldValueRequired', message: 'Required value' }];
  const out: FieldError[] = [];
  if (!isObject(spec.podSelector)) out.push({ field: 'spec.podSelector', reason: 'FieldValueRequired', message: 'Required value' });
  else out.push(...labelMapErrors('spec.podSelector.matchLabels', spec.podSelector.matchLabels));
  const types = spec.policyTypes ?? [];
  if (!Array.isArray(types) || types.some((t) => t !== 'Ingress' && t !== 'Egress')) {
    out.push({ field: 'spec.policyTypes', reason: 'FieldValueNotSupported', message: 'Unsupported value: supported values: "Ingress", "Egress"' });
  }
  for (const direction of ['ingress', 'egress'] as const) {
    const rules = spec[direction];
    if (rules === undefined) continue;
    if (!Array.isArray(rules)) {
      out.push({ field: `spec.${direction}`, reason: 'FieldValueInvalid', message: 'Invalid value: must be a list' });
      continue;
    }
    rules.forEach((rule: unknown, i) => {
      const at = `spec.${direction}[${i}]`;
      if (!isObject(rule)) return out.push({ field: at, reason: 'FieldValueInvalid', message: 'Invalid value: must be an object' });
      const peers = rule[direction === 'egress' ? 'to' : 'from'];
      (Array.isArray(peers) ? peers : []).forEach((peer: unknown, j) => {
        const pat = `${at}.${direction === 'egress' ? 'to' : 'from'}[${j}]`;
        if (!isObject(peer)) return out.push({ field: pat, reason: 'FieldValueInvalid', message: 'Invalid value: must be an object' });
        if (peer.ipBlock !== undefined && (peer.podSelector !== undefined || peer.namespaceSelector !== undefined)) {
          out.push({ field: pat, reason: 'FieldValueForbidden', message: 'Forbidden: may not specify both ipBlock and another peer' });
        }
        const block = peer.ipBlock;
        if (isObject(block)) {
          const cidr = cidrError(block.cidr);
          if (cidr) out.push({ field: `${pat}.ipBlock.cidr`, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(block.cidr)}: ${cidr}` });
          const except = block.except ?? [];
          (Array.isArray(except) ? except : [except]).forEach((e: unknown, k) => {
            const error = cidrError(e);
            if (error) out.push({ field: `${pat}.ipBlock.except[${k}]`, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(e)}: ${error}` });
            else if (cidr === null) {
              const [outer, outerBits] = ipaddr.parseCIDR(block.cidr as string);
              const [inner, innerBits] = ipaddr.parseCIDR(e as string);
              if (outer.kind() !== inner.kind() || innerBits <= outerBits || !inner.match(outer, outerBits)) {
                out.push({ field: `${pat}.ipBlock.except[${k}]`, reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(e)}: must be a strict subset of \`cidr\`` });
              }
            }
          });
        }
        if (peer.podSelector !== undefined) out.push(...labelMapErrors(`${pat}.podSelector.matchLabels`, (peer.podSelector as { matchLabels?: unknown })?.matchLabels));
        if (peer.namespaceSelector !== undefined) out.push(...labelMapErrors(`${pat}.namespaceSelector.matchLabels`, (peer.namespaceSelector as { matchLabels?: unknown })?.matchLabels));
      });
      (Array.isArray(rule.ports) ? rule.ports : []).forEach((port: unknown, j) => {
        const pat = `${at}.ports[${j}]`;
        if (!isObject(port)) return out.push({ field: pat, reason: 'FieldValueInvalid', message: 'Invalid value: must be an object' });
        if (port.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(port.protocol as string)) {
          out.push({ field: `${pat}.protocol`, reason: 'FieldValueNotSupported', message: 'Unsupported value: supported values: "SCTP", "TCP", "UDP"' });
        }
        if (typeof port.port === 'number' && !(Number.isInteger(port.port) && port.port >= 1 && port.port <= 65535)) {
          out.push({ field: `${pat}.port`, reason: 'FieldValueInvalid', message: 'Invalid value: must be between 1 and 65535, inclusive' });
        }
      });
      return undefined;
    });
  }
  return out;
}

function validate(type: ResourceType, obj: KubeObject): FieldError[] {
  const out: FieldError[] = [];
  const name = obj.metadata?.name;
  if (typeof name !== 'string' || name === '') out.push({ field: 'metadata.name', reason: 'FieldValueRequired', message: 'Required value: name or generateName is required' });
  else if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    out.push({ field: 'metadata.name', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'` });
  }
  out.push(...labelMapErrors('metadata.labels', obj.metadata?.labels));
  if (type.kind === 'NetworkPolicy') out.push(...networkPolicyErrors(obj.spec));
  if (type.kind === 'Node' && obj.spec?.unschedulable !== undefined && typeof obj.spec.unschedulable !== 'boolean') {
    out.push({ field: 'spec.unschedulable', reason: 'FieldValueInvalid', message: 'Invalid value: must be a boolean' });
  }
  return out;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortedJson(a)) === JSON.stringify(sortedJson(b));
}

function sortedJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedJson);
  if (!isObject(v)) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .filter((k) => v[k] !== undefined)
      .map((k) => [k, sortedJson(v[k])]),
  );
}

/** RFC 7386 JSON merge patch: objects merge, null deletes, anything else replaces. */
function mergePatch(target: unknown, patchValue: unknown): unknown {
  if (!isObject(patchValue)) return structuredClone(patchValue);
  const out: Record<string, unknown> = isObject(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patchValue)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** True when a strategic merge patch has no lists or $-directives, so it means what a merge patch means. */
function plainMergePatch(v: unknown): boolean {
  if (Array.isArray(v)) return false;
  if (!isObject(v)) return true;
  return Object.entries(v).every(([k, x]) => !k.startsWith('$') && plainMergePatch(x));
}

/**
 * The discovery documents kubectl reads to map "node", "pod" or
 * "networkpolicy" to a resource path (https://kubernetes.io/docs/reference/using-api/api-concepts/#discovery-api,
 * the unaggregated form): /api, /api/v1, /apis, /apis/GROUP/v1. They list
 * only what this emulator serves, with the verbs it answers.
 */
function discovery(path: string): unknown {
  const verbs = (t: ResourceType) => ['get', ...[...(WRITES[t.resource] ?? [])]];
  const resources = (group: string) =>
    RESOURCE_TYPES.filter((t) => t.group === group).map((t) => ({ name: t.resource, singularName: t.kind.toLowerCase(), namespaced: t.namespaced, kind: t.kind, verbs: verbs(t) }));
  const groups: string[] = [...new Set(RESOURCE_TYPES.map((t) => t.group).filter((g) => g !== ''))];
  // kubectl asks the server's version first (it only warns when the answer is missing).
  if (path === '/version') return { major: '1', minor: '32', gitVersion: 'v1.32.0-emulator', platform: 'linux/amd64' };
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] };
  if (path === '/api/v1') return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'v1', resources: resources('') };
  if (path === '/apis') {
    const version = (g: string) => ({ groupVersion: `${g}/v1`, version: 'v1' });
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((g) => ({ name: g, versions: [version(g)], preferredVersion: version(g) })) };
  }
  const m = /^\/apis\/([^/]+)\/v1$/.exec(path);
  if (m && groups.includes(m[1]!)) return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${m[1]}/v1`, resources: resources(m[1]!) };
  return null;
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

  function isDenied(r: Route, verb: string): boolean {
    return denyRules.some(
      (d) =>
        d.resource === r.type.resource &&
        (d.verb === undefined || d.verb === verb) &&
        (d.namespace === undefined || d.namespace === r.namespace) &&
        (d.name === undefined || d.name === r.name),
    );
  }

  function bearerOk(header: string | undefined): boolean {
    // The API server's bearer authenticator compares the scheme case-insensitively and the token exactly.
    const m = /^bearer\s+(\S+)\s*$/i.exec(header ?? '');
    return m !== null && m[1] === token;
  }

  type Answer = { status: number; body: unknown; raw?: string; headers?: Record<string, string> };

  function decide(req: IncomingMessage, path: string, entry: KubeRequestLogEntry, received: Received): Answer {
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
    const verb = VERB_OF_METHOD[req.method ?? ''];
    if (verb === 'get') {
      const listing = discovery(path);
      if (listing !== null) return { status: 200, body: listing };
    }
    const r = route(path);
    if (!r || verb === undefined) return { status: 404, body: statusBody(404, 'NotFound', 'the server could not find the requested resource', {}) };
    // Authorization runs before the resource's handler, so a denied verb is 403 whether or not the object exists.
    if (isDenied(r, verb)) {
      const scope = r.namespace === undefined ? 'at the cluster scope' : `in the namespace "${r.namespace}"`;
      const subject = r.name === undefined ? qualified(r.type) : `${qualified(r.type)} "${r.name}"`;
      const message = `${subject} is forbidden: User "${user}" cannot ${verb} resource "${r.type.resource}" in API group "${r.type.group}" ${scope}`;
      return { status: 403, body: statusBody(403, 'Forbidden', message, objectDetails(r.type, r.name ?? '')) };
    }
    const served = (r.name === undefined ? verb === 'create' : verb !== 'create') && (verb === 'get' || (WRITES[r.type.resource]?.has(verb) ?? false));
    if (!served) return { status: 405, body: statusBody(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource') };
    if (verb === 'create') return create(r, received);
    const key = storeKey(r.type, r.namespace, r.name!);
    const obj = objects.get(key);
    if (!obj) return notFound(r.type, r.name!);
    if (verb === 'get') return { status: 200, body: obj };
    if (verb === 'update') return replace(r, key, obj, received);
    if (verb === 'patch') return patch(r, key, obj, received);
    return remove(r, key, obj, received);
  }

  function notFound(type: ResourceType, name: string): Answer {
    return { status: 404, body: statusBody(404, 'NotFound', `${qualified(type)} "${name}" not found`, objectDetails(type, name)) };
  }

  /** The body as JSON, or the answer the API server gives for it (415 for a type it does not decode, 400 for bytes that are not JSON). */
  function jsonBody(received: Received, accepted: ReadonlySet<string>): { value: unknown } | { answer: Answer } {
    if (received.contentType === undefined || !accepted.has(received.contentType)) {
      const list = accepted.has('application/json') ? 'application/json, application/yaml, application/vnd.kubernetes.protobuf' : PATCH_TYPES.join(', ');
      const emulated = accepted.has('application/json') || !PATCH_TYPES.includes(received.contentType ?? '') ? '' : ' (the emulator applies only merge and strategic merge patches)';
      const message = `the body of the request was in an unknown format - accepted media types include: ${list}${emulated}`;
      return { answer: { status: 415, body: statusBody(415, 'UnsupportedMediaType', message) } };
    }
    if (received.parsed === undefined) {
      return { answer: { status: 400, body: statusBody(400, 'BadRequest', `the request body is not valid JSON: ${received.text.slice(0, 80)}`) } };
    }
    return { value: received.parsed };
  }

  function invalid(type: ResourceType, name: string, causes: FieldError[]): Answer {
    const text = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
    const message = `${type.kind}${type.group ? `.${type.group}` : ''} "${name}" is invalid: ${causes.length > 1 ? `[${text}]` : text}`;
    const details = { ...objectDetails(type, name), causes: causes.map((c) => ({ reason: c.reason, message: c.message, field: c.field })) };
    return { status: 422, body: statusBody(422, 'Invalid', message, details) };
  }

  function stamp(type: ResourceType, r: Route, value: KubeObject, previous: KubeObject | undefined): KubeObject {
    const stored = structuredClone(value);
    stored.apiVersion = type.group ? `${type.group}/v1` : 'v1';
    stored.kind = type.kind;
    stored.metadata.namespace = r.namespace;
    if (!type.namespaced) delete stored.metadata.namespace;
    stored.metadata.uid = previous?.metadata.uid ?? randomUUID();
    stored.metadata.creationTimestamp = previous?.metadata.creationTimestamp ?? rfc3339Seconds(now());
    stored.metadata.resourceVersion = String(++resourceVersion);
    // metadata.generation counts spec changes (API conventions, "Metadata").
    const generation = typeof previous?.metadata.generation === 'number' ? previous.metadata.generation : 0;
    stored.metadata.generation = previous !== undefined && sameJson(previous.spec, stored.spec) ? generation : generation + 1;
    return stored;
  }

  function create(r: Route, received: Received): Answer {
    const read = jsonBody(received, JSON_TYPES);
    if ('answer' in read) return read.answer;
    const body = read.value as KubeObject;
    const problem = objectShape(r.type, body, r.namespace);
    if (problem !== null) return problem;
    const name = body.metadata.name;
    const causes = validate(r.type, body);
    if (causes.length > 0) return invalid(r.type, name, causes);
    const key = storeKey(r.type, r.namespace, name);
    if (objects.has(key)) {
      return { status: 409, body: statusBody(409, 'AlreadyExists', `${qualified(r.type)} "${name}" already exists`, objectDetails(r.type, name)) };
    }
    if (body.metadata.resourceVersion !== undefined && body.metadata.resourceVersion !== '') {
      return invalid(r.type, name, [{ field: 'metadata.resourceVersion', reason: 'FieldValueInvalid', message: 'Invalid value: must be unspecified for a create' }]);
    }
    const stored = stamp(r.type, r, body, undefined);
    objects.set(key, stored);
    return { status: 201, body: stored };
  }

  /** PUT: optimistic concurrency on metadata.resourceVersion (API conventions, "Concurrency Control and Consistency"). */
  function replace(r: Route, key: string, current: KubeObject, received: Received): Answer {
    const read = jsonBody(received, JSON_TYPES);
    if ('answer' in read) return read.answer;
    const body = read.value as KubeObject;
    const problem = objectShape(r.type, body, r.namespace);
    if (problem !== null) return problem;
    if (body.metadata.name !== r.name) {
      return { status: 400, body: statusBody(400, 'BadRequest', `the name of the object (${body.metadata.name}) does not match the name on the URL (${r.name})`) };
    }
    const rv = body.metadata.resourceVersion;
    if (rv === undefined || rv === '') {
      return invalid(r.type, r.name, [{ field: 'metadata.resourceVersion', reason: 'FieldValueInvalid', message: 'Invalid value: 0x0: must be specified for an update' }]);
    }
    if (rv !== current.metadata.resourceVersion) {
      const message = `Operation cannot be fulfilled on ${qualified(r.type)} "${r.name}": the object has been modified; please apply your changes to the latest version and try again`;
      return { status: 409, body: statusBody(409, 'Conflict', message, objectDetails(r.type, r.name)) };
    }
    const causes = validate(r.type, body);
    if (causes.length > 0) return invalid(r.type, r.name, causes);
    const stored = stamp(r.type, r, body, current);
    objects.set(key, stored);
    return { status: 200, body: stored };
  }

  function patch(r: Route, key: string, current: KubeObject, received: Received): Answer {
    const read = jsonBody(received, APPLIED_PATCH_TYPES);
    if ('answer' in read) return read.answer;
    const p = read.value;
    if (typeof p !== 'object' || p === null || Array.isArray(p)) {
      return { status: 400, body: statusBody(400, 'BadRequest', 'error decoding patch: the patch is not a JSON object') };
    }
    if (received.contentType === 'application/strategic-merge-patch+json' && !plainMergePatch(p)) {
      const message = `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')} (the emulator applies strategic merge patches only without lists or $-directives)`;
      return { status: 415, body: statusBody(415, 'UnsupportedMediaType', message) };
    }
    // Without lists and directives a strategic merge patch merges as RFC 7386 does.
    const next = mergePatch(current, p) as KubeObject;
    const causes: FieldError[] = [];
    for (const field of ['name', 'namespace', 'uid', 'creationTimestamp'] as const) {
      if (next.metadata?.[field] !== current.metadata[field]) causes.push({ field: `metadata.${field}`, reason: 'FieldValueInvalid', message: 'Invalid value: field is immutable' });
    }
    if (r.type.kind === 'Pod' && !sameJson(next.spec, current.spec)) {
      causes.push({ field: 'spec', reason: 'FieldValueForbidden', message: 'Forbidden: pod updates may not change fields other than the ones the API allows (the emulator allows none)' });
    }
    causes.push(...validate(r.type, next));
    if (causes.length > 0) return invalid(r.type, r.name!, causes);
    // A patch that changes nothing is not a write: the API server keeps the resourceVersion.
    if (sameJson(next, current)) return { status: 200, body: current };
    const stored = stamp(r.type, r, next, current);
    objects.set(key, stored);
    return { status: 200, body: stored };
  }

  /** DELETE with optional DeleteOptions; preconditions.uid / resourceVersion mismatch is 409 Conflict. */
  function remove(r: Route, key: string, current: KubeObject, received: Received): Answer {
    let options: { preconditions?: { uid?: string; resourceVersion?: string } } = {};
    if (received.text !== '') {
      const read = jsonBody(received, JSON_TYPES);
      if ('answer' in read) return read.answer;
      options = (read.value ?? {}) as typeof options;
    }
    const pre = options.preconditions ?? {};
    if (pre.uid !== undefined && pre.uid !== current.metadata.uid) {
      const message = `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`;
      return { status: 409, body: statusBody(409, 'Conflict', message, objectDetails(r.type, r.name!)) };
    }
    if (pre.resourceVersion !== undefined && pre.resourceVersion !== current.metadata.resourceVersion) {
      const message = `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`;
      return { status: 409, body: statusBody(409, 'Conflict', message, objectDetails(r.type, r.name!)) };
    }
    objects.delete(key);
    // A pod's graceful delete answers 200 with the object marked for deletion; the emulator has no kubelet, so it is gone at once.
    const answered = structuredClone(current);
    answered.metadata.deletionTimestamp = rfc3339Seconds(now());
    return { status: 200, body: answered };
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'https://emulator').pathname;
    const entry: KubeRequestLogEntry = { method: req.method ?? '', path, authorized: false, status: null, clientAborted: false };
    log.push(entry);
    let timer: NodeJS.Timeout | undefined;
    // Listened for from the start: a client can go away while its body is still arriving.
    res.on('close', () => {
      if (!res.writableEnded) {
        entry.clientAborted = true;
        if (timer) {
          clearTimeout(timer);
          pendingTimers.delete(timer);
        }
      }
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received = receivedBody(Buffer.concat(chunks).toString('utf8'), req.headers['content-type']);
      if (received.text !== '') {
        entry.body = received.parsed === undefined ? received.text : received.parsed;
        if (received.contentType !== undefined) entry.contentType = received.contentType;
      }
      const answer = decide(req, path, entry, received);
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
      const delay = latencyFor(path);
      if (delay > 0) {
        timer = setTimeout(send, delay);
        pendingTimers.add(timer);
      } else {
        send();
      }
    });
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
