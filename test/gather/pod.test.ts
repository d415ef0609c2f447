/**
 * The pod gatherer against the HTTPS Kubernetes emulator, through the real
 * @kubernetes/client-node (createKubeApis): owner chains, red flags, a pod
 * already gone, denials, faults and the deadline. The cluster section comes
 * from a tiny stand-in gatherer that only supplies the emulator's access.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createKubeApis, EMULATOR_ACCESS_TOKEN, type KubeAccess } from '../../lib/clients.js';
import { parseNotification } from '../../lib/finding/parse.js';
import type { SocatFinding } from '../../lib/finding/types.js';
import { noCache } from '../../lib/gather/cache.js';
import type { GatherDeps } from '../../lib/gather/deps.js';
import { nodeGatherer } from '../../lib/gather/node.js';
import { podGatherer } from '../../lib/gather/pod.js';
import { runGatherers } from '../../lib/gather/runner.js';
import type { ClusterSection, GatheredSections } from '../../lib/gather/sections.js';
import type { Gatherer } from '../../lib/gather/types.js';
import { startKubeEmulator, type KubeEmulator, type KubeObject, type KubeOwnerReference, type KubeRequestLogEntry } from '../emulators/kube-emulator.js';
import { notificationFixture } from '../support/fixtures.js';
import { testGatherDeps } from '../support/gather-deps.js';

const finding = parseNotification(notificationFixture('socat-v2'));
const NS = 'shop';
const POD = 'checkout-7d9fb6c5d4-x2lqp';
const NODE = 'gke-shop-prod-default-pool-3f2a9c1e-k8vz';
const DIGEST = 'us-docker.pkg.dev/shop-prod-4711/apps/checkout@sha256:5b0c7a4f2e1d3c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b';

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

function ownerRef(apiVersion: string, kind: string, name: string): KubeOwnerReference {
  return { apiVersion, kind, name, uid: `uid-${kind}-${name}`, controller: true, blockOwnerDeletion: true };
}

type Spec = Record<string, unknown>;

/** A checkout pod as a Deployment creates it on GKE, hardened (no red flags) unless `spec` says otherwise. */
function checkoutPod(opts: { name?: string; owner?: KubeOwnerReference | null; spec?: Spec } = {}): KubeObject {
  const name = opts.name ?? POD;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: NS,
      uid: '0f3c2b1a-9e8d-4c7b-a6f5-e4d3c2b1a098',
      creationTimestamp: '2026-11-26T18:02:38Z',
      labels: { app: 'checkout', 'pod-template-hash': '7d9fb6c5d4' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-26T18:02:00Z' },
      ownerReferences: opts.owner === null ? undefined : [opts.owner ?? ownerRef('apps/v1', 'ReplicaSet', 'checkout-7d9fb6c5d4')],
    },
    spec: {
      serviceAccountName: 'checkout',
      serviceAccount: 'checkout',
      nodeName: NODE,
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'checkout',
          image: 'us-docker.pkg.dev/shop-prod-4711/apps/checkout:1.14.2',
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        },
        { name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.24.1' },
      ],
      volumes: [{ name: 'tmp', emptyDir: {} }],
      ...opts.spec,
    },
    status: {
      phase: 'Running',
      podIP: '10.4.1.23',
      hostIP: '10.128.0.17',
      startTime: '2026-11-26T18:02:40Z',
      containerStatuses: [
        { name: 'checkout', image: 'us-docker.pkg.dev/shop-prod-4711/apps/checkout:1.14.2', imageID: DIGEST, ready: true, restartCount: 0, started: true, state: { running: { startedAt: '2026-11-26T18:02:44Z' } } },
        { name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.24.1', imageID: 'docker-pullable://docker.io/istio/proxyv2@sha256:1111111111111111111111111111111111111111111111111111111111111111', ready: false, restartCount: 3 },
      ],
    },
  };
}

function workload(kind: string, apiVersion: string, name: string, labels: Record<string, string>, owner?: KubeOwnerReference): KubeObject {
  return {
    apiVersion,
    kind,
    metadata: { name, namespace: NS, labels, creationTimestamp: '2026-11-01T09:00:00Z', ...(owner ? { ownerReferences: [owner] } : {}) },
    spec: {},
    status: {},
  };
}

