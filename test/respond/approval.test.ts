import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createLoggingClient, type LoggingClient } from '../../lib/clients.js';
import { parseConfig } from '../../lib/config.js';
import { parsePrincipalPatterns } from '../../lib/decide/verdict-settings.js';
import fc from 'fast-check';
import { approvalLogFilter, decideApprover, findMarkSetter, parseRequestedActions, readEntry, type SetterRequest } from '../../lib/respond/approval.js';
import { startLoggingEmulator, type LoggingEmulator } from '../emulators/logging-emulator.js';
import { markUpdateAuditEntry } from '../support/approval-audit.js';

const ORG = '123456789012';
const FINDING = `organizations/${ORG}/sources/4242424242424242424/locations/global/findings/0123456789abcdef0123456789abcdef`;
const OTHER = `organizations/${ORG}/sources/4242424242424242424/locations/global/findings/ffffffffffffffffffffffffffffffff`;

describe('parseRequestedActions', () => {
  it('reads one action or several, in any case and order, and orders them capture first', () => {
    expect(parseRequestedActions('block-c2')).toEqual({ ok: true, actions: ['block-c2'] });
    expect(parseRequestedActions(' Delete-Pod , capture,block-c2,capture ')).toEqual({ ok: true, actions: ['capture', 'block-c2', 'delete-pod'] });
  });

  it('refuses an unknown action by name, cleaned and quoted, and says what is known', () => {
    const r = parseRequestedActions('capture,rm -rf /\u202e,block_c2');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toContain('"rm -rf /"');
    expect(r.reason).toContain('"block_c2"');
    expect(r.reason).not.toContain('\u202e');
    expect(r.reason).toContain('capture, block-c2, isolate, cordon, delete-pod');
    expect(parseRequestedActions(' , ').ok).toBe(false);
  });
});

describe('decideApprover', () => {
  const settings = { approvers: parsePrincipalPatterns('RESPONSE_APPROVERS', 'oncall@example.com,*@sec.example.com'), triageServiceAccount: 'scc-socat-triage@proj-123456.iam.gserviceaccount.com' };

  it('accepts listed principals with the ADMIN_PRINCIPALS syntax (exact, *@domain, case-insensitive)', () => {
    expect(decideApprover('OnCall@Example.com', settings)).toEqual({ kind: 'person', approver: 'oncall@example.com' });
    expect(decideApprover('bob@sec.example.com', settings)).toEqual({ kind: 'person', approver: 'bob@sec.example.com' });
  });

  it('refuses anyone else, naming them; a subdomain is not the domain', () => {
    const r = decideApprover('eve@evil.sec.example.com', settings);
    expect(r).toMatchObject({ kind: 'refused' });
    expect(r.kind === 'refused' && r.reason).toContain('"eve@evil.sec.example.com" set the socat_response mark but is not in RESPONSE_APPROVERS');
    expect(decideApprover('oncall@example.com', { ...settings, approvers: [] })).toMatchObject({ kind: 'refused', reason: expect.stringContaining('RESPONSE_APPROVERS is empty') });
  });

  it('the triage service account is the automatic path, never a person', () => {
    expect(decideApprover('scc-socat-triage@proj-123456.iam.gserviceaccount.com', settings)).toEqual({ kind: 'automatic' });
  });

  it('RESPONSE_APPROVERS is parsed by the ADMIN_PRINCIPALS parser, with the variable named', () => {
    expect(parseConfig({ DRY_RUN: 'true', RESPONSE_APPROVERS: 'a@b.example, *@c.example' }).response.approvers).toEqual(['a@b.example', '*@c.example']);
    expect(() => parseConfig({ DRY_RUN: 'true', RESPONSE_APPROVERS: 'everyone' })).toThrow('RESPONSE_APPROVERS: expected an email address or *@domain, got "everyone"');
  });
});

describe('approvalLogFilter', () => {
  it('restricts to the Data Access log, SCC marks updates of this finding in both name forms, and the window', () => {
    const f = approvalLogFilter({ organization: `organizations/${ORG}`, enrichmentFinding: FINDING, window: { start: '2026-12-03T10:00:00Z', end: '2026-12-03T11:00:00Z' } });
    expect(f.split('\n')).toEqual([
      `logName="organizations/${ORG}/logs/cloudaudit.googleapis.com%2Fdata_access"`,
      'protoPayload.serviceName="securitycenter.googleapis.com"',
      'protoPayload.methodName=~"^google\\\\.cloud\\\\.securitycenter\\\\.v[0-9a-z]+\\\\.SecurityCenter\\\\.UpdateSecurityMarks$"',
      `protoPayload.resourceName=~"^organizations/${ORG}/sources/4242424242424242424(/locations/[^/]+)?/findings/0123456789abcdef0123456789abcdef(/securityMarks)?$"`,
      'timestamp>="2026-12-03T10:00:00Z"',
      'timestamp<="2026-12-03T11:00:00Z"',
    ]);
    expect(() => approvalLogFilter({ organization: `organizations/${ORG}`, enrichmentFinding: `${FINDING}" OR "x`, window: { start: '', end: '' } })).toThrow();
  });
});

