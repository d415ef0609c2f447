/**
 * The one place Google and Kubernetes clients are constructed. Everything
 * else receives a client (or a narrow interface of one) as an argument, so
 * tests hand in the same real client pointed at a local emulator.
 *
 * Client modules are imported lazily: a cold instance pays for the SDKs it
 * actually uses, on the first event that needs them.
 */
import type { v2 as sccV2 } from '@google-cloud/security-center';
import type { v1 as gkeV1 } from '@google-cloud/container';
import type { v2 as loggingV2 } from '@google-cloud/logging';
import type { AppsV1Api, BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import { splitHostPort } from './endpoint.js';

export type SccClient = InstanceType<typeof sccV2.SecurityCenterClient>;
export type GkeClient = InstanceType<typeof gkeV1.ClusterManagerClient>;
export type LoggingClient = InstanceType<typeof loggingV2.LoggingServiceV2Client>;

export interface KubeApis {
  core: CoreV1Api;
  apps: AppsV1Api;
  batch: BatchV1Api;
}

/** What the Kubernetes API of one cluster needs: from GKE getCluster. */
export interface KubeAccess {
  /** host or host:port, without scheme (GKE's `endpoint`). */
  endpoint: string;
  /** base64 of the PEM CA certificate (GKE's masterAuth.clusterCaCertificate). */
  caCertificate: string;
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
  const { grpc } = await import('google-gax');
  // An explicit universe domain stops google-auth-library from probing the metadata server (169.254.169.254) for one.
  return { apiEndpoint: hp.host, port: hp.port, sslCreds: grpc.credentials.createInsecure(), universeDomain: 'googleapis.com' };
}

// Every gax client takes these options; the cast is the one place their ClientOptions types meet.
async function gaxOptions(hostPort: string | null): Promise<Record<string, never>> {
  return (hostPort ? await emulatorOptions(hostPort) : {}) as Record<string, never>;
}

export async function createSccClient(config: Pick<EmulatorHosts, 'sccEmulatorHost'>): Promise<SccClient> {
  const { v2 } = await import('@google-cloud/security-center');
  return new v2.SecurityCenterClient(await gaxOptions(config.sccEmulatorHost));
}

export async function createGkeClient(config: Pick<EmulatorHosts, 'gkeEmulatorHost'>): Promise<GkeClient> {
  const { v1 } = await import('@google-cloud/container');
  return new v1.ClusterManagerClient(await gaxOptions(config.gkeEmulatorHost));
}

export async function createLoggingClient(config: Pick<EmulatorHosts, 'loggingEmulatorHost'>): Promise<LoggingClient> {
  const { v2 } = await import('@google-cloud/logging');
  return new v2.LoggingServiceV2Client(await gaxOptions(config.loggingEmulatorHost));
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

/**
 * Kubernetes clients for one cluster, authenticated with a bearer token and
 * the cluster's own CA. A local kubeconfig is never read: the function must
 * not pick up whatever credentials happen to be on the machine.
 */
export async function createKubeApis(access: KubeAccess, token: string): Promise<KubeApis> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'target', server: `https://${access.endpoint}`, caData: access.caCertificate, skipTLSVerify: false }],
    users: [{ name: 'function', token }],
    contexts: [{ name: 'target', cluster: 'target', user: 'function' }],
    currentContext: 'target',
  });
  return { core: kc.makeApiClient(k8s.CoreV1Api), apps: kc.makeApiClient(k8s.AppsV1Api), batch: kc.makeApiClient(k8s.BatchV1Api) };
}
