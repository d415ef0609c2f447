/**
 * The node gatherer against the HTTPS Kubernetes emulator, through the real
 * @kubernetes/client-node built as production builds it (createKubeApis):
 * real TLS verification against the emulator's test CA, real bearer auth,
 * real ApiExceptions. The cluster section comes from a tiny stand-in
 * gatherer that only supplies the emulator's access.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createKubeApis, EMULATOR_ACCESS_TOKEN, type KubeAccess } from '../../lib/clients.js';
import { parseNotification } from '../../lib/finding/parse.js';
import type { SocatFinding } from '../../lib/finding/types.js';
import { createInstanceCache, noCache, type InstanceCache } from '../../lib/gather/cache.js';
import type { GatherDeps } from '../../lib/gather/deps.js';
import { nodeGatherer } from '../../lib/gather/node.js';
import { runGatherers } from '../../lib/gather/runner.js';
import type { ClusterSection, GatheredSections } from '../../lib/gather/sections.js';
import type { Gatherer } from '../../lib/gather/types.js';
import { base64Pem, kubeTestCert, startKubeEmulator, type KubeEmulator, type KubeObject, type KubeRequestLogEntry } from '../emulators/kube-emulator.js';
import { notificationFixture } from '../support/fixtures.js';
import { testGatherDeps } from '../support/gather-deps.js';

const finding = parseNotification(notificationFixture('socat-v2'));
const NODE = 'gke-shop-prod-default-pool-3f2a9c1e-k8vz';

let emulator: KubeEmulator;
const allRequests: KubeRequestLogEntry[] = [];

beforeAll(async () => {
  emulator = await startKubeEmulator();
});

afterAll(async () => {
  await emulator.stop();
});

beforeEach(() => {
  emulator.reset();
});

afterEach(() => {
  allRequests.push(...emulator.requestLog);
});

function gkeNode(name: string, overrides: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      uid: '6c1f0d52-3a8e-4b71-9d0e-2f5a7c9e1b34',
      creationTimestamp: '2026-11-20T08:15:02Z',
      labels: overrides.labels ?? {
        'beta.kubernetes.io/arch': 'amd64',
        'cloud.google.com/gke-nodepool': 'default-pool',
        'cloud.google.com/gke-os-distribution': 'cos',
        'cloud.google.com/machine-family': 'e2',
        'kubernetes.io/hostname': name,
        'node.kubernetes.io/instance-type': 'e2-standard-4',
        'topology.kubernetes.io/region': 'us-central1',
        'topology.kubernetes.io/zone': 'us-central1-b',
      },
      annotations: overrides.annotations ?? {
        'container.googleapis.com/instance_id': '4817263541987654321',
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: { podCIDR: '10.4.1.0/24', providerID: `gce://shop-prod-4711/us-central1-b/${name}` },
    status: {
      addresses: [
        { type: 'InternalIP', address: '10.128.0.17' },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: {
        architecture: 'amd64',
        bootID: '0b6f6a9e-4c1d-4f0e-8f5b-1c2d3e4f5a6b',
        containerRuntimeVersion: 'containerd://1.7.24',
        kernelVersion: '6.6.56+',
        kubeProxyVersion: 'v1.31.5-gke.1023000',
        kubeletVersion: 'v1.31.5-gke.1023000',
        machineID: 'f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8',
        operatingSystem: 'linux',
        osImage: 'Container-Optimized OS from Google',
        systemUUID: 'f3e2d1c0-b9a8-f7e6-d5c4-b3a2f1e0d9c8',
      },
    },
  };
}

function deps(options: { cache?: InstanceCache; token?: string } = {}): GatherDeps {
  return testGatherDeps({
    settings: { relatedWindowMinutes: 60, logWindowBeforeMinutes: 30, logWindowAfterMinutes: 10, logEntriesMax: 100, logPagesMax: 5, logExcerptEntries: 5, logLineMaxChars: 500 },
    now: () => new Date('2026-11-26T18:10:00Z'),
    ownSourceName: null,
    kube: (access: KubeAccess) => createKubeApis(access, options.token ?? EMULATOR_ACCESS_TOKEN),
    cache: options.cache ?? noCache,
  });
}

/** Stands in for the cluster gatherer: the only thing the Kubernetes gatherers take from it is `access`. */
function clusterFrom(access: KubeAccess | null): Gatherer<GatherDeps, GatheredSections, 'cluster'> {
  const section: ClusterSection = {
    location: 'us-central1',
    locationType: 'regional',
    status: 'RUNNING',
    currentMasterVersion: '1.31.5-gke.1023000',
    labels: {},
    ownerLabels: {},
    network: null,
    subnetwork: null,
    podCidr: null,
    servicesCidr: null,
    networkPolicyEnforced: null,
    workloadIdentityPool: null,
    privateEndpoint: null,
    loggingComponents: null,
    nodePool: null,
    consoleUrl: null,
    controlPlanePath: access === null ? null : 'public-ip',
    controlPlaneUnreachable: access === null ? 'cluster endpoint unknown' : null,
    access,
  };
  return { section: 'cluster', description: 'test stand-in', needs: [], api: 'none', permissions: [], enabledByDefault: true, missing: () => null, gather: async () => section };
}

