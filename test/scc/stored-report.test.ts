/**
 * The report stored machine-readable in the enrichment finding (Z_Report):
 * written as a google.protobuf.Value Struct by the real SCC client, read back
 * in both forms SCC hands it out (the client's Value objects, proto3 JSON),
 * bounded by its budget with deterministic, named cuts, and refused with a
 * clear error when tampered with.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createSccClient, type SccClient } from '../../lib/clients.js';
import { fetchFinding, toNotificationJson } from '../../lib/cli/scc.js';
import { parseFindingName } from '../../lib/cli/input.js';
import { parseNotification } from '../../lib/finding/parse.js';
import type { AuditLogSection, ClusterSection, LogSection, PodSection } from '../../lib/gather/sections.js';
import { analyzeFinding } from '../../lib/report/analyze.js';
import type { ReportC2, TriagedReport } from '../../lib/report/types.js';
import { subjectFromReport } from '../../lib/respond/subject.js';
import { enrichmentFindingName } from '../../lib/scc/names.js';
import { PROPERTIES_BUDGET_CHARS, reportProperties, size, toProtoValues } from '../../lib/scc/properties.js';
import { readStoredValue, toProtoValue, type Json } from '../../lib/scc/proto-value.js';
import { reportFromFinding, STORED_REPORT_BUDGET_CHARS, STORED_REPORT_KEY, StoredReportError, storedReport, storedReportSchema, type StoredReport } from '../../lib/scc/stored-report.js';
import { writeBack } from '../../lib/scc/writeback.js';
import { startSccEmulator, type SccEmulator } from '../emulators/scc-emulator.js';
import { notificationFixture } from '../support/fixtures.js';
import { ORG, OWN_SOURCE, seedOriginal, seedSources } from '../support/scc-scenario.js';

const now = new Date('2026-11-27T03:00:00Z');
const ctx = { sourceName: OWN_SOURCE, organization: ORG, now };
const ESC = '\u001b';

function notification(edit?: (f: Record<string, any>) => void): Record<string, any> {
  const n = structuredClone(notificationFixture('socat-v2'));
  edit?.(n.finding);
  return n;
}

function logSection(lines: number, chars: number, extra: Partial<AuditLogSection> = {}): LogSection {
  const line = (i: number) => ({ timestamp: `2026-11-27T02:${String(i % 60).padStart(2, '0')}:00Z`, severity: 'INFO', text: `line ${i} ${'x'.repeat(chars)}` });
  return {
    filter: 'resource.type="k8s_container"',
    window: { start: '2026-11-27T02:11:17Z', end: '2026-11-27T02:46:17Z' },
    count: lines * 2,
    truncated: false,
    first: Array.from({ length: lines }, (_, i) => line(i)),
    last: Array.from({ length: lines }, (_, i) => line(i + lines)),
    link: 'https://console.cloud.google.com/logs/query;query=resource.type%3D%22k8s_container%22?project=shop-prod-4711',
    ...extra,
  };
}

function pod(overrides: Partial<PodSection> = {}): PodSection {
  return {
    source: 'kubernetes',
    namespace: 'shop',
    name: 'checkout-7d9fb6c5d4-x2lqp',
    phase: 'Running',
    startTime: '2026-11-26T08:00:00Z',
    labels: { app: 'checkout', 'pod-template-hash': '7d9fb6c5d4', structValue: 'a label named like a Value member' },
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"huge":"spec"}' },
    serviceAccount: 'checkout',
    node: 'gke-shop-prod-default-pool-3f2a9c1e-k8vz',
    containers: [{ name: 'checkout', image: 'us-docker.pkg.dev/shop-prod-4711/apps/checkout:1.14.2', imageDigest: 'sha256:abc', restartCount: 0, ready: true }],
    redFlags: ['privileged container checkout'],
    owners: [
      { kind: 'ReplicaSet', name: 'checkout-7d9fb6c5d4', labels: {} },
      { kind: 'Deployment', name: 'checkout', labels: { team: 'payments' } },
    ],
    consoleUrl: null,
    ...overrides,
  };
}

const CLUSTER: ClusterSection = {
  location: 'us-central1',
  locationType: 'regional',
  status: 'RUNNING',
  currentMasterVersion: '1.33.5-gke.1201000',
  labels: { team: 'payments' },
  ownerLabels: { team: 'payments' },
  network: 'projects/shop-prod-4711/global/networks/default',
  subnetwork: null,
  podCidr: '10.52.0.0/14',
  servicesCidr: '10.56.0.0/20',
  networkPolicyEnforced: true,
  workloadIdentityPool: 'shop-prod-4711.svc.id.goog',
  privateEndpoint: false,
  loggingComponents: ['SYSTEM_COMPONENTS', 'WORKLOADS'],
  nodePool: 'default-pool',
  consoleUrl: null,
  controlPlanePath: 'public-ip',
  controlPlaneUnreachable: null,
  access: { endpoint: '198.51.100.10', caCertificate: 'LS0tLS1CRUdJTi1TRUNSRVQtQ0EtLS0tLQ==' },
};

/** A report with every section gathered: `lines` log lines of `chars` each per log. */
function richReport(lines = 5, chars = 80, n = notification()): TriagedReport {
  const audit = logSection(lines, chars, {
    execs: [{ kind: 'exec', method: 'io.k8s.core.v1.pods.exec.create', time: '2026-11-27T02:40:00Z', principal: 'mallory@example.com', callerIp: '203.0.113.99', userAgent: 'kubectl/v1.29.3', command: ['sh'], container: 'checkout', namespace: 'shop', pod: 'checkout-7d9fb6c5d4-x2lqp', mentionsSocat: false }],
    refused: [],
    podChanges: [{ time: '2026-11-26T08:00:00Z', verb: 'create', principal: 'system:serviceaccount:kube-system:replicaset-controller' }],
  }) as AuditLogSection;
  return analyzeFinding(parseNotification(n), {
    sections: { cluster: CLUSTER, pod: pod(), podLogs: logSection(lines, chars), auditLogs: audit, nodeLogs: logSection(lines, chars), nodeK8sLogs: logSection(lines, chars) },
    gaps: [],
  });
}

