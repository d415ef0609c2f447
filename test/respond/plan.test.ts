import { analyzeText } from '../../lib/cli/main.js';
import { DEFAULT_CATEGORY } from '../../lib/config.js';
import type { TriagedReport } from '../../lib/report/types.js';
import { captured, commonRefusal, forceCommand, planAction, type ActionPlanners } from '../../lib/respond/plan.js';
import { subjectFromReport } from '../../lib/respond/subject.js';
import { RESPONSE_ACTIONS, type PlanContext, type ResponseAction, type ResponsePlan, type ResponseRecord } from '../../lib/respond/types.js';
import { notificationFixture } from '../support/fixtures.js';

function report(fixture: 'socat-v2' | 'socat-admin-v2'): TriagedReport {
  const r = analyzeText(JSON.stringify(notificationFixture(fixture)), [DEFAULT_CATEGORY]);
  if (r.status !== 'triaged') throw new Error(`fixture ${fixture} was skipped: ${r.reason}`);
  return r;
}

function ctx(r: TriagedReport, over: Partial<PlanContext> = {}): PlanContext {
  return { subject: subjectFromReport(r, null), previous: [], force: false, now: new Date('2026-12-03T12:00:00Z'), ...over };
}

/** Planners that record being asked and plan one request each; one of them refuses but still lists a request. */
function recordingPlanners(asked: ResponseAction[]): ActionPlanners {
  const make = (action: ResponseAction, allowed = true) => (): ResponsePlan => {
    asked.push(action);
    return { action, allowed, reason: allowed ? 'ok' : 'no', requests: [{ api: 'kubernetes', method: 'GET', path: `/${action}`, body: null }], undo: allowed ? 'kubectl x' : 'kubectl y' };
  };
  return { capture: make('capture'), 'block-c2': make('block-c2'), isolate: make('isolate'), cordon: make('cordon'), 'delete-pod': make('delete-pod', false) };
}

describe('planAction', () => {
  it('refuses every cluster-changing action for a likely_benign_admin verdict unless forced, and never asks the planner', () => {
    const benign = { ...report('socat-v2'), verdict: { ...report('socat-v2').verdict, level: 'likely_benign_admin' as const, score: 5 } };
    const asked: ResponseAction[] = [];
    for (const action of ['block-c2', 'isolate', 'cordon', 'delete-pod'] as const) {
      const plan = planAction(action, ctx(benign), recordingPlanners(asked));
      expect(plan).toMatchObject({ action, allowed: false, requests: [], undo: null });
      expect(plan.reason).toContain('likely_benign_admin (score 5)');
      expect(plan.reason).toContain('--force');
    }
    expect(asked).toEqual([]);
    expect(planAction('cordon', ctx(benign, { force: true }), recordingPlanners(asked)).allowed).toBe(true);
    // Capture changes nothing in the cluster: allowed whatever the verdict.
    expect(planAction('capture', ctx(benign), recordingPlanners(asked)).allowed).toBe(true);
    expect(asked).toEqual(['cordon', 'capture']);
  });

  it('refuses when the finding names no cluster', () => {
    const r = { ...report('socat-v2'), cluster: null };
    for (const action of RESPONSE_ACTIONS) expect(commonRefusal(action, ctx(r))).toContain('names no GKE cluster');
  });

  it('drops the requests and undo of a plan its planner refused', () => {
    const plan = planAction('delete-pod', ctx(report('socat-v2')), recordingPlanners([]));
    expect(plan).toEqual({ action: 'delete-pod', allowed: false, reason: 'no', requests: [], undo: null });
  });
});

describe('forceCommand', () => {
  it('names the finding exactly for every shell, or a placeholder when it cannot be written', () => {
    const c = ctx(report('socat-v2'));
    expect(forceCommand('cordon', c)).toBe(`scc-socat-triage respond ${c.subject.findingName} --action cordon --force`);
    const quoted = { ...c, subject: { ...c.subject, findingName: "organizations/1/sources/2/findings/a b'c" } };
    expect(forceCommand('isolate', quoted)).toBe("scc-socat-triage respond 'organizations/1/sources/2/findings/a b'\\''c' --action isolate --force");
    const hostile = { ...c, subject: { ...c.subject, findingName: 'organizations/1/sources/2/findings/x\n; rm -rf ~' } };
    expect(forceCommand('delete-pod', hostile)).toBe('scc-socat-triage respond FINDING --action delete-pod --force');
  });

  it('is what a benign-verdict refusal tells the engineer to run', () => {
    const benign = { ...report('socat-v2'), verdict: { ...report('socat-v2').verdict, level: 'likely_benign_admin' as const } };
    expect(planAction('cordon', ctx(benign), recordingPlanners([])).reason).toContain(forceCommand('cordon', ctx(benign)));
  });
});

describe('captured', () => {
  const rec = (action: ResponseRecord['action'], result: ResponseRecord['result']): ResponseRecord => ({ action, approver: 'a@example.com', at: '2026-12-03T12:00:00Z', result, detail: '', undo: null });
  it('counts only a capture that was done or already done', () => {
    expect(captured([])).toBe(false);
    expect(captured([rec('capture', 'failed'), rec('capture', 'refused'), rec('cordon', 'done')])).toBe(false);
    expect(captured([rec('capture', 'done')])).toBe(true);
    expect(captured([rec('capture', 'already_done')])).toBe(true);
  });
});

describe('subjectFromReport', () => {
  it('takes the verdict, cluster and workload of the report', () => {
    const r = report('socat-v2');
    const s = subjectFromReport(r, 'organizations/1/sources/2/findings/x');
    expect(s.findingName).toBe(r.finding.name);
    expect(s.enrichmentFinding).toBe('organizations/1/sources/2/findings/x');
    expect(s.verdict).toEqual({ level: r.verdict.level, score: r.verdict.score });
    expect(s.cluster).toMatchObject({ project: r.cluster!.project, name: r.cluster!.name });
    expect(s.workload.namespace).toBe(r.workload.namespace);
    expect(s.c2).toBe(r.c2);
  });

  it('ignores a pod section about another pod', () => {
    const r = report('socat-v2');
    const other = { ...r, pod: { source: 'kubernetes' as const, namespace: 'other', name: 'p', phase: null, startTime: null, labels: { app: 'x' }, annotations: {}, serviceAccount: null, node: null, containers: [], redFlags: [], owners: [], consoleUrl: null } };
    expect(subjectFromReport(other, null).pod).toBeNull();
    const same = { ...other, pod: { ...other.pod, namespace: r.workload.namespace!, name: r.workload.pod! } };
    expect(subjectFromReport(same, null).pod).toEqual({ source: 'kubernetes', labels: { app: 'x' }, topOwnerKind: null });
  });
});