function seedDeploymentChain(): void {
  emulator.seed(workload('ReplicaSet', 'apps/v1', 'checkout-7d9fb6c5d4', { app: 'checkout', 'pod-template-hash': '7d9fb6c5d4' }, ownerRef('apps/v1', 'Deployment', 'checkout')));
  emulator.seed(workload('Deployment', 'apps/v1', 'checkout', { app: 'checkout', team: 'payments', owner: 'payments-oncall' }));
}

function deps(): GatherDeps {
  return testGatherDeps({
    settings: { relatedWindowMinutes: 60, logWindowBeforeMinutes: 30, logWindowAfterMinutes: 10, logEntriesMax: 100, logPagesMax: 5, logExcerptEntries: 5, logLineMaxChars: 500 },
    now: () => new Date('2026-11-26T18:10:00Z'),
    ownSourceName: null,
    kube: (access: KubeAccess) => createKubeApis(access, EMULATOR_ACCESS_TOKEN),
    cache: noCache,
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

function run(opts: { finding?: SocatFinding; deadlineMs?: number; withNode?: boolean } = {}) {
  const gatherers: Gatherer<GatherDeps, GatheredSections>[] = [clusterFrom(emulator.access), podGatherer];
  if (opts.withNode) gatherers.push(nodeGatherer);
  return runGatherers<GatherDeps, GatheredSections>(gatherers, { finding: opts.finding ?? finding, deps: deps(), deadlineMs: opts.deadlineMs ?? 10_000 });
}

function withPod(name: string): SocatFinding {
  return { ...finding, workload: { ...finding.workload, pod: name } };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

describe('podGatherer', () => {
  it('reads the pod and its Deployment chain through the real client and fills every field', async () => {
    emulator.seed(checkoutPod());
    seedDeploymentChain();
    const r = await run();
    expect(r.gaps).toEqual([]);
    expect(r.sections.pod).toEqual({
      source: 'kubernetes',
      namespace: NS,
      name: POD,
      phase: 'Running',
      startTime: '2026-11-26T18:02:40Z',
      labels: { app: 'checkout', 'pod-template-hash': '7d9fb6c5d4' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-26T18:02:00Z' },
      serviceAccount: 'checkout',
      node: NODE,
      containers: [
        { name: 'checkout', image: 'us-docker.pkg.dev/shop-prod-4711/apps/checkout:1.14.2', imageDigest: DIGEST, restartCount: 0, ready: true },
        {
          name: 'istio-proxy',
          image: 'docker.io/istio/proxyv2:1.24.1',
          imageDigest: 'docker.io/istio/proxyv2@sha256:1111111111111111111111111111111111111111111111111111111111111111',
          restartCount: 3,
          ready: false,
        },
      ],
      redFlags: [],
      owners: [
        { kind: 'ReplicaSet', name: 'checkout-7d9fb6c5d4', labels: { app: 'checkout', 'pod-template-hash': '7d9fb6c5d4' } },
        { kind: 'Deployment', name: 'checkout', labels: { app: 'checkout', team: 'payments', owner: 'payments-oncall' } },
      ],
      consoleUrl: `https://console.cloud.google.com/kubernetes/pod/us-central1/shop-prod/${NS}/${POD}/details?project=shop-prod-4711`,
    });
    expect(emulator.requestLog.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
      `GET /api/v1/namespaces/${NS}/pods/${POD} 200`,
      `GET /apis/apps/v1/namespaces/${NS}/replicasets/checkout-7d9fb6c5d4 200`,
      `GET /apis/apps/v1/namespaces/${NS}/deployments/checkout 200`,
    ]);
  });

  it('walks Job → CronJob', async () => {
    emulator.seed(checkoutPod({ name: 'report-29001234-abcde', owner: ownerRef('batch/v1', 'Job', 'report-29001234') }));
    emulator.seed(workload('Job', 'batch/v1', 'report-29001234', { 'batch.kubernetes.io/job-name': 'report-29001234' }, ownerRef('batch/v1', 'CronJob', 'report')));
    emulator.seed(workload('CronJob', 'batch/v1', 'report', { app: 'report', team: 'finance' }));
    const r = await run({ finding: withPod('report-29001234-abcde') });
    expect(r.gaps).toEqual([]);
    expect(r.sections.pod?.owners).toEqual([
      { kind: 'Job', name: 'report-29001234', labels: { 'batch.kubernetes.io/job-name': 'report-29001234' } },
      { kind: 'CronJob', name: 'report', labels: { app: 'report', team: 'finance' } },
    ]);
  });

  it.each([
    ['StatefulSet', 'apps/v1', 'cart-redis', '/apis/apps/v1/namespaces/shop/statefulsets/cart-redis'],
    ['DaemonSet', 'apps/v1', 'node-agent', '/apis/apps/v1/namespaces/shop/daemonsets/node-agent'],
  ])('reads a %s owner', async (kind, apiVersion, name, path) => {
    emulator.seed(checkoutPod({ name: `${name}-0`, owner: ownerRef(apiVersion, kind, name) }));
    emulator.seed(workload(kind, apiVersion, name, { app: name }));
    const r = await run({ finding: withPod(`${name}-0`) });
    expect(r.gaps).toEqual([]);
    expect(r.sections.pod?.owners).toEqual([{ kind, name, labels: { app: name } }]);
    expect(emulator.requestLog.map((e) => e.path)).toContain(path);
  });

  it('a bare pod has no owners', async () => {
    emulator.seed(checkoutPod({ owner: null }));
    const r = await run();
    expect(r.gaps).toEqual([]);
    expect(r.sections.pod?.owners).toEqual([]);
  });

  it('an owner it may not read ends the chain with what the reference says, and a gap', async () => {
    emulator.seed(checkoutPod());
    seedDeploymentChain();
    emulator.deny({ resource: 'replicasets', namespace: NS });
    const r = await run();
    expect(r.sections.pod?.source).toBe('kubernetes');
    expect(r.sections.pod?.owners).toEqual([{ kind: 'ReplicaSet', name: 'checkout-7d9fb6c5d4', labels: {} }]);
    expect(r.gaps).toEqual([
      {
        section: 'pod',
        reason:
          'owner ReplicaSet shop/checkout-7d9fb6c5d4 could not be read: permission denied: replicasets.apps "checkout-7d9fb6c5d4" is forbidden: User "scc-socat-triage@emulator.iam.gserviceaccount.com" cannot get resource "replicasets" in API group "apps" in the namespace "shop"',
      },
    ]);
  });

  it('an owner that is gone ends the chain with what the reference says, and a gap', async () => {
    emulator.seed(checkoutPod());
    seedDeploymentChain();
    emulator.remove('Deployment', 'checkout', NS);
    const r = await run();
    expect(r.sections.pod?.owners).toEqual([
      { kind: 'ReplicaSet', name: 'checkout-7d9fb6c5d4', labels: { app: 'checkout', 'pod-template-hash': '7d9fb6c5d4' } },
      { kind: 'Deployment', name: 'checkout', labels: {} },
    ]);
    expect(r.gaps).toEqual([{ section: 'pod', reason: 'owner Deployment shop/checkout could not be read: not found (deleted?): deployments.apps "checkout" not found' }]);
  });

  it('an owner of a kind it does not read (a custom resource) ends the chain with a gap; a Node owner (static pod) without one', async () => {
    emulator.seed(checkoutPod({ owner: ownerRef('argoproj.io/v1alpha1', 'Rollout', 'checkout') }));
    emulator.seed(checkoutPod({ name: `kube-proxy-${NODE}`, owner: ownerRef('v1', 'Node', NODE) }));
    const rollout = await run();
    expect(rollout.sections.pod?.owners).toEqual([{ kind: 'Rollout', name: 'checkout', labels: {} }]);
    expect(rollout.gaps).toEqual([{ section: 'pod', reason: 'owner Rollout shop/checkout (argoproj.io/v1alpha1) is not a kind this gatherer reads; the owner chain ends there' }]);
    const mirror = await run({ finding: withPod(`kube-proxy-${NODE}`) });
    expect(mirror.sections.pod?.owners).toEqual([{ kind: 'Node', name: NODE, labels: {} }]);
    expect(mirror.gaps).toEqual([]);
  });

  const tokenVolume = {
    name: 'kube-api-access-7xk2p',
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
  const app = (securityContext?: Record<string, unknown>) => ({ name: 'app', image: 'registry.example/app:1', ...(securityContext ? { securityContext } : {}) });
  const nonRoot = { runAsNonRoot: true, runAsUser: 10001 };
  let flagPods = 0;

  it.each<[string, Spec, string[]]>([
    ['a hardened pod', { securityContext: nonRoot, containers: [app()] }, []],
    ['a privileged container', { securityContext: nonRoot, containers: [app({ privileged: true })] }, ['privileged container app']],
    ['host namespaces', { hostPID: true, hostNetwork: true, hostIPC: true, securityContext: nonRoot, containers: [app()] }, ['hostPID', 'hostNetwork', 'hostIPC']],
    ['runAsUser 0 on the pod', { securityContext: { runAsUser: 0 }, containers: [app()] }, ['container app runs as root (runAsUser 0)']],
    ['runAsUser 0 on the container overrides the pod', { securityContext: nonRoot, containers: [app({ runAsUser: 0 })] }, ['container app runs as root (runAsUser 0)']],
    ['a non-root user on the container overrides root on the pod', { securityContext: { runAsUser: 0 }, containers: [app({ runAsUser: 1000 })] }, []],
    ['no runAsNonRoot and no runAsUser', { containers: [app()] }, ['container app may run as root (no runAsNonRoot/runAsUser)']],
    ['runAsNonRoot false', { securityContext: { runAsNonRoot: false }, containers: [app()] }, ['container app may run as root (no runAsNonRoot/runAsUser)']],
    ['runAsNonRoot alone', { securityContext: { runAsNonRoot: true }, containers: [app()] }, []],
    ['allowPrivilegeEscalation true', { securityContext: nonRoot, containers: [app({ allowPrivilegeEscalation: true })] }, ['container app allows privilege escalation']],
    [
      'added capabilities, each named',
      { securityContext: nonRoot, containers: [app({ capabilities: { add: ['NET_ADMIN', 'SYS_PTRACE'], drop: ['ALL'] } })] },
      ['container app adds capability NET_ADMIN', 'container app adds capability SYS_PTRACE'],
    ],
    [
      'hostPath volumes, with their path',
      { securityContext: nonRoot, containers: [app()], volumes: [{ name: 'docker', hostPath: { path: '/var/run/docker.sock', type: 'Socket' } }, { name: 'tmp', emptyDir: {} }] },
      ['hostPath /var/run/docker.sock (volume docker)'],
    ],
    ['a mounted service account token', { serviceAccountName: 'checkout', securityContext: nonRoot, containers: [app()], volumes: [tokenVolume] }, ['service account token mounted (checkout)']],
    [
      'a privileged init container',
      { securityContext: nonRoot, initContainers: [{ name: 'setup', image: 'busybox:1.36', securityContext: { privileged: true } }], containers: [app()] },
      ['privileged init container setup'],
    ],
    [
      'an ephemeral (debug) container',
      { securityContext: nonRoot, containers: [app()], ephemeralContainers: [{ name: 'debugger-x7', image: 'busybox:1.36', securityContext: { runAsUser: 0 } }] },
      ['ephemeral container debugger-x7 (busybox:1.36) was added to the running pod', 'ephemeral container debugger-x7 runs as root (runAsUser 0)'],
    ],
    [
      'everything at once, in order',
      {
        hostPID: true,
        containers: [app({ privileged: true, runAsUser: 0, allowPrivilegeEscalation: true, capabilities: { add: ['SYS_ADMIN'] } })],
        volumes: [{ name: 'root', hostPath: { path: '/' } }, tokenVolume],
      },
      [
        'hostPID',
        'privileged container app',
        'container app runs as root (runAsUser 0)',
        'container app allows privilege escalation',
        'container app adds capability SYS_ADMIN',
        'hostPath / (volume root)',
        'service account token mounted (default)',
      ],
    ],
  ])('red flags: %s', async (_label, spec, expected) => {
    const name = `flags-${++flagPods}`;
    emulator.seed(checkoutPod({ name, owner: null, spec: { serviceAccountName: undefined, serviceAccount: undefined, securityContext: undefined, ...spec } }));
    const r = await run({ finding: withPod(name) });
    expect(r.gaps).toEqual([]);
    expect(r.sections.pod?.redFlags).toEqual(expected);
  });

  it('a pod already gone falls back to what the finding carries, with a gap', async () => {
    const r = await run();
    expect(r.sections.pod).toEqual({
      source: 'finding',
      namespace: NS,
      name: POD,
      phase: null,
      startTime: null,
      labels: {},
      annotations: {},
      serviceAccount: null,
      node: NODE,
      containers: [{ name: 'checkout', image: 'us-docker.pkg.dev/shop-prod-4711/apps/checkout:1.14.2', imageDigest: null, restartCount: null, ready: null }],
      redFlags: [],
      owners: [],
      consoleUrl: null,
    });
    expect(r.gaps).toEqual([{ section: 'pod', reason: `pod ${NS}/${POD} no longer exists; showing what the finding carries` }]);
  });

  it('403 on the pod is a permission-denied gap', async () => {
    emulator.seed(checkoutPod());
    emulator.deny({ resource: 'pods', namespace: NS, name: POD });
    const r = await run();
    expect(r.sections.pod).toBeUndefined();
    expect(r.gaps).toEqual([
      {
        section: 'pod',
        reason: `permission denied: pods "${POD}" is forbidden: User "scc-socat-triage@emulator.iam.gserviceaccount.com" cannot get resource "pods" in API group "" in the namespace "shop"`,
      },
    ]);
  });

  it.each([
    [503, 'HTTP 503 ServiceUnavailable: injected fault: ServiceUnavailable'],
    [429, 'HTTP 429 TooManyRequests: injected fault: TooManyRequests'],
  ])('%i on the pod is a gap naming the status', async (status, reason) => {
    emulator.seed(checkoutPod());
    emulator.injectFault({ status, match: '/pods/', retryAfterSeconds: 1 });
    const r = await run();
    expect(r.sections.pod).toBeUndefined();
    expect(r.gaps).toEqual([{ section: 'pod', reason }]);
  });

  it('an owner read slower than the deadline: the runner returns at the deadline, the node section gathered alongside is kept', async () => {
    emulator.seed(checkoutPod());
    seedDeploymentChain();
    emulator.seed({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: NODE, labels: { 'cloud.google.com/gke-nodepool': 'default-pool' }, annotations: { 'container.googleapis.com/instance_id': '4817263541987654321' } },
      status: { nodeInfo: { osImage: 'Container-Optimized OS from Google' } },
    });
    emulator.setLatency(20_000, '/replicasets/');
    const r = await run({ deadlineMs: 500, withNode: true });
    expect(r.sections.node?.instanceId).toBe('4817263541987654321');
    expect(r.sections.pod).toBeUndefined();
    expect(r.gaps).toEqual([{ section: 'pod', reason: 'deadline of 500 ms reached' }]);
    const rsRead = () => emulator.requestLog.find((e) => e.path.includes('/replicasets/'));
    expect(rsRead()?.status).toBeNull();
    await until(() => rsRead()?.clientAborted === true, 'the client to abort the ReplicaSet read');
    // Nothing after the deadline: the chain stopped at the aborted read.
    expect(emulator.requestLog.some((e) => e.path.includes('/deployments/'))).toBe(false);
  });

  it('a finding without namespace or pod name is a gap without a call', async () => {
    const r = await run({ finding: { ...finding, workload: { ...finding.workload, namespace: null } } });
    expect(r.gaps).toEqual([{ section: 'pod', reason: 'the finding names no pod (Pod_Namespace and Pod_Name)' }]);
    expect(emulator.requestLog).toEqual([]);
  });

  it('issued nothing but GET requests in this file', () => {
    expect(allRequests.length).toBeGreaterThan(20);
    expect(allRequests.filter((r) => r.method !== 'GET')).toEqual([]);
  });
});
