/**
 * Node logs as GKE writes them, through the real LoggingServiceV2Client
 * against the Logging emulator: journald entries of the node's Kubernetes
 * components (resource type k8s_node, jsonPayload with upper-case MESSAGE)
 * and the nodeK8sLogs gatherer that reads them by node name.
 *
 * Entry shapes follow public samples of GKE node entries: the journald field
 * set (MESSAGE, SYSLOG_IDENTIFIER, _SYSTEMD_UNIT, _PID, _COMM, _EXE, PRIORITY,
 * ...) and the k8s_node labels (project_id, location, cluster_name, node_name)
 * as in SEKOIA-IO/documentation's GKE samples ("gke_container_runtime2.json",
 * _shared_content/operations_center/integrations/generated/00bbde4f-cb17-4c3f-9f5e-a585fc7c8fc0.md),
 * where such an entry carries no severity; the log ids kubelet and
 * container-runtime are the ones GKE's logging docs name for node components
 * (https://cloud.google.com/kubernetes-engine/docs/how-to/view-logs). Values are our own.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { createLoggingClient, type LoggingClient } from '../../lib/clients.js';
import { parseNotification } from '../../lib/finding/parse.js';
import type { SocatFinding } from '../../lib/finding/types.js';
import { noCache } from '../../lib/gather/cache.js';
import type { GatherDeps, GatherSettings } from '../../lib/gather/deps.js';
import { decodeEntry, jsonPayloadText } from '../../lib/gather/log-query.js';
import { nodeK8sLogs, nodeLogs } from '../../lib/gather/logs.js';
import { GATHERERS } from '../../lib/gather/registry.js';
import { runGatherers } from '../../lib/gather/runner.js';
import type { GatheredSections } from '../../lib/gather/sections.js';
import type { GatherContext } from '../../lib/gather/types.js';
import { startLoggingEmulator, type LoggingEmulator, type SeedLogEntry } from '../emulators/logging-emulator.js';
import { notificationFixture } from '../support/fixtures.js';
import { testGatherDeps } from '../support/gather-deps.js';

const SETTINGS: GatherSettings = {
  relatedWindowMinutes: 60,
  logWindowBeforeMinutes: 30,
  logWindowAfterMinutes: 15,
  logEntriesMax: 50,
  logPagesMax: 5,
  logExcerptEntries: 3,
  logLineMaxChars: 300,
};
const finding = parseNotification(notificationFixture('socat-v2'));
const PROJECT = 'shop-prod-4711';
const CLUSTER = 'shop-prod';
const NODE = 'gke-shop-prod-default-pool-3f2a9c1e-k8vz';
const EVENT_MS = Date.parse('2026-11-27T02:41:17.532Z');
const at = (minutes: number): Date => new Date(EVENT_MS + minutes * 60_000);

let emulator: LoggingEmulator;
let client: LoggingClient;

beforeAll(async () => {
  emulator = await startLoggingEmulator();
  client = await createLoggingClient({ loggingEmulatorHost: emulator.endpoint });
});
afterAll(async () => {
  await client.close();
  await emulator.stop();
});
beforeEach(() => emulator.reset());

function deps(): GatherDeps {
  return testGatherDeps({ settings: SETTINGS, now: () => new Date('2026-11-27T09:00:00Z'), logging: async () => client, cache: noCache });
}

function context(f: SocatFinding, sections: Partial<GatheredSections> = {}) {
  const gaps: string[] = [];
  const ctx: GatherContext<GatherDeps, GatheredSections> = { finding: f, signal: new AbortController().signal, deps: deps(), sections, addGap: (r) => gaps.push(r) };
  return { ctx, gaps };
}

/** A journald entry of a node component as GKE ships it under k8s_node. */
function journald(minutes: number, log: string, fields: Record<string, unknown>, node = NODE, cluster = CLUSTER): SeedLogEntry {
  return {
    logName: `projects/${PROJECT}/logs/${log}`,
    resource: { type: 'k8s_node', labels: { project_id: PROJECT, location: 'us-central1-b', cluster_name: cluster, node_name: node } },
    timestamp: at(minutes),
    jsonPayload: {
      _BOOT_ID: '0c4f8e1d2a3b4c5d6e7f809112233445',
      _MACHINE_ID: '9e8d7c6b5a4938271605f4e3d2c1b0a9',
      _HOSTNAME: node,
      _TRANSPORT: 'stdout',
      _SYSTEMD_SLICE: 'system.slice',
      _UID: '0',
      _GID: '0',
      SYSLOG_FACILITY: '3',
      PRIORITY: '6',
      ...fields,
    },
  };
}

