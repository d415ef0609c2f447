/**
 * Drives the Cloud Logging emulator with the real LoggingServiceV2Client,
 * built the way production builds it (createLoggingClient): validation,
 * paging, the filter subset and its refusals, and audit payloads on the wire.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { createLoggingClient, type LoggingClient } from '../../lib/clients.js';
import { decodeEntry } from '../../lib/gather/log-query.js';
import { Status } from './grpc-harness.js';
import { AUDIT_LOG_TYPE_URL, startLoggingEmulator, type LoggingEmulator, type SeedLogEntry } from './logging-emulator.js';

let emulator: LoggingEmulator;
let client: LoggingClient;

beforeAll(async () => {
  emulator = await startLoggingEmulator({ projectNumbers: { '987654321098': 'batch-analytics' } });
  client = await createLoggingClient({ loggingEmulatorHost: emulator.endpoint });
});

afterAll(async () => {
  await client.close();
  await emulator.stop();
});

beforeEach(() => emulator.reset());

interface RpcFailure {
  code: number;
  details?: string;
  message: string;
}

async function rejection(call: Promise<unknown>): Promise<RpcFailure> {
  const outcome = await call.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected the call to fail, it returned ${JSON.stringify(outcome.value).slice(0, 300)}`);
  return outcome.error as RpcFailure;
}

async function expectInvalid(request: Record<string, unknown>, details: RegExp): Promise<void> {
  const err = await rejection(client.listLogEntries(request, { autoPaginate: false, retry: null }));
  expect(err.code).toBe(Status.INVALID_ARGUMENT);
  expect(err.details ?? err.message).toMatch(details);
}

async function list(filter: string, extra: Record<string, unknown> = {}): Promise<{ entries: any[]; next: string }> {
  const [entries, , response] = await client.listLogEntries({ resourceNames: ['projects/shop-prod-4711'], filter, ...extra }, { autoPaginate: false, retry: null });
  return { entries, next: response?.nextPageToken ?? '' };
}

const container = (n: number, extra: Partial<SeedLogEntry> = {}): SeedLogEntry => ({
  logName: 'projects/shop-prod-4711/logs/stdout',
  resource: { type: 'k8s_container', labels: { project_id: 'shop-prod-4711', namespace_name: 'shop', pod_name: 'checkout-1', container_name: 'app' } },
  timestamp: `2026-11-27T02:4${n}:00.000123Z`,
  severity: 'INFO',
  insertId: `c${n}`,
  textPayload: `line ${n}`,
  ...extra,
});

const texts = (entries: any[]): string[] => entries.map((e) => e.textPayload ?? JSON.stringify(e.jsonPayload ?? null));

describe('request validation', () => {
  test('resourceNames is required, at most 100, each a parent', async () => {
    await expectInvalid({ filter: '' }, /resource_names is required/);
    await expectInvalid({ resourceNames: Array.from({ length: 101 }, (_, i) => `projects/p${i}`) }, /101 entries; at most 100/);
    await expectInvalid({ resourceNames: ['shop-prod-4711'] }, /Invalid resource name "shop-prod-4711"/);
    await expectInvalid({ resourceNames: ['projects/a/logs/stdout'] }, /Invalid resource name/);
  });

  test('views and organizations are accepted', async () => {
    const [entries] = await client.listLogEntries(
      { resourceNames: ['organizations/123', 'projects/p/locations/global/buckets/_Default/views/_AllLogs'] },
      { autoPaginate: false, retry: null },
    );
    expect(entries).toEqual([]);
  });

  test('filter at most 20,000 characters', async () => {
    await expectInvalid({ resourceNames: ['projects/p'], filter: `"${'x'.repeat(20_000)}"` }, /20002 characters; the maximum is 20000/);
  });

  test('orderBy only "timestamp asc" / "timestamp desc"', async () => {
    await expectInvalid({ resourceNames: ['projects/p'], orderBy: 'severity desc' }, /order_by "severity desc" is not supported/);
    await expectInvalid({ resourceNames: ['projects/p'], orderBy: 'timestamp' }, /not supported/);
  });

  test('pageSize at most 1000', async () => {
    await expectInvalid({ resourceNames: ['projects/p'], pageSize: 1001 }, /page_size 1001 is out of range/);
    await expectInvalid({ resourceNames: ['projects/p'], pageSize: -1 }, /page_size -1 is out of range/);
  });

  test('other RPCs are UNIMPLEMENTED', async () => {
    const err = await rejection(client.listLogs({ parent: 'projects/p' }, { autoPaginate: false, retry: null }));
    expect(err.code).toBe(Status.UNIMPLEMENTED);
  });
});

describe('listing and paging', () => {
  test('entries come back in timestamp order, asc by default, desc on request', async () => {
    emulator.seed([container(3), container(1), container(2)]);
    expect(texts((await list('')).entries)).toEqual(['line 1', 'line 2', 'line 3']);
    expect(texts((await list('', { orderBy: 'timestamp desc' })).entries)).toEqual(['line 3', 'line 2', 'line 1']);
  });

  test('pages follow nextPageToken; a token only fits its own query', async () => {
    emulator.seed([1, 2, 3, 4, 5].map((n) => container(n)));
    // Pages are partial, as the real service may send them: at most half of pageSize.
    const p1 = await list('', { pageSize: 4 });
    expect(texts(p1.entries)).toEqual(['line 1', 'line 2']);
    const p2 = await list('', { pageSize: 4, pageToken: p1.next });
    const p3 = await list('', { pageSize: 4, pageToken: p2.next });
    expect(texts(p2.entries)).toEqual(['line 3', 'line 4']);
    expect(texts(p3.entries)).toEqual(['line 5']);
    expect(p3.next).toBe('');
    await expectInvalid({ resourceNames: ['projects/shop-prod-4711'], filter: 'line', pageToken: p1.next }, /different query/);
    await expectInvalid({ resourceNames: ['projects/shop-prod-4711'], pageToken: 'garbage' }, /not a token this service issued/);
  });

  test('pageSize 0 means 50 (a partial page holds at most half of it)', async () => {
    emulator.seed(Array.from({ length: 60 }, (_, i) => container(0, { insertId: `i${String(i).padStart(2, '0')}`, timestamp: new Date(Date.UTC(2026, 10, 27, 2, 0, i)) })));
    const page = await list('');
    expect(page.entries).toHaveLength(25);
    expect(page.next).not.toBe('');
  });

  test('a query that matches nothing first answers an empty page with a token, then an empty page without', async () => {
    emulator.seed([container(1)]);
    const first = await list('textPayload:"nothing like this"');
    expect(first.entries).toEqual([]);
    expect(first.next).not.toBe('');
    const second = await list('textPayload:"nothing like this"', { pageToken: first.next });
    expect(second.entries).toEqual([]);
    expect(second.next).toBe('');
  });

  test('timestamp desc reads newest first; fullPages gives whole pages', async () => {
    emulator.seed([1, 2, 3].map((n) => container(n)));
    expect(texts((await list('', { orderBy: 'timestamp desc' })).entries)).toEqual(['line 3', 'line 2', 'line 1']);
    const full = await startLoggingEmulator({ fullPages: true });
    const fullClient = await createLoggingClient({ loggingEmulatorHost: full.endpoint });
    try {
      full.seed([1, 2, 3].map((n) => container(n)));
      const [entries, , response] = await fullClient.listLogEntries({ resourceNames: ['projects/shop-prod-4711'], pageSize: 2 }, { autoPaginate: false, retry: null });
      expect(texts(entries)).toEqual(['line 1', 'line 2']);
      expect(response?.nextPageToken).toBeTruthy();
    } finally {
      await fullClient.close();
      await full.stop();
    }
  });

  test('the read quota refuses a call over it with RESOURCE_EXHAUSTED and the quota message, and refills', async () => {
    let clock = 0;
    emulator.setQuota({ readsPerWindow: 2, windowMs: 60_000, clock: () => clock });
    try {
      await list('');
      await list('');
      const err = await rejection(list(''));
      expect(err.code).toBe(Status.RESOURCE_EXHAUSTED);
      expect(err.details).toMatch(/^Quota exceeded for quota metric 'Read requests' .* of service 'logging.googleapis.com'/);
      expect(emulator.refusedByQuota).toBe(1);
      clock = 60_001;
      await expect(list('')).resolves.toBeDefined();
    } finally {
      emulator.setQuota(null);
    }
  });

  test('only the named projects are read; a project number reads its project', async () => {
    emulator.seed([container(1), container(2, { logName: 'projects/batch-analytics/logs/stdout', textPayload: 'other project' })]);
    expect(texts((await list('')).entries)).toEqual(['line 1']);
    const [byNumber] = await client.listLogEntries({ resourceNames: ['projects/987654321098'] }, { autoPaginate: false, retry: null });
    expect(texts(byNumber)).toEqual(['other project']);
  });

  test('timestamps keep their nanoseconds on the wire', async () => {
    emulator.seed([container(1, { timestamp: '2026-11-27T02:41:00.123456789Z' })]);
    const [entry] = (await list('')).entries;
    expect(entry.timestamp).toEqual({ seconds: String(Date.UTC(2026, 10, 27, 2, 41) / 1000), nanos: 123456789 });
  });
});

describe('the filter subset', () => {
  beforeEach(() => {
    emulator.seed([
      container(1, { severity: 'DEBUG', labels: { 'k8s-pod/app': 'checkout' } }),
      container(2, { severity: 'WARNING', textPayload: 'Connection REFUSED by upstream' }),
      container(3, { severity: 'ERROR', jsonPayload: { message: 'order failed', order: { id: 'ord_9' } }, textPayload: undefined }),
      container(4, { resource: { type: 'k8s_container', labels: { project_id: 'shop-prod-4711', namespace_name: 'jobs', pod_name: 'etl-1' } } }),
      {
        logName: 'projects/shop-prod-4711/logs/cloudaudit.googleapis.com%2Factivity',
        resource: { type: 'k8s_cluster', labels: { project_id: 'shop-prod-4711', location: 'us-central1', cluster_name: 'shop-prod' } },
        timestamp: '2026-11-27T02:45:00Z',
        severity: 'NOTICE',
        insertId: 'a1',
        protoPayload: {
          methodName: 'io.k8s.core.v1.pods.exec.create',
          resourceName: 'core/v1/namespaces/shop/pods/checkout-1/exec',
          authenticationInfo: { principalEmail: 'alice@example.com' },
        },
      },
    ]);
  });

  const ids = async (filter: string): Promise<string[]> => (await list(filter)).entries.map((e) => e.insertId);

  test('restrictions on separate lines, or on one line with AND, are all required', async () => {
    expect(await ids('resource.type="k8s_container"\nresource.labels.namespace_name="shop"')).toEqual(['c1', 'c2', 'c3']);
    expect(await ids('resource.type="k8s_container" AND resource.labels.namespace_name="shop" AND severity>=WARNING')).toEqual(['c2', 'c3']);
    expect(await ids('resource.type = k8s_container resource.labels.pod_name = "etl-1"')).toEqual(['c4']);
  });

  test('timestamp comparisons are on instants, not strings', async () => {
    expect(await ids('timestamp>="2026-11-27T02:42:00Z" timestamp<"2026-11-27T02:44:00.000123Z"')).toEqual(['c2', 'c3']);
    expect(await ids('timestamp>"2026-11-27T03:41:00+01:00"')).toEqual(['c1', 'c2', 'c3', 'c4', 'a1']);
    expect(await ids('timestamp<="2026-11-27T02:41:00.000123Z"')).toEqual(['c1']);
  });

  test('= is exact, : is a substring; both ignore case', async () => {
    expect(await ids('textPayload="connection refused by upstream"')).toEqual(['c2']);
    expect(await ids('textPayload="connection refused"')).toEqual([]);
    expect(await ids('textPayload:"refused"')).toEqual(['c2']);
    expect(await ids('jsonPayload.order.id="ORD_9"')).toEqual(['c3']);
    expect(await ids('jsonPayload:"ord_9"')).toEqual(['c3']);
    expect(await ids('labels."k8s-pod/app"="checkout"')).toEqual(['c1']);
  });

  test('audit payload fields and logName', async () => {
    expect(await ids('protoPayload.methodName="io.k8s.core.v1.pods.exec.create"')).toEqual(['a1']);
    // =~ is an RE2 search, case sensitive unless (?i).
    expect(await ids('protoPayload.methodName=~"^io[.]k8s[.]core[.]v1[.]pods[.]exec[.](create|get)$"')).toEqual(['a1']);
    expect(await ids('protoPayload.methodName=~"PODS[.]EXEC"')).toEqual([]);
    expect(await ids('protoPayload.methodName=~"(?i)PODS[.]EXEC"')).toEqual(['a1']);
    expect(await ids('protoPayload.authenticationInfo.principalEmail:"alice"')).toEqual(['a1']);
    expect(await ids('logName="projects/shop-prod-4711/logs/cloudaudit.googleapis.com%2Factivity"')).toEqual(['a1']);
  });

  test('global terms match any field, quoted or not', async () => {
    expect(await ids('"checkout-1"')).toEqual(['c1', 'c2', 'c3', 'a1']);
    expect(await ids('resource.type="k8s_cluster" checkout-1')).toEqual(['a1']);
    expect(await ids('etl-1')).toEqual(['c4']);
  });

  test.each([
    ['resource.type="k8s_container" OR severity=ERROR', /construct at position 30: OR/],
    ['NOT severity=ERROR', /NOT/],
    ['-severity=ERROR', /negation "-"/],
    ['resource.type=("k8s_container")', /parentheses/],
    ['(severity=ERROR)', /parentheses/],
    ['textPayload=~"(re)f\\\\1"', /RE2 has no backreferences/],
    ['textPayload=~"(?=ref)"', /RE2 has no backreferences or lookaround/],
    ['textPayload=~"(?s)ref"', /flag group/],
    ['textPayload!~"ref"', /regular expression operator !~/],
    ['severity!=ERROR', /operator !=/],
    ['log_id("stdout")', /function call log_id\(\)/],
    ['SEARCH("refused")', /function call SEARCH\(\)/],
    ['textPayload>"a"', /ordering comparison > on textPayload/],
  ])('unsupported: %s → INVALID_ARGUMENT', async (filter, details) => {
    await expectInvalid({ resourceNames: ['projects/shop-prod-4711'], filter }, details);
  });

  test.each([
    ['timestamp>="yesterday"', /RFC 3339/],
    ['severity>=LOUD', /unknown severity/],
    ['AND severity=ERROR', /AND without a restriction/],
    ['severity=ERROR AND', /AND at the end/],
    ['nosuchfield="x"', /unknown field nosuchfield/],
    ['textPayload="open', /unterminated string/],
    ['= "x"', /without a field/],
  ])('malformed: %s → INVALID_ARGUMENT', async (filter, details) => {
    await expectInvalid({ resourceNames: ['projects/shop-prod-4711'], filter }, details);
  });
});

describe('audit payloads on the wire', () => {
  test('protoPayload is an Any holding an AuditLog that the gatherer decodes', async () => {
    emulator.seed([
      {
        logName: 'projects/shop-prod-4711/logs/cloudaudit.googleapis.com%2Factivity',
        resource: { type: 'k8s_cluster', labels: { cluster_name: 'shop-prod' } },
        timestamp: '2026-11-27T02:45:00.5Z',
        severity: 'NOTICE',
        protoPayload: {
          serviceName: 'k8s.io',
          methodName: 'io.k8s.core.v1.pods.exec.create',
          resourceName: 'core/v1/namespaces/shop/pods/checkout-1/exec',
          authenticationInfo: { principalEmail: 'alice@example.com' },
          requestMetadata: { callerIp: '203.0.113.7', callerSuppliedUserAgent: 'kubectl/v1.31.2 (linux/amd64)' },
          status: { code: 0 },
          request: { '@type': 'core.k8s.io/v1.PodExecOptions', command: ['sh', '-c', 'id'], stdin: true },
        },
      },
    ]);
    const [raw] = (await list('')).entries;
    expect(raw.protoPayload.type_url).toBe(AUDIT_LOG_TYPE_URL);
    expect(Buffer.isBuffer(raw.protoPayload.value) || raw.protoPayload.value instanceof Uint8Array).toBe(true);
    const decoded = await decodeEntry(raw);
    expect(decoded.timestamp).toBe('2026-11-27T02:45:00.5Z');
    expect(decoded.severity).toBe('NOTICE');
    expect(decoded.audit).toEqual({
      serviceName: 'k8s.io',
      methodName: 'io.k8s.core.v1.pods.exec.create',
      resourceName: 'core/v1/namespaces/shop/pods/checkout-1/exec',
      principal: 'alice@example.com',
      callerIp: '203.0.113.7',
      userAgent: 'kubectl/v1.31.2 (linux/amd64)',
      statusCode: 0,
      statusMessage: null,
      granted: null,
      request: { '@type': 'core.k8s.io/v1.PodExecOptions', command: ['sh', '-c', 'id'], stdin: true },
      response: null,
      metadata: null,
    });
    expect(emulator.entries()[0]?.protoPayload?.['@type']).toBe(AUDIT_LOG_TYPE_URL);
  });

  test('seeds are checked: misspelt audit fields, unencoded log ids, two payloads', () => {
    const base = { logName: 'projects/p/logs/x', resource: { type: 'global' }, timestamp: '2026-11-27T00:00:00Z' };
    expect(() => emulator.seed([{ ...base, protoPayload: { authenticationInfo: { principalemail: 'a' } } as never }])).toThrow(
      /protoPayload.authenticationInfo.principalemail is not a field/,
    );
    expect(() => emulator.seed([{ ...base, logName: 'projects/p/logs/cloudaudit.googleapis.com/activity' }])).toThrow(/logName must be/);
    expect(() => emulator.seed([{ ...base, textPayload: 'a', jsonPayload: {} }])).toThrow(/at most one/);
    expect(emulator.entries()).toEqual([]);
  });
});

describe('harness features', () => {
  test('faults and the request log', async () => {
    emulator.injectFault('ListLogEntries', { code: Status.PERMISSION_DENIED, message: 'caller lacks logging.logEntries.list' });
    const err = await rejection(list(''));
    expect(err.code).toBe(Status.PERMISSION_DENIED);
    expect((await list('')).entries).toEqual([]);
    const log = emulator.requests('ListLogEntries');
    expect(log.map((e) => [e.code, e.injected])).toEqual([
      [Status.PERMISSION_DENIED, true],
      [Status.OK, false],
    ]);
    expect(log[1]?.request).toEqual({ resourceNames: ['projects/shop-prod-4711'], filter: '' });
  });
});
