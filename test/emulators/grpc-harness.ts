/**
 * Generic pieces shared by the local gRPC emulators (SCC today; GKE
 * ClusterManager, Cloud Logging, Essential Contacts and Pub/Sub later).
 *
 * The emulators load the very .proto files the client packages ship, so the
 * wire format is the one the real client speaks, and they answer with real
 * gRPC statuses, so the client library raises the errors it raises in
 * production (GoogleError with a numeric `code`).
 *
 * No test-framework imports: the emulators also run stand-alone for the demo
 * and for benchmarks.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

export const Status = grpc.status;
export type StatusCode = grpc.status;

/** Thrown by handlers; becomes the call's gRPC status (code + details). */
export class RpcError extends Error {
  override name = 'RpcError';
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(`${grpc.status[code] ?? code}: ${details}`);
  }
}

export function invalidArgument(details: string): RpcError {
  return new RpcError(grpc.status.INVALID_ARGUMENT, details);
}

/** The project whose quota a call draws from: the caller's quota project (x-goog-user-project), else one shared default. */
export function quotaProject(metadata: Record<string, string | string[]>): string {
  const header = metadata['x-goog-user-project'];
  const project = Array.isArray(header) ? header[0] : header;
  return project && project !== '' ? project : 'default';
}

/**
 * A per-project rate quota as Google APIs enforce it: at most `limit` calls
 * in any `windowMs` (a sliding window; a call counts for windowMs after it was
 * accepted). A refused call does not count. Returns the check; it throws
 * RESOURCE_EXHAUSTED with the quota system's message, which clients recognise.
 */
export function rateQuota(options: { limit: number; windowMs: number; metric: string; service: string; clock?: () => number }): (project: string) => void {
  const { limit, windowMs, metric, service } = options;
  if (!(windowMs > 0)) throw new RangeError(`quota windowMs must be positive, got ${windowMs}`);
  if (!(Number.isInteger(limit) && limit >= 0)) throw new RangeError(`quota limits must be whole numbers, got ${limit}`);
  const clock = options.clock ?? (() => performance.now());
  const counters = new Map<string, { times: number[]; head: number }>();
  return (project) => {
    let counter = counters.get(project);
    if (!counter) counters.set(project, (counter = { times: [], head: 0 }));
    const now = clock();
    while (counter.head < counter.times.length && (counter.times[counter.head] as number) <= now - windowMs) counter.head++;
    if (counter.head > 1024 && counter.head * 2 > counter.times.length) {
      counter.times = counter.times.slice(counter.head);
      counter.head = 0;
    }
    if (counter.times.length - counter.head >= limit) {
      throw new RpcError(
        grpc.status.RESOURCE_EXHAUSTED,
        `Quota exceeded for quota metric '${metric}' and limit '${metric} per ${windowMs === 60_000 ? 'minute' : `${windowMs} ms`} per project' of service '${service}' for consumer '${project}'.`,
      );
    }
    counter.times.push(now);
  };
}

export function notFound(details: string): RpcError {
  return new RpcError(grpc.status.NOT_FOUND, details);
}

export function alreadyExists(details: string): RpcError {
  return new RpcError(grpc.status.ALREADY_EXISTS, details);
}

// ---------------------------------------------------------------------------
// Locating the protos a client package ships

// Resolution starts from this file, wherever tsc put it (test/ or dist/test/):
// Node's own lookup climbs to the project's node_modules either way.
const localRequire = createRequire(import.meta.url);

/**
 * Root directory of an installed package. Packages with an "exports" map may
 * refuse `pkg/package.json`, so fall back to resolving the main entry and
 * climbing to the package.json that carries the package's name.
 */
export function packageRoot(packageName: string, from: NodeJS.Require = localRequire): string {
  try {
    return path.dirname(from.resolve(`${packageName}/package.json`));
  } catch {
    let dir = path.dirname(from.resolve(packageName));
    for (;;) {
      const manifest = path.join(dir, 'package.json');
      if (existsSync(manifest)) {
        const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name;
        if (name === packageName) return dir;
      }
      const up = path.dirname(dir);
      if (up === dir) throw new Error(`cannot locate the root of package ${packageName}`);
      dir = up;
    }
  }
}

/**
 * Include directories for a Google client package's protos: its own
 * build/protos, then google-gax's (google/api, google/rpc, google/iam,
 * google/longrunning...). google-gax is resolved from the client package, so a
 * nested copy wins over a hoisted one, as it does for the client itself.
 */