/** Every string of a JSON-like value (keys too). */
function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v !== null && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [k, ...strings(x)]);
  return [];
}

let emu: SccEmulator;
let client: SccClient;

beforeAll(async () => {
  emu = await startSccEmulator({ now: () => now });
  client = await createSccClient({ sccEmulatorHost: emu.endpoint });
});
afterAll(async () => {
  await client.close();
  await emu.stop();
});
beforeEach(() => {
  emu.reset();
  seedSources(emu);
});

async function writeAndRead(report: TriagedReport, n: Record<string, any>) {
  seedOriginal(emu, n);
  await writeBack(client, report, ctx);
  const name = enrichmentFindingName(OWN_SOURCE, n.finding.name);
  const result = await fetchFinding(client, parseFindingName(name)!);
  expect(result?.finding).toBeDefined();
  return { name, result: result! };
}

describe('Z_Report through the SCC emulator and the real client', () => {
  it('is stored as a Struct (not a JSON string) and reads back equal, from the client objects and from proto3 JSON', async () => {
    const n = notification();
    const report = richReport();
    const { name, result } = await writeAndRead(report, n);
    const raw = (emu.getFinding(name)!.sourceProperties as Record<string, any>)[STORED_REPORT_KEY];
    expect(Object.keys(raw)).toEqual(['structValue']);
    expect(raw.structValue.fields.c2.structValue.fields.port).toEqual({ numberValue: 4444 });

    const expected = storedReport(report);
    expect(expected.truncated).toEqual([]);
    // listFindings over gRPC: google.protobuf.Value objects, with the client's `kind` helper.
    expect(result.finding!.sourceProperties![STORED_REPORT_KEY]).toHaveProperty('kind', 'structValue');
    expect(reportFromFinding(result.finding)).toEqual(expected);
    // The same finding as a notification or `gcloud scc findings list --format=json` carries it: proto3 JSON.
    const json = JSON.parse(JSON.stringify(toNotificationJson(result)));
    expect(json.finding.sourceProperties[STORED_REPORT_KEY].schemaVersion).toBe(1);
    expect(reportFromFinding(json.finding)).toEqual(expected);
  });

  it('holds what the readers need: verdict, C2, workload, cluster enforcement, pod labels and owners, runbook commands exactly', async () => {
    const n = notification();
    const report = richReport();
    const { result } = await writeAndRead(report, n);
    const s = reportFromFinding(result.finding)!;
    expect(s.finding).toMatchObject({ name: n.finding.name, eventTime: n.finding.eventTime });
    expect(s.verdict).toEqual(report.verdict);
    expect(s.c2).toMatchObject({ role: 'reverse', host: '203.0.113.77', port: 4444, ipVersion: 4, scope: report.c2.scope, hop: null });
    expect(s.c2.scope).not.toBeNull();
    expect(s.c2.peers).toEqual(report.c2.peers);
    expect(s.workload).toEqual(report.workload);
    expect(s.cluster).toMatchObject({ project: 'shop-prod-4711', location: 'us-central1', name: 'shop-prod', details: { networkPolicyEnforced: true, controlPlanePath: 'public-ip' } });
    expect(s.pod?.labels).toEqual(pod().labels);
    expect(s.pod?.owners).toEqual([{ kind: 'ReplicaSet', name: 'checkout-7d9fb6c5d4' }, { kind: 'Deployment', name: 'checkout' }]);
    expect(s.runbook.steps.map((x) => x.command)).toEqual(report.runbook.steps.map((x) => x.command));
    expect(s.runbook.steps.some((x) => x.id === 'block_c2_egress' && x.command !== null)).toBe(true);
    expect(s.attribution.exec?.principal).toBe('mallory@example.com');
    expect(s.gaps).toEqual([]);
    // Never the cluster's endpoint or CA, nor the pod's annotations.
    const all = JSON.stringify(s);
    expect(all).not.toContain('198.51.100.10');
    expect(all).not.toContain(CLUSTER.access!.caCertificate!);
    expect(all).not.toContain('last-applied-configuration');
  });

  it('gives response planning the same subject as the report it was stored from', async () => {
    const n = notification();
    const report = richReport();
    const { name, result } = await writeAndRead(report, n);
    const s = reportFromFinding(result.finding)!;
    // The stored C2 is a ReportC2 as it is (checked by the compiler), and every field planning reads is there under the report's name.
    const c2: ReportC2 = s.c2;
    expect(c2).toEqual(report.c2);
    const subject = subjectFromReport(s, name);
    expect(subject).toEqual(subjectFromReport(report, name));
    expect(subject).toMatchObject({ cluster: { networkPolicyEnforced: true }, pod: { source: 'kubernetes', topOwnerKind: 'Deployment' }, node: { name: 'gke-shop-prod-default-pool-3f2a9c1e-k8vz' } });
  });

  it('keeps attacker text exact in the structure while the console text beside it is cleaned', async () => {
    const hostilePod = `evil${ESC}]0;pwned\u0007-\u202epod`;
    const n = notification((f) => (f.sourceProperties.Pod_Name = hostilePod));
    const report = analyzeFinding(parseNotification(n));
    const { result } = await writeAndRead(report, n);
    expect(reportFromFinding(result.finding)!.workload.pod).toBe(hostilePod);
    const consoleName = (result.finding!.sourceProperties!.J15_Pod_Name as { stringValue: string }).stringValue;
    expect(consoleName).toContain('evil');
    expect(consoleName).not.toContain(ESC);
    expect(consoleName).not.toContain('\u202e');
  });

  it('sends a lone surrogate as one U+FFFD: valid UTF-8, where protobufjs would put invalid bytes on the wire', async () => {
    // Proto3 strings must be valid UTF-8 (golang/protobuf commit 8c86fc5e: "No other proto implementation
    // supports non-UTF-8 data in proto3 strings"). protobufjs writes U+D800 as the bytes ED A0 80, which the
    // receiving end decodes as three U+FFFD: what arrives shows which was sent.
    const n = notification((f) => (f.sourceProperties.Container_Name = 'web\ud800'));
    const raw = `${OWN_SOURCE}/locations/global/findings/rawsurrogate`;
    await client.updateFinding({ finding: { name: raw, resourceName: n.finding.resourceName, category: 'Socat Reverse Shell Triage', sourceProperties: { X: { stringValue: 'web\ud800' } } } });
    expect((emu.getFinding(raw)!.sourceProperties as Record<string, any>).X.stringValue).toBe('web\ufffd\ufffd\ufffd');
    const { name } = await writeAndRead(analyzeFinding(parseNotification(n)), n);
    const stored = (emu.getFinding(name)!.sourceProperties as Record<string, any>)[STORED_REPORT_KEY];
    expect(stored.structValue.fields.workload.structValue.fields.container).toEqual({ stringValue: 'web\ufffd' });
  });

  it('reads back an Event Threat Detection–shaped nested value member for member (public sample shape)', async () => {
    // The shape of an ETD finding's sourceProperties in GoogleCloudPlatform/security-response-automation's
    // test notifications: a struct, a list of structs, nested lists; values our own.
    const etd: Json = {
      detectionCategory: { ruleName: 'iam_anomalous_grant', indicator: 'audit_log' },
      evidence: [{ sourceLogId: { insertId: '-abc123', timestamp: '2026-11-27T02:00:00Z' } }],
      properties: { sensitiveRoleGrant: { members: ['user:a@example.com', 'user:b@example.com'] }, count: 0, empty: {}, none: null, on: false },
    };
    const name = `${OWN_SOURCE}/locations/global/findings/etdshape`;
    await client.updateFinding({ finding: { name, resourceName: '//cloudresourcemanager.googleapis.com/projects/1', category: 'Persistence: IAM Anomalous Grant', sourceProperties: toProtoValues({ ETD: etd as Record<string, Json> }) } });
    const result = await fetchFinding(client, parseFindingName(name)!);
    const limits = { maxDepth: 16, maxNodes: 1000, maxChars: 10_000 };
    expect(readStoredValue(result!.finding!.sourceProperties!.ETD, limits, 'ETD')).toEqual(etd);
    expect(readStoredValue((toNotificationJson(result!).finding.sourceProperties as Record<string, unknown>).ETD, limits, 'ETD')).toEqual(etd);
  });
});

