/**
 * respondSocatFinding end to end: the mark set through the real SCC client on
 * the SCC emulator, its audit entry in the Logging emulator, the notification
 * SCC would publish for the enrichment finding (read back through the real
 * client), and small in-test actions standing in for the action modules.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createLoggingClient, createSccClient, type LoggingClient, type SccClient } from '../../lib/clients.js';
import { fetchFinding, toNotificationJson } from '../../lib/cli/scc.js';
import { parseConfig } from '../../lib/config.js';
import { parseNotification } from '../../lib/finding/parse.js';
import { RetryableFailure } from '../../lib/outcome.js';
import { analyzeFinding } from '../../lib/report/analyze.js';
import type { TriagedReport } from '../../lib/report/types.js';
import { automaticRequest } from '../../lib/respond/approval.js';
import { recordsFromProperties } from '../../lib/respond/records.js';
import { handleResponseDelivery, respondEvent, storedReportReader, type ResponderDeps, type ResponseActionModules } from '../../lib/respond/responder.js';
import { subjectFromReport } from '../../lib/respond/subject.js';
import { RESPONSE_ACTIONS, type CaptureEvidence, type PlanContext, type ResponseAction, type ResponsePlan } from '../../lib/respond/types.js';
import { refusedPlan } from '../../lib/respond/plan.js';
import { enrichmentFindingName } from '../../lib/scc/names.js';
import { writeBack } from '../../lib/scc/writeback.js';
import { triageEvent } from '../../lib/triage.js';
import { createLogger } from '../../lib/logger.js';
import { createResponderInstance, responderCloudEventHandler } from '../../lib/wiring.js';
import * as ff from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { AddressInfo } from 'node:net';
import { startLoggingEmulator, type LoggingEmulator } from '../emulators/logging-emulator.js';
import { startSccEmulator, type SccEmulator } from '../emulators/scc-emulator.js';
import { markUpdateAuditEntry, setMarksAs } from '../support/approval-audit.js';
import { cloudEventHeaders, notificationFixture, pubsubBody } from '../support/fixtures.js';
import { ORG, OWN_SOURCE, plainProperties, seedOriginal, seedSources } from '../support/scc-scenario.js';

const TRIAGE_SA = 'scc-socat-triage@sec-tools-4711.iam.gserviceaccount.com';
const notification = notificationFixture('socat-v2');
const original = notification.finding.name as string;
const enrichment = enrichmentFindingName(OWN_SOURCE, original);

let scc: SccEmulator;
let logging: LoggingEmulator;
let sccClient: SccClient;
let loggingClient: LoggingClient;
let messages = 0;

/** Actions that record being called and what planning saw; a change made twice is already_done. */
function testActions(calls: string[], seen: PlanContext[] = []): ResponseActionModules {
  const applied = new Set<ResponseAction>();
  return Object.fromEntries(
    RESPONSE_ACTIONS.map((a) => [
      a,
      {
        plan: (ctx: PlanContext) => {
          seen.push(ctx);
          return { action: a, allowed: true, reason: `${a} the pod`, requests: [{ api: 'kubernetes', method: 'POST', path: `/test/${a}`, body: null }], undo: `kubectl undo-${a} pod` };
        },
        execute: async () => {
          calls.push(a);
          const again = applied.has(a);
          applied.add(a);
          return { action: a, approver: null, at: new Date().toISOString(), result: again ? 'already_done' : 'done', detail: `${a} applied`, undo: `kubectl undo-${a} pod` };
        },
      },
    ]),
  ) as unknown as ResponseActionModules;
}

function report(over: Partial<TriagedReport['verdict']> = {}): TriagedReport {
  const r = analyzeFinding(parseNotification(notification)) as TriagedReport;
  return { ...r, verdict: { ...r.verdict, ...over } };
}

function deps(calls: string[], env: Record<string, string> = {}, over: Partial<ResponderDeps> = {}): ResponderDeps {
  return {
    config: parseConfig({ SCC_SOURCE_NAME: OWN_SOURCE, RESPONSE_APPROVERS: 'oncall@example.com,*@sec.example.com', ...env }),
    now: () => new Date(),
    scc: async () => sccClient,
    logging: async () => loggingClient,
    readReport: () => ({ report: report() }),
    actions: testActions(calls),
    ...over,
  };
}

