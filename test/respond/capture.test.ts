/**
 * The capture action: planning (pure), then execution through the real
 * @google-cloud/compute and @google-cloud/storage clients against the
 * emulators, comparing what they received with the plan; idempotent
 * re-delivery, API refusals as failed records, and the undo command in
 * every shell.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { createComputeClients, createStorageClient, type ComputeClients, type StorageClient } from '../../lib/clients.js';
import { InvalidInputError } from '../../lib/errors.js';
import { detectionKey, evidenceSetDigest, executeCapture, PERMISSIONS, planCapture, snapshotNameFor, type CaptureClients, type SnapshotBody, type UploadBody } from '../../lib/respond/capture.js';
import { gatheredEvidence, readEvidenceDir } from '../../lib/respond/evidence-files.js';
import { EvidenceCollector, writeEvidence } from '../../lib/cli/save-evidence.js';
import type { CaptureEvidence, PlanContext, ResponseSubject } from '../../lib/respond/types.js';
import { REQUIRED_PERMISSIONS } from '../../lib/permissions.js';
import { startComputeEmulator, type ComputeEmulator } from '../emulators/compute-emulator.js';
import { startStorageEmulator, type StorageEmulator } from '../emulators/storage-emulator.js';
import type { RestLogEntry } from '../emulators/google-rest.js';
import { notificationFixture, projectRoot } from '../support/fixtures.js';
import { analyzeText } from '../../lib/cli/main.js';
import { DEFAULT_CATEGORY } from '../../lib/config.js';
import type { TriagedReport } from '../../lib/report/types.js';
import { subjectFromReport } from '../../lib/respond/subject.js';
import { writeEvidenceDir } from '../support/evidence.js';
import { runEverywhere } from '../support/recording-shell.js';

const FINDING = 'organizations/123456789012/sources/5105551212/findings/6a7c8e4f2b1d4e0f9a3b5c7d9e1f2a4b';
const PROJECT = 'shop-prod-123';
const ZONE = 'us-central1-a';
// A GKE node name as GKE forms it: gke-CLUSTER-POOL-HASH-SUFFIX.
const NODE = 'gke-prod-cluster-default-pool-3f2a1b7c-x9k2';
const BUCKET = 'shop-sec-evidence';

/** The public notification fixture triaged offline: the finding alone, no cluster reads. */
function fixtureReport(): TriagedReport {
  const r = analyzeText(JSON.stringify(notificationFixture('socat-v2')), [DEFAULT_CATEGORY]);
  if (r.status !== 'triaged') throw new Error(`fixture skipped: ${r.reason}`);
  return r;
}

function subject(overrides: Partial<ResponseSubject> = {}): ResponseSubject {
  return {
    findingName: FINDING,
    enrichmentFinding: null,
    eventTime: '2026-11-27T10:00:00Z',
    verdict: { level: 'likely_malicious', score: 80 },
    cluster: { project: PROJECT, location: 'us-central1', name: 'prod-cluster', networkPolicyEnforced: true },
    workload: { namespace: 'payments', pod: 'api-7d9f5-x2x4z', container: 'app', node: NODE },
    pod: { source: 'kubernetes', labels: { app: 'api' }, topOwnerKind: 'Deployment' },
    node: { name: NODE, zone: ZONE, instanceId: '4711' },
    c2: fixtureReport().c2,
    ...overrides,
  };
}

function ctx(s: ResponseSubject = subject(), evidence: CaptureEvidence | null = null): PlanContext {
  return { subject: s, previous: [], force: false, now: new Date('2026-11-27T10:30:00Z'), evidence };
}

let evidenceDir: string;
let evidence: CaptureEvidence;

function makeEvidenceDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'capture-evidence-'));
  // Shapes from public samples: the GKE audit entries of test/fixtures/gke-audit (SOURCES.md), the SCC notification fixture.
  const audit = JSON.parse(readFileSync(join(projectRoot(), 'test/fixtures/gke-audit/exec-spdy.json'), 'utf8')) as unknown;
  writeEvidenceDir(dir, {
    auditLogs: Array.isArray(audit) ? (audit as Record<string, unknown>[]) : [audit as Record<string, unknown>],
    files: { 'finding.json': notificationFixture('socat-v2'), 'evidence.json': { schemaVersion: 1, incomplete: {} } },
  });
  return dir;
}

