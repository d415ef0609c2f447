/**
 * Capture approved in the console (issue #15, item 1): respondSocatFinding
 * with its default wiring snapshots the node's boot disk through the Compute
 * emulator AND keeps the gathered evidence write-once in the Storage
 * emulator, re-gathered at capture time through the gatherers as
 * `triage --save-evidence` gathers them (compared with the real CLI's
 * files). Without EVIDENCE_BUCKET, or when the re-gathering fails, the
 * snapshot is still taken and the record says why the files were not kept.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSccClient, type SccClient } from '../../lib/clients.js';
import { fetchFinding, toNotificationJson } from '../../lib/cli/scc.js';
import { handleDelivery } from '../../lib/handler.js';
import { detectionKey, snapshotNameFor } from '../../lib/respond/capture.js';
import { recordsFromProperties, responseMarkKey, type StoredRecord } from '../../lib/respond/records.js';
import { respondEvent } from '../../lib/respond/responder.js';
import { enrichmentFindingName } from '../../lib/scc/names.js';
import { createInstance, createResponderInstance } from '../../lib/wiring.js';
import { startComputeEmulator, type ComputeEmulator } from '../emulators/compute-emulator.js';
import { Status } from '../emulators/grpc-harness.js';
import { startStorageEmulator, type StorageEmulator } from '../emulators/storage-emulator.js';
import { setMarksAs } from '../support/approval-audit.js';
import { pubsubBody } from '../support/fixtures.js';
import { ORG, OWN_SOURCE, plainProperties } from '../support/scc-scenario.js';
import { PROJECT, seedAttack, startWorld, type Scenario, type World } from '../support/world.js';
import { baseEnv, exit, runCli } from '../cli/support.js';

const BUCKET = 'shop-sec-evidence';
const APPROVER = 'oncall@example.com';

let world: World;
let attack: Scenario;
let scc: SccClient;
let compute: ComputeEmulator;
let storage: StorageEmulator;
let node: string;
let zone: string;
let enrichment: string;
let tmp: string;
let approvals = 0;

beforeAll(async () => {
  [world, compute, storage] = await Promise.all([startWorld(), startComputeEmulator({ waitsUntilDone: 1 }), startStorageEmulator()]);
  attack = seedAttack(world, new Date(Date.now() - 120_000));
  enrichment = enrichmentFindingName(OWN_SOURCE, attack.findingName);
  const result = await handleDelivery(pubsubBody(attack.notification), createInstance(world.env));
  expect(result.outcome).toBe('triaged');
  if (result.report?.status !== 'triaged' || result.report.node === null) throw new Error('the world\'s attack was not triaged with its node');
  node = result.report.node.name;
  zone = result.report.node.zone as string;
  expect(zone).toMatch(/^us-central1-[abc]$/);
  scc = await createSccClient({ sccEmulatorHost: world.scc.endpoint });
  tmp = mkdtempSync(join(tmpdir(), 'capture-approval-'));
}, 60_000);

afterAll(async () => {
  await scc.close();
  await Promise.all([world.stop(), compute.stop(), storage.stop()]);
  rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  // A fresh snapshot per case: each case shows the snapshot taken, not found from the case before.
  compute.reset();
  compute.seedInstance({ project: PROJECT, zone, name: node });
  storage.reset();
  storage.seedBucket({ name: BUCKET, retentionPeriodSeconds: 90 * 86400 });
  world.scc.clearFaults();
});

function responderEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { ...world.env, COMPUTE_EMULATOR_HOST: compute.endpoint, STORAGE_EMULATOR_HOST: storage.endpoint, RESPONSE_APPROVERS: APPROVER, ...extra };
}

/** An engineer on RESPONSE_APPROVERS sets socat_response = capture (a new approval each time), and its notification is delivered. */
async function approveCapture(): Promise<Record<string, unknown>> {
  approvals += 1;
  await setMarksAs(scc, world.logging, { organization: ORG, finding: enrichment, principal: APPROVER, marks: { socat_response: 'capture' }, time: new Date(Date.now() - 1000 + approvals) });
  const found = await fetchFinding(scc, { name: enrichment, parent: `${OWN_SOURCE}/locations/global` });
  if (!found) throw new Error('no enrichment finding');
  return pubsubBody(
    { notificationConfigName: `organizations/${ORG}/locations/global/notificationConfigs/socat-response`, ...toNotificationJson(found) },
    { messageId: `capture-${approvals}`, publishTime: new Date().toISOString() },
  );
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function captureRecord(r: { written: StoredRecord[] }): StoredRecord {
  expect(r.written.map((w) => [w.action, w.approver])).toEqual([['capture', APPROVER]]);
  return r.written[0]!;
}

function expectSnapshotTaken(record: StoredRecord): void {
  expect(record.capture?.snapshot).toMatchObject({ project: PROJECT, zone, disk: node, name: snapshotNameFor(attack.findingName), state: 'created' });
  expect(compute.snapshot(PROJECT, snapshotNameFor(attack.findingName))).toMatchObject({ sourceDisk: expect.stringContaining(`/zones/${zone}/disks/${node}`) });
  expect(compute.log.filter((e) => e.method === 'POST' && e.path.endsWith('/createSnapshot')).map((e) => e.path)).toEqual([`/compute/v1/projects/${PROJECT}/zones/${zone}/disks/${node}/createSnapshot`]);
}

describe('capture approved in the console', () => {
  it('snapshots the boot disk and keeps the re-gathered evidence write-once: the files triage --save-evidence writes, each sha256 in the record', async () => {
    const body = await approveCapture();
    // The operator's oracle: the same gatherers' files, written by the real CLI just before the approval is carried out.
    const dir = join(tmp, 'save-evidence');
    const saved = await runCli(['triage', attack.findingName, '--dry-run', '--save-evidence', dir], { env: baseEnv(world.env) });
    expect(exit(saved)).toMatchObject({ code: 0 });
    const savedNames = readdirSync(dir).sort();
    expect(savedNames.length).toBe(12);

    const r = await respondEvent(body, createResponderInstance(responderEnv({ EVIDENCE_BUCKET: BUCKET })));
    expect(r.outcome).toBe('responded');
    const record = captureRecord(r);
    expect(record.result).toBe('done');
    expectSnapshotTaken(record);

    const evidence = record.capture!.evidence;
    expect(evidence.bucket).toBe(BUCKET);
    expect(evidence.notKept).toBeNull();
    expect(evidence.origin).toMatch(/^re-gathered by the responder at \d{4}-\d\d-\d\dT[\d:.]+Z \(as of the capture, not of the triage\)$/);
    expect(evidence.objects.map((o) => o.file).sort()).toEqual(savedNames);
    expect(evidence.objects.every((o) => o.state === 'stored')).toBe(true);

    const stored = storage.objects(BUCKET);
    expect(stored.map((o) => o.name).sort()).toEqual(evidence.objects.map((o) => o.object).sort());
    for (const o of evidence.objects) {
      expect(o.object).toMatch(new RegExp(`^socat-triage/${detectionKey(attack.findingName)}/[0-9a-f]{16}/${o.file.replace('.', '\\.')}$`));
      const kept = stored.find((s) => s.name === o.object)!;
      expect({ file: o.file, sha256: sha256(kept.media), bytes: kept.media.length }).toEqual({ file: o.file, sha256: o.sha256, bytes: o.bytes });
    }
    // Gathered the same way: the finding and the Kubernetes objects are byte for byte what --save-evidence wrote.
    for (const file of ['finding.json', 'cluster.json', 'node.json', 'pod.json', 'namespace.json', 'owners.json']) {
      const o = evidence.objects.find((x) => x.file === file)!;
      expect({ file, sha256: o.sha256 }).toEqual({ file, sha256: sha256(readFileSync(join(dir, file))) });
    }
    // Uploaded once each, created only if absent (ifGenerationMatch=0), never replaced.
    const uploads = storage.log.filter((e) => e.method === 'POST');
    expect(uploads).toHaveLength(12);
    for (const u of uploads) expect(u.query).toMatchObject({ uploadType: 'multipart', ifGenerationMatch: '0' });

    // The record on the enrichment finding says the same, and the result mark is on the original.
    const kept = recordsFromProperties(plainProperties(world.scc.getFinding(enrichment))).records.find((x) => x.action === 'capture');
    expect(kept).toMatchObject({ result: 'done', approver: APPROVER, detail: expect.stringContaining(`12 evidence files kept now in gs://${BUCKET}/`) });
    expect(kept?.capture).toEqual(record.capture);
    expect(world.scc.getMarks(attack.findingName)?.[responseMarkKey('capture')]).toBe('done');
  }, 60_000);

  it('without EVIDENCE_BUCKET: the snapshot alone, and the record says the files were not kept and why', async () => {
    const body = await approveCapture();
    const r = await respondEvent(body, createResponderInstance(responderEnv()));
    const record = captureRecord(r);
    expect(record.result).toBe('done');
    expectSnapshotTaken(record);
    expect(record.capture!.evidence).toMatchObject({ bucket: null, objects: [], notKept: expect.stringMatching(/EVIDENCE_BUCKET is not set/) });
    expect(record.detail).toMatch(/Evidence files not kept: EVIDENCE_BUCKET is not set/);
    expect(storage.log).toEqual([]);
  }, 60_000);

  it('when the re-gathering fails (the original finding cannot be read): the snapshot is still taken, and the record says why no file was kept', async () => {
    const body = await approveCapture();
    world.scc.injectFault('ListFindings', { code: Status.PERMISSION_DENIED, message: "The caller does not have permission 'securitycenter.findings.list'" });
    const r = await respondEvent(body, createResponderInstance(responderEnv({ EVIDENCE_BUCKET: BUCKET })));
    expect(r.outcome).toBe('responded');
    const record = captureRecord(r);
    expect(record.result).toBe('done');
    expectSnapshotTaken(record);
    expect(record.capture!.evidence.objects).toEqual([]);
    expect(record.capture!.evidence.notKept).toMatch(/^re-gathering them failed: PERMISSION_DENIED: .*securitycenter\.findings\.list/);
    expect(record.detail).toMatch(/Evidence files not kept: re-gathering them failed/);
    expect(storage.log).toEqual([]);
  }, 60_000);
});
