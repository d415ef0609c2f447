/**
 * Fuzzing the door: whatever arrives as a delivery (any JSON, any envelope,
 * any bytes in message.data, a real notification mutated field by field or
 * byte by byte, megabyte values) goes through handleDelivery — parsing,
 * filtering, analysis, rendering and the write-back into an in-memory SCC —
 * and must end in an outcome: never an exception, never a hang, never
 * "retry" (which for these inputs could only mean an internal crash, and
 * would have Pub/Sub redeliver a poison message until it is dead-lettered).
 * Invalid input is acked as `rejected` with a reason that names what is
 * wrong; whatever is written or logged is clean and bounded.
 *
 * Seeded: a failure prints fast-check's seed and path; rerun with them.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { HandlerDeps } from '../../lib/handler.js';
import type { OutcomeKind } from '../../lib/outcome.js';
import type { TriageResult } from '../../lib/triage.js';
import { notificationFixture } from '../support/fixtures.js';
import { OWN_SOURCE } from '../support/scc-scenario.js';
import { enrichmentProblems, logLineProblems, markProblems, MemoryScc } from './checks.js';
import { createLogger, handleDelivery, parseConfig, RetryableFailure } from './under-test.js';
import { HANG_GUARD_MS, HangGuard, seeded, hostileChar, hostileString, megabyte, recordFigures, sometimesLong } from './support.js';

const SEED = 0x50ca7_001;
const NOW = new Date('2026-11-27T03:00:00Z');
const MAX_AGE_SECONDS = 86_400;

const scc = new MemoryScc();
const logLines: Array<Record<string, unknown>> = [];
const deps: HandlerDeps = {
  config: parseConfig({ SCC_SOURCE_NAME: OWN_SOURCE, LOG_LEVEL: 'info', MAX_EVENT_AGE_SECONDS: String(MAX_AGE_SECONDS) }),
  logger: createLogger('info', { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) }),
  now: () => NOW,
  scc: async () => scc,
  // Finding-only analysis: the gatherers are fuzzed through the emulators elsewhere (faults, injection).
  gather: null,
  fanout: null,
};

const guard = new HangGuard();
const tally: Record<OutcomeKind, number> = { triaged: 0, responded: 0, skipped: 0, rejected: 0, failed_permanent: 0, retry: 0 };
let inputs = 0;

const FIXTURES = (['socat-v2', 'socat-v1-zonal', 'socat-admin-v2'] as const).map((name) => {
  const n = structuredClone(notificationFixture(name));
  n.finding.eventTime = '2026-11-27T02:41:17.532941Z';
  return n;
});

/** Reasons `rejected` may give; each names the envelope part or the field that is wrong. */
const REJECTION = /^(invalid notification: \S.*|message(\.data)? \S.*|the event body is not a JSON object|not a Pub\/Sub message, NotificationMessage or Finding: .+)$/s;

/** One delivery; the property every input must satisfy. Returns the result for class-specific checks. */
async function deliver(body: unknown): Promise<TriageResult> {
  inputs += 1;
  scc.clear();
  logLines.length = 0;
  let result: TriageResult | null = null;
  let thrown: unknown = null;
  await guard.time(body, async () => {
    try {
      result = await handleDelivery(body, deps);
    } catch (err) {
      thrown = err;
    }
  });
  // handleDelivery throws only RetryableFailure, and nothing here is transient: a throw is a crash somewhere.
  if (thrown !== null) throw new Error(`handleDelivery threw ${thrown instanceof RetryableFailure ? `for retry: ${thrown.message}` : String(thrown)}`);
  const r = result as unknown as TriageResult;
  tally[r.outcome] += 1;
  const problems: string[] = [];
  if (r.outcome === 'retry') problems.push(`retry (an internal error): ${r.reason}`);
  if (r.outcome === 'failed_permanent' && !/MAX_EVENT_AGE_SECONDS/.test(r.reason)) problems.push(`failed_permanent without an API call: ${r.reason}`);
  if (r.outcome === 'rejected') {
    if (!REJECTION.test(r.reason)) problems.push(`unclear rejection: ${JSON.stringify(r.reason.slice(0, 200))}`);
    if (scc.writes !== 0) problems.push('a rejected delivery wrote to SCC');
  }
  if (r.outcome === 'triaged') {
    if (scc.lastFinding === null) problems.push('triaged without writing the enrichment finding');
    else problems.push(...enrichmentProblems(scc.lastFinding));
    for (const marks of scc.marks.values()) problems.push(...markProblems(marks));
    // The report is what `analyze` prints and the demo shows: it must serialize.
    JSON.stringify(r.report);
  }
  if (logLines.length !== 1) problems.push(`${logLines.length} outcome lines`);
  for (const line of logLines) problems.push(...logLineProblems(line));
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return r;
}

