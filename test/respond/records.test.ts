import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createSccClient, type SccClient } from '../../lib/clients.js';
import { parseNotification } from '../../lib/finding/parse.js';
import { analyzeFinding } from '../../lib/report/analyze.js';
import { recordKey, recordProperties, recordsFromProperties, RESPONSE_PROPERTY, responseMarkKey, writeRecord, type StoredRecord } from '../../lib/respond/records.js';
import { RESPONSE_ACTIONS } from '../../lib/respond/types.js';
import { enrichmentFindingName } from '../../lib/scc/names.js';
import { reportProperties } from '../../lib/scc/properties.js';
import { writeBack } from '../../lib/scc/writeback.js';
import { startSccEmulator, type SccEmulator } from '../emulators/scc-emulator.js';
import { notificationFixture } from '../support/fixtures.js';
import { ORG, OWN_SOURCE, plainProperties, seedOriginal, seedSources } from '../support/scc-scenario.js';

const record = (over: Partial<StoredRecord> = {}): StoredRecord => ({
  action: 'block-c2',
  approver: 'oncall@example.com',
  at: '2026-12-03T12:00:00.000Z',
  result: 'done',
  detail: 'NetworkPolicy scc-socat-block-c2 created in shop: egress to 203.0.113.77/32 port 4444 denied.',
  undo: "kubectl --namespace shop delete networkpolicy scc-socat-block-c2",
  approval: { entryId: 'abc123', markValue: 'block-c2', setAt: '2026-12-03T11:59:58Z' },
  ...over,
});

describe('record properties', () => {
  it('one group per action that sorts after the report (R1..R5 in action order), keys SCC accepts', () => {
    expect(RESPONSE_ACTIONS.map(recordKey)).toEqual(['R1_Response_capture', 'R2_Response_block_c2', 'R3_Response_isolate', 'R4_Response_cordon', 'R5_Response_delete_pod']);
    const reportKeys = Object.keys(reportProperties(analyzeFinding(parseNotification(notificationFixture('socat-v2'))) as never));
    for (const key of Object.keys(recordProperties(record()))) {
      expect(key).toMatch(/^[A-Za-z][A-Za-z0-9_]{0,254}$/);
      expect(key).toMatch(RESPONSE_PROPERTY);
      // Console order: after every report section but the trailing Z metadata.
      expect(reportKeys.filter((k) => !k.startsWith('Z') && k > key)).toEqual([]);
    }
    // The report never uses a key the records own, so the triage's rewrite and a record never collide.
    expect(reportKeys.filter((k) => RESPONSE_PROPERTY.test(k))).toEqual([]);
    expect(RESPONSE_ACTIONS.map(responseMarkKey)).toEqual(['socat_response_capture', 'socat_response_block_c2', 'socat_response_isolate', 'socat_response_cordon', 'socat_response_delete_pod']);
  });

  it('reads back what it wrote, in the notification form and the client form', () => {
    const r = record();
    const props = recordProperties(r);
    expect(props['R2_Response_block_c2']).toBe(`DONE: ${r.detail} (approved by oncall@example.com, 2026-12-03T12:00:00.000Z)`);
    expect(props['R2_Response_block_c2_Undo']).toBe(r.undo);
    expect(recordsFromProperties(props)).toEqual({ records: [r], problems: [] });
    const clientForm = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, { stringValue: v }]));
    expect(recordsFromProperties(clientForm).records).toEqual([r]);
  });

  it("a capture's record keeps the snapshot and each evidence object's sha256 (its detail points there); one written without them still reads", () => {
    const sha = 'a'.repeat(64);
    const r = record({
      action: 'capture',
      detail: 'Snapshot socat-evidence-0123456789abcdef of boot disk gke-n taken (operation op-1). 1 evidence file kept now in gs://ev/ (sha256 of each in the record).',
      undo: 'gcloud compute snapshots delete socat-evidence-0123456789abcdef --project=shop-prod-4711',
      approval: { entryId: 'e1', markValue: 'capture', setAt: null },
      capture: {
        snapshot: { project: 'shop-prod-4711', zone: 'us-central1-b', disk: 'gke-n', name: 'socat-evidence-0123456789abcdef', state: 'created', operation: 'op-1' },
        evidence: {
          bucket: 'ev',
          origin: 're-gathered by the responder at 2026-12-03T12:00:00Z (as of the capture, not of the triage)',
          objects: [{ file: 'pod.json', object: 'socat-triage/0123456789abcdef/fedcba9876543210/pod.json', sha256: sha, bytes: 812, state: 'stored', generation: '17' }],
          notKept: null,
        },
      },
    });
    const props = recordProperties(r);
    expect(recordsFromProperties(props)).toEqual({ records: [r], problems: [] });
    const { capture: _capture, ...older } = r;
    const olderJson = JSON.parse(String(props['R1_Response_capture_Record']));
    delete olderJson.capture;
    expect(recordsFromProperties({ R1_Response_capture_Record: JSON.stringify(olderJson) }).records).toEqual([older]);
    // A sha256 that is not one is not a record to trust.
    const bad = JSON.parse(String(props['R1_Response_capture_Record']));
    bad.capture.evidence.objects[0].sha256 = 'not-a-digest';
    expect(recordsFromProperties({ R1_Response_capture_Record: JSON.stringify(bad) }).problems).toEqual(['R1_Response_capture_Record is not a record this version can read']);
  });

  it('hostile text (approver, mark value, detail) is cleaned for the console; a record that does not parse is named, not guessed', () => {
    const r = record({ approver: 'a\u202eb@example.com', detail: 'x\n\u0007y', approval: { entryId: 'e', markValue: 'block-c2\u200b', setAt: null }, result: 'refused', undo: null });
    const props = recordProperties(r);
    for (const v of Object.values(props)) expect(String(v)).not.toMatch(/[\u0000-\u001f\u202e\u200b]/);
    expect(props['R2_Response_block_c2_Undo']).toBe('(nothing to undo)');
    const back = recordsFromProperties({ ...props, R1_Response_capture_Record: '{"v":1,"action":"capture"', R3_Response_isolate_Record: JSON.stringify({ ...JSON.parse(String(props['R2_Response_block_c2_Record'])), action: 'block-c2' }) });
    expect(back.records.map((x) => x.action)).toEqual(['block-c2']);
    expect(back.problems).toEqual(['R1_Response_capture_Record is not a record this version can read', 'R3_Response_isolate_Record is not a record this version can read']);
  });
});