export function clientProtoIncludeDirs(clientPackage: string): string[] {
  const root = packageRoot(clientPackage);
  const fromClient = createRequire(path.join(root, 'package.json'));
  const dirs = [path.join(root, 'build', 'protos'), path.join(packageRoot('google-gax', fromClient), 'build', 'protos')];
  for (const dir of dirs) {
    if (!existsSync(dir)) throw new Error(`proto directory missing: ${dir}`);
  }
  return dirs;
}

// ---------------------------------------------------------------------------
// Loading service definitions

/**
 * How messages look inside the emulators: camelCase keys as the Node client
 * uses, enums as their names, int64 as decimal strings, and only the fields
 * that were actually on the wire (defaults: false), so stored data is what
 * arrived and is returned as such.
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: false,
  arrays: false,
  objects: false,
  oneofs: false,
};

export interface FieldInfo {
  /** camelCase name, as in the JS objects. */
  name: string;
  repeated: boolean;
  /** Set for map<K, V> fields: the fully-qualified value type, or the scalar kind. */
  mapValueType: string | null;
  /** Fully-qualified message or enum type name; null for scalars. */
  typeName: string | null;
  kind: string;
}

interface DescriptorField {
  name: string;
  label: string;
  type: string;
  typeName: string;
}

interface DescriptorMessage {
  name: string;
  field: DescriptorField[];
  nestedType?: DescriptorMessage[];
  enumType?: Array<{ name: string }>;
  options?: { mapEntry?: boolean } | null;
}

export interface LoadedProtos {
  packageDefinition: protoLoader.PackageDefinition;
  /** Fully-qualified service name → grpc-js service definition. */
  service(fullName: string): grpc.ServiceDefinition;
  /** Fields of a message type (nested types included), for validating field-mask paths. */
  messageFields(fullName: string): Map<string, FieldInfo>;
  /** Encode then decode a top-level message type: normalizes a JS object exactly as the wire would. */
  roundTrip<T>(messageType: string, value: unknown): T;
}

export function loadProtos(protoFiles: string[], includeDirs: string[]): LoadedProtos {
  const packageDefinition = protoLoader.loadSync(protoFiles, { ...PROTO_LOADER_OPTIONS, includeDirs });
  const fieldCache = new Map<string, Map<string, FieldInfo>>();

  // proto-loader lists top-level types only; nested ones (Finding.State, map
  // entries) live inside their parent's descriptor.
  const messages = new Map<string, DescriptorMessage>();
  const enums = new Set<string>();
  function index(fullName: string, descriptor: DescriptorMessage): void {
    messages.set(fullName, descriptor);
    for (const nested of descriptor.nestedType ?? []) index(`${fullName}.${nested.name}`, nested);
    for (const e of descriptor.enumType ?? []) enums.add(`${fullName}.${e.name}`);
  }
  for (const [fullName, def] of Object.entries(packageDefinition)) {
    if (!('format' in def)) continue;
    if (def.format === 'Protocol Buffer 3 DescriptorProto') index(fullName, def.type as unknown as DescriptorMessage);
    else enums.add(fullName);
  }

  function messageEntry(fullName: string): protoLoader.MessageTypeDefinition<object, object> {
    const def = packageDefinition[fullName];
    if (!def || !('format' in def) || def.format !== 'Protocol Buffer 3 DescriptorProto') {
      throw new Error(`top-level message type ${fullName} not found in the loaded protos`);
    }
    return def as protoLoader.MessageTypeDefinition<object, object>;
  }

  function messageDescriptor(fullName: string): DescriptorMessage {
    const descriptor = messages.get(fullName);
    if (!descriptor) throw new Error(`message type ${fullName} not found in the loaded protos`);
    return descriptor;
  }

  // Descriptor type names are relative to the enclosing scope: resolve them
  // the way protoc does, innermost scope first.
  function resolveType(scope: string, relative: string): string {
    if (relative.startsWith('.')) return relative.slice(1);
    const parts = scope.split('.');
    for (let i = parts.length; i >= 0; i--) {
      const candidate = [...parts.slice(0, i), relative].join('.');
      if (messages.has(candidate) || enums.has(candidate)) return candidate;
    }
    throw new Error(`cannot resolve type ${relative} from ${scope}`);
  }

  function messageFields(fullName: string): Map<string, FieldInfo> {
    const cached = fieldCache.get(fullName);
    if (cached) return cached;
    const descriptor = messageDescriptor(fullName);
    const fields = new Map<string, FieldInfo>();
    for (const f of descriptor.field) {
      const typeName = f.typeName ? resolveType(fullName, f.typeName) : null;
      let mapValueType: string | null = null;
      if (typeName && f.label === 'LABEL_REPEATED' && f.type === 'TYPE_MESSAGE') {
        const entry = messageDescriptor(typeName);
        if (entry.options?.mapEntry) {
          const value = entry.field.find((x) => x.name === 'value');
          mapValueType = value?.typeName ? resolveType(typeName, value.typeName) : (value?.type ?? 'TYPE_STRING');
        }
      }
      fields.set(f.name, {
        name: f.name,
        repeated: f.label === 'LABEL_REPEATED' && mapValueType === null,
        mapValueType,
        typeName: mapValueType === null ? typeName : null,
        kind: f.type,
      });
    }
    fieldCache.set(fullName, fields);
    return fields;
  }

  return {
    packageDefinition,
    service(fullName) {
      const def = packageDefinition[fullName];
      if (!def || 'format' in def) throw new Error(`service ${fullName} not found in the loaded protos`);
      return def as grpc.ServiceDefinition;
    },
    messageFields,
    roundTrip<T>(messageType: string, value: unknown): T {
      const def = messageEntry(messageType);
      return def.deserialize(def.serialize(value as object)) as T;
    },
  };
}

