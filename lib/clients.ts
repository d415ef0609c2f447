/**
 * The one place Google and Kubernetes clients are constructed. Everything
 * else receives a client (or a narrow interface of one) as an argument, so
 * tests hand in the same real client pointed at a local emulator.
 *
 * Client modules are imported lazily: a cold instance pays for the SDKs it
 * actually uses, on the first event that needs them. They are imported by
 * their service module, not the package root: a root loads every API
 * version the package ships (four for Security Center, two for GKE, the
 * whole handwritten Logging library), which is most of a cold start
 * (README, Performance). The deployed bundle
 * (scripts/build-bundle.mjs) also trims each package's protos to the one
 * service loaded here, so a new service needs an entry there too.
 */
import type { v2 as sccV2 } from '@google-cloud/security-center';
import type { v1 as gkeV1 } from '@google-cloud/container';
import type { v2 as loggingV2 } from '@google-cloud/logging';
import type { AppsV1Api, BatchV1Api, CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import type { DisksClient, InstancesClient, ZoneOperationsClient } from '@google-cloud/compute/build/src/v1/index.js';
import type { Storage } from '@google-cloud/storage';
import { ConfigError } from './config.js';
import { Created, firstTriageStarted, inCreateOrder, untilConnected } from './create-order.js';
import { splitHostPort } from './endpoint.js';
import { retry, SCC_QUOTA_RETRY, type RetryPolicy } from './retry.js';

export type SccClient = InstanceType<typeof sccV2.SecurityCenterClient>;
export type GkeClient = InstanceType<typeof gkeV1.ClusterManagerClient>;
export type LoggingClient = InstanceType<typeof loggingV2.LoggingServiceV2Client>;

export interface KubeApis {
  core: CoreV1Api;
  apps: AppsV1Api;
  batch: BatchV1Api;
  /** The responder's block-c2 and isolate only (lib/respond/kube-actions.ts); the triage never writes to a cluster. */
  networking: NetworkingV1Api;
}

/** What the Kubernetes API of one cluster needs: from GKE getCluster. */
export interface KubeAccess {
  /** host or host:port, without scheme (GKE's `endpoint`). */
  endpoint: string;
  /**
   * base64 of the PEM CA certificate (GKE's masterAuth.clusterCaCertificate);
   * null for GKE's DNS-based endpoint, whose certificate is publicly trusted
   * (lib/gather/cluster.ts controlPlaneRoute): the system trust store applies.
   */
  caCertificate: string | null;
}

/** The emulators accept this token; the real clusters get a Google access token instead. */
export const EMULATOR_ACCESS_TOKEN = 'emulator-access-token';

export interface EmulatorHosts {
  sccEmulatorHost: string | null;
  gkeEmulatorHost: string | null;
  loggingEmulatorHost: string | null;
}

type GaxOptions = { apiEndpoint: string; port: number; sslCreds: unknown; universeDomain: string };

/** Options that point a gax client at a loopback emulator without credentials. */
export async function emulatorOptions(hostPort: string): Promise<GaxOptions> {
  const hp = splitHostPort(hostPort);
  if (!hp) throw new Error(`not a host:port: ${JSON.stringify(hostPort)}`);
  // The project's google-gax, also for Security Center, whose own (nested gax 5 from dist/; the bundle gives it this
  // one, scripts/build-bundle.mjs SHARED_GAX_PACKAGES) runs on the same @grpc/grpc-js: grpc-js accepts only
  // credentials made by its own copy (instanceof), which test/emulators' SCC tests would catch.
  const { grpc } = await import('google-gax');
  // An explicit universe domain stops google-auth-library from probing the metadata server (169.254.169.254) for one.
  return { apiEndpoint: hp.host, port: hp.port, sslCreds: grpc.credentials.createInsecure(), universeDomain: 'googleapis.com' };
}

// Every gax client takes these options; the cast is the one place their ClientOptions types meet.
async function gaxOptions(hostPort: string | null): Promise<Record<string, never>> {
  return (hostPort ? await emulatorOptions(hostPort) : {}) as Record<string, never>;
}

/**
 * Defined (true) by scripts/build-bundle.mjs in the deployed bundle only. The
 * Kubernetes client is needed the moment GetCluster answers, so the bundle
 * starts loading it while GetCluster is in flight. Not done when lib/ runs
 * from dist (tests, CLI), where nothing waits on it and a second of
 * background module loading would only disturb timing-sensitive tests.
 */
declare const SCC_TRIAGE_BUNDLE: boolean | undefined;

export interface SccClientOptions {
  /**
   * Wait out SCC's quota in the client (SCC_QUOTA_RETRY is what the
   * function needs). Off by default: the CLI has its own throttle, shared
   * by its workers and reported as it waits.
   */
  quotaBackoff?: RetryPolicy | null;
}

export function createSccClient(config: Pick<EmulatorHosts, 'sccEmulatorHost'>, options: SccClientOptions = {}): Promise<SccClient> {
  return inCreateOrder('scc', async () => {
    const { SecurityCenterClient } = await import('@google-cloud/security-center/build/src/v2/security_center_client.js');
    const client = new SecurityCenterClient(await gaxOptions(config.sccEmulatorHost));
    return options.quotaBackoff ? withSccQuotaBackoff(client, options.quotaBackoff) : client;
  });
}

// ---------------------------------------------------------------------------
// Security Center quota

/** The SCC calls the function makes; each waits out quota refusals (SCC_QUOTA_RETRY in lib/retry.ts). */
const QUOTA_BACKED_CALLS = ['listFindings', 'updateFinding', 'updateSecurityMarks', 'createFinding'] as const;

export function withSccQuotaBackoff<C extends object>(client: C, policy: RetryPolicy = SCC_QUOTA_RETRY): C {
  const methods = client as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of QUOTA_BACKED_CALLS) {
    const call = methods[name]?.bind(client);
    if (!call) continue;
    methods[name] = (...args: unknown[]) => {
      // Callback style is passed through untouched; the function uses promises.
      if (args.some((a) => typeof a === 'function')) return call(...args);
      return retry(() => call(...args) as Promise<unknown>, policy);
    };
  }
  return client;
}

