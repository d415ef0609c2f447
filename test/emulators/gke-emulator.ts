/**
 * A local GKE ClusterManager (google.container.v1) over real gRPC, for tests,
 * the demo and benchmarks. The real `v1.ClusterManagerClient` talks to it
 * unchanged (createGkeClient({gkeEmulatorHost: emulator.endpoint})).
 *
 * Only GetCluster is implemented; every other RPC answers UNIMPLEMENTED (and
 * is logged), so code that starts depending on another method fails loudly
 * here instead of silently in production.
 *
 * What it mirrors from the real API:
 * - clusters are addressed by `projects/P/locations/L/clusters/C`, or by the
 *   deprecated project_id/zone/cluster_id fields;
 * - P may be the project id or the project number (seed the number with
 *   `projectNumber`), both reach the same cluster;
 * - a malformed name is INVALID_ARGUMENT, an unknown cluster NOT_FOUND with
 *   the real message shape "Not found: projects/P/locations/L/clusters/C.".
 * Where Google documents nothing (the exact INVALID_ARGUMENT text, which of
 * `name` and the deprecated fields wins when both are sent) the emulator
 * picks a deterministic behaviour and says so in a comment.
 */
import type { protos } from '@google-cloud/container';
import { GrpcEmulator, clientProtoIncludeDirs, invalidArgument, loadProtos, notFound, type FaultSpec, type LoadedProtos, type RequestLogEntry } from './grpc-harness.js';

export type Cluster = protos.google.container.v1.ICluster;
export type { FaultSpec, RequestLogEntry } from './grpc-harness.js';

const PACKAGE = 'google.container.v1';
const SERVICE = `${PACKAGE}.ClusterManager`;
const CLUSTER_TYPE = `${PACKAGE}.Cluster`;

/** The RPCs this emulator implements; every other one answers UNIMPLEMENTED. */
export const IMPLEMENTED_RPCS = ['GetCluster'] as const;

type Obj = Record<string, any>;

let sharedProtos: LoadedProtos | null = null;

/** cluster_service.proto is large: parse it once per process. */
function gkeProtos(): LoadedProtos {
  sharedProtos ??= loadProtos(['google/container/v1/cluster_service.proto'], clientProtoIncludeDirs('@google-cloud/container'));
  return sharedProtos;
}

const CLUSTER_NAME = /^projects\/([^/]+)\/locations\/([^/]+)\/clusters\/([^/]+)$/;
// A zone has two dashes (us-central1-a), a region one (us-central1).
const ZONE = /^[a-z]+-[a-z]+\d+-[a-z]$/;

export interface GkeEmulatorOptions {
  /** Loopback by default. */
  host?: string;
  port?: number;
}

export interface SeedClusterOptions {
  /**
   * Project id the cluster lives in. Defaults to the project in the cluster's
   * selfLink, so a cluster captured from the real API seeds as it is.
   */
  project?: string;
  /** The project's number: GetCluster accepts it in place of the id, as the real API does. */
  projectNumber?: string;
}

export interface GkeEmulator {
  /** 127.0.0.1:PORT, for createGkeClient({gkeEmulatorHost}). */
  readonly endpoint: string;
  readonly port: number;

  /**
   * Stores a cluster (client object shape; `name` and `location` required),
   * replacing one with the same project, location and name. Output-only
   * fields the real API always returns and the seed lacks are filled in:
   * selfLink, zone (deprecated; equal to location) and status RUNNING.
   * Returns the stored cluster as GetCluster will return it.
   */
  seedCluster(cluster: Cluster, options?: SeedClusterOptions): Cluster;
  /** Deletes a cluster (under every alias); returns whether it existed. */
  removeCluster(project: string, location: string, name: string): boolean;
  /** The stored cluster (a copy), by project id or number. */
  getCluster(project: string, location: string, name: string): Cluster | undefined;

  /** Every call received, oldest first. */
  readonly requestLog: readonly RequestLogEntry[];
  requests(method?: string): RequestLogEntry[];
  clearRequestLog(): void;
  /** Delay calls of one RPC ("GetCluster") or of all ("*"); 0 removes it. */
  setLatency(method: string, ms: number): void;
  /** Fail the next N calls of an RPC with the given gRPC status. */
  injectFault(method: string, fault: FaultSpec): void;
  clearFaults(): void;
  /** Drops all clusters, log entries, faults and latencies. */
  reset(): void;
  stop(): Promise<void>;
}

