/**
 * Drives the SCC emulator with the real v2.SecurityCenterClient, built the way
 * production builds it (createSccClient), so every assertion is about what
 * the client library actually sends, receives and throws.
 */
import { createSccClient, type SccClient } from '../../lib/clients.js';
import { Status } from './grpc-harness.js';
import { CTD_SOURCE_DISPLAY_NAME, fromProtoValue, startSccEmulator, type Finding, type SccChange, type SccEmulator } from './scc-emulator.js';

const ORG = '123456789';
const CLUSTER = '//container.googleapis.com/projects/demo-proj/locations/us-central1/clusters/prod-1';
const OTHER_CLUSTER = '//container.googleapis.com/projects/other-proj/zones/europe-west1-b/clusters/edge';
const SOCAT = 'Execution: Socat Reverse Shell Detected';

let emulator: SccEmulator;
let client: SccClient;

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
});

interface RpcFailure {
  code: number;
  details?: string;
  message: string;
}

/** Awaits a call that must fail and returns the client library's error. */
async function rejection(call: Promise<unknown>): Promise<RpcFailure> {
  const outcome = await call.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected the call to fail, it returned ${JSON.stringify(outcome.value).slice(0, 300)}`);
  return outcome.error as RpcFailure;
}

async function expectStatus(call: Promise<unknown>, code: number, details?: RegExp): Promise<RpcFailure> {
  const err = await rejection(call);
  expect(err.code).toBe(code);
  if (details) expect(err.details ?? err.message).toMatch(details);
  return err;
}

function ownSource(displayName = 'Socat triage'): string {
  return emulator.addSource({ organization: ORG, displayName }).name as string;
}

function findingInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceName: CLUSTER,
    category: 'Socat Reverse Shell Triage',
    eventTime: { seconds: 1_750_000_000, nanos: 123_000_000 },
    sourceProperties: { Verdict: { stringValue: 'reverse_shell' } },
    ...overrides,
  };
}

function props(finding: Finding | undefined | null): Record<string, unknown> {
  return Object.fromEntries(Object.entries(finding?.sourceProperties ?? {}).map(([k, v]) => [k, fromProtoValue(v)]));
}

async function listAll(parent: string, filter = '', extra: Record<string, unknown> = {}): Promise<string[]> {
  const [results] = await client.listFindings({ parent, filter, ...extra });
  return results.map((r) => r.finding?.name as string);
}

describe('sources', () => {
  test('createSource, getSource and listSources', async () => {
    const [created] = await client.createSource({ parent: `organizations/${ORG}`, source: { displayName: 'Socat triage', description: 'enrichment' } });
    expect(created.name).toMatch(new RegExp(`^organizations/${ORG}/sources/\\d+$`));
    expect(created.displayName).toBe('Socat triage');

    const [fetched] = await client.getSource({ name: created.name as string });
    expect(fetched).toMatchObject({ name: created.name, displayName: 'Socat triage', description: 'enrichment' });

    emulator.addSource({ organization: '999', displayName: 'elsewhere' });
    const [listed] = await client.listSources({ parent: `organizations/${ORG}` });
    expect(listed.map((s) => s.name)).toEqual([created.name]);
  });

  test('unknown source is NOT_FOUND, duplicate display name ALREADY_EXISTS, bad parent INVALID_ARGUMENT', async () => {
    await expectStatus(client.getSource({ name: `organizations/${ORG}/sources/42` }), Status.NOT_FOUND, /not found/);
    ownSource('dup');
    await expectStatus(client.createSource({ parent: `organizations/${ORG}`, source: { displayName: 'dup' } }), Status.ALREADY_EXISTS);
    await expectStatus(client.createSource({ parent: 'projects/p', source: { displayName: 'x' } }), Status.INVALID_ARGUMENT, /organizations/);
    await expectStatus(client.createSource({ parent: `organizations/${ORG}`, source: { displayName: '' } }), Status.INVALID_ARGUMENT, /display_name/);
  });
});

describe('createFinding', () => {
  test('stores the finding and returns it with server-owned fields', async () => {
    const source = ownSource();
    const [created] = await client.createFinding({
      parent: `${source}/locations/global`,
      findingId: 'abc123',
      finding: findingInput({
        state: 'INACTIVE',
        severity: 'HIGH',
        externalUri: 'https://console.cloud.google.com/security/command-center/findingsv2;name=organizations%2F1%2Fsources%2F2?organizationId=1',
        sourceProperties: {
          Text: { stringValue: 'hello' },
          Count: { numberValue: 3.5 },
          Flag: { boolValue: false },
          Nested: { structValue: { fields: { list: { listValue: { values: [{ stringValue: 'a' }, { nullValue: 'NULL_VALUE' }] } } } } },
        },
      }),
    });
    const name = `${source}/locations/global/findings/abc123`;
    expect(created.name).toBe(name);
    expect(created.parent).toBe(`${source}/locations/global`);
    // state is OUTPUT_ONLY in v2: the INACTIVE we sent is ignored.
    expect(created.state).toBe('ACTIVE');
    expect(created.severity).toBe('HIGH');
    expect(created.securityMarks?.name).toBe(`${name}/securityMarks`);
    expect(Number(created.createTime?.seconds)).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(String(created.eventTime?.seconds)).toBe('1750000000');
    expect(created.eventTime?.nanos).toBe(123_000_000);
    expect(props(created)).toEqual({ Text: 'hello', Count: 3.5, Flag: false, Nested: { list: ['a', null] } });

    const stored = emulator.getFinding(name);
    expect(stored?.category).toBe('Socat Reverse Shell Triage');
    expect(emulator.getFinding(`${source}/findings/abc123`)?.name).toBe(name);

    const [[listed]] = await client.listFindings({ parent: `organizations/${ORG}/sources/-/locations/global` });
    expect(listed?.finding?.name).toBe(name);
    expect(props(listed?.finding)).toEqual(props(created));
    expect(listed?.resource?.name).toBe(CLUSTER);
  });

  test('a parent without /locations/ means global; an existing id is ALREADY_EXISTS', async () => {
    const source = ownSource();
    const [created] = await client.createFinding({ parent: source, findingId: 'dup1', finding: findingInput() });
    expect(created.name).toBe(`${source}/locations/global/findings/dup1`);
    await expectStatus(client.createFinding({ parent: `${source}/locations/global`, findingId: 'dup1', finding: findingInput() }), Status.ALREADY_EXISTS, /already exists/);
  });

  test.each([
    ['too long', 'a'.repeat(33)],
    ['dash', 'abc-123'],
    ['underscore', 'abc_123'],
    ['empty', ''],
  ])('findingId rejected (%s)', async (_label, findingId) => {
    const source = ownSource();
    await expectStatus(client.createFinding({ parent: source, findingId, finding: findingInput() }), Status.INVALID_ARGUMENT, /finding id/);
    expect(emulator.listAllFindings()).toHaveLength(0);
  });

  test('a 32-character id is accepted', async () => {
    const source = ownSource();
    const [created] = await client.createFinding({ parent: source, findingId: 'A'.repeat(32), finding: findingInput() });
    expect(created.name).toMatch(/findings\/A{32}$/);
  });

  test.each([['1starts_with_digit'], ['has-dash'], ['has space'], ['_leading'], [`K${'x'.repeat(255)}`]])('source_properties key %j rejected', async (key) => {
    const source = ownSource();
    await expectStatus(
      client.createFinding({ parent: source, findingId: 'f1', finding: findingInput({ sourceProperties: { [key]: { stringValue: 'v' } } }) }),
      Status.INVALID_ARGUMENT,
      /source_properties key/,
    );
  });

  test('a 255-character property key is accepted', async () => {
    const source = ownSource();
    const key = `K${'x'.repeat(254)}`;
    const [created] = await client.createFinding({ parent: source, findingId: 'f1', finding: findingInput({ sourceProperties: { [key]: { stringValue: 'v' } } }) });
    expect(Object.keys(created.sourceProperties ?? {})).toEqual([key]);
  });

  test('eventTime in the future is rejected beyond the clock-skew allowance', async () => {
    const source = ownSource();
    const nowSeconds = Math.floor(Date.now() / 1000);
    await expectStatus(
      client.createFinding({ parent: source, findingId: 'future', finding: findingInput({ eventTime: { seconds: nowSeconds + 600 } }) }),
      Status.INVALID_ARGUMENT,
      /event_time.*future/,
    );
    const [created] = await client.createFinding({ parent: source, findingId: 'skewed', finding: findingInput({ eventTime: { seconds: nowSeconds + 20 } }) });
    expect(String(created.eventTime?.seconds)).toBe(String(nowSeconds + 20));
  });

  test.each([['not a url'], ['/relative/path'], ['ftp://example.com/x'], ['https://exa mple.com'], ['https://']])('externalUri %j rejected', async (externalUri) => {
    const source = ownSource();
    await expectStatus(client.createFinding({ parent: source, findingId: 'u1', finding: findingInput({ externalUri }) }), Status.INVALID_ARGUMENT, /external_uri/);
  });

  test('category and resourceName are required', async () => {
    const source = ownSource();
    await expectStatus(client.createFinding({ parent: source, findingId: 'c1', finding: findingInput({ category: '' }) }), Status.INVALID_ARGUMENT, /category is required/);
    await expectStatus(client.createFinding({ parent: source, findingId: 'c2', finding: findingInput({ resourceName: '' }) }), Status.INVALID_ARGUMENT, /resource_name is required/);
  });

  test('an unknown source is NOT_FOUND; a malformed parent INVALID_ARGUMENT', async () => {
    await expectStatus(client.createFinding({ parent: `organizations/${ORG}/sources/777/locations/global`, findingId: 'f1', finding: findingInput() }), Status.NOT_FOUND, /Source/);
    await expectStatus(client.createFinding({ parent: `organizations/${ORG}`, findingId: 'f1', finding: findingInput() }), Status.INVALID_ARGUMENT, /parent/);
  });
});

describe('updateFinding', () => {
  test('creates the finding when missing (no mask) and answers with the stored finding', async () => {
    const source = ownSource();
    const name = `${source}/locations/global/findings/upsert1`;
    const [created] = await client.updateFinding({ finding: { name, ...findingInput({ state: 'INACTIVE' }) } });
    expect(created.name).toBe(name);
    expect(created.state).toBe('ACTIVE');
    expect(created.securityMarks?.name).toBe(`${name}/securityMarks`);
    expect(props(emulator.getFinding(name))).toEqual({ Verdict: 'reverse_shell' });
  });

  test('creating through updateFinding with a mask, or with a bad id, is INVALID_ARGUMENT; unknown source NOT_FOUND', async () => {
    const source = ownSource();
    await expectStatus(
      client.updateFinding({ finding: { name: `${source}/locations/global/findings/new1`, ...findingInput() }, updateMask: { paths: ['event_time'] } }),
      Status.INVALID_ARGUMENT,
      /does not exist/,
    );
    await expectStatus(client.updateFinding({ finding: { name: `${source}/locations/global/findings/bad-id`, ...findingInput() } }), Status.INVALID_ARGUMENT, /finding id/);
    await expectStatus(client.updateFinding({ finding: { name: `organizations/${ORG}/sources/31337/locations/global/findings/f1`, ...findingInput() } }), Status.NOT_FOUND);
    expect(emulator.listAllFindings()).toHaveLength(0);
  });

  test('an empty mask replaces all mutable fields, source_properties included, and keeps server-owned ones', async () => {
    const source = ownSource();
    const name = `${source}/locations/global/findings/repl1`;
    const [first] = await client.updateFinding({
      finding: { name, ...findingInput({ severity: 'HIGH', description: 'first', sourceProperties: { A: { stringValue: '1' }, B: { stringValue: '2' } } }) },
    });
    await client.updateSecurityMarks({ securityMarks: { name: `${name}/securityMarks`, marks: { keep: 'me' } } });

    const [second] = await client.updateFinding({
      finding: { name, resourceName: CLUSTER, category: 'Socat Reverse Shell Triage', state: 'INACTIVE', eventTime: { seconds: 1_760_000_000 }, sourceProperties: { C: { numberValue: 3 } } },
    });
    expect(props(second)).toEqual({ C: 3 });
    expect(second.description).toBe('');
    expect(second.severity).toBe('SEVERITY_UNSPECIFIED');
    expect(second.state).toBe('ACTIVE');
    expect(second.createTime).toEqual(first.createTime);
    expect(String(second.eventTime?.seconds)).toBe('1760000000');
    expect(second.securityMarks?.marks).toEqual({ keep: 'me' });
  });

  test('source_properties.KEY mask paths set or delete single keys; other paths update their fields', async () => {
    const source = ownSource();
    const name = `${source}/locations/global/findings/mask1`;
    await client.updateFinding({ finding: { name, ...findingInput({ description: 'before', sourceProperties: { A: { stringValue: '1' }, B: { stringValue: '2' } } }) } });

    const [updated] = await client.updateFinding({
      finding: { name, description: 'after', sourceProperties: { B: { stringValue: 'two' }, Z: { stringValue: 'not in mask' } } },
      updateMask: { paths: ['source_properties.B', 'source_properties.A', 'description'] },
    });
    // B updated, A absent from the request so deleted, Z not in the mask so ignored.
    expect(props(updated)).toEqual({ B: 'two' });
    expect(updated.description).toBe('after');
    expect(updated.category).toBe('Socat Reverse Shell Triage');

    const [timed] = await client.updateFinding({ finding: { name, eventTime: { seconds: 1_770_000_000, nanos: 5 } }, updateMask: { paths: ['event_time'] } });
    expect(timed.eventTime).toMatchObject({ nanos: 5 });
    expect(String(timed.eventTime?.seconds)).toBe('1770000000');
    expect(timed.description).toBe('after');

    const [nested] = await client.updateFinding({ finding: { name, kubernetes: { pods: [{ ns: 'default', name: 'p' }] } }, updateMask: { paths: ['kubernetes.pods'] } });
    expect(nested.kubernetes?.pods?.[0]).toMatchObject({ ns: 'default', name: 'p' });
  });

  test('unknown or camelCase mask paths and bad keys are INVALID_ARGUMENT and change nothing', async () => {
    const source = ownSource();
    const name = `${source}/locations/global/findings/mask2`;
    await client.updateFinding({ finding: { name, ...findingInput() } });
    const before = emulator.getFinding(name);
    await expectStatus(client.updateFinding({ finding: { name, description: 'x' }, updateMask: { paths: ['description', 'no_such_field'] } }), Status.INVALID_ARGUMENT, /no field/);
    await expectStatus(client.updateFinding({ finding: { name }, updateMask: { paths: ['eventTime'] } }), Status.INVALID_ARGUMENT, /snake_case/);
    await expectStatus(client.updateFinding({ finding: { name }, updateMask: { paths: ['kubernetes.no_such'] } }), Status.INVALID_ARGUMENT, /no field/);
    await expectStatus(
      client.updateFinding({ finding: { name, sourceProperties: { 'bad-key': { stringValue: 'v' } } }, updateMask: { paths: ['source_properties.bad-key'] } }),
      Status.INVALID_ARGUMENT,
      /source_properties key/,
    );
    await expectStatus(client.updateFinding({ finding: { name, externalUri: 'nope' }, updateMask: { paths: ['external_uri'] } }), Status.INVALID_ARGUMENT, /external_uri/);
    await expectStatus(
      client.updateFinding({ finding: { name, eventTime: { seconds: Math.floor(Date.now() / 1000) + 3600 } }, updateMask: { paths: ['event_time'] } }),
      Status.INVALID_ARGUMENT,
      /future/,
    );
    expect(emulator.getFinding(name)).toEqual(before);
  });

  test('category and resourceName are immutable', async () => {
    const source = ownSource();
    const name = `${source}/locations/global/findings/imm1`;
    await client.updateFinding({ finding: { name, ...findingInput() } });
    await expectStatus(client.updateFinding({ finding: { name, ...findingInput({ category: 'Something else' }) } }), Status.INVALID_ARGUMENT, /category is immutable/);
    await expectStatus(client.updateFinding({ finding: { name, ...findingInput({ resourceName: OTHER_CLUSTER }) } }), Status.INVALID_ARGUMENT, /resource_name is immutable/);
    await expectStatus(
      client.updateFinding({ finding: { name, category: 'Changed' }, updateMask: { paths: ['category'] } }),
      Status.INVALID_ARGUMENT,
      /category is immutable/,
    );
    // Sending the same value again is not a change.
    const [same] = await client.updateFinding({ finding: { name, ...findingInput({ description: 'ok' }) } });
    expect(same.category).toBe('Socat Reverse Shell Triage');
    expect(same.description).toBe('ok');
  });
});

describe('updateSecurityMarks', () => {
  async function findingWithMarks(): Promise<string> {
    const source = ownSource();
    const name = `${source}/locations/global/findings/marks1`;
    await client.updateFinding({ finding: { name, ...findingInput() } });
    return name;
  }

  test('marks.KEY paths add, update (case-insensitively) and delete single marks', async () => {
    const name = await findingWithMarks();
    const [first] = await client.updateSecurityMarks({
      securityMarks: { name: `${name}/securityMarks`, marks: { socat_triage_status: '  done  ', Verdict: 'reverse_shell', ignored: 'x' } },
      updateMask: { paths: ['marks.socat_triage_status', 'marks.Verdict'] },
    });
    expect(first.name).toBe(`${name}/securityMarks`);
    // Values are trimmed; marks outside the mask are ignored.
    expect(first.marks).toEqual({ socat_triage_status: 'done', Verdict: 'reverse_shell' });

    await client.updateSecurityMarks({
      securityMarks: { name: `${name}/securityMarks`, marks: { verdict: 'relay' } },
      updateMask: { paths: ['marks.verdict', 'marks.socat_triage_status'] },
    });
    // "verdict" replaced "Verdict" (keys are case-insensitive); socat_triage_status was absent, so deleted.
    expect(emulator.getMarks(name)).toEqual({ verdict: 'relay' });

    const [[listed]] = await client.listFindings({ parent: `organizations/${ORG}/sources/-/locations/global` });
    expect(listed?.finding?.securityMarks?.marks).toEqual({ verdict: 'relay' });
  });

  test('an empty mask replaces all marks; so does the single path "marks"', async () => {
    const name = `${await findingWithMarks()}`;
    await client.updateSecurityMarks({ securityMarks: { name: `${name}/securityMarks`, marks: { a: '1', b: '2' } } });
    expect(emulator.getMarks(name)).toEqual({ a: '1', b: '2' });
    await client.updateSecurityMarks({ securityMarks: { name: `${name}/securityMarks`, marks: { c: '3' } } });
    expect(emulator.getMarks(name)).toEqual({ c: '3' });
    await client.updateSecurityMarks({ securityMarks: { name: `${name}/securityMarks`, marks: { d: '4' } }, updateMask: { paths: ['marks'] } });
    expect(emulator.getMarks(name)).toEqual({ d: '4' });
  });

  test('a finding name without /locations/global works for marks', async () => {
    const name = await findingWithMarks();
    const short = name.replace('/locations/global', '');
    const [marks] = await client.updateSecurityMarks({ securityMarks: { name: `${short}/securityMarks`, marks: { k: 'v' } }, updateMask: { paths: ['marks.k'] } });
    expect(marks.name).toBe(`${name}/securityMarks`);
    expect(emulator.getMarks(short)).toEqual({ k: 'v' });
  });

  test.each([
    ['bad key', { 'bad key': 'v' }, ['marks.bad key'], /security mark key/],
    ['key too long', { ['k'.repeat(257)]: 'v' }, [`marks.${'k'.repeat(257)}`], /security mark key/],
    ['blank value', { k: '   ' }, ['marks.k'], /1-4096/],
    ['value too long', { k: 'v'.repeat(4097) }, ['marks.k'], /1-4096/],
    ['duplicate paths', { k: 'v' }, ['marks.k', 'marks.k'], /duplicate/],
    ['foreign path', { k: 'v' }, ['labels.k'], /update_mask path/],
    ['case-duplicate keys', { Key: 'a', key: 'b' }, [], /Duplicate/],
  ])('%s is INVALID_ARGUMENT', async (_label, marks, paths, details) => {
    const name = await findingWithMarks();
    await expectStatus(client.updateSecurityMarks({ securityMarks: { name: `${name}/securityMarks`, marks }, updateMask: { paths } }), Status.INVALID_ARGUMENT, details);
    expect(emulator.getMarks(name)).toEqual({});
  });

  test('marks on a missing finding are NOT_FOUND; a name without /securityMarks INVALID_ARGUMENT', async () => {
    const source = ownSource();
    await expectStatus(client.updateSecurityMarks({ securityMarks: { name: `${source}/locations/global/findings/nope/securityMarks`, marks: { k: 'v' } } }), Status.NOT_FOUND);
    await expectStatus(client.updateSecurityMarks({ securityMarks: { name: `${source}/locations/global/findings/nope`, marks: { k: 'v' } } }), Status.INVALID_ARGUMENT, /securityMarks/);
  });

  test('onChange reports the marks update with the whole finding', async () => {
    const name = await findingWithMarks();
    const changes: SccChange[] = [];
    const unsubscribe = emulator.onChange((c) => changes.push(c));
    await client.updateSecurityMarks({ securityMarks: { name: `${name}/securityMarks`, marks: { k: 'v' } }, updateMask: { paths: ['marks.k'] } });
    unsubscribe();
    await client.updateSecurityMarks({ securityMarks: { name: `${name}/securityMarks`, marks: { k: 'w' } }, updateMask: { paths: ['marks.k'] } });
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ type: 'SECURITY_MARKS_UPDATED', origin: 'api', finding: { name, category: 'Socat Reverse Shell Triage' } });
    expect(changes[0]?.finding.securityMarks?.marks).toEqual({ k: 'v' });
  });
});

describe('listFindings', () => {
  let ctd: string;
  let own: string;
  const names: Record<string, string> = {};

  /** Five findings across two sources, two resources, states, severities, times and marks. */
  function seed(): void {
    ctd = emulator.addSource({ organization: ORG, displayName: CTD_SOURCE_DISPLAY_NAME }).name as string;
    own = ownSource();
    const add = (key: string, source: string, finding: Record<string, unknown>): void => {
      names[key] = emulator.addFinding(`${source}/locations/global/findings/${key}`, finding).name as string;
    };
    add('socat1', ctd, {
      resourceName: CLUSTER,
      category: SOCAT,
      severity: 'HIGH',
      findingClass: 'THREAT',
      eventTime: '2025-06-01T10:00:00.123456Z',
      sourceProperties: { Pod_Namespace: 'default', Pod_Name: 'web-7d9f', Container_Name: 'web', Container_Image_Uri: 'gcr.io/demo/web:1' },
      kubernetes: {
        pods: [{ ns: 'default', name: 'web-7d9f', labels: [{ name: 'app', value: 'web' }], containers: [{ name: 'web', uri: 'gcr.io/demo/web:1' }] }],
        nodes: [{ name: '//compute.googleapis.com/projects/demo-proj/zones/us-central1-a/instances/gke-node-1' }],
      },
      processes: [{ name: 'socat', binary: { path: '/usr/bin/socat', size: '123456', sha256: 'ab' }, args: ['socat', 'TCP:203.0.113.7:4444', 'EXEC:/bin/sh'], pid: '4242', parentPid: '1' }],
      mitreAttack: { primaryTactic: 'EXECUTION', primaryTechniques: ['UNIX_SHELL'] },
      securityMarks: { marks: { Socat_Triage_Status: 'done' } },
    });
    add('socat2', ctd, { resourceName: OTHER_CLUSTER, category: SOCAT, severity: 'CRITICAL', eventTime: '2025-06-02T10:00:00Z', state: 'INACTIVE' });
    add('shell3', ctd, { resourceName: CLUSTER, category: 'Execution: Reverse Shell', severity: 'HIGH', eventTime: '2025-06-03T10:00:00Z' });
    add('triage4', own, { resourceName: CLUSTER, category: 'Socat Reverse Shell Triage', severity: 'LOW', eventTime: '2025-06-04T10:00:00Z' });
    add('triage5', own, { resourceName: OTHER_CLUSTER, category: 'Socat Reverse Shell Triage', eventTime: '2025-06-05T10:00:00Z', securityMarks: { marks: { team: 'edge' } } });
  }

  const ALL = `organizations/${ORG}/sources/-/locations/global`;
  const ids = (found: string[]): string[] => found.map((n) => n.slice(n.lastIndexOf('/') + 1)).sort();

  beforeEach(() => seed());

  test('a seeded CTD finding comes back faithfully, with the derived resource', async () => {
    const [results] = await client.listFindings({ parent: ALL, filter: `name = "${names.socat1}"` });
    expect(results).toHaveLength(1);
    const { finding, resource } = results[0] as { finding: Finding; resource: Record<string, any> };
    expect(finding.category).toBe(SOCAT);
    expect(finding.parentDisplayName).toBe(CTD_SOURCE_DISPLAY_NAME);
    expect(props(finding)).toMatchObject({ Pod_Namespace: 'default', Pod_Name: 'web-7d9f' });
    expect(finding.kubernetes?.pods?.[0]?.labels?.[0]).toMatchObject({ name: 'app', value: 'web' });
    expect(finding.processes?.[0]).toMatchObject({ name: 'socat', args: ['socat', 'TCP:203.0.113.7:4444', 'EXEC:/bin/sh'] });
    expect(String(finding.processes?.[0]?.pid)).toBe('4242');
    expect(String(finding.processes?.[0]?.binary?.size)).toBe('123456');
    expect(finding.mitreAttack).toMatchObject({ primaryTactic: 'EXECUTION', primaryTechniques: ['UNIX_SHELL'] });
    expect(String(finding.eventTime?.seconds)).toBe(String(Date.parse('2025-06-01T10:00:00Z') / 1000));
    expect(finding.eventTime?.nanos).toBe(123_456_000);
    expect(finding.securityMarks?.marks).toEqual({ Socat_Triage_Status: 'done' });
    expect(resource).toMatchObject({ name: CLUSTER, type: 'google.container.Cluster', displayName: 'prod-1', location: 'us-central1' });
    expect(resource.gcpMetadata).toMatchObject({ projectDisplayName: 'demo-proj', organization: `organizations/${ORG}` });
  });

  test('sources: "-" spans all sources; a specific source (with or without /locations/global) only its own', async () => {
    expect(ids(await listAll(ALL))).toEqual(['shell3', 'socat1', 'socat2', 'triage4', 'triage5']);
    expect(ids(await listAll(`organizations/${ORG}/sources/-`))).toHaveLength(5);
    expect(ids(await listAll(`${own}/locations/global`))).toEqual(['triage4', 'triage5']);
    expect(ids(await listAll(ctd))).toEqual(['shell3', 'socat1', 'socat2']);
    expect(ids(await listAll(`organizations/1/sources/-/locations/global`))).toEqual([]);
    await expectStatus(client.listFindings({ parent: `organizations/${ORG}/sources/404` }), Status.NOT_FOUND);
  });

  test.each([
    ['category =', `category = "${SOCAT}"`, ['socat1', 'socat2']],
    ['category :', 'category : "Reverse Shell"', ['shell3', 'socat1', 'socat2', 'triage4', 'triage5']],
    ['resource_name =', `resource_name = "${OTHER_CLUSTER}"`, ['socat2', 'triage5']],
    ['resource_name :', 'resource_name : "clusters/prod-1"', ['shell3', 'socat1', 'triage4']],
    ['state', 'state = "INACTIVE"', ['socat2']],
    ['state bare word', 'state = ACTIVE', ['shell3', 'socat1', 'triage4', 'triage5']],
    ['severity', 'severity = "HIGH"', ['shell3', 'socat1']],
    ['parent', 'parent = "__OWN__"', ['triage4', 'triage5']],
    ['event_time RFC3339', 'event_time >= "2025-06-03T10:00:00Z"', ['shell3', 'triage4', 'triage5']],
    ['event_time epoch ms', `event_time < ${Date.parse('2025-06-02T10:00:00Z')}`, ['socat1']],
    ['event_time = ms', `event_time = ${Date.parse('2025-06-04T10:00:00Z')}`, ['triage4']],
    ['marks, case-insensitive key and value', 'security_marks.marks.socat_triage_status = "DONE"', ['socat1']],
    ['marks substring', 'security_marks.marks.team : "dg"', ['triage5']],
    ['AND', `category = "${SOCAT}" AND severity = "HIGH"`, ['socat1']],
    ['OR binds tighter than AND', `category = "${SOCAT}" AND severity = "HIGH" OR severity = "CRITICAL"`, ['socat1', 'socat2']],
    ['parentheses', `(category = "${SOCAT}" AND severity = "HIGH") OR severity = "LOW"`, ['socat1', 'triage4']],
    ['- negation', `-category = "${SOCAT}"`, ['shell3', 'triage4', 'triage5']],
    ['NOT negation', 'NOT severity = "HIGH" AND state = "ACTIVE"', ['triage4', 'triage5']],
    ['negated group', '-(severity = "HIGH" OR severity = "LOW")', ['socat2', 'triage5']],
    ['negated missing mark', '-security_marks.marks.team = "edge"', ['shell3', 'socat1', 'socat2', 'triage4']],
  ])('filter %s', async (_label, filter, expected) => {
    expect(ids(await listAll(ALL, filter.replace('__OWN__', own)))).toEqual(expected);
  });

  test('paging: pageSize, pageToken and totalSize', async () => {
    const seen: string[] = [];
    let request: Record<string, unknown> | null = { parent: ALL, pageSize: 2, orderBy: 'event_time desc' };
    let pages = 0;
    while (request) {
      const [results, next, response] = await client.listFindings(request, { autoPaginate: false });
      expect(response.totalSize).toBe(5);
      expect(results.length).toBeLessThanOrEqual(2);
      seen.push(...results.map((r) => r.finding?.name as string));
      request = next as Record<string, unknown> | null;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen.map((n) => n.slice(n.lastIndexOf('/') + 1))).toEqual(['triage5', 'triage4', 'shell3', 'socat2', 'socat1']);
    // The client's async iterator follows the same tokens.
    const iterated: string[] = [];
    for await (const result of client.listFindingsAsync({ parent: ALL, pageSize: 2, orderBy: 'event_time desc' })) iterated.push(result.finding?.name as string);
    expect(iterated).toEqual(seen);
    expect(emulator.requests('ListFindings').filter((e) => e.request.pageToken)).toHaveLength(4);
  });

  test('pageSize over 1000, a foreign pageToken and a bad orderBy are INVALID_ARGUMENT', async () => {
    await expectStatus(client.listFindings({ parent: ALL, pageSize: 1001 }, { autoPaginate: false }), Status.INVALID_ARGUMENT, /page_size/);
    const [, next] = await client.listFindings({ parent: ALL, pageSize: 1 }, { autoPaginate: false });
    const token = (next as { pageToken: string }).pageToken;
    await expectStatus(client.listFindings({ parent: ALL, pageSize: 1, pageToken: token, filter: 'severity = "HIGH"' }, { autoPaginate: false }), Status.INVALID_ARGUMENT, /page_token/);
    await expectStatus(client.listFindings({ parent: ALL, pageToken: 'garbage' }, { autoPaginate: false }), Status.INVALID_ARGUMENT, /page_token/);
    await expectStatus(client.listFindings({ parent: ALL, orderBy: 'source_properties.Pod_Name' }, { autoPaginate: false }), Status.INVALID_ARGUMENT, /order_by/);
  });

  test.each([
    ['source_properties', 'source_properties.Pod_Name = "web-7d9f"', /source_properties/],
    ['unknown field', 'finding_colour = "red"', /unsupported filter field "finding_colour"/],
    ['missing value', 'category =', /expected a value/],
    ['juxtaposed terms', 'category = "a" severity = "HIGH"', /expected AND, OR or the end/],
    ['unbalanced parenthesis', '(category = "a"', /expected "\)"/],
    ['stray parenthesis', 'category = "a")', /unbalanced/],
    ['!=', 'category != "a"', /!=/],
    ['ordering operator on a string field', 'category > "a"', /operator ">" is not supported for field category/],
    ['bad event_time', 'event_time > "yesterday"', /event_time/],
    ['unterminated string', 'category = "a', /unterminated/],
  ])('filter rejected: %s', async (_label, filter, details) => {
    await expectStatus(client.listFindings({ parent: ALL, filter }, { autoPaginate: false }), Status.INVALID_ARGUMENT, details);
  });

  // The form gcloud's reference shows: --field-mask="finding.category,finding.resource_name".
  test('fieldMask narrows the returned result, finding fields written finding.X', async () => {
    const [results] = await client.listFindings({ parent: ALL, filter: `name = "${names.socat1}"`, fieldMask: { paths: ['finding.name', 'finding.source_properties.Pod_Name'] } });
    const finding = results[0]?.finding;
    expect(finding?.name).toBe(names.socat1);
    expect(props(finding)).toEqual({ Pod_Name: 'web-7d9f' });
    expect(finding?.category).toBe('');
    expect(results[0]?.resource ?? null).toBeNull();
  });

  test.each([
    ['a bare Finding field (not a field of ListFindingsResult)', ['name'], /ListFindingsResult has no field "name"/],
    ['an unknown finding field', ['finding.no_such_field'], /Finding has no field "no_such_field"/],
    ['a duplicated path', ['finding.name', 'finding.name'], /duplicated/],
  ])('fieldMask rejected: %s, even when nothing matches', async (_label, paths, details) => {
    await expectStatus(client.listFindings({ parent: ALL, filter: 'category = "nothing matches this"', fieldMask: { paths } }, { autoPaginate: false }), Status.INVALID_ARGUMENT, details);
  });
});

describe('fault and latency injection', () => {
  test('injected faults make the client throw the injected status, then calls succeed again', async () => {
    const source = ownSource();
    emulator.injectFault('CreateFinding', { code: Status.PERMISSION_DENIED, message: 'caller lacks securitycenter.findings.update', times: 2 });
    for (const id of ['f1', 'f2']) {
      await expectStatus(client.createFinding({ parent: source, findingId: id, finding: findingInput() }), Status.PERMISSION_DENIED, /securitycenter\.findings\.update/);
    }
    const [created] = await client.createFinding({ parent: source, findingId: 'f3', finding: findingInput() });
    expect(created.name).toMatch(/findings\/f3$/);
    expect(emulator.listAllFindings().map((f) => f.name)).toEqual([created.name]);
    const log = emulator.requests('CreateFinding');
    expect(log.map((e) => [e.code, e.injected])).toEqual([
      [Status.PERMISSION_DENIED, true],
      [Status.PERMISSION_DENIED, true],
      [Status.OK, false],
    ]);
    expect(log[0]?.request).toMatchObject({ parent: source, findingId: 'f1' });
    expect(log[0]?.metadata['x-goog-request-params']).toContain(encodeURIComponent(source));
  });

  test('RESOURCE_EXHAUSTED on listFindings reaches the caller (v2 marks it non-retryable)', async () => {
    emulator.injectFault('ListFindings', { code: Status.RESOURCE_EXHAUSTED, message: 'Quota exceeded for reads' });
    await expectStatus(client.listFindings({ parent: `organizations/${ORG}/sources/-` }), Status.RESOURCE_EXHAUSTED, /Quota/);
    expect(emulator.requests('ListFindings')).toHaveLength(1);
    const [results] = await client.listFindings({ parent: `organizations/${ORG}/sources/-` });
    expect(results).toEqual([]);
  });

  test('latency delays the response', async () => {
    const source = ownSource();
    emulator.setLatency('GetSource', 300);
    const started = performance.now();
    const [fetched] = await client.getSource({ name: source });
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(fetched.name).toBe(source);
    emulator.setLatency('GetSource', 0);
    const again = performance.now();
    await client.getSource({ name: source });
    expect(performance.now() - again).toBeLessThan(290);
  });

  test('latency past the client deadline gives DEADLINE_EXCEEDED and the write never happens', async () => {
    const source = ownSource();
    emulator.setLatency('CreateFinding', 600);
    await expectStatus(client.createFinding({ parent: source, findingId: 'slow1', finding: findingInput() }, { timeout: 100 }), Status.DEADLINE_EXCEEDED);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(emulator.getFinding(`${source}/findings/slow1`)).toBeUndefined();
    expect(emulator.requests('CreateFinding')[0]?.code).toBe(Status.CANCELLED);
  });

  test('RPCs the emulator does not implement answer UNIMPLEMENTED', async () => {
    await expectStatus(client.getNotificationConfig({ name: `organizations/${ORG}/locations/global/notificationConfigs/x` }), Status.UNIMPLEMENTED, /not implemented/);
    expect(emulator.requests('GetNotificationConfig')).toHaveLength(1);
  });
});
