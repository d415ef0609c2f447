import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createSccClient, type SccClient } from '../../lib/clients.js';
import { parseNotification } from '../../lib/finding/parse.js';
import { analyzeFinding } from '../../lib/report/analyze.js';
import { enrichmentFindingName } from '../../lib/scc/names.js';
import { writeBack } from '../../lib/scc/writeback.js';
import { startSccEmulator, type SccEmulator } from '../emulators/scc-emulator.js';
import { notificationFixture } from '../support/fixtures.js';
import { ORG, OWN_SOURCE, ownFindings, plainProperties, seedOriginal, seedSources } from '../support/scc-scenario.js';

let emu: SccEmulator;
let client: SccClient;
const notification = notificationFixture('socat-v2');
const original = notification.finding.name as string;
const now = new Date('2026-11-27T03:00:00Z');
const ctx = { sourceName: OWN_SOURCE, organization: ORG, now };

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
  emu.clearFaults();
  seedSources(emu);
  seedOriginal(emu, notification);
});

function report(eventTime = notification.finding.eventTime as string) {
  const n = structuredClone(notification);
  n.finding.eventTime = eventTime;
  return analyzeFinding(parseNotification(n));
}

describe('writeBack through the real SCC v2 client', () => {
  it('creates the enrichment finding in our own source and marks the original', async () => {
    const result = await writeBack(client, report(), ctx);
    const name = enrichmentFindingName(OWN_SOURCE, original);
    expect(result.enrichmentFinding).toBe(name);
    expect(name).toMatch(/\/locations\/global\/findings\/[0-9a-f]{32}$/);

    const stored = emu.getFinding(name) as Record<string, any>;
    expect(stored).toMatchObject({
      category: 'Socat Reverse Shell Triage',
      resourceName: notification.finding.resourceName,
      state: 'ACTIVE',
      // Finding-only analysis of the fixture scores "suspicious" (no gathered context), shown as HIGH.
      severity: 'HIGH',
      externalUri: `https://console.cloud.google.com/security/command-center/findingsv2;name=${encodeURIComponent(original)}?organizationId=${ORG}`,
    });
    expect(stored.description).toMatch(/Reverse shell connecting out to tcp 203\.0\.113\.77:4444 running \/bin\/bash with a pty/);
    expect(stored.nextSteps.split('\n')).toHaveLength(3);
    const props = plainProperties(stored);
    expect(props).toMatchObject({
      A1_Verdict: 'SUSPICIOUS',
      I01_Original_Finding: original,
      J14_Pod_Namespace: 'shop',
      J15_Pod_Name: 'checkout-7d9fb6c5d4-x2lqp',
      J16_Container_Name: 'checkout',
      J18_VM_Instance_Name: 'gke-shop-prod-default-pool-3f2a9c1e-k8vz',
      I05_Process_Binary: '/usr/bin/socat',
      B6_C2_Role: 'reverse',
      B3_C2_Host: '203.0.113.77',
      B4_C2_Port: 4444,
      B8_C2_Pty: true,
      F01_get_credentials: 'gcloud container clusters get-credentials shop-prod --region us-central1 --project shop-prod-4711',
    });
    expect(String(props.A5_Summary).split('\n').length).toBeGreaterThan(4);
    // The console lists properties by key: the section prefixes keep the reading order.
    expect(Object.keys(props).slice(0, 3)).toEqual(['A1_Verdict', 'A2_Score', 'A3_Reasons']);
    expect([...Object.keys(props)].sort()).toEqual(Object.keys(props));
    for (const key of Object.keys(props)) expect(key).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);

    expect(emu.getMarks(original)).toEqual({
      socat_triage_status: 'triaged',
      socat_triage_verdict: 'suspicious',
      socat_triage_report: name,
      socat_triage_event_time: notification.finding.eventTime,
    });
  });

  it('writes the loop-guard mark last, in its own call', async () => {
    emu.clearRequestLog();
    await writeBack(client, report(), ctx);
    const calls = emu.requestLog.map((r) => [r.method, r.method === 'UpdateSecurityMarks' ? (r.request as any).updateMask.paths : null]);
    expect(calls).toEqual([
      ['UpdateFinding', null],
      ['UpdateSecurityMarks', ['marks.socat_triage_status', 'marks.socat_triage_verdict', 'marks.socat_triage_report']],
      ['UpdateSecurityMarks', ['marks.socat_triage_event_time']],
    ]);
  });

  it('is idempotent on redelivery: one enrichment finding', async () => {
    await writeBack(client, report(), ctx);
    await writeBack(client, report(), ctx);
    await Promise.all([writeBack(client, report(), ctx), writeBack(client, report(), ctx)]);
    expect(ownFindings(emu)).toHaveLength(1);
  });

  it('updates the same enrichment finding on a re-detection', async () => {
    await writeBack(client, report('2026-11-27T02:41:17.532941Z'), ctx);
    await writeBack(client, report('2026-11-27T02:55:00Z'), ctx);
    const own = ownFindings(emu);
    expect(own).toHaveLength(1);
    expect(plainProperties(own[0]).I04_Original_Event_Time).toBe('2026-11-27T02:55:00Z');
    expect(emu.getMarks(original)?.socat_triage_event_time).toBe('2026-11-27T02:55:00Z');
  });

  it('never writes an eventTime later than now', async () => {
    await writeBack(client, report('2026-11-27T09:00:00Z'), ctx);
    const stored = ownFindings(emu)[0]!;
    expect(Number(stored.eventTime.seconds)).toBe(now.getTime() / 1000);
  });

  it('leaves no loop-guard mark when a mark write fails, so the redelivery triages again', async () => {
    emu.injectFault('UpdateSecurityMarks', { code: 14, message: 'backend unavailable', times: 1 });
    await expect(writeBack(client, report(), ctx)).rejects.toMatchObject({ code: 14 });
    expect(emu.getMarks(original)?.socat_triage_event_time).toBeUndefined();
    await writeBack(client, report(), ctx);
    expect(emu.getMarks(original)?.socat_triage_event_time).toBe(notification.finding.eventTime);
    expect(ownFindings(emu)).toHaveLength(1);
  });

  it('fails with NOT_FOUND when our source does not exist', async () => {
    await expect(writeBack(client, report(), { ...ctx, sourceName: `organizations/${ORG}/sources/1` })).rejects.toMatchObject({ code: 5 });
  });
});