/** Sets a value at a path, creating missing objects on the way (fixtures differ in which fields they carry). */
function setPath(doc: Record<string, unknown>, path: Path, value: unknown): void {
  let o: any = doc;
  for (const [i, k] of path.slice(0, -1).entries()) {
    if (o[k] === null || typeof o[k] !== 'object') o[k] = typeof path[i + 1] === 'number' ? [] : {};
    o = o[k];
  }
  o[path[path.length - 1] as string | number] = value;
}

function envelope(data: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { message: { data, messageId: '7001', publishTime: '2026-11-27T02:59:00Z', ...extra }, subscription: 'projects/p/subscriptions/s' };
}

const b64 = (text: string | Uint8Array): string => Buffer.from(text as string).toString('base64');

// ---------------------------------------------------------------------------
// Structural mutation of real notifications

type Path = Array<string | number>;

/** Every container and leaf of a JSON value. */
function paths(value: unknown, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

/** Own-property assignment, as JSON.parse makes them (a key "__proto__" stays a key). */
function put(target: Record<string | number, unknown> | unknown[], key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

interface Mutation {
  at: number;
  op: 'set' | 'delete' | 'hostile' | 'addKey' | 'wrap' | 'jsonQuote';
  value: unknown;
  key: string;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('set', 'delete', 'hostile', 'hostile', 'addKey', 'wrap', 'jsonQuote'),
  value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), sometimesLong(hostileString())),
  key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'envVariables', 'securityMarks', 'marks', 'args', 'binary'), hostileString(12)),
});

function mutate(base: Record<string, unknown>, mutations: readonly Mutation[]): Record<string, unknown> {
  const doc = structuredClone(base);
  for (const m of mutations) {
    const all = paths(doc).filter((p) => p.length > 0);
    const path = all[m.at % all.length] as Path;
    const parent = path.slice(0, -1).reduce<any>((o, k) => o[k], doc);
    const key = path[path.length - 1] as string | number;
    const current = parent[key];
    switch (m.op) {
      case 'set':
        put(parent, key, m.value);
        break;
      case 'delete':
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key];
        break;
      case 'hostile':
        put(parent, key, typeof current === 'string' ? `${current}${String(m.value)}` : String(m.value));
        break;
      case 'addKey':
        if (current !== null && typeof current === 'object' && !Array.isArray(current)) put(current, m.key, m.value);
        else put(parent, key, { [m.key]: m.value });
        break;
      case 'wrap':
        put(parent, key, [current]);
        break;
      case 'jsonQuote':
        // The proto calls args and paths "JSON encoded"; producers differ on whether the quotes stay.
        put(parent, key, JSON.stringify(current ?? null));
        break;
    }
  }
  return doc;
}

const form = fc.constantFrom('envelope', 'envelope', 'notification', 'finding');

function asDelivery(n: Record<string, unknown>, how: string, publishTime: string): unknown {
  if (how === 'notification') return n;
  if (how === 'finding') return n.finding ?? n;
  return envelope(b64(JSON.stringify(n)), { publishTime });
}