/**
 * protobufjs's camelCase, which proto-loader applies to field names; used to
 * map snake_case field-mask paths onto the JS objects.
 */
export function protoCamelCase(snake: string): string {
  return snake.slice(0, 1) + snake.slice(1).replace(/_([a-z])(?=[a-z]|$)/g, (_m: string, c: string) => c.toUpperCase());
}

// ---------------------------------------------------------------------------
// The server

export interface CallContext {
  /** RPC name as in the proto, e.g. "CreateFinding". */
  method: string;
  service: string;
  metadata: Record<string, string | string[]>;
}

export type UnaryHandler = (request: any, ctx: CallContext) => unknown | Promise<unknown>;

export interface ServiceRegistration {
  definition: grpc.ServiceDefinition;
  /** Unary RPCs, keyed by RPC name. Unary methods without a handler answer UNIMPLEMENTED (and are logged). */
  handlers: Record<string, UnaryHandler>;
  /**
   * Streaming RPCs (Pub/Sub StreamingPull, Logging TailLogEntries), handed to
   * grpc-js as they are: no request log, latency or faults. Streaming methods
   * without one get grpc-js's own UNIMPLEMENTED.
   */
  streamingHandlers?: Record<string, grpc.UntypedHandleCall>;
}

export interface RequestLogEntry {
  service: string;
  method: string;
  request: any;
  metadata: Record<string, string | string[]>;
  /** Final gRPC status code of the call (0 = OK). */
  code: number;
  details?: string;
  /** Whether the status came from injectFault(). */
  injected: boolean;
  receivedAt: Date;
  durationMs: number;
}

export interface FaultSpec {
  code: grpc.status;
  message?: string;
  /** How many of the next calls fail; default 1. */
  times?: number;
}

export interface GrpcEmulatorOptions {
  services: ServiceRegistration[];
  /** Loopback by default: emulators take no credentials. */
  host?: string;
  port?: number;
}

interface ArmedFault {
  code: grpc.status;
  message: string;
  remaining: number;
}

function shortServiceName(fullName: string): string {
  return fullName.slice(fullName.lastIndexOf('.') + 1);
}

