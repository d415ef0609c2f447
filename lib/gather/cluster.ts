/**
 * Playbook Step 2: the cluster the finding happened in, from GKE
 * ClusterManager.GetCluster. Besides the report section it yields the
 * endpoint and CA the Kubernetes gatherers need (`access`).
 *
 * The cluster's description changes rarely and is the same for every finding
 * on it, so it is memoized per instance; what depends on the finding (node
 * pool of the finding's node, console link) is derived on every call.
 */
import type { protos } from '@google-cloud/container';
import type { SocatFinding } from '../finding/types.js';
import type { GatherDeps } from './deps.js';
import type { GkeClient, KubeAccess } from '../clients.js';
import type { ClusterSection, ControlPlanePath, GatheredSections } from './sections.js';
import { untilAborted } from './abort.js';
import { DROPPED_CONNECTION_RETRY, retry } from '../retry.js';
import { GatherGap, type Gatherer } from './types.js';

/**
 * The fields of GetCluster's answer this gatherer reads. The types below let
 * it read no other (a compile error), and the deployed bundle keeps only
 * these in the GKE client's protos (scripts/build-bundle.mjs): a Cluster
 * reaches some 150 message types, parsed when the client is built and
 * compiled into decoders on the first answer, both on a cold instance's
 * longest chain. Fields not kept are skipped when the answer is decoded.
 */
export const FIELDS_READ = {
  'google.container.v1.Cluster': [
    'name',
    'location',
    'status',
    'currentMasterVersion',
    'resourceLabels',
    'network',
    'subnetwork',
    'networkConfig',
    'clusterIpv4Cidr',
    'servicesIpv4Cidr',
    'ipAllocationPolicy',
    'workloadIdentityConfig',
    'autopilot',
    'networkPolicy',
    'controlPlaneEndpointsConfig',
    'privateClusterConfig',
    'masterAuth',
    'endpoint',
    'loggingConfig',
    'loggingService',
    'nodePools',
  ],
  'google.container.v1.NodePool': ['name', 'instanceGroupUrls', 'updateInfo'],
} as const;

type NodePool = Pick<protos.google.container.v1.INodePool, (typeof FIELDS_READ)['google.container.v1.NodePool'][number]>;
export type Cluster = Omit<Pick<protos.google.container.v1.ICluster, (typeof FIELDS_READ)['google.container.v1.Cluster'][number]>, 'nodePools'> & {
  nodePools?: NodePool[] | null;
};

/**
 * Label keys that usually name who answers for a cluster. Matched anywhere in
 * the key, case-insensitively, with `-` and `_` treated alike (label keys
 * allow both: `on-call`, `on_call`, `oncall`; `cost-center`, `cost_center`).
 * `email` and `slack` catch keys like `owner-email` or `slack-channel`.
 */
export const OWNER_LABEL_WORDS = ['owner', 'team', 'contact', 'oncall', 'on-call', 'maintainer', 'email', 'slack', 'squad', 'cost-center'] as const;
const OWNER_LABEL = new RegExp(OWNER_LABEL_WORDS.map((w) => w.replace(/-/g, '[-_]')).join('|'), 'i');

/**
 * GetCluster is tried this many times when GKE answers UNAVAILABLE. The
 * client's own retry is off: it would retry until its total timeout (so a
 * persistent outage reads as "deadline reached" in the report) and recodes an
 * exhausted retry as DEADLINE_EXCEEDED. Only UNAVAILABLE is retried: an
 * attempt that timed out has already spent more than a triage can wait.
 */
export const GET_CLUSTER_ATTEMPTS = 3;
/** Per attempt. The shared deadline usually cuts a slow call off first; this bounds the call left running after that. */
export const GET_CLUSTER_ATTEMPT_TIMEOUT_MS = 10_000;

// Enum names for numeric values: the client library decodes enums as names,
// but ICluster also allows numbers. Checked against the protos in the tests.
export const CLUSTER_STATUS_NAMES: Readonly<Record<number, string>> = {
  1: 'PROVISIONING',
  2: 'RUNNING',
  3: 'RECONCILING',
  4: 'STOPPING',
  5: 'ERROR',
  6: 'DEGRADED',
};
export const LOGGING_COMPONENT_NAMES: Readonly<Record<number, string>> = {
  1: 'SYSTEM_COMPONENTS',
  2: 'WORKLOADS',
  3: 'APISERVER',
  4: 'SCHEDULER',
  5: 'CONTROLLER_MANAGER',
  7: 'KCP_SSHD',
  8: 'KCP_CONNECTION',
  9: 'KCP_HPA',
  10: 'KCP_VPA',
};
export const DATAPATH_PROVIDER_NAMES: Readonly<Record<number, string>> = { 1: 'LEGACY_DATAPATH', 2: 'ADVANCED_DATAPATH' };