describe('toProtoValue: JSON → google.protobuf.Value', () => {
  it('maps null, numbers, booleans, strings, lists and structs as struct.proto defines them', () => {
    expect(toProtoValue(null)).toEqual({ nullValue: 'NULL_VALUE' });
    expect(toProtoValue(0)).toEqual({ numberValue: 0 });
    expect(toProtoValue(-1.5)).toEqual({ numberValue: -1.5 });
    expect(toProtoValue(false)).toEqual({ boolValue: false });
    expect(toProtoValue('')).toEqual({ stringValue: '' });
    expect(toProtoValue([1, 'a', [null]])).toEqual({ listValue: { values: [{ numberValue: 1 }, { stringValue: 'a' }, { listValue: { values: [{ nullValue: 'NULL_VALUE' }] } }] } });
    expect(toProtoValue({ a: { b: true }, skipped: undefined } as never)).toEqual({ structValue: { fields: { a: { structValue: { fields: { b: { boolValue: true } } } } } } });
  });

  it('writes a non-finite number as null (struct.proto: number_value must not be NaN or Infinity) and a lone surrogate as U+FFFD', () => {
    expect(toProtoValue(Number.NaN)).toEqual({ nullValue: 'NULL_VALUE' });
    expect(toProtoValue(Number.POSITIVE_INFINITY)).toEqual({ nullValue: 'NULL_VALUE' });
    expect(toProtoValue({ 'k\udc00': 'v\ud800x' })).toEqual({ structValue: { fields: { 'k\ufffd': { stringValue: 'v\ufffdx' } } } });
    expect(toProtoValue('😀')).toEqual({ stringValue: '😀' });
  });
});

