/**
 * The namespace gatherer against the HTTPS Kubernetes emulator, through the
 * real @kubernetes/client-node built as production builds it
 * (createKubeApis). The cluster section comes from a stand-in gatherer that
 * only supplies the emulator's access.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createKubeApis, EMULATOR_ACCESS_TOKEN, type KubeAccess } from '../../lib/clients.js';
import { parseNotification } from '../../lib/finding/parse.js';
import type { SocatFinding } from '../../lib/finding/types.js';
import { createInstanceCache, noCache, type InstanceCache } from '../../lib/gather/cache.js';
import type { GatherDeps } from '../../lib/gather/deps.js';
import { namespaceGatherer } from '../../lib/gather/namespace.js';
import type { GatheredSections } from '../../lib/gather/sections.js';
import { runGatherers } from '../../lib/gather/runner.js';
import type { ClusterSection } from '../../lib/gather/sections.js';
import type { Gatherer } from '../../lib/gather/types.js';
import { startKubeEmulator, type KubeEmulator, type KubeObject, type KubeRequestLogEntry } from '../emulators/kube-emulator.js';
import { notificationFixture } from '../support/fixtures.js';
import { testGatherDeps } from '../support/gather-deps.js';

const finding = parseNotification(notificationFixture('socat-v2'));
const NS = 'shop';

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

function namespace(name: string, meta: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      creationTimestamp: '2026-01-12T09:30:00Z',
      labels: meta.labels ?? { 'kubernetes.io/metadata.name': name, team: 'checkout', 'cost-center': 'cc-4711' },
      annotations: meta.annotations ?? {
        'owner-email': 'checkout-team@shop.example',
        'slack-channel': '#checkout-oncall',
        'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop"}}',
      },
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

function deps(options: { cache?: InstanceCache } = {}): GatherDeps {
  return testGatherDeps({
    settings: { relatedWindowMinutes: 60, logWindowBeforeMinutes: 30, logWindowAfterMinutes: 10, logEntriesMax: 100, logPagesMax: 5, logExcerptEntries: 5, logLineMaxChars: 500 },
    now: () => new Date('2026-11-27T02:45:00Z'),
    ownSourceName: null,
    kube: (access: KubeAccess) => createKubeApis(access, EMULATOR_ACCESS_TOKEN),
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
  return runGatherers<GatherDeps, GatheredSections>([clusterFrom(access), namespaceGatherer], {
    finding: opts.finding ?? finding,
    deps: opts.deps ?? deps(),
    deadlineMs: opts.deadlineMs ?? 10_000,
  });
}

function namespaceReads(): KubeRequestLogEntry[] {
  return emulator.requestLog.filter((r) => r.path === `/api/v1/namespaces/${NS}`);
}

describe('namespaceGatherer', () => {
  it('declares what the README catalog and the IAM role are built from', () => {
    expect(namespaceGatherer).toMatchObject({
      section: 'namespace',
      needs: ['cluster'],
      api: 'Kubernetes API core/v1 namespaces get',
      permissions: ['container.namespaces.get', 'container.clusters.connect'],
      enabledByDefault: true,
    });
  });

  it("reads the finding's namespace through the real client over TLS: labels and annotations", async () => {
    emulator.seed(namespace(NS));
    const r = await run();
    expect(r.gaps).toEqual([]);
    expect(r.sections.namespace).toEqual({
      name: NS,
      labels: { 'kubernetes.io/metadata.name': NS, team: 'checkout', 'cost-center': 'cc-4711' },
      // last-applied-configuration repeats the object and is dropped.
      annotations: { 'owner-email': 'checkout-team@shop.example', 'slack-channel': '#checkout-oncall' },
    });
    expect(namespaceReads()).toEqual([{ method: 'GET', path: `/api/v1/namespaces/${NS}`, authorized: true, status: 200, clientAborted: false }]);
  });

  it('a namespace without labels or annotations gives empty maps, not a gap', async () => {
    emulator.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    const r = await run();
    expect(r.gaps).toEqual([]);
    expect(r.sections.namespace).toEqual({ name: NS, labels: {}, annotations: {} });
  });

  it('a namespace that is gone (404) is a gap', async () => {
    const r = await run();
    expect(r.sections.namespace).toBeUndefined();
    expect(r.gaps).toEqual([{ section: 'namespace', reason: `namespace ${NS} no longer exists` }]);
    expect(namespaceReads().map((e) => e.status)).toEqual([404]);
  });

  it('403 becomes a permission-denied gap with the server message', async () => {
    emulator.seed(namespace(NS));
    emulator.deny({ resource: 'namespaces' });
    const r = await run();
    expect(r.sections.namespace).toBeUndefined();
    expect(r.gaps).toEqual([
      {
        section: 'namespace',
        reason: `permission denied: namespaces "${NS}" is forbidden: User "scc-socat-triage@emulator.iam.gserviceaccount.com" cannot get resource "namespaces" in API group "" at the cluster scope`,
      },
    ]);
  });

  it('a finding without a namespace is a gap without a call', async () => {
    const r = await run({ finding: { ...finding, workload: { ...finding.workload, namespace: null } } });
    expect(r.gaps).toEqual([{ section: 'namespace', reason: 'the finding names no namespace' }]);
    expect(emulator.requestLog).toEqual([]);
  });

  it('without the cluster endpoint there is nothing to ask: a gap', async () => {
    const r = await run({ access: null });
    expect(r.gaps).toEqual([{ section: 'namespace', reason: 'cluster endpoint unknown' }]);
    expect(emulator.requestLog).toEqual([]);
  });

  it('the instance cache turns two gathers of one namespace into one read, and hands out copies', async () => {
    emulator.seed(namespace(NS));
    const cache = createInstanceCache({ maxEntries: 10, ttlSeconds: 600 });
    const first = await run({ deps: deps({ cache }) });
    (first.sections.namespace as { labels: Record<string, string> }).labels.team = 'changed by a consumer';
    const second = await run({ deps: deps({ cache }) });
    expect(second.sections.namespace?.labels.team).toBe('checkout');
    expect(namespaceReads()).toHaveLength(1);
  });

  it('slower than the deadline: the runner returns at the deadline with a gap', async () => {
    emulator.seed(namespace(NS));
    emulator.setLatency(20_000, '/namespaces/');
    const r = await run({ deadlineMs: 300 });
    expect(r.sections.namespace).toBeUndefined();
    expect(r.gaps).toEqual([{ section: 'namespace', reason: 'deadline of 300 ms reached' }]);
  });

  it('issued nothing but GET requests in this file', () => {
    expect(allRequests.length).toBeGreaterThan(5);
    expect(allRequests.filter((r) => r.method !== 'GET')).toEqual([]);
  });
});