// ---------------------------------------------------------------------------
// Pure helpers

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/** Enum name, or null for unset / *_UNSPECIFIED / unknown numbers. */
function enumName(v: unknown, names: Readonly<Record<number, string>>): string | null {
  if (typeof v === 'number') return names[v] ?? null;
  if (typeof v !== 'string' || v === '' || v.endsWith('_UNSPECIFIED')) return null;
  return v;
}

export function clusterResourceName(ref: { project: string; location: string; name: string }): string {
  return `projects/${ref.project}/locations/${ref.location}/clusters/${ref.name}`;
}

/** A zone has two dashes (us-central1-a), a region one (us-central1). */
export function locationTypeOf(location: string | null): ClusterSection['locationType'] {
  if (location === null) return null;
  const dashes = location.split('-').length - 1;
  if (dashes === 2) return 'zonal';
  if (dashes === 1) return 'regional';
  return null;
}

export function ownerLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([k]) => OWNER_LABEL.test(k)));
}

export function clusterConsoleUrl(project: string, location: string, name: string): string {
  const e = encodeURIComponent;
  return `https://console.cloud.google.com/kubernetes/clusters/details/${e(location)}/${e(name)}/details?project=${e(project)}`;
}

/**
 * Network policy enforcement is on when the Calico add-on enforces it
 * (networkPolicy.enabled) or the cluster runs GKE Dataplane V2
 * (networkConfig.datapathProvider ADVANCED_DATAPATH), which always enforces
 * NetworkPolicy and leaves networkPolicy unset. Autopilot always runs
 * Dataplane V2. Null when the response says nothing either way.
 */
export function networkPolicyEnforced(cluster: Cluster): boolean | null {
  const datapath = enumName(cluster.networkConfig?.datapathProvider, DATAPATH_PROVIDER_NAMES);
  if (datapath === 'ADVANCED_DATAPATH' || cluster.autopilot?.enabled === true || cluster.networkPolicy?.enabled === true) return true;
  if (cluster.networkPolicy || datapath === 'LEGACY_DATAPATH') return false;
  return null;
}

/**
 * Whether the control plane has no public IP endpoint. The current field
 * (controlPlaneEndpointsConfig.ipEndpointsConfig, proto3 optional, so present
 * only when GKE set it) wins over the deprecated privateClusterConfig mirror.
 */
export function privateEndpointOnly(cluster: Cluster): boolean | null {
  const ip = cluster.controlPlaneEndpointsConfig?.ipEndpointsConfig;
  if (ip?.enabled === false) return true;
  if (typeof ip?.enablePublicEndpoint === 'boolean') return !ip.enablePublicEndpoint;
  if (cluster.privateClusterConfig) return cluster.privateClusterConfig.enablePrivateEndpoint === true;
  return null;
}

/**
 * `endpoint` as GKE gives it. The proto defines enable_private_endpoint as
 * "the master's internal IP address is used as the cluster endpoint", so
 * `endpoint` already is the private address when the public one is off;
 * preferring privateEndpoint would change nothing then and would pick an
 * address the function may not reach (no VPC egress) when the public one is
 * on. privateEndpoint is only the fallback when `endpoint` is empty and the
 * public endpoint is off.
 */
function ipEndpoint(cluster: Cluster): string | null {
  const endpoint = str(cluster.endpoint);
  if (endpoint !== null || privateEndpointOnly(cluster) !== true) return endpoint;
  return str(cluster.controlPlaneEndpointsConfig?.ipEndpointsConfig?.privateEndpoint) ?? str(cluster.privateClusterConfig?.privateEndpoint);
}

export interface ControlPlaneRoute {
  path: ControlPlanePath | null;
  access: KubeAccess | null;
  /** Why no path works, naming the setting that would open one; null when there is a path. */
  unreachable: string | null;
}

/**
 * How the Kubernetes gatherers reach the control plane.
 *
 * The DNS-based endpoint first, when it takes user traffic
 * (ControlPlaneEndpointsConfig.DNSEndpointConfig in google/container/v1
 * cluster_service.proto: `endpoint` "is accessible from the public internet
 * ... the behavior may change according to the value of
 * allow_external_traffic", which "controls whether user traffic is allowed
 * over this endpoint"). It is reachable from anywhere Google APIs are, so a
 * private cluster needs no VPC egress; IAM checks container.clusters.connect
 * before the request reaches the API server (cloud.google.com/kubernetes-engine/docs/concepts/network-isolation,
 * "DNS-based endpoint"). Google's front end terminates TLS there with a
 * publicly trusted certificate, not one of the cluster CA: trusting only the
 * cluster CA fails with "unknown authority" (gke-labs/kube-agents issue 1797,
 * crossplane-contrib/provider-upjet-gcp issue 988), so the access carries no
 * CA and the system trust store applies.
 *
 * Otherwise the IP endpoint with the cluster CA: public, or private only,
 * which the function reaches only through VPC egress (terraform vpc_connector).
 */
