/**
 * The SCC emulator's opt-in per-project quotas (what `npm run bench` uses for
 * the burst), driven through the real client, and the client's waiting out
 * of quota refusals (lib/clients.ts). A test clock moves the emulator's
 * window where the refusal itself is under test, so those cases do not
 * depend on timing.
 */
import { createSccClient, type SccClient } from '../../lib/clients.js';
import { isQuotaExceeded, SCC_QUOTA_RETRY } from '../../lib/retry.js';
import { createInstance } from '../../lib/wiring.js';
import { Status } from '../emulators/grpc-harness.js';
import { QUOTA_KIND, IMPLEMENTED_RPCS, startSccEmulator, type SccEmulator } from '../emulators/scc-emulator.js';

const ORG = '123456789';
const CLUSTER = '//container.googleapis.com/projects/demo-proj/locations/us-central1/clusters/prod-1';

let emulator: SccEmulator;
let client: SccClient;
let clock = 0;
let source: string;

beforeAll(async () => {
  emulator = await startSccEmulator();
  client = await createSccClient({ sccEmulatorHost: emulator.endpoint });
});

afterAll(async () => {
  await client.close();
  await emulator.stop();
});

beforeEach(() => {
  emulator.reset();
  clock = 0;
  source = emulator.addSource({ organization: ORG, displayName: 'Socat triage' }).name as string;
});

function finding(id: string) {
  return { name: `${source}/locations/global/findings/${id}`, resourceName: CLUSTER, category: 'X', state: 'ACTIVE' as const, eventTime: { seconds: 1_700_000_000 } };
}

// Callback style: the client's quota backoff passes these through, so the emulator's answer arrives as it is.
function write(id: string): Promise<unknown> {
  return new Promise((resolve, reject) => client.updateFinding({ finding: finding(id) }, {}, (err: unknown, res: unknown) => (err ? reject(err) : resolve(res))));
}

function read(): Promise<unknown> {
  return new Promise((resolve, reject) =>
    client.listFindings({ parent: `${source}/locations/global` }, { autoPaginate: false }, (err: unknown, res: unknown) => (err ? reject(err) : resolve(res))),
  );
}

async function code(call: Promise<unknown>): Promise<number> {
  return call.then(
    () => Status.OK,
    (err: { code: number }) => err.code,
  );
}