describe('the budget', () => {
  it('cuts log excerpts first, names the cut, and leaves a valid report within the budget', () => {
    const report = richReport(50, 1000);
    const s = storedReport(report);
    expect(JSON.stringify(s).length).toBeLessThanOrEqual(STORED_REPORT_BUDGET_CHARS);
    expect(s.truncated[0]).toMatch(/^log excerpts/);
    expect(s.logs.pod).toMatchObject({ first: [], last: [], count: 100 });
    expect(s.runbook.steps.map((x) => x.command)).toEqual(report.runbook.steps.map((x) => x.command));
    expect(storedReportSchema().parse(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });

  it('cuts the same way every time', () => {
    const report = richReport(50, 1000);
    expect(JSON.stringify(storedReport(report))).toBe(JSON.stringify(storedReport(report)));
  });

  it('stays within the budget when every string is huge, commands dropped whole rather than shortened', () => {
    const report = richReport(50, 1000);
    const huge = (s: string) => `${s}${'y'.repeat(20_000)}`;
    const blow = (v: unknown, key = ''): unknown => {
      // Commands and enumerations stay as they are; every other text is blown up.
      if (typeof v === 'string') return /^(id|command|getCredentials|copyBinary|exec|level|role|transport|direction|source|status|scope|hopScope)$/.test(key) ? v : huge(v);
      if (Array.isArray(v)) return v.map((x) => blow(x));
      if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, blow(x, k)]));
      return v;
    };
    const big = blow(report) as TriagedReport;
    big.verdict.reasons = Array.from({ length: 200 }, (_, i) => ({ signal: `s${i}`, weight: 1, detail: huge('d') }));
    big.pod!.labels = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, huge('v')]));
    const s = storedReport(big);
    expect(JSON.stringify(s).length).toBeLessThanOrEqual(STORED_REPORT_BUDGET_CHARS);
    expect(storedReportSchema().safeParse(s).error?.issues ?? []).toEqual([]);
    expect(s.truncated.at(-1)).toMatch(/^everything but/);
    expect(s.finding.name.startsWith(report.finding.name)).toBe(true);
    expect(s.verdict.level).toBe(report.verdict.level);
    for (const step of s.runbook.steps) expect([null, report.runbook.steps.find((x) => x.id === step.id)?.command]).toContain(step.command);
    // The console text gets what the stored report leaves: the whole map within its budget.
    expect(size(reportProperties(big))).toBeLessThanOrEqual(PROPERTIES_BUDGET_CHARS);
  });

  it('names each kind of cut once, however many places it happened', () => {
    const report = richReport();
    report.lineage.chain = Array.from({ length: 60 }, (_, i) => ({ pid: i, parentPid: i - 1, name: 'sh', binary: '/bin/sh', args: Array.from({ length: 70 }, (_, j) => `a${j}`), kind: 'shell' as const }));
    const s = storedReport(report, 1e9);
    expect(s.truncated).toEqual(['lineage.chain (first 50 of 60)', 'lineage.chain[].args (first 50 of 70, in 50 places)']);
  });

  it('caps long lists and strings when copying, and says so', () => {
    const report = richReport();
    report.process.args = Array.from({ length: 80 }, (_, i) => `arg${i}`);
    report.workload.image = 'i'.repeat(10_000);
    const s = storedReport(report, 1e9);
    expect(s.process.args).toHaveLength(50);
    expect(s.workload.image).toMatch(/…\[truncated: 10000 chars in all\]$/);
    expect(s.truncated).toEqual(['process.args (first 50 of 80)', '1 strings over 8192 chars (cut, marked in the text)']);
  });
});