export function controlPlaneRoute(cluster: Cluster): ControlPlaneRoute {
  const endpoints = cluster.controlPlaneEndpointsConfig;
  const dns = str(endpoints?.dnsEndpointConfig?.endpoint);
  const dnsOpen = dns !== null && endpoints?.dnsEndpointConfig?.allowExternalTraffic === true;
  if (dnsOpen) return { path: 'dns-endpoint', access: { endpoint: dns, caCertificate: null }, unreachable: null };
  const openDns = 'allow external traffic on its DNS endpoint (gcloud container clusters update CLUSTER --enable-dns-access)';
  if (endpoints?.ipEndpointsConfig?.enabled === false) {
    return { path: null, access: null, unreachable: `control plane unreachable: its IP endpoints are disabled and its DNS endpoint takes no external traffic; ${openDns}` };
  }
  const endpoint = ipEndpoint(cluster);
  const caCertificate = str(cluster.masterAuth?.clusterCaCertificate);
  // Some clusters without IP access report the DNS name as `endpoint`; the cluster CA does not sign it.
  if (endpoint === null || caCertificate === null || endpoint === dns) {
    return { path: null, access: null, unreachable: 'cluster endpoint unknown' };
  }
  const path = privateEndpointOnly(cluster) === true ? 'private-ip' : 'public-ip';
  return { path, access: { endpoint, caCertificate }, unreachable: null };
}

export function clusterAccess(cluster: Cluster): ClusterSection['access'] {
  return controlPlaneRoute(cluster).access;
}

/** Enabled logging components; [] when logging is off; null when unknown. */
export function loggingComponents(cluster: Cluster): string[] | null {
  const config = cluster.loggingConfig?.componentConfig;
  if (config) {
    return (config.enableComponents ?? []).map((c) => enumName(c, LOGGING_COMPONENT_NAMES)).filter((c): c is string => c !== null);
  }
  // Clusters without loggingConfig still say "none" here when logging is off.
  if (cluster.loggingService === 'none') return [];
  return null;
}

