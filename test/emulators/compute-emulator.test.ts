/**
 * The Compute emulator through the real @google-cloud/compute client (its
 * REST transport, as in production): what it serves, the long-running
 * operation a snapshot is, and the refusals Compute answers with.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createComputeClients, type ComputeClients } from '../../lib/clients.js';
import { ConfigError } from '../../lib/config.js';
import { startComputeEmulator, type ComputeEmulator } from './compute-emulator.js';

const P = 'shop-prod-123';
const Z = 'us-central1-a';
const NODE = 'gke-prod-cluster-default-pool-3f2a1b7c-x9k2';

let emulator: ComputeEmulator;
let compute: ComputeClients;

beforeAll(async () => {
  emulator = await startComputeEmulator({ waitsUntilDone: 2 });
  compute = await createComputeClients({ computeEmulatorHost: emulator.endpoint, emulated: true });
});

afterAll(async () => {
  await emulator.stop();
});

beforeEach(() => {
  emulator.reset();
  emulator.seedInstance({ project: P, zone: Z, name: NODE });
});

async function failure(call: Promise<unknown>): Promise<{ status: unknown; message: string }> {
  try {
    await call;
  } catch (err) {
    return { status: (err as { httpStatusCode?: unknown }).httpStatusCode, message: (err as Error).message };
  }
  throw new Error('expected the call to fail');
}

describe('compute emulator through @google-cloud/compute', () => {
  it('serves instances.get with the boot disk named as the instance', async () => {
    const [inst] = await compute.instances.get({ project: P, zone: Z, instance: NODE });
    const boot = inst.disks?.find((d) => d.boot);
    expect(boot?.source).toBe(`https://www.googleapis.com/compute/v1/projects/${P}/zones/${Z}/disks/${NODE}`);
    expect(emulator.log.map((e) => `${e.method} ${e.path}`)).toEqual([`GET /compute/v1/projects/${P}/zones/${Z}/instances/${NODE}`]);
  });

  it('answers createSnapshot with a RUNNING zone operation, DONE only after waiting, and takes the snapshot then', async () => {
    const [lro] = await compute.disks.createSnapshot({ project: P, zone: Z, disk: NODE, snapshotResource: { name: 'socat-evidence-0123456789abcdef', labels: { 'socat-triage-action': 'capture' }, description: 'd' } });
    let op = (lro as unknown as { latestResponse: { name: string; status: string } }).latestResponse;
    expect(op.status).toBe('RUNNING');
    expect(emulator.snapshot(P, 'socat-evidence-0123456789abcdef')).toBeUndefined();
    const statuses: string[] = [];
    while (op.status !== 'DONE') {
      [op] = (await compute.zoneOperations.wait({ project: P, zone: Z, operation: op.name })) as unknown as [typeof op];
      statuses.push(op.status);
    }
    expect(statuses).toEqual(['RUNNING', 'RUNNING', 'DONE']);
    const snap = emulator.snapshot(P, 'socat-evidence-0123456789abcdef');
    expect(snap).toMatchObject({ status: 'READY', labels: { 'socat-triage-action': 'capture' }, description: 'd', sourceDisk: expect.stringContaining(`/disks/${NODE}`) });
    const posted = emulator.log.find((e) => e.path.endsWith('/createSnapshot'));
    expect(JSON.parse(posted!.body.toString())).toEqual({ name: 'socat-evidence-0123456789abcdef', labels: { 'socat-triage-action': 'capture' }, description: 'd' });
  });

  it('refuses a snapshot name already used in the project with 409 alreadyExists, even while the first is still running', async () => {
    await compute.disks.createSnapshot({ project: P, zone: Z, disk: NODE, snapshotResource: { name: 'snap-a' } });
    const f = await failure(compute.disks.createSnapshot({ project: P, zone: Z, disk: NODE, snapshotResource: { name: 'snap-a' } }));
    expect(f.status).toBe(409);
    expect(f.message).toBe(`The resource 'projects/${P}/global/snapshots/snap-a' already exists`);
  });

  it('answers an unknown disk or instance with 404 notFound', async () => {
    const disk = await failure(compute.disks.createSnapshot({ project: P, zone: Z, disk: 'gone-node', snapshotResource: { name: 'snap-b' } }));
    expect(disk).toEqual({ status: 404, message: `The resource 'projects/${P}/zones/${Z}/disks/gone-node' was not found` });
    const inst = await failure(compute.instances.get({ project: P, zone: 'europe-west1-b', instance: NODE }));
    expect(inst.status).toBe(404);
  });

  it('answers a denied permission with 403 naming the permission and the resource', async () => {
    emulator.deny('compute.disks.createSnapshot');
    const f = await failure(compute.disks.createSnapshot({ project: P, zone: Z, disk: NODE, snapshotResource: { name: 'snap-c' } }));
    expect(f).toEqual({ status: 403, message: `Required 'compute.disks.createSnapshot' permission for 'projects/${P}/zones/${Z}/disks/${NODE}'` });
    emulator.deny('compute.snapshots.setLabels');
    emulator.reset();
    emulator.seedInstance({ project: P, zone: Z, name: NODE });
    emulator.deny('compute.snapshots.setLabels');
    // Unlabelled it passes; labelled it needs setLabels too.
    await compute.disks.createSnapshot({ project: P, zone: Z, disk: NODE, snapshotResource: { name: 'snap-d' } });
    expect((await failure(compute.disks.createSnapshot({ project: P, zone: Z, disk: NODE, snapshotResource: { name: 'snap-e', labels: { a: 'b' } } }))).status).toBe(403);
  });

  it.each([
    ['a name that is not RFC 1035', { name: 'Socat_Evidence' }],
    ['a name longer than 63', { name: `s${'a'.repeat(63)}` }],
    ['an upper-case label key', { name: 'snap-f', labels: { Finding: 'x' } }],
    ['a label value with a slash', { name: 'snap-g', labels: { finding: 'organizations/1' } }],
    ['a label value longer than 63', { name: 'snap-h', labels: { finding: 'a'.repeat(64) } }],
  ])('refuses %s with 400 invalid', async (_what, snapshotResource) => {
    const f = await failure(compute.disks.createSnapshot({ project: P, zone: Z, disk: NODE, snapshotResource }));
    expect(f.status).toBe(400);
    expect(f.message).toMatch(/^Invalid value for field 'resource\.(name|labels)/);
  });

  it('can end an operation DONE with an error instead of a snapshot', async () => {
    emulator.failNextOperation({ code: 'QUOTA_EXCEEDED', message: "Quota 'SNAPSHOTS' exceeded." });
    const [lro] = await compute.disks.createSnapshot({ project: P, zone: Z, disk: NODE, snapshotResource: { name: 'snap-i' } });
    let op = (lro as unknown as { latestResponse: { name: string; status: string; error?: unknown } }).latestResponse;
    while (op.status !== 'DONE') [op] = (await compute.zoneOperations.wait({ project: P, zone: Z, operation: op.name })) as unknown as [typeof op];
    expect(op.error).toMatchObject({ errors: [{ code: 'QUOTA_EXCEEDED' }] });
    expect(emulator.snapshot(P, 'snap-i')).toBeUndefined();
  });

  it('is never reached by accident: without its host while other emulators are set, no client is made', async () => {
    await expect(createComputeClients({ computeEmulatorHost: null, emulated: true })).rejects.toThrow(ConfigError);
    await expect(createComputeClients({ computeEmulatorHost: null, emulated: true })).rejects.toThrow(/COMPUTE_EMULATOR_HOST: is unset while other emulators are set/);
  });
});