describe('findMarkSetter through the Logging emulator and the real client', () => {
  let emu: LoggingEmulator;
  let client: LoggingClient;
  const now = new Date();
  const at = (secondsAgo: number) => new Date(now.getTime() - secondsAgo * 1000);
  const request = (over: Partial<SetterRequest> = {}): SetterRequest => ({
    organization: `organizations/${ORG}`,
    enrichmentFinding: FINDING,
    value: 'block-c2',
    publishedAt: now.toISOString(),
    now,
    windowMinutes: 60,
    budget: { pages: 5, entries: 1000 },
    signal: AbortSignal.timeout(10_000),
    ...over,
  });
  const entry = (principal: string, value: string | null, secondsAgo: number, extra: Record<string, unknown> = {}) =>
    markUpdateAuditEntry({
      organization: ORG,
      finding: FINDING,
      principal,
      marks: value === null ? {} : { socat_response: value },
      paths: ['marks.socat_response'],
      time: at(secondsAgo),
      ...extra,
    });

  beforeAll(async () => {
    emu = await startLoggingEmulator();
    client = await createLoggingClient({ loggingEmulatorHost: emu.endpoint });
  });
  afterAll(async () => {
    await client.close();
    await emu.stop();
  });
  beforeEach(() => emu.reset());

  it('finds the principal of the latest change of the mark, v1 or v2, and names the approval by its entry', async () => {
    emu.seed([
      entry('old@example.com', 'isolate', 600, { insertId: 'old1' }),
      entry('oncall@example.com', 'block-c2', 30, { insertId: 'new1', version: 'v1' }),
      // Someone else's marks on another finding, and another mark on ours, are not the setter.
      markUpdateAuditEntry({ organization: ORG, finding: OTHER, principal: 'x@example.com', marks: { socat_response: 'block-c2' }, time: at(10) }),
      markUpdateAuditEntry({ organization: ORG, finding: FINDING, principal: 'y@example.com', marks: { note: 'seen' }, time: at(5) }),
    ]);
    const r = await findMarkSetter(client, request());
    expect(r).toMatchObject({ status: 'found', note: null, change: { principal: 'oncall@example.com', entryId: 'new1', value: 'block-c2', method: 'google.cloud.securitycenter.v1.SecurityCenter.UpdateSecurityMarks' } });
  });

  it('a refused attempt changed nothing and is never the setter', async () => {
    emu.seed([entry('oncall@example.com', 'block-c2', 60, { insertId: 'ok' }), entry('eve@example.com', 'block-c2', 10, { denied: true })]);
    expect(await findMarkSetter(client, request())).toMatchObject({ status: 'found', change: { principal: 'oncall@example.com', entryId: 'ok' } });
  });

  it('replacing all marks (empty mask) counts as a change of this one', async () => {
    emu.seed([entry('oncall@example.com', 'block-c2', 10, { paths: [] })]);
    expect(await findMarkSetter(client, request())).toMatchObject({ status: 'found', change: { principal: 'oncall@example.com' } });
  });

  it('a later change to another value makes the approver unavailable (retry while young)', async () => {
    emu.seed([entry('oncall@example.com', 'block-c2', 60), entry('eve@example.com', 'delete-pod', 10)]);
    const r = await findMarkSetter(client, request());
    expect(r).toMatchObject({ status: 'unavailable', retryable: true });
    expect(r.status === 'unavailable' && r.reason).toContain('set it to "delete-pod", not "block-c2"');
  });

  it('an entry that does not show the value counts only when it is from before the notification', async () => {
    const noMarks = { paths: ['marks.socat_response'] };
    // securityMarks left out of the request (as an audit log may leave out user data), mask kept.
    const redacted = (secondsAgo: number, insertId: string) => {
      const e = entry('oncall@example.com', 'block-c2', secondsAgo, { insertId, ...noMarks });
      delete (e.protoPayload!.request as Record<string, unknown>)['securityMarks'];
      return e;
    };
    emu.seed([redacted(30, 'before')]);
    expect(await findMarkSetter(client, request())).toMatchObject({ status: 'found', change: { entryId: 'before', value: undefined }, note: expect.stringContaining('does not show the value') });
    emu.reset();
    emu.seed([entry('eve@example.com', 'block-c2', 30), redacted(-3, 'after')]);
    expect(await findMarkSetter(client, request())).toMatchObject({ status: 'unavailable', reason: expect.stringContaining('not from before the notification') });
  });

  it('an entry without its request cannot tell which mark it changed: unavailable, never guessed', async () => {
    emu.seed([entry('oncall@example.com', 'block-c2', 60), entry('eve@example.com', 'block-c2', 10, { withoutRequest: true })]);
    expect(await findMarkSetter(client, request())).toMatchObject({ status: 'unavailable', retryable: false, reason: expect.stringContaining('does not carry its request') });
  });

  it('no entry: unavailable, retried while the audit log may still be catching up, then final', async () => {
    expect(await findMarkSetter(client, request())).toMatchObject({ status: 'unavailable', retryable: true, reason: expect.stringContaining('DATA_WRITE audit logs') });
    const later = new Date(now.getTime() + 10 * 60_000);
    expect(await findMarkSetter(client, request({ now: later }))).toMatchObject({ status: 'unavailable', retryable: false });
  });

  it('an incomplete read that found nothing says so: unavailable', async () => {
    const later = new Date(now.getTime() + 10 * 60_000);
    // The emulator's first page of a query that has matched nothing yet is empty with a token, like Cloud Logging's.
    const r = await findMarkSetter(client, request({ now: later, budget: { pages: 1, entries: 1000 } }));
    expect(r).toMatchObject({ status: 'unavailable', retryable: false });
    expect(r.status === 'unavailable' && r.reason).toContain('the audit log read was incomplete');
  });

  it('reads the organization, newest first, with the filter it builds', async () => {
    await findMarkSetter(client, request());
    const sent = emu.requests('ListLogEntries')[0]!.request as Record<string, any>;
    expect(sent.resourceNames).toEqual([`organizations/${ORG}`]);
    expect(sent.orderBy).toBe('timestamp desc');
    expect(sent.filter).toContain('cloudaudit.googleapis.com%2Fdata_access');
  });
});