const kubelet = (minutes: number, message: unknown, node = NODE, cluster = CLUSTER) =>
  journald(minutes, 'kubelet', { MESSAGE: message, SYSLOG_IDENTIFIER: 'kubelet', _COMM: 'kubelet', _EXE: '/home/kubernetes/bin/kubelet', _PID: '1702', _SYSTEMD_UNIT: 'kubelet.service', _SYSTEMD_CGROUP: '/system.slice/kubelet.service' }, node, cluster);
const containerd = (minutes: number, message: unknown) =>
  journald(minutes, 'container-runtime', { MESSAGE: message, SYSLOG_IDENTIFIER: 'containerd', _COMM: 'containerd', _EXE: '/usr/bin/containerd', _CMDLINE: '/usr/bin/containerd', _PID: '1478', _SYSTEMD_UNIT: 'containerd.service', _SYSTEMD_CGROUP: '/system.slice/containerd.service' });

const FILTER = [
  'resource.type="k8s_node"',
  `resource.labels.project_id="${PROJECT}"`,
  `resource.labels.cluster_name="${CLUSTER}"`,
  `resource.labels.node_name="${NODE}"`,
  'timestamp>="2026-11-27T02:11:17.532Z"',
  'timestamp<="2026-11-27T02:56:17.532Z"',
].join('\n');

describe('journald entries (jsonPayload.MESSAGE) through the real client', () => {
  test('excerpts show the message with the component that wrote it, not the systemd metadata', async () => {
    emulator.seed([
      kubelet(-3, 'I1127 02:38:17.101234    1702 kubelet.go:2435] "SyncLoop ADD" source="api" pods=["shop/checkout-7d9fb6c5d4-x2lqp"]'),
      containerd(-1, 'time="2026-11-27T02:40:17.371006269Z" level=info msg="StartContainer for \\"5f1c0a9e\\" returns successfully"'),
    ]);
    const section = await nodeK8sLogs.gather(context(finding).ctx);
    expect(section.first.map((l) => l.text)).toEqual([
      'kubelet: I1127 02:38:17.101234    1702 kubelet.go:2435] "SyncLoop ADD" source="api" pods=["shop/checkout-7d9fb6c5d4-x2lqp"]',
      'containerd: time="2026-11-27T02:40:17.371006269Z" level=info msg="StartContainer for \\"5f1c0a9e\\" returns successfully"',
    ]);
    // No severity in the entry: the API returns the enum's default.
    expect(section.first.map((l) => l.severity)).toEqual(['DEFAULT', 'DEFAULT']);
  });

  test('a MESSAGE journald could not store as text (an array of bytes) is decoded, invalid bytes replaced', async () => {
    const bytes = [...Buffer.from('exec /tmp/.x/socat failed: '), 0xff, ...Buffer.from(' denied')];
    emulator.seed([kubelet(-2, bytes)]);
    const section = await nodeK8sLogs.gather(context(finding).ctx);
    expect(section.first.map((l) => l.text)).toEqual(['kubelet: exec /tmp/.x/socat failed: \uFFFD denied']);
  });

  test('secrets in a journald MESSAGE are redacted like any other log text', async () => {
    emulator.seed([kubelet(-2, 'pulling with header Authorization: Bearer ya29.a0AfH6SMBx3kQ9nodeTokenValue0123456789abcdefghij')]);
    const section = await nodeK8sLogs.gather(context(finding).ctx);
    expect(section.first[0]?.text).toMatch(/^kubelet: pulling with header Authorization: /);
    expect(section.first[0]?.text).not.toContain('ya29.a0AfH6SMBx3kQ9nodeTokenValue');
  });
});