/** The notification SCC publishes for the enrichment finding as it is now. */
async function delivery(publishTime = new Date()): Promise<Record<string, unknown>> {
  const result = await fetchFinding(sccClient, { name: enrichment, parent: `${OWN_SOURCE}/locations/global` });
  if (!result) throw new Error('no enrichment finding');
  return pubsubBody({ notificationConfigName: `organizations/${ORG}/locations/global/notificationConfigs/socat-response`, ...toNotificationJson(result) }, { messageId: String(++messages), publishTime: publishTime.toISOString() });
}

async function approve(principal: string, value: string, secondsAgo = 2): Promise<void> {
  await setMarksAs(sccClient, logging, { organization: ORG, finding: enrichment, principal, marks: { socat_response: value }, time: new Date(Date.now() - secondsAgo * 1000) });
}

function records() {
  return recordsFromProperties(plainProperties(scc.getFinding(enrichment))).records;
}

beforeAll(async () => {
  [scc, logging] = await Promise.all([startSccEmulator(), startLoggingEmulator()]);
  [sccClient, loggingClient] = await Promise.all([createSccClient({ sccEmulatorHost: scc.endpoint }), createLoggingClient({ loggingEmulatorHost: logging.endpoint })]);
});
afterAll(async () => {
  await Promise.all([sccClient.close(), loggingClient.close()]);
  await Promise.all([scc.stop(), logging.stop()]);
});
beforeEach(async () => {
  scc.reset();
  logging.reset();
  seedSources(scc);
  seedOriginal(scc, notification);
  await writeBack(sccClient, report(), { sourceName: OWN_SOURCE, organization: ORG, now: new Date() });
});