describe('hostile audit entries and mark values (property-based)', () => {
  const settings = { approvers: ['oncall@example.com'], triageServiceAccount: null };
  const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(fc.string(), tie('value'), { maxKeys: 3 })),
  })).value;
  const key = fc.constantFrom('socat_response', 'SOCAT_RESPONSE', 'note', 'marks', '');
  const request = fc.record(
    {
      securityMarks: fc.oneof(json, fc.record({ name: fc.string(), marks: fc.oneof(json, fc.dictionary(key, fc.oneof(fc.string(), json), { maxKeys: 3 })) }, { requiredKeys: [] })),
      updateMask: fc.oneof(json, fc.constantFrom('', 'marks', 'marks.socat_response', 'marks.SOCAT_RESPONSE,marks.note', 'marks.note'), fc.record({ paths: fc.array(fc.oneof(fc.string(), json), { maxLength: 3 }) })),
    },
    { requiredKeys: [] },
  );

  it('reading any entry never throws; a change is reported only for an accepted call that names this key (or all marks) on this finding', () => {
    fc.assert(
      fc.property(request, fc.option(fc.string()), fc.constantFrom(0, 7, null), fc.option(fc.boolean()), (req, principal, statusCode, granted) => {
        const decoded = {
          timestamp: '2026-12-03T10:00:00Z',
          severity: 'NOTICE',
          text: '',
          labels: {},
          audit: {
            serviceName: 'securitycenter.googleapis.com',
            methodName: 'google.cloud.securitycenter.v2.SecurityCenter.UpdateSecurityMarks',
            resourceName: `${FINDING}/securityMarks`,
            principal,
            callerIp: null,
            userAgent: null,
            statusCode,
            statusMessage: null,
            granted,
            request: req as never,
            response: null,
            metadata: null,
          },
        };
        const r = readEntry(decoded, 'id', FINDING, 'socat_response');
        if (r.kind === 'change') {
          expect(statusCode === 7 || granted === false).toBe(false);
          expect(r.change.value === undefined || r.change.value === null || typeof r.change.value === 'string').toBe(true);
        }
        const other = readEntry(decoded, 'id', OTHER, 'socat_response');
        expect(other.kind).toBe('other');
      }),
      { numRuns: 2000, seed: 0x15 },
    );
  });

  it('only a listed principal is ever a person approver, and reasons show no control or bidi characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (principal) => {
        const d = decideApprover(principal, settings);
        if (d.kind === 'person') expect(principal.trim().toLowerCase()).toBe('oncall@example.com');
        if (d.kind === 'refused') expect(d.reason).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/);
        const parsed = parseRequestedActions(principal);
        if (!parsed.ok) expect(parsed.reason).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      }),
      { numRuns: 3000, seed: 0x16 },
    );
  });
});