const publishTime = fc.oneof(
  { weight: 8, arbitrary: fc.constant('2026-11-27T02:59:00Z') },
  { weight: 1, arbitrary: fc.constantFrom('2026-11-20T00:00:00Z', '1970-01-01T00:00:00Z', '2099-01-01T00:00:00Z', '', 'not a time', '2026-11-27T02:59:00Z\n') },
  { weight: 1, arbitrary: hostileString(20) },
);

// ---------------------------------------------------------------------------

const runs = (numRuns: number) => seeded(SEED + numRuns, numRuns);

describe('fuzzing notification parsing through handleDelivery', () => {
  it('survives any JSON value as the event body', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.anything({ maxDepth: 3 })), async (body) => void (await deliver(body))), runs(3000));
  }, 60_000);

  it('survives any bytes in message.data', async () => {
    const data = fc.oneof(
      hostileString(60),
      fc.base64String({ maxLength: 200 }),
      fc.uint8Array({ maxLength: 300 }).map((bytes) => b64(bytes)),
      fc.jsonValue({ maxDepth: 3 }).map((v) => b64(JSON.stringify(v) ?? 'null')),
      fc.tuple(fc.constantFrom(...FIXTURES), fc.nat()).map(([n, cut]) => {
        const text = JSON.stringify(n);
        return b64(text.slice(0, cut % text.length));
      }),
    );
    const extra = fc.record({ messageId: fc.oneof(hostileString(20), fc.jsonValue({ maxDepth: 1 })), attributes: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: [] });
    await fc.assert(fc.asyncProperty(data, extra, async (d, x) => void (await deliver(envelope(d, x)))), runs(3000));
  }, 60_000);

  it('survives real notifications mutated field by field', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FIXTURES), fc.array(mutation, { minLength: 1, maxLength: 6 }), form, publishTime, async (base, ms, how, t) => {
        await deliver(asDelivery(mutate(base, ms), how, t));
      }),
      runs(1800),
    );
  }, 60_000);

  it('survives real notifications mutated byte by byte', async () => {
    const edit = fc.record({ at: fc.nat(), op: fc.constantFrom('delete', 'insert', 'replace'), ch: fc.oneof(hostileChar, fc.constantFrom('{', '}', '[', ']', '"', ',', ':', '\\', 'u', '0')) });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FIXTURES), fc.array(edit, { minLength: 1, maxLength: 8 }), async (base, edits) => {
        let text = JSON.stringify(base);
        for (const e of edits) {
          const at = e.at % (text.length + 1);
          text = e.op === 'delete' ? text.slice(0, at) + text.slice(at + 1) : e.op === 'insert' ? text.slice(0, at) + e.ch + text.slice(at) : text.slice(0, at) + e.ch + text.slice(at + 1);
        }
        await deliver(envelope(b64(text)));
      }),
      runs(1200),
    );
  }, 60_000);

  it('rejects a notification whose required fields are missing or of the wrong type, naming the field', async () => {
    const wrong = fc.oneof(fc.constant(null), fc.integer(), fc.boolean(), fc.constant(''), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 }));
    const breakage = fc.oneof(
      wrong.map((v) => ({ path: ['finding', 'name'], value: v, names: 'finding.name' })),
      wrong.map((v) => ({ path: ['finding', 'category'], value: v, names: 'finding.category' })),
      wrong.filter((v) => !Array.isArray(v)).map((v) => ({ path: ['finding', 'processes'], value: v, names: 'finding.processes' })),
      fc.oneof(fc.constant(null), fc.integer(), fc.constant({})).map((v) => ({ path: ['finding', 'processes', 0, 'args', 0], value: v, names: 'finding.processes.0.args.0' })),
      fc.constantFrom('12ab', '1.5', '', '99999999999999999999').map((v) => ({ path: ['finding', 'processes', 0, 'pid'], value: v, names: 'finding.processes.0.pid' })),
      fc.oneof(fc.constant('x'), fc.integer(), fc.constant([1])).map((v) => ({ path: ['finding', 'securityMarks', 'marks'], value: v, names: 'finding.securityMarks.marks' })),
      fc.oneof(fc.constant(null), fc.integer(), fc.constant('finding')).map((v) => ({ path: ['finding'], value: v, names: 'finding' })),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FIXTURES), breakage, fc.constantFrom('envelope', 'notification'), async (base, b, how) => {
        const n = structuredClone(base);
        setPath(n, b.path as Path, b.value);
        const r = await deliver(asDelivery(n, how, '2026-11-27T02:59:00Z'));
        expect(r.outcome).toBe('rejected');
        expect(r.reason).toContain(b.names);
      }),
      runs(800),
    );
  }, 60_000);

  it('writes a loop-guard mark without the whitespace and line separators an eventTime may be padded with', async () => {
    const pad = fc.string({ unit: fc.constantFrom(' ', '\n', '\r', '\t', '\v', '\f', '\u2028', '\u2029', '\ufeff', '\u00a0', '\u3000'), minLength: 1, maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FIXTURES), pad, pad, async (base, before, after) => {
        const n = structuredClone(base);
        n.finding.eventTime = `${before}${base.finding.eventTime}${after}`;
        const r = await deliver(envelope(b64(JSON.stringify(n))));
        expect(r.outcome).toBe('triaged');
        expect([...scc.marks.values()][0]?.socat_triage_event_time).toBe(base.finding.eventTime);
      }),
      runs(200),
    );
  }, 60_000);

  it('survives megabyte values in any field, within the hang guard', async () => {
    const fields: Path[] = [
      ['finding', 'name'],
      ['finding', 'category'],
      ['finding', 'resourceName'],
      ['finding', 'eventTime'],
      ['finding', 'sourceProperties', 'Pod_Name'],
      ['finding', 'sourceProperties', 'Pod_Namespace'],
      ['finding', 'sourceProperties', 'Container_Image_Uri'],
      ['finding', 'processes', 1, 'binary', 'path'],
      ['finding', 'processes', 1, 'args', 1],
      ['finding', 'processes', 1, 'args', 2],
      ['finding', 'processes', 0, 'args', 2],
      ['finding', 'processes', 1, 'name'],
      ['resource', 'gcpMetadata', 'projectDisplayName'],
    ];
    const piece = fc.constantFrom('A', '[', '"', '\\', ',', ':', '!!', "'", '\u202e', '\x1b[31m', 'a-', '/', '0.', 'Bearer ', 'password=', '-----BEGIN PRIVATE KEY-----', 'AIza', '%');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FIXTURES), fc.constantFrom(...fields), piece, async (base, path, p) => {
        const n = structuredClone(base);
        setPath(n, path, megabyte(p));
        await deliver(envelope(b64(JSON.stringify(n))));
      }),
      runs(26),
    );
  }, 60_000);

  it('tried at least 10,000 inputs, none beyond the hang guard', () => {
    expect(inputs).toBeGreaterThanOrEqual(10_000);
    expect(tally.retry).toBe(0);
    // Enough valid inputs reached analysis and the write-back for the rendering checks to mean something.
    expect(tally.triaged).toBeGreaterThan(900);
    expect(tally.rejected).toBeGreaterThan(1000);
    expect(guard.maxMs < HANG_GUARD_MS ? 'within the hang guard' : guard.describeWorst()).toBe('within the hang guard');
  });
});

afterAll(() => {
  recordFigures('fuzz-notification', {
    notificationInputs: inputs,
    notificationTriaged: tally.triaged,
    notificationSkipped: tally.skipped,
    notificationRejected: tally.rejected,
    notificationStale: tally.failed_permanent,
    notificationMaxMs: Math.round(guard.maxMs),
  });
});