describe('respondSocatFinding', () => {
  it('an approver on the list: the action is carried out once and recorded on both findings', async () => {
    const calls: string[] = [];
    const d = deps(calls);
    await approve('OnCall@example.com', 'block-c2');
    const r = await respondEvent(await delivery(), d);
    expect(r).toMatchObject({ outcome: 'responded', findingName: enrichment });
    expect(r.reason).toBe('approved by oncall@example.com: block-c2: done');
    expect(calls).toEqual(['block-c2']);
    expect(records()).toEqual([
      expect.objectContaining({ action: 'block-c2', approver: 'oncall@example.com', result: 'done', undo: 'kubectl undo-block-c2 pod', approval: expect.objectContaining({ markValue: 'block-c2', entryId: expect.any(String) }) }),
    ]);
    const props = plainProperties(scc.getFinding(enrichment));
    expect(props.R2_Response_block_c2).toMatch(/^DONE: block-c2 applied \(approved by oncall@example\.com, /);
    // The report is untouched by the record's write.
    expect(props.A1_Verdict).toBe('SUSPICIOUS');
    expect(scc.getMarks(original)).toMatchObject({ socat_response_block_c2: 'done' });

    // Re-delivery of the same message, and the notification the record's own write causes: once only.
    const again = await respondEvent(await delivery(), d);
    expect(again).toMatchObject({ outcome: 'skipped', reason: expect.stringContaining('already carried out (loop guard)') });
    expect(calls).toEqual(['block-c2']);
  });

  it('a new setting of the mark is a new approval: carried out again, idempotently', async () => {
    const calls: string[] = [];
    const d = deps(calls);
    await approve('oncall@example.com', 'block-c2', 30);
    await respondEvent(await delivery(), d);
    await approve('bob@sec.example.com', 'block-c2', 1);
    const r = await respondEvent(await delivery(), d);
    expect(r.reason).toBe('approved by bob@sec.example.com: block-c2: already_done');
    expect(calls).toEqual(['block-c2', 'block-c2']);
    expect(records()[0]).toMatchObject({ approver: 'bob@sec.example.com', result: 'already_done' });
  });

  it('several actions run capture first, and a later one plans with the earlier one recorded', async () => {
    const calls: string[] = [];
    const seen: PlanContext[] = [];
    await approve('oncall@example.com', 'delete-pod, capture');
    const r = await respondEvent(await delivery(), deps(calls, {}, { actions: testActions(calls, seen) }));
    expect(r.outcome).toBe('responded');
    expect(calls).toEqual(['capture', 'delete-pod']);
    expect(seen.map((c) => c.previous.map((p) => `${p.action}:${p.result}`))).toEqual([[], ['capture:done']]);
    expect(seen[0]!.subject).toMatchObject({ findingName: original, enrichmentFinding: enrichment });
    expect(scc.getMarks(original)).toMatchObject({ socat_response_capture: 'done', socat_response_delete_pod: 'done' });
  });

  it("an action's prepare step runs before planning, only when the plan is allowed without it; plan and execute see what it added", async () => {
    const calls: string[] = [];
    const seen: PlanContext[] = [];
    const base = testActions(calls, seen);
    const evidence: CaptureEvidence = { bucket: 'ev', files: [{ name: 'finding.json', bytes: new Uint8Array([123, 125]) }], origin: 're-gathered in this test' };
    const prepared: string[] = [];
    let executedWith: PlanContext | null = null;
    const actions = {
      ...base,
      capture: {
        ...base.capture,
        prepare: async (ctx: PlanContext) => {
          prepared.push(`capture after ${seen.length} plan(s)`);
          return { ...ctx, evidence };
        },
        execute: async (plan: ResponsePlan, ctx: PlanContext) => {
          executedWith = ctx;
          return base.capture.execute(plan, ctx);
        },
      },
      cordon: {
        plan: (ctx: PlanContext) => refusedPlan('cordon', `refused in this test (${ctx.evidence === undefined ? 'not prepared' : 'prepared'})`),
        prepare: async (ctx: PlanContext) => {
          prepared.push('cordon');
          return ctx;
        },
        execute: base.cordon.execute,
      },
    } as ResponseActionModules;
    await approve('oncall@example.com', 'capture,cordon');
    const r = await respondEvent(await delivery(), deps(calls, {}, { actions }));
    expect(r.reason).toBe('approved by oncall@example.com: capture: done, cordon: refused');
    expect(prepared).toEqual(['capture after 1 plan(s)']);
    expect(seen.map((c) => c.evidence ?? null)).toEqual([null, evidence]);
    expect(executedWith!.evidence).toBe(evidence);
    expect(calls).toEqual(['capture']);
    expect(records().find((x) => x.action === 'cordon')).toMatchObject({ result: 'refused', detail: 'refused in this test (not prepared)' });
  });

  it('an unknown approver: refused, recorded naming the principal, nothing done, once', async () => {
    const calls: string[] = [];
    const d = deps(calls);
    await approve('eve@evil.example.com', 'isolate');
    const r = await respondEvent(await delivery(), d);
    expect(r).toMatchObject({ outcome: 'responded' });
    expect(calls).toEqual([]);
    expect(records()).toEqual([expect.objectContaining({ action: 'isolate', result: 'refused', approver: null, detail: expect.stringContaining('"eve@evil.example.com" set the socat_response mark but is not in RESPONSE_APPROVERS') })]);
    expect(scc.getMarks(original)).toMatchObject({ socat_response_isolate: 'refused' });
    expect(await respondEvent(await delivery(), d)).toMatchObject({ outcome: 'skipped' });
  });

  it('approver unavailable (no audit entry): retried while young, then refused and recorded once, nothing done', async () => {
    const calls: string[] = [];
    const d = deps(calls);
    await sccClient.updateSecurityMarks({ securityMarks: { name: `${enrichment}/securityMarks`, marks: { socat_response: 'cordon' } }, updateMask: { paths: ['marks.socat_response'] } });
    const logger = createLogger('silent');
    await expect(handleResponseDelivery(await delivery(), { ...d, logger })).rejects.toBeInstanceOf(RetryableFailure);
    expect(records()).toEqual([]);
    const old = new Date(Date.now() - 10 * 60_000);
    const r = await respondEvent(await delivery(old), d);
    expect(r).toMatchObject({ outcome: 'responded', reason: expect.stringContaining('approver unavailable') });
    expect(records()).toEqual([expect.objectContaining({ action: 'cordon', result: 'refused', approver: null, approval: { entryId: null, markValue: 'cordon', setAt: null } })]);
    expect(records()[0]!.detail).toContain('DATA_WRITE audit logs');
    // The record's own write notifies again: recorded once, never again for this value.
    expect(await respondEvent(await delivery(old), d)).toMatchObject({ outcome: 'skipped' });
    expect(calls).toEqual([]);
  });

  it('approver unavailable (incomplete read): refused with why', async () => {
    const calls: string[] = [];
    await sccClient.updateSecurityMarks({ securityMarks: { name: `${enrichment}/securityMarks`, marks: { socat_response: 'cordon' } }, updateMask: { paths: ['marks.socat_response'] } });
    const r = await respondEvent(await delivery(new Date(Date.now() - 10 * 60_000)), deps(calls, { LOG_PAGES_MAX: '1' }));
    expect(r.outcome).toBe('responded');
    expect(records()[0]!.detail).toContain('the audit log read was incomplete');
    expect(calls).toEqual([]);
  });

  it('a mark naming no known action is rejected with the reason, and nothing is written', async () => {
    const calls: string[] = [];
    await approve('oncall@example.com', 'block_c2');
    const body = await delivery();
    scc.clearRequestLog();
    const r = await respondEvent(body, deps(calls));
    expect(r).toMatchObject({ outcome: 'rejected', reason: expect.stringContaining('"block_c2"') });
    expect(scc.requests('UpdateFinding')).toEqual([]);
  });

  it('a finding without the mark, or not of our source, is skipped', async () => {
    const calls: string[] = [];
    expect(await respondEvent(await delivery(), deps(calls))).toMatchObject({ outcome: 'skipped', reason: 'no socat_response mark: nothing was approved' });
    expect(await respondEvent(pubsubBody({ ...notification, finding: { ...notification.finding, securityMarks: { marks: { socat_response: 'cordon' } } } }), deps(calls))).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringContaining('not an enrichment finding of our source'),
    });
    expect(calls).toEqual([]);
  });

  describe('AUTO_RESPONSE', () => {
    const env = { AUTO_RESPONSE: 'capture,isolate', AUTO_RESPONSE_MIN_SCORE: '80', TRIAGE_SERVICE_ACCOUNT: TRIAGE_SA };

    it('the triage service account asking for listed actions on a qualifying verdict: approver automatic', async () => {
      const calls: string[] = [];
      await approve(TRIAGE_SA, 'capture,isolate');
      const r = await respondEvent(await delivery(), deps(calls, env, { readReport: () => ({ report: report({ level: 'likely_malicious', score: 85 }) }) }));
      expect(r.reason).toBe('approved by automatic: capture: done, isolate: done');
      expect(records().map((x) => x.approver)).toEqual(['automatic', 'automatic']);
    });

    it('the triage requests it (the mark on the enrichment finding, before its loop-guard mark) and the responder carries it out', async () => {
      const config = parseConfig({ SCC_SOURCE_NAME: OWN_SOURCE, ...env });
      const malicious = report({ level: 'likely_malicious', score: 85 });
      expect(automaticRequest(malicious.verdict, config.response)).toEqual(['capture', 'isolate']);
      expect(automaticRequest({ level: 'likely_malicious', score: 79 }, config.response)).toEqual([]);
      expect(automaticRequest({ level: 'suspicious', score: 99 }, config.response)).toEqual([]);
      scc.clearRequestLog();
      await writeBack(sccClient, malicious, { sourceName: OWN_SOURCE, organization: ORG, now: new Date(), autoResponse: automaticRequest(malicious.verdict, config.response) });
      expect(scc.requests('UpdateSecurityMarks').map((r) => [(r.request as any).securityMarks.name, (r.request as any).updateMask.paths.join(',')])).toEqual([
        [`${original}/securityMarks`, 'marks.socat_triage_status,marks.socat_triage_verdict,marks.socat_triage_report'],
        [`${enrichment}/securityMarks`, 'marks.socat_response'],
        [`${original}/securityMarks`, 'marks.socat_triage_event_time'],
      ]);
      expect(scc.getMarks(enrichment)).toEqual({ socat_response: 'capture,isolate' });
      // What Cloud Logging keeps of the triage's marks update: its own service account.
      logging.seed([markUpdateAuditEntry({ organization: ORG, finding: enrichment, principal: TRIAGE_SA, marks: { socat_response: 'capture,isolate' }, time: new Date(Date.now() - 1000) })]);
      const calls: string[] = [];
      const r = await respondEvent(await delivery(), deps(calls, env, { readReport: () => ({ report: malicious }) }));
      expect(r.reason).toBe('approved by automatic: capture: done, isolate: done');
      expect(calls).toEqual(['capture', 'isolate']);
    });

    it('refused when the verdict no longer qualifies or an action is not listed', async () => {
      const calls: string[] = [];
      await approve(TRIAGE_SA, 'capture');
      const low = await respondEvent(await delivery(), deps(calls, env, { readReport: () => ({ report: report({ level: 'likely_malicious', score: 70 }) }) }));
      expect(low.reason).toContain('score ≥ AUTO_RESPONSE_MIN_SCORE (80)');
      await approve(TRIAGE_SA, 'delete-pod', 1);
      const unlisted = await respondEvent(await delivery(), deps(calls, env, { readReport: () => ({ report: report({ level: 'likely_malicious', score: 95 }) }) }));
      expect(unlisted.reason).toContain('asked for delete-pod, which AUTO_RESPONSE (capture, isolate) does not list');
      expect(calls).toEqual([]);
    });

    it('the triage service account is no approver when AUTO_RESPONSE is off', async () => {
      const calls: string[] = [];
      await approve(TRIAGE_SA, 'capture');
      const r = await respondEvent(await delivery(), deps(calls, { TRIAGE_SERVICE_ACCOUNT: TRIAGE_SA }, { readReport: () => ({ report: report({ level: 'likely_malicious', score: 95 }) }) }));
      expect(r.reason).toContain('which AUTO_RESPONSE (empty) does not list');
      expect(calls).toEqual([]);
    });
  });

  it('through the wiring (env, lazy clients): plans from the report stored in the notified finding (Z_Report)', async () => {
    const calls: string[] = [];
    const seen: PlanContext[] = [];
    const d = createResponderInstance(
      {
        SCC_SOURCE_NAME: OWN_SOURCE,
        RESPONSE_APPROVERS: 'oncall@example.com',
        SCC_EMULATOR_HOST: scc.endpoint,
        LOGGING_EMULATOR_HOST: logging.endpoint,
        DISABLED_GATHERERS: 'cluster,node,pod,namespace,contacts',
        LOG_LEVEL: 'silent',
      },
      { actions: testActions(calls, seen) },
    );
    await approve('oncall@example.com', 'cordon');
    const r = await handleResponseDelivery(await delivery(), d);
    expect(r.reason).toBe('approved by oncall@example.com: cordon: done');
    expect(seen[0]!.subject).toEqual(subjectFromReport(report(), enrichment));
  });

  it('a stored report that cannot be used: refused, recorded with why', async () => {
    const calls: string[] = [];
    await sccClient.updateFinding({ finding: { name: enrichment, sourceProperties: { Z_Report: { stringValue: 'not a struct' } } }, updateMask: { paths: ['source_properties.Z_Report'] } });
    await approve('oncall@example.com', 'cordon');
    const r = await respondEvent(await delivery(), deps(calls, {}, { readReport: storedReportReader }));
    expect(r.outcome).toBe('responded');
    expect(calls).toEqual([]);
    expect(records()[0]).toMatchObject({ action: 'cordon', result: 'refused', approver: 'oncall@example.com', detail: expect.stringContaining('its stored report cannot be used: Z_Report is a string, not a struct') });
  });

  it('the triage ignores the enrichment finding the responder writes to (the other direction of the loop guard)', async () => {
    await approve('oncall@example.com', 'cordon');
    const config = parseConfig({ SCC_SOURCE_NAME: OWN_SOURCE, TRIAGE_CATEGORIES: 'Execution: Socat Reverse Shell Detected,Socat Reverse Shell Triage' });
    const body = await delivery();
    scc.clearRequestLog();
    const r = await triageEvent(body, { config, scc: async () => sccClient, now: () => new Date(), gather: null, fanout: null });
    expect(r).toMatchObject({ outcome: 'skipped', reason: expect.stringContaining('our own source') });
    expect(scc.requestLog).toEqual([]);
  });
});