describe('records through the SCC emulator and the real client', () => {
  let emu: SccEmulator;
  let client: SccClient;
  const notification = notificationFixture('socat-v2');
  const original = notification.finding.name as string;
  const enrichment = enrichmentFindingName(OWN_SOURCE, original);
  const now = new Date('2026-11-27T03:00:00Z');
  const report = () => analyzeFinding(parseNotification(notification));

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
    seedOriginal(emu, notification);
  });

  it('writes only the record keys (source_properties.KEY mask) and one mark on the original', async () => {
    await writeBack(client, report(), { sourceName: OWN_SOURCE, organization: ORG, now });
    const before = plainProperties(emu.getFinding(enrichment));
    emu.clearRequestLog();
    await writeRecord(client, { enrichmentFinding: enrichment, originalFinding: original }, record());
    const sent = emu.requests('UpdateFinding')[0]!.request as Record<string, any>;
    expect(sent.updateMask.paths).toEqual(['source_properties.R2_Response_block_c2', 'source_properties.R2_Response_block_c2_Undo', 'source_properties.R2_Response_block_c2_Record']);
    const after = plainProperties(emu.getFinding(enrichment));
    expect(after).toEqual({ ...before, ...recordProperties(record()) });
    expect(emu.getMarks(original)).toMatchObject({ socat_response_block_c2: 'done', socat_triage_report: enrichment });
  });

  it('a re-triage of the same original finding keeps the response records', async () => {
    await writeBack(client, report(), { sourceName: OWN_SOURCE, organization: ORG, now });
    await writeRecord(client, { enrichmentFinding: enrichment, originalFinding: original }, record());
    await writeRecord(client, { enrichmentFinding: enrichment, originalFinding: original }, record({ action: 'capture', undo: null }));
    const n = structuredClone(notification);
    n.finding.eventTime = '2026-11-27T02:55:00Z';
    // As triage.ts does: the original's socat_triage_report mark says it was triaged before.
    await writeBack(client, analyzeFinding(parseNotification(n)), { sourceName: OWN_SOURCE, organization: ORG, now, priorTriage: true });
    const props = plainProperties(emu.getFinding(enrichment));
    expect(props.I04_Original_Event_Time).toBe('2026-11-27T02:55:00Z');
    expect(recordsFromProperties(props).records.map((r) => r.action)).toEqual(['capture', 'block-c2']);
    // Exactly the two records' keys: nothing else is carried over.
    expect(Object.keys(props).filter((k) => RESPONSE_PROPERTY.test(k))).toHaveLength(6);
  });

  it('the first triage reads nothing (no prior triage: nothing to carry over)', async () => {
    emu.clearRequestLog();
    await writeBack(client, report(), { sourceName: OWN_SOURCE, organization: ORG, now });
    expect(emu.requests('ListFindings')).toHaveLength(0);
  });
});