export function createGkeClient(config: Pick<EmulatorHosts, 'gkeEmulatorHost'>): Promise<GkeClient> {
  const client = inCreateOrder('gke', async () => {
    const { ClusterManagerClient } = await import('@google-cloud/container/build/src/v1/cluster_manager_client.js');
    const created = new ClusterManagerClient(await gaxOptions(config.gkeEmulatorHost));
    // The stub now, so that GetCluster only has to connect; the next client is built once it has.
    const stub = (await created.initialize()) as unknown as { getChannel?: () => Parameters<typeof untilConnected>[0] };
    return new Created(created, stub.getChannel ? untilConnected(stub.getChannel(), GET_CLUSTER_CONNECT_WAIT_MS) : Promise.resolve());
  });
  if (typeof SCC_TRIAGE_BUNDLE !== 'undefined' && SCC_TRIAGE_BUNDLE) void kubeSdk().catch(() => undefined);
  return client;
}

/** Longest the next client waits for GetCluster's connection (a TLS handshake with container.googleapis.com). */
const GET_CLUSTER_CONNECT_WAIT_MS = 300;

export function createLoggingClient(config: Pick<EmulatorHosts, 'loggingEmulatorHost'>): Promise<LoggingClient> {
  return inCreateOrder('logging', async () => {
    // @google-cloud/logging's v2 is this very class (it re-exports @google-cloud/logging-api, on the project's google-gax).
    const { LoggingServiceV2Client } = await import('@google-cloud/logging-api/build/src/v2/logging_service_v2_client.js');
    return new LoggingServiceV2Client(await gaxOptions(config.loggingEmulatorHost)) as LoggingClient;
  });
}

/** A Google OAuth access token from Application Default Credentials (GKE accepts it as a bearer token). */
export function googleAccessTokenProvider(): () => Promise<string> {
  let auth: Promise<{ getAccessToken(): Promise<string | null | undefined> }> | null = null;
  return async () => {
    auth ??= import('google-auth-library').then(({ GoogleAuth }) => new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] }));
    const token = await (await auth).getAccessToken();
    if (!token) throw new Error('Application Default Credentials returned no access token');
    return token;
  };
}