describe('reportFromFinding', () => {
  const good = () => JSON.parse(JSON.stringify(storedReport(richReport()))) as Record<string, any>;
  const withReport = (v: unknown) => ({ sourceProperties: { A1_Verdict: 'SUSPICIOUS', [STORED_REPORT_KEY]: v } });

  it('is null for a finding written before the property existed', () => {
    expect(reportFromFinding({ sourceProperties: { A1_Verdict: 'SUSPICIOUS' } })).toBeNull();
    expect(reportFromFinding({ name: 'x' })).toBeNull();
  });

  it('reads the proto form and the JSON form alike, ignoring fields a later writer adds', () => {
    const plain = { ...good(), addedLater: { anything: [1, 2] } };
    const a = reportFromFinding(withReport(plain));
    const b = reportFromFinding(withReport(toProtoValue(plain)));
    expect(a).toEqual(b);
    expect(a).not.toHaveProperty('addedLater');
    // A label named like a Value member is a label in JSON form, and in proto form too.
    expect(a!.pod!.labels.structValue).toBe('a label named like a Value member');
  });

  const cases: Array<[string, (r: Record<string, any>) => unknown, RegExp]> = [
    ['a later schemaVersion', (r) => ({ ...r, schemaVersion: 2 }), /^Z_Report\.schemaVersion is 2; this release reads schemaVersion 1$/],
    ['no schemaVersion', ({ schemaVersion: _v, ...r }) => r, /^Z_Report\.schemaVersion is missing;/],
    ['a schemaVersion as text', (r) => ({ ...r, schemaVersion: '1' }), /^Z_Report\.schemaVersion is "1";/],
    ['a JSON string instead of a Struct', (r) => JSON.stringify(r), /^Z_Report is a string, not a struct$/],
    ['a port of the wrong type', (r) => ({ ...r, c2: { ...r.c2, port: '4444' } }), /^Z_Report\.c2\.port: .*expected number/],
    ['an unknown verdict level', (r) => ({ ...r, verdict: { ...r.verdict, level: 'fine' } }), /^Z_Report\.verdict\.level: /],
    ['a missing section', ({ runbook: _r, ...r }) => r, /^Z_Report\.runbook: /],
    ['a huge list', (r) => ({ ...r, gaps: Array.from({ length: 60_000 }, () => 0) }), /^Z_Report has more than 50000 values/],
    ['huge text', (r) => ({ ...r, finding: { ...r.finding, name: 'n'.repeat(1_100_000) } }), /^Z_Report holds more than 1000000 characters of text/],
    ['deep nesting', (r) => ({ ...r, extra: JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`) }), /^Z_Report is nested more than 16 levels deep/],
  ];

  it.each(cases)('refuses %s in JSON form with an error naming it', (_label, tamper, message) => {
    expect(() => reportFromFinding(withReport(tamper(good())))).toThrow(message);
    expect(() => reportFromFinding(withReport(tamper(good())))).toThrow(StoredReportError);
  });

  it.each(cases)('refuses %s in proto form with the same error', (_label, tamper, message) => {
    expect(() => reportFromFinding(withReport(toProtoValue(tamper(good()) as Json)))).toThrow(message);
  });

  it('refuses a Value that sets two kinds, or none', () => {
    expect(() => reportFromFinding(withReport({ structValue: { fields: { schemaVersion: { stringValue: 'a', numberValue: 1 } } } }))).toThrow(/^Z_Report\.schemaVersion is not a google\.protobuf\.Value: it sets numberValue and stringValue$/);
    expect(() => reportFromFinding(withReport({ structValue: { fields: { schemaVersion: {} } } }))).toThrow(/^Z_Report\.schemaVersion is not a google\.protobuf\.Value: no kind is set$/);
    expect(() => reportFromFinding(withReport({ numberValue: Number.NaN }))).toThrow(/^Z_Report\.numberValue is not a finite number$/);
  });

  it('refuses what is not a finding', () => {
    expect(() => reportFromFinding('finding')).toThrow(StoredReportError);
    expect(() => reportFromFinding({ sourceProperties: [] })).toThrow(/sourceProperties is not a map/);
  });

  it('reads every string of a stored report exactly as it was written', () => {
    const s = storedReport(richReport());
    const back = reportFromFinding(withReport(toProtoValue(s as unknown as Json)))!;
    expect(strings(back)).toEqual(strings(s));
  });
});