function lastSegment(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

// gke- for Standard, gk3- for Autopilot; then an 8-hex hash and a short random suffix.
const NODE_NAME = /^gk[e3]-(.+)-[0-9a-f]{8}-[a-z0-9]+$/;

/**
 * The node pool a GKE node (Compute Engine instance) belongs to. Strongest
 * evidence first: the pool's managed instance groups (gke-…-HASH-grp) hold
 * instances named gke-…-HASH-SUFFIX, which also tells apart pools whose names
 * are prefixes of each other. Otherwise the name pattern
 * gke-<cluster>-<pool>-<hash>-<suffix>; GKE shortens long cluster and pool
 * names there, so a unique prefix match on both is accepted too. Null when
 * nothing or more than one pool fits.
 */
export function nodePoolOfNode(node: string, clusterName: string, pools: readonly NodePool[]): string | null {
  let best: { pool: string; prefixLength: number } | null = null;
  for (const pool of pools) {
    const name = str(pool.name);
    if (name === null) continue;
    const blueGreen = pool.updateInfo?.blueGreenInfo;
    const urls = [...(pool.instanceGroupUrls ?? []), ...(blueGreen?.blueInstanceGroupUrls ?? []), ...(blueGreen?.greenInstanceGroupUrls ?? [])];
    for (const url of urls) {
      const prefix = `${lastSegment(url).replace(/-grp$/, '')}-`;
      if (node.startsWith(prefix) && (best === null || prefix.length > best.prefixLength)) best = { pool: name, prefixLength: prefix.length };
    }
  }
  if (best) return best.pool;

  const m = NODE_NAME.exec(node);
  if (!m) return null;
  const middle = m[1] as string;
  const names = pools.map((p) => str(p.name)).filter((n): n is string => n !== null);
  const exact = names.filter((p) => middle === `${clusterName}-${p}`);
  if (exact.length === 1) return exact[0] as string;
  if (exact.length > 1) return null;
  const shortened = new Set<string>();
  for (let i = middle.indexOf('-'); i > 0; i = middle.indexOf('-', i + 1)) {
    const clusterPart = middle.slice(0, i);
    const poolPart = middle.slice(i + 1);
    if (poolPart === '' || !clusterName.startsWith(clusterPart)) continue;
    for (const p of names) if (p.startsWith(poolPart)) shortened.add(p);
  }
  return shortened.size === 1 ? ([...shortened][0] as string) : null;
}

/**
 * The report section from a GetCluster response. Facts the response lacks
 * fall back to the finding's cluster reference (the same cluster, as the
 * finding named it); anything else missing stays null.
 */
export function clusterSection(cluster: Cluster, finding: SocatFinding): ClusterSection {
  const ref = finding.cluster;
  const location = str(cluster.location) ?? ref?.location ?? null;
  const name = str(cluster.name) ?? ref?.name ?? null;
  const labels: Record<string, string> = { ...(cluster.resourceLabels ?? {}) };
  const ipPolicy = cluster.ipAllocationPolicy;
  const node = finding.workload.node;
  const route = controlPlaneRoute(cluster);
  return {
    location,
    locationType: locationTypeOf(location) ?? ref?.locationType ?? null,
    status: enumName(cluster.status, CLUSTER_STATUS_NAMES),
    currentMasterVersion: str(cluster.currentMasterVersion),
    labels,
    ownerLabels: ownerLabels(labels),
    network: str(cluster.network) ?? str(cluster.networkConfig?.network),
    subnetwork: str(cluster.subnetwork) ?? str(cluster.networkConfig?.subnetwork),
    podCidr: str(cluster.clusterIpv4Cidr) ?? str(ipPolicy?.clusterIpv4CidrBlock),
    servicesCidr: str(cluster.servicesIpv4Cidr) ?? str(ipPolicy?.servicesIpv4CidrBlock),
    networkPolicyEnforced: networkPolicyEnforced(cluster),
    workloadIdentityPool: str(cluster.workloadIdentityConfig?.workloadPool),
    privateEndpoint: privateEndpointOnly(cluster),
    loggingComponents: loggingComponents(cluster),
    nodePool: node !== null && name !== null ? nodePoolOfNode(node, name, cluster.nodePools ?? []) : null,
    // The project as the finding named it: the console accepts an id or a number.
    consoleUrl: ref && location !== null && name !== null ? clusterConsoleUrl(ref.project, location, name) : null,
    controlPlanePath: route.path,
    controlPlaneUnreachable: route.unreachable,
    access: route.access,
  };
}

// ---------------------------------------------------------------------------
// The call

/** What the cache keeps: the response without credentials the gatherer never uses. */
function withoutSecrets(cluster: Cluster): Cluster {
  return { ...cluster, masterAuth: cluster.masterAuth ? { clusterCaCertificate: cluster.masterAuth.clusterCaCertificate ?? null } : null };
}

/**
 * Not tied to any one invocation's signal: the promise is shared through the
 * cache by concurrent triages of the same cluster, so one invocation hitting
 * its deadline must not fail the others. It is bounded by the attempt timeout
 * instead, and a late success still warms the cache for the next finding.
 */
async function loadCluster(deps: GatherDeps, name: string): Promise<Cluster> {
  return fetchCluster(await deps.gke(), name);
}

/**
 * GetCluster with the retries of a dropped connection, without the cluster's
 * secrets: the gatherer's read, and the responder's way to the control plane
 * (lib/respond/actions.ts). `signal` stops the waits between attempts.
 */
export async function fetchCluster(client: Pick<GkeClient, 'getCluster'>, name: string, signal?: AbortSignal): Promise<Cluster> {
  const [cluster] = await retry(
    () => client.getCluster({ name }, { timeout: GET_CLUSTER_ATTEMPT_TIMEOUT_MS, retry: null }),
    { ...DROPPED_CONNECTION_RETRY, attempts: GET_CLUSTER_ATTEMPTS },
    signal === undefined ? {} : { signal },
  );
  return withoutSecrets(cluster);
}

function abortedGap(signal: AbortSignal): GatherGap {
  const reason = signal.reason instanceof Error ? `: ${signal.reason.message}` : '';
  return new GatherGap(`stopped waiting for GetCluster${reason}`);
}

export const clusterGatherer: Gatherer<GatherDeps, GatheredSections, 'cluster'> = {
  section: 'cluster',
  description: 'GKE cluster details (location, version, labels and owners, network, policy, logging, node pool) and the control plane endpoint the Kubernetes gatherers use (DNS-based, public IP or private IP)',
  needs: [],
  api: 'container.googleapis.com ClusterManager.GetCluster',
  permissions: ['container.clusters.get'],
  enabledByDefault: true,
  missing(finding) {
    return finding.cluster === null ? "the finding's resource is not a GKE cluster" : null;
  },
  async gather(ctx) {
    const ref = ctx.finding.cluster;
    if (ref === null) throw new GatherGap("the finding's resource is not a GKE cluster");
    if (ctx.signal.aborted) throw abortedGap(ctx.signal);
    const name = clusterResourceName(ref);
    const cluster = await untilAborted(
      ctx.deps.cache.memo('cluster', name, () => loadCluster(ctx.deps, name)),
      ctx.signal,
      () => abortedGap(ctx.signal),
    );
    ctx.deps.evidence?.record('cluster.json', cluster);
    return clusterSection(cluster, ctx.finding);
  },
};