/** The service account Application Default Credentials name, or null (user credentials name none, or there are none). */
export async function adcAccount(): Promise<string | null> {
  try {
    const { GoogleAuth } = await import('google-auth-library');
    return (await new GoogleAuth().getCredentials()).client_email ?? null;
  } catch {
    return null;
  }
}

/**
 * Kubernetes clients for one cluster, authenticated with a bearer token and
 * the cluster's own CA. A local kubeconfig is never read: the function must
 * not pick up whatever credentials happen to be on the machine.
 *
 * The clients of a cluster (endpoint, CA and token) are made once and reused.
 * client-node builds a new connection pool (undici Agent) for every request,
 * so each read paid a TLS handshake and left an idle socket behind; in a
 * burst of findings that was thousands of handshakes and sockets. Here a
 * cluster's requests share the pool of its first request.
 */
export function createKubeApis(access: KubeAccess, token: string): Promise<KubeApis> {
  const key = JSON.stringify([access.endpoint, access.caCertificate, token]);
  let apis = kubeApisByCluster.get(key);
  if (apis) {
    // Most recently used last, so the oldest is the first to go.
    kubeApisByCluster.delete(key);
  } else {
    apis = kubeSdk().then((sdk) => newKubeApis(sdk, access, token));
    apis.catch(() => {
      if (kubeApisByCluster.get(key) === apis) kubeApisByCluster.delete(key);
    });
  }
  kubeApisByCluster.set(key, apis);
  // Tokens expire hourly, so old entries pile up; idle pools close their sockets by themselves (keep-alive timeout).
  while (kubeApisByCluster.size > KUBE_APIS_MAX) kubeApisByCluster.delete(kubeApisByCluster.keys().next().value as string);
  return apis;
}

const KUBE_APIS_MAX = 64;
const kubeApisByCluster = new Map<string, Promise<KubeApis>>();

/** What is used of @kubernetes/client-node here; the bundle keeps little more (scripts/build-bundle.mjs). */
async function kubeModule() {
  const k8s = await import('@kubernetes/client-node');
  return { KubeConfig: k8s.KubeConfig, CoreV1Api: k8s.CoreV1Api, AppsV1Api: k8s.AppsV1Api, BatchV1Api: k8s.BatchV1Api, NetworkingV1Api: k8s.NetworkingV1Api };
}

type KubeSdk = Awaited<ReturnType<typeof kubeModule>>;
let kubeSdkLoaded: Promise<KubeSdk> | null = null;

/**
 * The first Kubernetes request (the node read, next on the chain once
 * GetCluster answers) has been handed to the HTTP client; see kubeSdk.
 */
let firstKubeRequest: () => void = () => undefined;
const firstKubeRequestMade = new Promise<void>((resolve) => (firstKubeRequest = resolve));

/** Longest the next client waits for the first Kubernetes request: GetCluster's latency plus a TLS handshake. */
const FIRST_KUBE_REQUEST_WAIT_MS = 400;

/**
 * Loaded once, in its turn; clients for a cluster are then made without
 * waiting for one. The next creation (Logging) waits for the first request:
 * built before, it and the two log queries it lets go stood between
 * GetCluster's answer and the node read.
 */
function kubeSdk(): Promise<KubeSdk> {
  kubeSdkLoaded ??= inCreateOrder('kube', async () => {
    const sdk = await kubeModule();
    let timer: NodeJS.Timeout | undefined;
    // Nor longer than until every gatherer has started: if GetCluster failed, no node read is coming.
    const waited = Promise.race([
      firstKubeRequestMade,
      firstTriageStarted(),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, FIRST_KUBE_REQUEST_WAIT_MS))),
    ]).finally(() => clearTimeout(timer));
    // Two more turns: undici connects and writes the request after it is handed over.
    return new Created(sdk, waited.then(() => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)))));
  }).catch((err: unknown) => {
    kubeSdkLoaded = null;
    throw err;
  });
  return kubeSdkLoaded;
}

