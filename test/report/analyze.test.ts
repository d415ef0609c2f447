import { describe, expect, it } from '@jest/globals';
import { parseNotification } from '../../lib/finding/parse.js';
import { analyzeFinding } from '../../lib/report/analyze.js';
import { notificationFixture } from '../support/fixtures.js';

describe('offline analysis from the finding alone', () => {
  const report = analyzeFinding(parseNotification(notificationFixture('socat-v2')));

  it('scores what the finding shows and names what it could not see', () => {
    expect(report.verdict.level).toBe('suspicious');
    expect(report.verdict.score).toBe(report.verdict.reasons.reduce((sum, r) => sum + r.weight, 0));
    expect(report.verdict.reasons.map((r) => r.signal)).toEqual(expect.arrayContaining(['reverse_shell', 'pty_shell']));
    const unavailable = report.verdict.unavailable.join('\n');
    expect(unavailable).toMatch(/^attribution: /m);
    expect(unavailable).toMatch(/^related_findings: /m);
    expect(unavailable).toMatch(/^image: no trusted registries configured/m);
    expect(report.gaps.map((g) => g.section)).toEqual(['relatedFindings', 'cluster', 'node', 'pod', 'podLogs', 'auditLogs', 'nodeLogs', 'nodeK8sLogs', 'namespace', 'contacts']);
  });

  it('classifies the C2 address and maps MITRE', () => {
    expect(report.c2).toMatchObject({ host: '203.0.113.77', scope: 'reserved' });
    expect(report.mitre?.techniques.map((t) => t.id)).toEqual(['T1059.004', 'T1059']);
    expect(report.lineage.summary).toBe('bash → socat');
    expect(report.attribution.kind).toBe('unknown');
  });

  it('prepares every runbook step in order', () => {
    expect(report.runbook.steps.map((s) => s.id)).toEqual(['get_credentials', 'copy_binary', 'exec', 'debug', 'block_c2_egress', 'block_all_egress', 'cordon', 'delete_pod', 'scale_to_zero']);
    expect(report.runbook.steps.find((s) => s.id === 'get_credentials')?.command).toBe('gcloud container clusters get-credentials shop-prod --region us-central1 --project shop-prod-4711');
    // Offline the pod is not read: the policies select with the finding's own kubernetes.pods[].labels
    // (minus the per-revision pod-template-hash) and say so.
    for (const id of ['block_c2_egress', 'block_all_egress']) {
      const step = report.runbook.steps.find((s) => s.id === id);
      expect(step?.command).toMatch(/matchLabels:\n {6}"app": "checkout"\n {2}policyTypes:/);
      expect(step?.command).not.toContain('pod-template-hash');
      expect(step?.note).toMatch(/^Selects on app=checkout, from the finding's own kubernetes\.pods\[\]\.labels \(the pod was not read from the cluster\)\. /);
    }
  });
});