beforeAll(async () => {
  evidenceDir = makeEvidenceDir();
  evidence = { bucket: BUCKET, files: await readEvidenceDir(evidenceDir), origin: `triage --save-evidence output read from ${evidenceDir}` };
});

afterAll(() => {
  rmSync(evidenceDir, { recursive: true, force: true });
});

describe('planCapture (pure)', () => {
  it('reads the instance, snapshots its boot disk under a name fixed per detection, then uploads each file write-once', () => {
    const plan = planCapture(ctx(subject(), evidence));
    expect(plan.allowed).toBe(true);
    const key = detectionKey(FINDING);
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(plan.requests[0]).toEqual({ api: 'compute', method: 'GET', path: `/compute/v1/projects/${PROJECT}/zones/${ZONE}/instances/${NODE}`, body: null });
    expect(plan.requests[1]).toMatchObject({ api: 'compute', method: 'POST', path: `/compute/v1/projects/${PROJECT}/zones/${ZONE}/disks/${NODE}/createSnapshot` });
    const snap = plan.requests[1]!.body as SnapshotBody;
    expect(snap.name).toBe(`socat-evidence-${key}`);
    expect(snap.labels).toEqual({ 'socat-triage-finding': key, 'socat-triage-action': 'capture', 'socat-triage-node': NODE, 'socat-triage-cluster': 'prod-cluster' });
    expect(snap.description).toContain(FINDING);
    const uploads = plan.requests.slice(2);
    expect(uploads.map((r) => (r.body as UploadBody).media.file)).toEqual(evidence.files.map((f) => f.name));
    const digest = evidenceSetDigest(evidence.files.map((f) => ({ name: f.name, sha256: createHash('sha256').update(f.bytes).digest('hex') }))).slice(0, 16);
    for (const r of uploads) {
      const body = r.body as UploadBody;
      expect(r.path).toBe(`/upload/storage/v1/b/${BUCKET}/o?uploadType=multipart&name=${encodeURIComponent(`socat-triage/${key}/${digest}/${body.media.file}`)}&ifGenerationMatch=0`);
      expect(body.resource.metadata.sha256).toBe(body.media.sha256);
    }
    expect(plan.undo).toBe(`gcloud compute snapshots delete socat-evidence-${key} --project=${PROJECT}`);
    expect(plan.reason).toMatch(/Nothing in the cluster changes/);
    expect(plan).toEqual(planCapture(ctx(subject(), evidence)));
  });

  it('never puts outside text in a label: a cluster name Compute would refuse becomes a hash', () => {
    const plan = planCapture(ctx(subject({ cluster: { project: PROJECT, location: 'us-central1', name: 'Prod Cluster/../x', networkPolicyEnforced: null } })));
    const snap = plan.requests[1]!.body as SnapshotBody;
    for (const [k, v] of Object.entries(snap.labels)) {
      expect(k).toMatch(/^[a-z][a-z0-9_-]{0,62}$/);
      expect(v).toMatch(/^[a-z0-9_-]{0,63}$/);
    }
    expect(snap.labels['socat-triage-cluster']).toMatch(/^h-[0-9a-f]{16}$/);
    expect(snap.description).not.toContain('Prod Cluster');
  });

  it('still snapshots without a bucket or without files, and says the files are not kept', () => {
    const noBucket = planCapture(ctx(subject(), { ...evidence, bucket: null }));
    expect(noBucket.allowed).toBe(true);
    expect(noBucket.requests.map((r) => r.api)).toEqual(['compute', 'compute']);
    expect(noBucket.reason).toMatch(/evidence files are not kept: EVIDENCE_BUCKET is not set/);
    const noFiles = planCapture(ctx(subject(), null));
    expect(noFiles.requests).toHaveLength(2);
    expect(noFiles.reason).toMatch(/not kept: none were handed over .*--evidence DIR/);
  });

  it.each<[string, Partial<ResponseSubject>, RegExp]>([
    ['no node', { node: null }, /node the pod ran on is unknown/],
    ['no cluster (no project)', { cluster: null }, /cluster is unknown/],
    ['no zone', { node: { name: NODE, zone: null, instanceId: null } }, /zone of node gke-prod-cluster-default-pool-3f2a1b7c-x9k2 is unknown.*gcloud compute instances list --filter=name=gke-prod-cluster-default-pool-3f2a1b7c-x9k2 --project=shop-prod-123 '--format=value\(zone\)'/],
    ['a node name that would change the path', { node: { name: '../../global/snapshots/x', zone: ZONE, instanceId: null } }, /is not a Compute Engine instance name/],
    ['a zone that is not one', { node: { name: NODE, zone: 'us-central1-a/../../x', instanceId: null } }, /is not a Compute Engine zone/],
    ['a project that is not one', { cluster: { project: 'Shop Prod', location: 'x', name: 'c', networkPolicyEnforced: null } }, /not a Compute Engine project id/],
  ])('refuses with a reason when %s, and plans no request', (_what, overrides, reason) => {
    const plan = planCapture(ctx(subject(overrides), evidence));
    expect(plan.allowed).toBe(false);
    expect(plan.requests).toEqual([]);
    expect(plan.undo).toBeNull();
    expect(plan.reason).toMatch(reason);
  });

  it('on a report from the finding alone (no node read, so no zone): refused, with the command that finds the zone', () => {
    const s = subjectFromReport(fixtureReport(), null);
    const plan = planCapture(ctx(s, evidence));
    expect(plan.allowed).toBe(false);
    expect(plan.requests).toEqual([]);
    expect(s.node).toEqual({ name: 'gke-shop-prod-default-pool-3f2a9c1e-k8vz', zone: null, instanceId: null });
    expect(plan.reason).toContain(
      'zone of node gke-shop-prod-default-pool-3f2a9c1e-k8vz is unknown (the node could not be read from the cluster). Find it with: gcloud compute instances list --filter=name=gke-shop-prod-default-pool-3f2a9c1e-k8vz --project=shop-prod-4711',
    );
  });

  it('declares the permissions its requests need, none of them in the triage function\'s read-only list', () => {
    expect(PERMISSIONS.map((p) => p.permission)).toEqual(
      expect.arrayContaining(['compute.instances.get', 'compute.disks.createSnapshot', 'compute.snapshots.create', 'compute.zoneOperations.get', 'storage.objects.create']),
    );
    const triage = new Set(REQUIRED_PERMISSIONS.map((p) => p.permission));
    expect(PERMISSIONS.filter((p) => triage.has(p.permission))).toEqual([]);
  });
});