function newKubeApis(sdk: KubeSdk, access: KubeAccess, token: string): KubeApis {
  type Base = InstanceType<typeof sdk.KubeConfig>;
  type RequestContext = Parameters<Base['applySecurityAuthentication']>[0];
  type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;
  class PooledKubeConfig extends sdk.KubeConfig {
    #dispatcher: Dispatcher | undefined;
    override async applySecurityAuthentication(context: RequestContext): Promise<void> {
      firstKubeRequest();
      await super.applySecurityAuthentication(context);
      this.#dispatcher ??= context.getDispatcher();
      if (this.#dispatcher) context.setDispatcher(this.#dispatcher);
    }
  }
  const kc = new PooledKubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'target', server: `https://${access.endpoint}`, ...(access.caCertificate === null ? {} : { caData: access.caCertificate }), skipTLSVerify: false }],
    users: [{ name: 'function', token }],
    contexts: [{ name: 'target', cluster: 'target', user: 'function' }],
    currentContext: 'target',
  });
  return {
    core: kc.makeApiClient(sdk.CoreV1Api),
    apps: kc.makeApiClient(sdk.AppsV1Api),
    batch: kc.makeApiClient(sdk.BatchV1Api),
    networking: kc.makeApiClient(sdk.NetworkingV1Api),
  };
}

// ---------------------------------------------------------------------------
// Essential Contacts

/**
 * @google-cloud/essential-contacts 1.1.1 (its only release) pins google-gax
 * 2.x, which brings its own @grpc/grpc-js. The client is handed the project's
 * grpc-js instead (gax's `grpc` option), so the instance runs one gRPC stack;
 * that also makes the emulator's insecure credentials acceptable, since
 * grpc-js checks credentials with instanceof against its own class. The
 * deployed bundle goes one step further and runs the client on the
 * project's google-gax (scripts/build-bundle.mjs).
 */
export type ContactsClient = InstanceType<(typeof import('@google-cloud/essential-contacts'))['v1']['EssentialContactsServiceClient']>;

export function createContactsClient(config: { contactsEmulatorHost: string | null }): Promise<ContactsClient> {
  return inCreateOrder('contacts', async () => {
    const [{ EssentialContactsServiceClient }, { grpc }] = await Promise.all([
      import('@google-cloud/essential-contacts/build/src/v1/essential_contacts_service_client.js'),
      import('google-gax'),
    ]);
    const options: Record<string, unknown> = { grpc };
    if (config.contactsEmulatorHost) {
      const hp = splitHostPort(config.contactsEmulatorHost);
      if (!hp) throw new Error(`not a host:port: ${JSON.stringify(config.contactsEmulatorHost)}`);
      // universeDomain as in emulatorOptions: no metadata-server probe for one.
      Object.assign(options, { apiEndpoint: hp.host, port: hp.port, sslCreds: grpc.credentials.createInsecure(), universeDomain: 'googleapis.com' });
    }
    return new EssentialContactsServiceClient(options as Record<string, never>);
  });
}

// ---------------------------------------------------------------------------
// Pub/Sub (fan-out of triage results; backfill --via-topic)

export type PubSubClient = InstanceType<(typeof import('@google-cloud/pubsub'))['PubSub']>;

/**
 * The Pub/Sub client would also read PUBSUB_EMULATOR_HOST from process.env by
 * itself; the endpoint is passed explicitly instead, so an env object handed
 * to createInstance() decides, as it does for every other client. projectId
 * is passed so the client never asks Application Default Credentials for one
 * (topic names used here are always fully qualified).
 */
export async function createPubSubClient(config: { pubsubEmulatorHost: string | null; projectId?: string | null }): Promise<PubSubClient> {
  const { PubSub } = await import('@google-cloud/pubsub');
  const projectId = config.projectId ?? undefined;
  if (!config.pubsubEmulatorHost) return new PubSub(projectId ? { projectId } : {});
  const hp = splitHostPort(config.pubsubEmulatorHost);
  if (!hp) throw new Error(`not a host:port: ${JSON.stringify(config.pubsubEmulatorHost)}`);
  // The client splits apiEndpoint on ':' to find the port, which an IPv6 literal defeats.
  if (hp.host.includes(':')) throw new Error(`the Pub/Sub client cannot reach an IPv6 emulator endpoint (${config.pubsubEmulatorHost}); use 127.0.0.1 or localhost`);
  const { grpc } = await import('google-gax');
  return new PubSub({
    apiEndpoint: `${hp.host}:${hp.port}`,
    emulatorMode: true,
    sslCreds: grpc.credentials.createInsecure(),
    projectId: projectId ?? 'emulator-project',
    // As in emulatorOptions: an explicit universe domain keeps google-auth-library off the metadata server.
    universeDomain: 'googleapis.com',
  });
}