describe('SCC emulator quotas', () => {
  it('assigns every implemented RPC to the read or the write quota', () => {
    expect(Object.keys(QUOTA_KIND).sort()).toEqual([...IMPLEMENTED_RPCS].sort());
  });

  it('refuses writes over the limit with RESOURCE_EXHAUSTED and leaves reads alone', async () => {
    emulator.setQuota({ writesPerWindow: 2, windowMs: 60_000, clock: () => clock });
    expect(await code(write('a1'))).toBe(Status.OK);
    expect(await code(write('a2'))).toBe(Status.OK);
    const refused = await write('a3').catch((err: { code: number; details: string }) => err);
    expect(refused).toMatchObject({ code: Status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/^Quota exceeded for quota metric 'Write requests'/) });
    expect(isQuotaExceeded(refused)).toBe(true);
    // A refused call changes nothing.
    expect(emulator.getFinding(`${source}/locations/global/findings/a3`)).toBeUndefined();
    expect(await code(read())).toBe(Status.OK);
    expect(emulator.requests('UpdateFinding').map((r) => r.code)).toEqual([Status.OK, Status.OK, Status.RESOURCE_EXHAUSTED]);
  });

  it('slides the window: a call counts for windowMs after it was accepted, refused calls not at all', async () => {
    emulator.setQuota({ readsPerWindow: 2, windowMs: 1000, clock: () => clock });
    expect(await code(read())).toBe(Status.OK); // t=0
    clock = 600;
    expect(await code(read())).toBe(Status.OK); // t=600
    expect(await code(read())).toBe(Status.RESOURCE_EXHAUSTED);
    clock = 1000; // the t=0 call has left the window
    expect(await code(read())).toBe(Status.OK);
    expect(await code(read())).toBe(Status.RESOURCE_EXHAUSTED);
    clock = 1600;
    expect(await code(read())).toBe(Status.OK);
  });

  it('counts per project (x-goog-user-project), and setQuota(null) or reset() lifts it', async () => {
    emulator.setQuota({ writesPerWindow: 1, clock: () => clock });
    expect(await code(write('b1'))).toBe(Status.OK);
    expect(await code(write('b2'))).toBe(Status.RESOURCE_EXHAUSTED);
    const call = new Promise((resolve, reject) =>
      client.updateFinding({ finding: finding('b3') }, { otherArgs: { headers: { 'x-goog-user-project': 'other-project' } } }, (err: unknown, res: unknown) =>
        err ? reject(err) : resolve(res),
      ),
    );
    expect(await code(call)).toBe(Status.OK);
    emulator.setQuota(null);
    expect(await code(write('b4'))).toBe(Status.OK);
    emulator.setQuota({ writesPerWindow: 0, clock: () => clock });
    expect(await code(write('b5'))).toBe(Status.RESOURCE_EXHAUSTED);
    emulator.reset();
    source = emulator.addSource({ organization: ORG, displayName: 'Socat triage' }).name as string;
    expect(await code(write('b6'))).toBe(Status.OK);
  });

  it('with quotaBackoff, the client waits a refusal for quota out instead of failing', async () => {
    const patient = await createSccClient({ sccEmulatorHost: emulator.endpoint }, { quotaBackoff: SCC_QUOTA_RETRY });
    // Real time here: one write per 300 ms, and the client's backoff (up to a second at first) finds the room.
    emulator.setQuota({ writesPerWindow: 1, windowMs: 300 });
    try {
      await patient.updateFinding({ finding: finding('c1') });
      await patient.updateFinding({ finding: finding('c2') });
    } finally {
      await patient.close();
    }
    const codes = emulator.requests('UpdateFinding').map((r) => r.code);
    expect(codes[0]).toBe(Status.OK);
    expect(codes.at(-1)).toBe(Status.OK);
    expect(codes).toContain(Status.RESOURCE_EXHAUSTED);
    expect(emulator.getFinding(`${source}/locations/global/findings/c2`)).toBeDefined();
  });

  it("the function's own client waits quota out: a burst's writes are delayed, not handed back to Pub/Sub", async () => {
    const everyGatherer = 'relatedFindings,cluster,node,pod,podLogs,auditLogs,nodeLogs,nodeK8sLogs,namespace,contacts';
    const instance = createInstance({ SCC_EMULATOR_HOST: emulator.endpoint, SCC_SOURCE_NAME: source, DISABLED_GATHERERS: everyGatherer });
    const scc = (await instance.scc()) as SccClient;
    emulator.setQuota({ writesPerWindow: 1, windowMs: 300 });
    try {
      await scc.updateFinding({ finding: finding('w1') });
      await scc.updateFinding({ finding: finding('w2') });
    } finally {
      await scc.close();
    }
    const codes = emulator.requests('UpdateFinding').map((r) => r.code);
    expect(codes).toContain(Status.RESOURCE_EXHAUSTED);
    expect(codes.at(-1)).toBe(Status.OK);
    expect(emulator.getFinding(`${source}/locations/global/findings/w2`)).toBeDefined();
  });

  it('hands any other RESOURCE_EXHAUSTED straight back, and without quotaBackoff a quota refusal too', async () => {
    const patient = await createSccClient({ sccEmulatorHost: emulator.endpoint }, { quotaBackoff: SCC_QUOTA_RETRY });
    emulator.injectFault('UpdateFinding', { code: Status.RESOURCE_EXHAUSTED, message: 'injected', times: 1 });
    try {
      await expect(patient.updateFinding({ finding: finding('d1') })).rejects.toMatchObject({ code: Status.RESOURCE_EXHAUSTED });
    } finally {
      await patient.close();
    }
    expect(emulator.requests('UpdateFinding')).toHaveLength(1);
    emulator.setQuota({ writesPerWindow: 0, clock: () => clock });
    await expect(client.updateFinding({ finding: finding('d2') })).rejects.toMatchObject({ code: Status.RESOURCE_EXHAUSTED });
    expect(emulator.requests('UpdateFinding')).toHaveLength(2);
    expect(isQuotaExceeded({ code: Status.RESOURCE_EXHAUSTED, reason: 'RATE_LIMIT_EXCEEDED', details: 'x' })).toBe(true);
    expect(isQuotaExceeded({ code: Status.UNAVAILABLE, details: 'Quota exceeded for quota metric' })).toBe(false);
  });

  it('rejects nonsensical settings', () => {
    expect(() => emulator.setQuota({ writesPerWindow: 1.5 })).toThrow(RangeError);
    expect(() => emulator.setQuota({ writesPerWindow: 1, windowMs: 0 })).toThrow(RangeError);
  });
});