function metadataRecord(metadata: grpc.Metadata): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(metadata.getMap())) {
    out[key] = Buffer.isBuffer(value) ? value.toString('base64') : String(value);
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class GrpcEmulator {
  readonly requestLog: RequestLogEntry[] = [];
  private readonly latencies = new Map<string, number>();
  private readonly faults = new Map<string, ArmedFault[]>();
  private stopped = false;

  private constructor(
    private readonly server: grpc.Server,
    readonly host: string,
    readonly port: number,
  ) {}

  /** host:port for a client's apiEndpoint/port, e.g. "127.0.0.1:40123". */
  get endpoint(): string {
    return this.host.includes(':') ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
  }

  static async start(options: GrpcEmulatorOptions): Promise<GrpcEmulator> {
    const host = options.host ?? '127.0.0.1';
    const server = new grpc.Server();
    // Filled in once the port is known; handlers only run after that.
    let emulator: GrpcEmulator | null = null;
    for (const registration of options.services) {
      const implementation: grpc.UntypedServiceImplementation = { ...registration.streamingHandlers };
      for (const [rpcName, method] of Object.entries(registration.definition)) {
        if (method.requestStream || method.responseStream) continue;
        const serviceName = method.path.slice(1, method.path.lastIndexOf('/'));
        const handler = registration.handlers[rpcName];
        implementation[rpcName] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
          if (!emulator) {
            callback({ code: grpc.status.UNAVAILABLE, details: 'emulator starting' });
            return;
          }
          void emulator.dispatch(serviceName, rpcName, handler, call, callback);
        };
      }
      server.addService(registration.definition, implementation);
    }
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, boundPort) =>
        err ? reject(err) : resolve(boundPort),
      );
    });
    emulator = new GrpcEmulator(server, host, port);
    return emulator;
  }

  private takeFault(service: string, method: string): ArmedFault | null {
    for (const key of [`${shortServiceName(service)}/${method}`, method, '*']) {
      const queue = this.faults.get(key);
      const head = queue?.[0];
      if (!queue || !head) continue;
      head.remaining -= 1;
      if (head.remaining <= 0) queue.shift();
      if (queue.length === 0) this.faults.delete(key);
      return head;
    }
    return null;
  }

  private latencyFor(service: string, method: string): number {
    return this.latencies.get(`${shortServiceName(service)}/${method}`) ?? this.latencies.get(method) ?? this.latencies.get('*') ?? 0;
  }

  private async dispatch(
    service: string,
    method: string,
    handler: UnaryHandler | undefined,
    call: grpc.ServerUnaryCall<unknown, unknown>,
    callback: grpc.sendUnaryData<unknown>,
  ): Promise<void> {
    const receivedAt = new Date();
    const started = performance.now();
    const metadata = metadataRecord(call.metadata);
    const entry: RequestLogEntry = {
      service,
      method,
      request: structuredClone(call.request),
      metadata,
      code: grpc.status.OK,
      injected: false,
      receivedAt,
      durationMs: 0,
    };
    this.requestLog.push(entry);
    const finish = (code: grpc.status, details?: string, response?: unknown): void => {
      entry.code = code;
      if (details !== undefined) entry.details = details;
      entry.durationMs = performance.now() - started;
      if (code === grpc.status.OK) callback(null, response);
      else callback({ code, details: details ?? grpc.status[code] ?? 'error', metadata: new grpc.Metadata() });
    };

    const latency = this.latencyFor(service, method);
    if (latency > 0) await sleep(latency);
    // Latency models time before the server starts work: a call the client
    // has already abandoned (deadline, cancel) changes nothing.
    if (call.cancelled || this.stopped) {
      entry.code = grpc.status.CANCELLED;
      entry.details = 'cancelled by the client before the emulator handled it';
      entry.durationMs = performance.now() - started;
      return;
    }
    const fault = this.takeFault(service, method);
    if (fault) {
      entry.injected = true;
      finish(fault.code, fault.message);
      return;
    }
    if (!handler) {
      finish(grpc.status.UNIMPLEMENTED, `${method} is not implemented by the local emulator`);
      return;
    }
    try {
      const response = await handler(structuredClone(call.request), { method, service, metadata });
      finish(grpc.status.OK, undefined, response);
    } catch (err) {
      if (err instanceof RpcError) finish(err.code, err.details);
      else finish(grpc.status.INTERNAL, `emulator bug in ${method}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }

  /** Calls received, oldest first; `method` narrows to one RPC. */
  requests(method?: string): RequestLogEntry[] {
    return method === undefined ? [...this.requestLog] : this.requestLog.filter((e) => e.method === method || `${shortServiceName(e.service)}/${e.method}` === method);
  }

  clearRequestLog(): void {
    this.requestLog.length = 0;
  }

  /**
   * Delay every call of `method` ("CreateFinding", "SecurityCenter/CreateFinding"
   * or "*" for all) by `ms` before it is handled; 0 removes the delay.
   */
  setLatency(method: string, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`latency must be a non-negative number of ms, got ${ms}`);
    if (ms === 0) this.latencies.delete(method);
    else this.latencies.set(method, ms);
  }

  /** Fail the next `times` (default 1) calls of `method` with `code`. Faults queue in order. */
  injectFault(method: string, fault: FaultSpec): void {
    const times = fault.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new RangeError(`times must be a positive integer, got ${times}`);
    if (fault.code === grpc.status.OK) throw new RangeError('a fault needs a non-OK status code');
    const queue = this.faults.get(method) ?? [];
    queue.push({ code: fault.code, message: fault.message ?? `injected ${grpc.status[fault.code] ?? fault.code}`, remaining: times });
    this.faults.set(method, queue);
  }

  /** Faults still armed for `method` (calls left to fail). */
  pendingFaults(method: string): number {
    return (this.faults.get(method) ?? []).reduce((n, f) => n + f.remaining, 0);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  clearLatency(): void {
    this.latencies.clear();
  }

  /** Graceful shutdown, forced after `graceMs` so a stuck client cannot hang a test run. */
  async stop(graceMs = 1000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