// ---------------------------------------------------------------------------
// Compute Engine and Cloud Storage (the capture action, lib/respond/capture.ts)

/** The three Compute services the boot-disk snapshot uses. */
export interface ComputeClients {
  instances: InstancesClient;
  disks: DisksClient;
  zoneOperations: ZoneOperationsClient;
}

export type StorageClient = Storage;

/** No gatherer uses these APIs, so DISABLED_GATHERERS cannot stand in: emulated elsewhere, they must be emulated too. */
function requireEmulatorWhenEmulated(variable: string, host: string | null, emulated: boolean): void {
  if (emulated && host === null) {
    throw new ConfigError(variable, 'is unset while other emulators are set: a test or demo must never reach the real API; set it to the emulator');
  }
}

/**
 * @google-cloud/compute speaks only REST (HTTP/1.1 + JSON, gax's "fallback"
 * transport; the client turns it on by itself). Against the emulator it is
 * given plain http and an auth client that adds no credentials
 * (google-auth-library's PassThroughClient), so nothing probes for
 * Application Default Credentials or the metadata server. The service
 * modules are imported one by one: the package root loads ~130 clients.
 */
export async function createComputeClients(config: { computeEmulatorHost: string | null; emulated: boolean }): Promise<ComputeClients> {
  requireEmulatorWhenEmulated('COMPUTE_EMULATOR_HOST', config.computeEmulatorHost, config.emulated);
  const [{ InstancesClient }, { DisksClient }, { ZoneOperationsClient }] = await Promise.all([
    import('@google-cloud/compute/build/src/v1/instances_client.js'),
    import('@google-cloud/compute/build/src/v1/disks_client.js'),
    import('@google-cloud/compute/build/src/v1/zone_operations_client.js'),
  ]);
  let options: Record<string, unknown> = {};
  if (config.computeEmulatorHost !== null) {
    const hp = splitHostPort(config.computeEmulatorHost);
    if (!hp) throw new Error(`not a host:port: ${JSON.stringify(config.computeEmulatorHost)}`);
    const { PassThroughClient } = await import('google-auth-library');
    // gax's REST stub builds `${protocol}://${servicePath}:${port}`; an IPv6 literal needs its brackets there.
    const host = hp.host.includes(':') ? `[${hp.host}]` : hp.host;
    options = { apiEndpoint: host, port: hp.port, protocol: 'http', authClient: new PassThroughClient(), universeDomain: 'googleapis.com' };
  }
  // Each client keeps its own copy of the options object (gax mutates it).
  return {
    instances: new InstancesClient({ ...options } as Record<string, never>),
    disks: new DisksClient({ ...options } as Record<string, never>),
    zoneOperations: new ZoneOperationsClient({ ...options } as Record<string, never>),
  };
}

/**
 * The Cloud Storage client. Against the emulator: apiEndpoint http://HOST:PORT,
 * which the client treats as a custom endpoint and sends without credentials
 * (its `useAuthWithCustomEndpoint` stays false). The client would also read
 * STORAGE_EMULATOR_HOST from the process environment by itself, expecting a
 * URL, for its JSON-API base URL; the capture action only uploads, and the
 * upload URL is built from apiEndpoint alone (File#startSimpleUpload_), so
 * the env object handed to createInstance() decides, as for every client.
 */
export async function createStorageClient(config: { storageEmulatorHost: string | null; emulated: boolean }): Promise<StorageClient> {
  requireEmulatorWhenEmulated('STORAGE_EMULATOR_HOST', config.storageEmulatorHost, config.emulated);
  const { Storage } = await import('@google-cloud/storage');
  if (config.storageEmulatorHost === null) return new Storage();
  const hp = splitHostPort(config.storageEmulatorHost);
  if (!hp) throw new Error(`not a host:port: ${JSON.stringify(config.storageEmulatorHost)}`);
  const host = hp.host.includes(':') ? `[${hp.host}]` : hp.host;
  // A project id, so the client never asks Application Default Credentials for one.
  return new Storage({ apiEndpoint: `http://${host}:${hp.port}`, projectId: 'emulator-project', universeDomain: 'googleapis.com' });
}