function nonEmpty(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function key(project: string, location: string, name: string): string {
  return `${project}\u0000${location}\u0000${name}`;
}

function projectFromSelfLink(selfLink: unknown): string | null {
  const m = /\/projects\/([^/]+)\//.exec(typeof selfLink === 'string' ? selfLink : '');
  return m?.[1] ?? null;
}

interface ClusterRecord {
  cluster: Obj;
  /** Every project spelling (id, number) the cluster is stored under. */
  projects: string[];
  location: string;
  name: string;
}

export async function startGkeEmulator(options: GkeEmulatorOptions = {}): Promise<GkeEmulator> {
  const protoSet = gkeProtos();
  const knownFields = new Set([...protoSet.messageFields(CLUSTER_TYPE).values()].map((f) => f.name));
  const clusters = new Map<string, ClusterRecord>();

  /** Resolves the request to (project, location, cluster) plus the name used in error messages. */
  function target(request: Obj): { project: string; location: string; name: string; display: string } {
    const name = nonEmpty(request.name);
    // UNVERIFIED which wins when both forms are sent: `name` is the
    // documented one, so it does here and the deprecated fields are ignored.
    if (name !== null) {
      const m = CLUSTER_NAME.exec(name);
      if (!m) throw invalidArgument(`Invalid value for field "name": ${JSON.stringify(name)} does not match "projects/*/locations/*/clusters/*".`);
      const [, project, location, cluster] = m as unknown as [string, string, string, string];
      return { project, location, name: cluster, display: name };
    }
    const project = nonEmpty(request.projectId);
    const zone = nonEmpty(request.zone);
    const cluster = nonEmpty(request.clusterId);
    if (project === null && zone === null && cluster === null) {
      throw invalidArgument('Either "name" or all of "project_id", "zone" and "cluster_id" must be set.');
    }
    const missing = [
      ['project_id', project],
      ['zone', zone],
      ['cluster_id', cluster],
    ].filter(([, v]) => v === null);
    if (missing.length > 0) throw invalidArgument(`Missing ${missing.map(([f]) => `"${f}"`).join(', ')}: set "name" or all of the deprecated fields.`);
    return { project: project as string, location: zone as string, name: cluster as string, display: `projects/${project}/zones/${zone}/clusters/${cluster}` };
  }

  const server = await GrpcEmulator.start({
    host: options.host,
    port: options.port,
    services: [
      {
        definition: protoSet.service(SERVICE),
        handlers: {
          GetCluster(request: Obj) {
            const t = target(request);
            const record = clusters.get(key(t.project, t.location, t.name));
            if (!record) throw notFound(`Not found: ${t.display}.`);
            return structuredClone(record.cluster);
          },
        },
      },
    ],
  });

  function remove(project: string, location: string, name: string): boolean {
    const record = clusters.get(key(project, location, name));
    if (!record) return false;
    for (const p of record.projects) clusters.delete(key(p, record.location, record.name));
    return true;
  }

  return {
    endpoint: server.endpoint,
    port: server.port,
    seedCluster(cluster, seedOptions = {}) {
      const input = cluster as Obj;
      // A typo in a seed would otherwise vanish silently in the wire codec.
      const unknown = Object.keys(input).filter((k) => !knownFields.has(k));
      if (unknown.length > 0) throw new Error(`seedCluster: not fields of ${CLUSTER_TYPE}: ${unknown.join(', ')}`);
      const name = nonEmpty(input.name);
      const location = nonEmpty(input.location);
      if (name === null || location === null) throw new Error('seedCluster: a cluster needs a name and a location');
      const project = seedOptions.project ?? projectFromSelfLink(input.selfLink);
      if (project === null) throw new Error('seedCluster: give options.project or a selfLink naming the project');
      const collection = ZONE.test(location) ? 'zones' : 'locations';
      const stored = protoSet.roundTrip<Obj>(CLUSTER_TYPE, {
        selfLink: `https://container.googleapis.com/v1/projects/${project}/${collection}/${location}/clusters/${name}`,
        zone: location,
        status: 'RUNNING',
        ...input,
      });
      const projects = [project, ...(seedOptions.projectNumber === undefined ? [] : [seedOptions.projectNumber])];
      for (const p of projects) remove(p, location, name);
      const record: ClusterRecord = { cluster: stored, projects, location, name };
      for (const p of projects) clusters.set(key(p, location, name), record);
      return structuredClone(stored) as Cluster;
    },
    removeCluster: remove,
    getCluster(project, location, name) {
      const record = clusters.get(key(project, location, name));
      return record ? (structuredClone(record.cluster) as Cluster) : undefined;
    },
    get requestLog() {
      return server.requestLog;
    },
    requests: (method) => server.requests(method),
    clearRequestLog: () => server.clearRequestLog(),
    setLatency: (method, ms) => server.setLatency(method, ms),
    injectFault: (method, fault) => server.injectFault(method, fault),
    clearFaults: () => server.clearFaults(),
    reset() {
      clusters.clear();
      server.clearRequestLog();
      server.clearFaults();
      server.clearLatency();
    },
    stop: () => server.stop(),
  };
}
