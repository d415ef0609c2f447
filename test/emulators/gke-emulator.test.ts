/**
 * Drives the GKE emulator with the real v1.ClusterManagerClient, built the way
 * production builds it (createGkeClient), so every assertion is about what
 * the client library actually sends, receives and throws.
 */
import { createGkeClient, type GkeClient } from '../../lib/clients.js';
import { startGkeEmulator, type GkeEmulator } from './gke-emulator.js';
import { Status } from './grpc-harness.js';

let emulator: GkeEmulator;
let client: GkeClient;

beforeAll(async () => {
  emulator = await startGkeEmulator();
  client = await createGkeClient({ gkeEmulatorHost: emulator.endpoint });
});

afterAll(async () => {
  await client.close();
  await emulator.stop();
});

beforeEach(() => {
  emulator.reset();
});

interface RpcFailure {
  code: number;
  details?: string;
  message: string;
}

async function rejection(call: Promise<unknown>): Promise<RpcFailure> {
  const outcome = await call.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected the call to fail, it returned ${JSON.stringify(outcome.value).slice(0, 300)}`);
  return outcome.error as RpcFailure;
}

// retry: null so an injected UNAVAILABLE reaches the assertion instead of the client's retry loop.
const once = { retry: null };

function seedProd(): void {
  emulator.seedCluster(
    {
      name: 'prod-1',
      location: 'us-central1',
      endpoint: '203.0.113.10',
      masterAuth: { clusterCaCertificate: 'Q0E=' },
      resourceLabels: { team: 'payments' },
      status: 'RUNNING',
    },
    { project: 'demo-proj', projectNumber: '123456789012' },
  );
}

test('GetCluster by name returns the seeded cluster, with the output-only fields the API always fills', async () => {
  seedProd();
  const [cluster] = await client.getCluster({ name: 'projects/demo-proj/locations/us-central1/clusters/prod-1' });
  expect(cluster.name).toBe('prod-1');
  expect(cluster.endpoint).toBe('203.0.113.10');
  expect(cluster.masterAuth?.clusterCaCertificate).toBe('Q0E=');
  expect(cluster.resourceLabels).toEqual({ team: 'payments' });
  expect(cluster.status).toBe('RUNNING');
  expect(cluster.selfLink).toBe('https://container.googleapis.com/v1/projects/demo-proj/locations/us-central1/clusters/prod-1');
  expect(cluster.zone).toBe('us-central1');
});

test('a zonal cluster gets a zones/ selfLink', async () => {
  emulator.seedCluster({ name: 'edge', location: 'europe-west1-b' }, { project: 'other-proj' });
  const [cluster] = await client.getCluster({ name: 'projects/other-proj/locations/europe-west1-b/clusters/edge' });
  expect(cluster.selfLink).toBe('https://container.googleapis.com/v1/projects/other-proj/zones/europe-west1-b/clusters/edge');
});

test('the project number reaches the same cluster as the project id', async () => {
  seedProd();
  const [byNumber] = await client.getCluster({ name: 'projects/123456789012/locations/us-central1/clusters/prod-1' });
  expect(byNumber.name).toBe('prod-1');
  expect(byNumber.endpoint).toBe('203.0.113.10');
  expect(emulator.getCluster('123456789012', 'us-central1', 'prod-1')?.endpoint).toBe('203.0.113.10');
});

test('the deprecated project_id/zone/cluster_id fields address a cluster too', async () => {
  seedProd();
  const [cluster] = await client.getCluster({ projectId: 'demo-proj', zone: 'us-central1', clusterId: 'prod-1' });
  expect(cluster.name).toBe('prod-1');
  const err = await rejection(client.getCluster({ projectId: 'demo-proj', zone: 'us-central1' }, once));
  expect(err.code).toBe(Status.INVALID_ARGUMENT);
  expect(err.details).toMatch(/cluster_id/);
});

test('an unknown cluster is NOT_FOUND with the real message shape', async () => {
  seedProd();
  const err = await rejection(client.getCluster({ name: 'projects/demo-proj/locations/us-central1/clusters/gone' }, once));
  expect(err.code).toBe(Status.NOT_FOUND);
  expect(err.details).toBe('Not found: projects/demo-proj/locations/us-central1/clusters/gone.');
  const zonal = await rejection(client.getCluster({ projectId: 'demo-proj', zone: 'us-central1-a', clusterId: 'prod-1' }, once));
  expect(zonal.details).toBe('Not found: projects/demo-proj/zones/us-central1-a/clusters/prod-1.');
});

test.each([
  ['a malformed name', { name: 'projects/demo-proj/clusters/prod-1' }],
  ['a name with an empty segment', { name: 'projects//locations/us-central1/clusters/prod-1' }],
  ['an empty request', {}],
])('%s is INVALID_ARGUMENT', async (_label, request) => {
  const err = await rejection(client.getCluster(request, once));
  expect(err.code).toBe(Status.INVALID_ARGUMENT);
});

test('other RPCs answer UNIMPLEMENTED and are logged', async () => {
  const err = await rejection(client.listClusters({ parent: 'projects/demo-proj/locations/-' }, once));
  expect(err.code).toBe(Status.UNIMPLEMENTED);
  expect(emulator.requests('ListClusters')).toHaveLength(1);
});

test('the request log records the name and the routing header the client sends', async () => {
  seedProd();
  await client.getCluster({ name: 'projects/demo-proj/locations/us-central1/clusters/prod-1' });
  const [entry] = emulator.requests('GetCluster');
  expect(entry?.request.name).toBe('projects/demo-proj/locations/us-central1/clusters/prod-1');
  expect(entry?.code).toBe(Status.OK);
  expect(String(entry?.metadata['x-goog-request-params'])).toContain('name=projects%2Fdemo-proj%2Flocations%2Fus-central1%2Fclusters%2Fprod-1');
});

test('injected faults fail the next calls, then the cluster is served again', async () => {
  seedProd();
  emulator.injectFault('GetCluster', { code: Status.PERMISSION_DENIED, message: 'Required "container.clusters.get" permission(s)', times: 2 });
  const name = 'projects/demo-proj/locations/us-central1/clusters/prod-1';
  for (let i = 0; i < 2; i++) {
    const err = await rejection(client.getCluster({ name }, once));
    expect(err.code).toBe(Status.PERMISSION_DENIED);
  }
  const [cluster] = await client.getCluster({ name });
  expect(cluster.name).toBe('prod-1');
  expect(emulator.requests('GetCluster').map((e) => [e.code, e.injected])).toEqual([
    [Status.PERMISSION_DENIED, true],
    [Status.PERMISSION_DENIED, true],
    [Status.OK, false],
  ]);
});

test('latency past the client timeout ends the call with DEADLINE_EXCEEDED', async () => {
  seedProd();
  emulator.setLatency('GetCluster', 500);
  const err = await rejection(client.getCluster({ name: 'projects/demo-proj/locations/us-central1/clusters/prod-1' }, { timeout: 50, retry: null }));
  expect(err.code).toBe(Status.DEADLINE_EXCEEDED);
});

test('seeding rejects what is not a Cluster and replaces a cluster by its key', () => {
  expect(() => emulator.seedCluster({ name: 'x', location: 'us-central1', lables: {} } as object, { project: 'p' })).toThrow(/lables/);
  expect(() => emulator.seedCluster({ name: 'x' }, { project: 'p' })).toThrow(/location/);
  expect(() => emulator.seedCluster({ name: 'x', location: 'us-central1' })).toThrow(/project/);
  emulator.seedCluster({ name: 'x', location: 'us-central1', selfLink: 'https://container.googleapis.com/v1/projects/from-link/locations/us-central1/clusters/x' });
  expect(emulator.getCluster('from-link', 'us-central1', 'x')).toBeDefined();
  emulator.seedCluster({ name: 'x', location: 'us-central1', currentMasterVersion: '1.30.1-gke.1' }, { project: 'from-link' });
  expect(emulator.getCluster('from-link', 'us-central1', 'x')?.currentMasterVersion).toBe('1.30.1-gke.1');
  expect(emulator.removeCluster('from-link', 'us-central1', 'x')).toBe(true);
  expect(emulator.getCluster('from-link', 'us-central1', 'x')).toBeUndefined();
});