describe('where a structured entry keeps its text', () => {
  // As decodeEntry receives an entry from the client: jsonPayload is a google.protobuf.Struct.
  const struct = (o: Record<string, string | number[]>) => ({
    fields: Object.fromEntries(
      Object.entries(o).map(([k, v]) => [k, typeof v === 'string' ? { stringValue: v } : { listValue: { values: v.map((n) => ({ numberValue: n })) } }]),
    ),
  });
  test.each([
    ['journald MESSAGE with SYSLOG_IDENTIFIER', { MESSAGE: 'Started cri-containerd-5f1c.scope.', SYSLOG_IDENTIFIER: 'systemd', _SYSTEMD_UNIT: 'init.scope' }, 'systemd: Started cri-containerd-5f1c.scope.'],
    ['journald MESSAGE with only _SYSTEMD_UNIT', { MESSAGE: 'node-problem-detector started', _SYSTEMD_UNIT: 'node-problem-detector.service' }, 'node-problem-detector.service: node-problem-detector started'],
    ['journald MESSAGE alone', { MESSAGE: 'bare line' }, 'bare line'],
    ['structured stdout message', { message: 'GET /healthz 200', severity: 'INFO' }, 'GET /healthz 200'],
    ['klog/zap msg', { msg: 'Pod status updated', level: 'info' }, 'Pod status updated'],
    ['fluent-bit log', { log: 'raw container line\n', stream: 'stdout' }, 'raw container line\n'],
    ['a field named textPayload', { textPayload: 'text in json' }, 'text in json'],
  ])('%s', async (_name, payload, text) => {
    const decoded = await decodeEntry({ jsonPayload: struct(payload) } as never);
    expect(decoded.text).toBe(text);
  });

  test('no message field: the whole payload, as JSON, never an empty line', () => {
    expect(jsonPayloadText({ reason: 'Pulling', kind: 'Event' })).toBe('{"reason":"Pulling","kind":"Event"}');
  });

  test('a message field that is not text does not hide the others', () => {
    expect(jsonPayloadText({ message: { nested: true }, msg: 'the text' })).toBe('the text');
    expect(jsonPayloadText({ MESSAGE: [300, 2] })).toBe('{"MESSAGE":[300,2]}');
  });
});

describe('nodeK8sLogs', () => {
  beforeEach(() => {
    emulator.seed([
      kubelet(-5, 'I1127 02:36:17.000001    1702 kubelet.go:2435] "SyncLoop UPDATE" source="api"'),
      kubelet(-4, 'other node', 'gke-shop-prod-default-pool-3f2a9c1e-zz99'),
      kubelet(-4, 'same node name, other cluster', NODE, 'shop-staging'),
      kubelet(50, 'after the window'),
    ]);
  });

  test('queries k8s_node by project, cluster and node name with the window, and links the same query', async () => {
    const { ctx, gaps } = context(finding);
    const section = await nodeK8sLogs.gather(ctx);
    expect(emulator.requests('ListLogEntries').map((c) => c.request)).toEqual([
      expect.objectContaining({ resourceNames: [`projects/${PROJECT}`], filter: FILTER, orderBy: 'timestamp desc', pageSize: 50 }),
    ]);
    expect(section.count).toBe(1);
    expect(section.link).toBe(
      `https://console.cloud.google.com/logs/query;query=${encodeURIComponent(FILTER)};timeRange=${encodeURIComponent('2026-11-27T02:11:17.532Z')}%2F${encodeURIComponent('2026-11-27T02:56:17.532Z')}?project=${PROJECT}`,
    );
    expect(gaps).toEqual([]);
  });

  test('needs the node name from the finding, not the node object', () => {
    expect(nodeK8sLogs.needs).toEqual([]);
    expect(nodeK8sLogs.missing(finding, {})).toBeNull();
    expect(nodeK8sLogs.missing({ ...finding, workload: { ...finding.workload, node: null } }, {})).toBe('the finding names no node (VM_Instance_Name)');
    expect(nodeK8sLogs.missing({ ...finding, cluster: null }, {})).toBe('the finding names no GKE cluster');
  });

  test('runs when the node could not be read: nodeLogs has a gap, nodeK8sLogs a section', async () => {
    const r = await runGatherers([nodeLogs, nodeK8sLogs], { finding, deps: deps(), deadlineMs: 10_000 });
    expect(r.gaps).toEqual([{ section: 'nodeLogs', reason: 'needs node, which is unavailable' }]);
    expect(r.sections.nodeK8sLogs?.first.map((l) => l.text)).toEqual(['kubelet: I1127 02:36:17.000001    1702 kubelet.go:2435] "SyncLoop UPDATE" source="api"']);
  });

  test('is registered, on by default, with the Logging permission', () => {
    const g = GATHERERS.find((x) => x.section === 'nodeK8sLogs');
    expect(g).toBe(nodeK8sLogs);
    expect(g?.enabledByDefault).toBe(true);
    expect(g?.permissions).toEqual(['logging.logEntries.list']);
  });
});
