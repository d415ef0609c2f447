/**
 * The capture action through a bundle built by scripts/build-bundle.mjs:
 * the Compute client's protos.json (4 MB) is trimmed there to the services
 * and RPCs lib/ calls, so a trimmed-away RPC (createSnapshot, the operation
 * wait) would fail only in the deployed artifact. This builds a bundle whose
 * entry is the capture action and runs it, with the bundle's own clients,
 * against the Compute and Storage emulators: done, then already_done.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Entry from './capture-entry.js';
import type { CaptureEvidence, PlanContext } from '../../lib/respond/types.js';
import { startComputeEmulator, type ComputeEmulator } from '../emulators/compute-emulator.js';
import { startStorageEmulator, type StorageEmulator } from '../emulators/storage-emulator.js';
import { projectRoot } from '../support/fixtures.js';

const root = projectRoot();
const out = join(root, 'build', 'bundle-capture-under-test');
const PROJECT = 'shop-prod-123';
const ZONE = 'europe-west4-b';
const NODE = 'gke-prod-cluster-pool-2-91c0d3e4-7hq1';

let bundled: typeof Entry;
let report: { protos: { package: string; bytesBefore: number; bytesAfter: number; services: string[] }[] };
let compute: ComputeEmulator;
let storage: StorageEmulator;

beforeAll(async () => {
  const { buildBundle } = (await import(pathToFileURL(join(root, 'scripts', 'build-bundle.mjs')).href)) as { buildBundle: (o: Record<string, unknown>) => Promise<typeof report> };
  report = await buildBundle({ out, entry: join(root, 'dist', 'test', 'bench', 'capture-entry.js') });
  bundled = (await import(pathToFileURL(join(out, 'function.mjs')).href)) as typeof Entry;
  compute = await startComputeEmulator();
  storage = await startStorageEmulator();
}, 120_000);

afterAll(async () => {
  await compute?.stop();
  await storage?.stop();
  rmSync(out, { recursive: true, force: true });
});

describe('capture through the bundle', () => {
  it('keeps the Compute RPCs capture calls, and nothing else of Compute\'s 4 MB of protos', () => {
    const compute = report.protos.find((p) => p.package === '@google-cloud/compute')!;
    const line = JSON.stringify(compute);
    expect(compute.bytesAfter).toBeLessThan(compute.bytesBefore / 10);
    expect(line).toMatch(/Disks \([^)]*CreateSnapshot/);
    expect(line).toMatch(/ZoneOperations \([^)]*Wait/);
    expect(line).toMatch(/Instances \([^)]*Get/);
  });

  it('takes the snapshot and keeps the evidence with the bundled clients, then answers a re-delivery already_done', async () => {
    compute.seedInstance({ project: PROJECT, zone: ZONE, name: NODE });
    storage.seedBucket({ name: 'shop-sec-evidence', retentionPeriodSeconds: 86400 });
    const evidence: CaptureEvidence = { bucket: 'shop-sec-evidence', origin: 'bundle test', files: [{ name: 'finding.json', bytes: new TextEncoder().encode('{"finding": {}}\n') }] };
    const ctx: PlanContext = {
      subject: {
        findingName: 'organizations/1/sources/2/findings/bundle',
        enrichmentFinding: null,
        eventTime: null,
        verdict: { level: 'likely_malicious', score: 90 },
        cluster: { project: PROJECT, location: 'europe-west4', name: 'prod-cluster', networkPolicyEnforced: true },
        workload: { namespace: 'ns', pod: 'p', container: 'c', node: NODE },
        pod: null,
        node: { name: NODE, zone: ZONE, instanceId: null },
        c2: {} as PlanContext['subject']['c2'],
      },
      previous: [],
      force: false,
      now: new Date(),
      evidence,
    };
    const clients = {
      compute: await bundled.createComputeClients({ computeEmulatorHost: compute.endpoint, emulated: true }),
      storage: await bundled.createStorageClient({ storageEmulatorHost: storage.endpoint, emulated: true }),
    };
    const plan = bundled.planCapture(ctx);
    const first = await bundled.executeCapture(plan, clients, { approver: 'alice@example.com', evidence });
    expect(first.detail).not.toMatch(/Failed/);
    expect(first.result).toBe('done');
    expect(compute.snapshot(PROJECT, first.capture!.snapshot.name)?.status).toBe('READY');
    expect(storage.objects('shop-sec-evidence')).toHaveLength(1);
    const again = await bundled.executeCapture(bundled.planCapture(ctx), clients, { approver: 'alice@example.com', evidence });
    expect(again.result).toBe('already_done');
  });
});