describe('respondSocatFinding through functions-framework (HTTP status is the ack/retry contract)', () => {
  it('answers 2xx for a carried-out approval and 500 (redelivery) while the approver cannot be established yet', async () => {
    const lines: Array<Record<string, any>> = [];
    const env = {
      SCC_SOURCE_NAME: OWN_SOURCE,
      RESPONSE_APPROVERS: 'oncall@example.com',
      SCC_EMULATOR_HOST: scc.endpoint,
      LOGGING_EMULATOR_HOST: logging.endpoint,
      DISABLED_GATHERERS: 'cluster,node,pod,namespace,contacts',
    };
    ff.cloudEvent('respondUnderTest', responderCloudEventHandler(env, { actions: testActions([]), readReport: () => ({ report: report() }), logDestination: { write: (l: string) => void lines.push(JSON.parse(l)) } }));
    const server = getTestServer('respondUnderTest');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await sccClient.updateSecurityMarks({ securityMarks: { name: `${enrichment}/securityMarks`, marks: { socat_response: 'cordon' } }, updateMask: { paths: ['marks.socat_response'] } });
      const early = await fetch(url, { method: 'POST', headers: cloudEventHeaders('r-1'), body: JSON.stringify(await delivery()) });
      expect(early.status).toBe(500);
      await approve('oncall@example.com', 'cordon');
      const ok = await fetch(url, { method: 'POST', headers: cloudEventHeaders('r-2'), body: JSON.stringify(await delivery()) });
      expect(ok.status).toBeLessThan(300);
      expect(lines.filter((l) => l.message === 'response outcome').map((l) => l.outcome)).toEqual(['retry', 'responded']);
      expect(records()[0]).toMatchObject({ action: 'cordon', result: 'done', approver: 'oncall@example.com' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