function run(opts: { access?: KubeAccess | null; deps?: GatherDeps; deadlineMs?: number; finding?: SocatFinding } = {}) {
  const access = opts.access === undefined ? emulator.access : opts.access;
  return runGatherers<GatherDeps, GatheredSections>([clusterFrom(access), nodeGatherer], {
    finding: opts.finding ?? finding,
    deps: opts.deps ?? deps(),
    deadlineMs: opts.deadlineMs ?? 10_000,
  });
}

function nodeReads(): KubeRequestLogEntry[] {
  return emulator.requestLog.filter((r) => r.path === `/api/v1/nodes/${NODE}`);
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

describe('nodeGatherer', () => {
  it('reads the node through the real client over TLS and fills every field', async () => {
    emulator.seed(gkeNode(NODE));
    const r = await run();
    expect(r.gaps).toEqual([]);
    expect(r.sections.node).toEqual({
      name: NODE,
      instanceId: '4817263541987654321',
      labels: gkeNode(NODE).metadata.labels,
      nodePool: 'default-pool',
      zone: 'us-central1-b',
      osImage: 'Container-Optimized OS from Google',
      kernelVersion: '6.6.56+',
      containerRuntime: 'containerd://1.7.24',
      createdAt: '2026-11-20T08:15:02Z',
      consoleUrl: `https://console.cloud.google.com/kubernetes/node/us-central1/shop-prod/${NODE}/summary?project=shop-prod-4711`,
    });
    expect(nodeReads()).toEqual([{ method: 'GET', path: `/api/v1/nodes/${NODE}`, authorized: true, status: 200, clientAborted: false }]);
  });

  it('falls back to the legacy zone label and reports absent facts as null', async () => {
    emulator.seed(gkeNode(NODE, { labels: { 'failure-domain.beta.kubernetes.io/zone': 'us-central1-c' }, annotations: {} }));
    const r = await run();
    expect(r.sections.node).toMatchObject({ instanceId: null, nodePool: null, zone: 'us-central1-c', labels: { 'failure-domain.beta.kubernetes.io/zone': 'us-central1-c' } });
  });

  it('URL-encodes the console link parts', async () => {
    const odd = { ...finding, cluster: { ...(finding.cluster as NonNullable<SocatFinding['cluster']>), name: 'shop prod/1' }, workload: { ...finding.workload, node: 'n#1' } };
    emulator.seed(gkeNode('n#1'));
    const r = await run({ finding: odd });
    expect(r.sections.node?.consoleUrl).toBe('https://console.cloud.google.com/kubernetes/node/us-central1/shop%20prod%2F1/n%231/summary?project=shop-prod-4711');
    expect(emulator.requestLog.map((e) => e.path)).toEqual(['/api/v1/nodes/n%231']);
  });

  it('a node that is gone (deleted or recycled) is a gap', async () => {
    const r = await run();
    expect(r.sections.node).toBeUndefined();
    expect(r.gaps).toEqual([{ section: 'node', reason: `node ${NODE} no longer exists (deleted or recycled)` }]);
  });

  it('403 becomes a permission-denied gap with the server message', async () => {
    emulator.seed(gkeNode(NODE));
    emulator.deny({ resource: 'nodes' });
    const r = await run();
    expect(r.gaps).toEqual([
      {
        section: 'node',
        reason: `permission denied: nodes "${NODE}" is forbidden: User "scc-socat-triage@emulator.iam.gserviceaccount.com" cannot get resource "nodes" in API group "" at the cluster scope`,
      },
    ]);
  });

  it('503 becomes a gap naming the status', async () => {
    emulator.seed(gkeNode(NODE));
    emulator.injectFault({ status: 503, message: 'the apiserver is shutting down' });
    const r = await run();
    expect(r.gaps).toEqual([{ section: 'node', reason: 'HTTP 503 ServiceUnavailable: the apiserver is shutting down' }]);
  });

  it('a wrong token is answered 401 and becomes a gap', async () => {
    emulator.seed(gkeNode(NODE));
    const r = await run({ deps: deps({ token: 'not-the-token' }) });
    expect(r.gaps).toEqual([{ section: 'node', reason: 'HTTP 401 Unauthorized: the cluster rejected the credentials' }]);
    expect(emulator.requestLog).toEqual([{ method: 'GET', path: `/api/v1/nodes/${NODE}`, authorized: false, status: 401, clientAborted: false }]);
  });

  it('a CA that did not sign the server certificate fails TLS before any request is made', async () => {
    emulator.seed(gkeNode(NODE));
    const r = await run({ access: { ...emulator.access, caCertificate: base64Pem(kubeTestCert('other-ca.crt')) } });
    expect(r.sections.node).toBeUndefined();
    expect(r.gaps).toHaveLength(1);
    expect(r.gaps[0]?.reason).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE: Kubernetes API unreachable: unable to verify the first certificate');
    expect(emulator.requestLog).toEqual([]);
  });

  it('without the cluster endpoint there is nothing to ask: a gap', async () => {
    const r = await run({ access: null });
    expect(r.gaps).toEqual([{ section: 'node', reason: 'cluster endpoint unknown' }]);
    expect(emulator.requestLog).toEqual([]);
  });

  it('a finding without a node is a gap without a call', async () => {
    const r = await run({ finding: { ...finding, workload: { ...finding.workload, node: null } } });
    expect(r.gaps).toEqual([{ section: 'node', reason: 'the finding names no node (VM_Instance_Name)' }]);
    expect(emulator.requestLog).toEqual([]);
  });

  it('the instance cache turns two gathers of one node, sequential or concurrent, into one read', async () => {
    emulator.seed(gkeNode(NODE));
    const cache = createInstanceCache({ maxEntries: 10, ttlSeconds: 600 });
    const first = await run({ deps: deps({ cache }) });
    const second = await run({ deps: deps({ cache }) });
    expect(second.sections.node).toEqual(first.sections.node);
    expect(nodeReads()).toHaveLength(1);

    emulator.clearRequestLog();
    const fresh = createInstanceCache({ maxEntries: 10, ttlSeconds: 600 });
    const [a, b] = await Promise.all([run({ deps: deps({ cache: fresh }) }), run({ deps: deps({ cache: fresh }) })]);
    expect(a.sections.node?.instanceId).toBe('4817263541987654321');
    expect(b.sections.node).toEqual(a.sections.node);
    expect(nodeReads()).toHaveLength(1);
  });

  it('a failed read is not cached: the next gather asks again', async () => {
    emulator.seed(gkeNode(NODE));
    emulator.injectFault({ status: 503 });
    const cache = createInstanceCache({ maxEntries: 10, ttlSeconds: 600 });
    expect((await run({ deps: deps({ cache }) })).sections.node).toBeUndefined();
    expect((await run({ deps: deps({ cache }) })).sections.node?.name).toBe(NODE);
    expect(nodeReads().map((e) => e.status)).toEqual([503, 200]);
  });

  it('slower than the deadline: the runner returns at the deadline with a gap, and the request is aborted', async () => {
    emulator.seed(gkeNode(NODE));
    emulator.setLatency(20_000, '/nodes/');
    const r = await run({ deadlineMs: 300 });
    expect(r.sections.node).toBeUndefined();
    expect(r.gaps).toEqual([{ section: 'node', reason: 'deadline of 300 ms reached' }]);
    // The runner came back while the emulator still held the response...
    expect(nodeReads()).toHaveLength(1);
    expect(nodeReads()[0]?.status).toBeNull();
    // ...and the deadline's signal reached the socket: the client hung up instead of waiting.
    await until(() => nodeReads()[0]?.clientAborted === true, 'the client to abort the node read');
  });

  it('issued nothing but GET requests in this file', () => {
    expect(allRequests.length).toBeGreaterThan(10);
    expect(allRequests.filter((r) => r.method !== 'GET')).toEqual([]);
  });
});