describe('evidence files', () => {
  it('re-gathered at capture time: exactly the bytes triage --save-evidence writes for the same reads, with an origin saying when', async () => {
    const collector = new EvidenceCollector();
    collector.record('node.json', { metadata: { name: NODE, labels: { 'topology.kubernetes.io/zone': ZONE } } });
    collector.record('pod-logs.json', [], 'more entries matched than were read');
    const findingJson = JSON.stringify(notificationFixture('socat-v2'));
    const dir = join(mkdtempSync(join(tmpdir(), 'capture-saved-')), 'saved');
    try {
      await writeEvidence(dir, collector, findingJson);
      const saved = await readEvidenceDir(dir);
      const gathered = await gatheredEvidence(collector, findingJson, BUCKET, new Date('2026-11-27T10:31:00Z'));
      expect(gathered.files.map((f) => f.name).sort()).toEqual(saved.map((f) => f.name));
      for (const f of saved) expect(Buffer.from(gathered.files.find((g) => g.name === f.name)!.bytes).equals(Buffer.from(f.bytes))).toBe(true);
      expect(gathered.origin).toBe('re-gathered by the responder at 2026-11-27T10:31:00.000000000Z (as of the capture, not of the triage)');
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true });
    }
  });

  it('readEvidenceDir reads exactly the files save-evidence writes, byte for byte', async () => {
    const files = await readEvidenceDir(evidenceDir);
    expect(files.map((f) => f.name)).toEqual(['audit-logs.json', 'evidence.json', 'finding.json']);
    expect(Buffer.from(files[0]!.bytes).equals(readFileSync(join(evidenceDir, 'audit-logs.json')))).toBe(true);
  });

  it('readEvidenceDir refuses a file save-evidence does not write, a symbolic link and an empty directory, naming what is wrong', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'capture-bad-'));
    try {
      await expect(readEvidenceDir(dir)).rejects.toThrow(/is empty/);
      writeFileSync(join(dir, 'notes.txt'), 'x');
      await expect(readEvidenceDir(dir)).rejects.toThrow(/"notes\.txt", which triage --save-evidence does not write/);
      rmSync(join(dir, 'notes.txt'));
      symlinkSync('/etc/passwd', join(dir, 'pod.json'));
      await expect(readEvidenceDir(dir)).rejects.toThrow(InvalidInputError);
      await expect(readEvidenceDir(dir)).rejects.toThrow(/pod\.json: is a symbolic link/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('executeCapture through the real clients', () => {
  let compute: ComputeEmulator;
  let storage: StorageEmulator;
  let computeClients: ComputeClients;
  let storageClient: StorageClient;
  let clients: CaptureClients;

  beforeAll(async () => {
    compute = await startComputeEmulator({ waitsUntilDone: 1 });
    storage = await startStorageEmulator();
    computeClients = await createComputeClients({ computeEmulatorHost: compute.endpoint, emulated: true });
    storageClient = await createStorageClient({ storageEmulatorHost: storage.endpoint, emulated: true });
    clients = { compute: computeClients, storage: storageClient };
  });

  afterAll(async () => {
    await compute.stop();
    await storage.stop();
  });

  beforeEach(() => {
    compute.reset();
    storage.reset();
    compute.seedInstance({ project: PROJECT, zone: ZONE, name: NODE });
    storage.seedBucket({ name: BUCKET, retentionPeriodSeconds: 90 * 86400 });
  });

  /** What the emulators received, in the plan's terms; operation polls are the client's wait on the snapshot call. */
  function received(): { api: string; method: string; path: string; body: unknown }[] {
    const all = [...compute.log.map((e) => ({ api: 'compute', e })), ...storage.log.map((e) => ({ api: 'storage', e }))];
    return all
      .filter(({ e }) => !/\/operations\/[^/]+\/wait$/.test(e.path))
      .map(({ api, e }) => ({ api, method: e.method, path: api === 'compute' ? e.path : e.url, body: bodyOf(api, e) }));
  }

  function bodyOf(api: string, e: RestLogEntry): unknown {
    if (e.body.length === 0) return null;
    if (api === 'compute') return JSON.parse(e.body.toString('utf8'));
    // The multipart body: first part the resource JSON, second the media (compared by size and digest).
    const boundary = /boundary=([^;]+)/.exec(String(e.headers['content-type']))![1]!;
    const parts = e.body.toString('latin1').split(`--${boundary}`).slice(1, -1);
    const content = (p: string) => Buffer.from(p.slice(p.indexOf('\r\n\r\n') + 4, -2), 'latin1');
    const media = content(parts[1]!);
    const resource = JSON.parse(content(parts[0]!).toString('utf8')) as UploadBody['resource'];
    return { resource, media: { file: resource.metadata.file, bytes: media.length, sha256: createHash('sha256').update(media).digest('hex') } };
  }

  it('done: takes the snapshot and keeps every file, sending exactly the planned requests in order', async () => {
    const plan = planCapture(ctx(subject(), evidence));
    const record = await executeCapture(plan, clients, { approver: 'alice@example.com', evidence, now: () => new Date('2026-11-27T10:31:00Z') });
    expect(record).toMatchObject({ action: 'capture', approver: 'alice@example.com', result: 'done', at: '2026-11-27T10:31:00.000000000Z', undo: plan.undo });
    expect(received()).toEqual(plan.requests.map((r) => ({ api: r.api, method: r.method, path: r.path, body: r.body })));
    // The client waited on the snapshot's own operation until DONE (the emulator answers RUNNING once first), and the snapshot exists with the planned labels.
    const wait = `/compute/v1/projects/${PROJECT}/zones/${ZONE}/operations/${compute.operations()[0]!.name}/wait`;
    expect(compute.log.filter((e) => e.path.endsWith('/wait')).map((e) => e.path)).toEqual([wait, wait]);
    const snap = compute.snapshot(PROJECT, snapshotNameFor(FINDING));
    expect(snap).toMatchObject({ status: 'READY', labels: (plan.requests[1]!.body as SnapshotBody).labels });
    expect(record.capture?.snapshot).toMatchObject({ state: 'created', name: snapshotNameFor(FINDING), disk: NODE, operation: compute.operations()[0]!.name });
    // Each object holds the file's bytes, and the record has its sha256.
    expect(record.capture?.evidence.objects).toHaveLength(evidence.files.length);
    for (const o of record.capture!.evidence.objects) {
      const stored = storage.object(BUCKET, o.object)!;
      expect(o.state).toBe('stored');
      expect(createHash('sha256').update(stored.media).digest('hex')).toBe(o.sha256);
      expect(o.generation).toBe(stored.generation);
      expect(stored.retentionExpirationTime).toBeDefined();
    }
    expect(record.detail).toMatch(/^Snapshot socat-evidence-[0-9a-f]{16} of boot disk .* taken .* 3 evidence files kept now in gs:\/\/shop-sec-evidence\//);
  });

  it('re-delivery of the same approval: already_done, no second snapshot, no object replaced', async () => {
    const plan = planCapture(ctx(subject(), evidence));
    await executeCapture(plan, clients, { approver: 'alice@example.com', evidence });
    const generations = storage.objects(BUCKET).map((o) => o.generation);
    const again = await executeCapture(planCapture(ctx(subject(), evidence)), clients, { approver: 'alice@example.com', evidence });
    expect(again.result).toBe('already_done');
    expect(again.detail).toMatch(/already existed .* 0 evidence files kept now, 3 already kept/);
    expect(again.capture?.snapshot.state).toBe('already_existed');
    expect(again.capture?.evidence.objects.every((o) => o.state === 'already_stored')).toBe(true);
    expect(compute.operations()).toHaveLength(1);
    expect(storage.objects(BUCKET).map((o) => o.generation)).toEqual(generations);
  });

  it('403 on the snapshot: a failed record naming the request and Compute\'s reason, never a throw; the evidence is still kept', async () => {
    compute.deny('compute.disks.createSnapshot');
    const plan = planCapture(ctx(subject(), evidence));
    const record = await executeCapture(plan, clients, { approver: 'alice@example.com', evidence });
    expect(record.result).toBe('failed');
    expect(record.detail).toContain(`POST /compute/v1/projects/${PROJECT}/zones/${ZONE}/disks/${NODE}/createSnapshot: 403: Required 'compute.disks.createSnapshot' permission`);
    expect(record.undo).toBeNull();
    expect(record.capture?.snapshot.state).toBe('not_taken');
    expect(storage.objects(BUCKET)).toHaveLength(evidence.files.length);
  });

  it('403 on the bucket: failed, naming the file and the reason', async () => {
    storage.deny('storage.objects.create');
    const record = await executeCapture(planCapture(ctx(subject(), evidence)), clients, { approver: null, evidence });
    expect(record.result).toBe('failed');
    expect(record.detail).toMatch(/POST \/upload\/storage\/v1\/b\/shop-sec-evidence\/o \(audit-logs\.json\): 403 forbidden: .*storage\.objects\.create/);
    expect(record.capture?.snapshot.state).toBe('created');
  });

  it('node unknown: refused before any request', async () => {
    const plan = planCapture(ctx(subject({ node: null }), evidence));
    const record = await executeCapture(plan, clients, { approver: 'alice@example.com', evidence });
    expect(record).toMatchObject({ result: 'refused', undo: null, detail: plan.reason });
    expect(compute.log).toHaveLength(0);
    expect(storage.log).toHaveLength(0);
  });

  it('the node is gone (404): failed with Compute\'s answer, no snapshot requested', async () => {
    compute.reset();
    const record = await executeCapture(planCapture(ctx(subject(), null)), clients, { approver: 'alice@example.com', evidence: null });
    expect(record.result).toBe('failed');
    expect(record.detail).toContain(`GET /compute/v1/projects/${PROJECT}/zones/${ZONE}/instances/${NODE}: 404: The resource`);
    expect(compute.log.map((e) => e.method)).toEqual(['GET']);
  });

  it('a boot disk not named as the node: stops before snapshotting and names the disk to snapshot by hand', async () => {
    compute.reset();
    compute.seedInstance({ project: PROJECT, zone: ZONE, name: NODE, bootDisk: 'custom-boot-disk' });
    const record = await executeCapture(planCapture(ctx(subject(), null)), clients, { approver: 'alice@example.com', evidence: null });
    expect(record.result).toBe('failed');
    expect(record.detail).toContain(`its boot disk is "custom-boot-disk", not ${NODE}`);
    expect(record.detail).toContain(`gcloud compute disks snapshot custom-boot-disk --zone=${ZONE} --project=${PROJECT}`);
    expect(compute.log.some((e) => e.path.endsWith('/createSnapshot'))).toBe(false);
  });

  it('an operation that ends in error: failed, with the operation\'s error', async () => {
    compute.failNextOperation({ code: 'QUOTA_EXCEEDED', message: "Quota 'SNAPSHOTS' exceeded. Limit: 100.0 globally." });
    const record = await executeCapture(planCapture(ctx(subject(), null)), clients, { approver: 'alice@example.com', evidence: null });
    expect(record.result).toBe('failed');
    expect(record.detail).toContain("the operation ended with QUOTA_EXCEEDED: Quota 'SNAPSHOTS' exceeded");
  });

  it('an operation not DONE within the wait limit: failed, naming the operation and how to check it', async () => {
    const record = await executeCapture(planCapture(ctx(subject(), null)), clients, { approver: 'alice@example.com', evidence: null, operationWaitMs: 0 });
    const op = compute.operations()[0]!;
    expect(op.status).toBe('RUNNING');
    expect(record.result).toBe('failed');
    expect(record.detail).toContain(`its operation had not finished after 0 s. Check it with: gcloud compute operations describe ${op.name} --zone=${ZONE} --project=${PROJECT}`);
  });

  it('a 503 from Compute on the snapshot call: failed with the status, not a throw', async () => {
    compute.injectFault({ status: 503, match: '/createSnapshot', message: 'The service is currently unavailable.' });
    const record = await executeCapture(planCapture(ctx(subject(), null)), clients, { approver: 'alice@example.com', evidence: null });
    expect(record.result).toBe('failed');
    expect(record.detail).toContain('createSnapshot: 503: The service is currently unavailable.');
  });

  it('an evidence file changed since planning is not uploaded', async () => {
    const plan = planCapture(ctx(subject(), evidence));
    const tampered: CaptureEvidence = { ...evidence, files: evidence.files.map((f, i) => (i === 0 ? { name: f.name, bytes: new TextEncoder().encode('[]') } : f)) };
    const record = await executeCapture(plan, clients, { approver: 'alice@example.com', evidence: tampered });
    expect(record.result).toBe('failed');
    expect(record.detail).toContain('evidence file audit-logs.json is not the one planned');
    expect(storage.objects(BUCKET)).toHaveLength(evidence.files.length - 1);
  });
});

describe('the undo command', () => {
  it('runs as exactly `gcloud compute snapshots delete NAME --project=P` in bash, zsh, dash and busybox sh', async () => {
    const plan = planCapture(ctx());
    const report = await runEverywhere([
      { command: plan.undo!, expected: { program: 'gcloud', argv: ['compute', 'snapshots', 'delete', snapshotNameFor(FINDING), `--project=${PROJECT}`] }, label: 'capture undo' },
    ]);
    expect(report.missing).toEqual([]);
    expect(report.problems).toEqual([]);
    expect(report.checks).toBeGreaterThanOrEqual(4);
  });

  it('the command a refusal prints to find the zone runs as it says in every shell', async () => {
    const reason = planCapture(ctx(subject({ node: { name: NODE, zone: null, instanceId: null } }))).reason;
    const findZone = /Find it with: (.+?) — then/.exec(reason)![1]!;
    const report = await runEverywhere([
      { command: findZone, expected: { program: 'gcloud', argv: ['compute', 'instances', 'list', `--filter=name=${NODE}`, `--project=${PROJECT}`, '--format=value(zone)'] }, label: 'find zone' },
    ]);
    expect(report.missing).toEqual([]);
    expect(report.problems).toEqual([]);
  });
});
