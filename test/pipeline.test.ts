/**
 * A full triage against every emulator at once: the real SCC, GKE, Logging
 * and Kubernetes clients, every gatherer, the report and the write-back.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { handleDelivery } from '../lib/handler.js';
import type { TriagedReport } from '../lib/report/types.js';
import { reportFromFinding, storedReport } from '../lib/scc/stored-report.js';
import { createInstance } from '../lib/wiring.js';
import { pubsubBody } from './support/fixtures.js';
import { ownFindings, plainProperties } from './support/scc-scenario.js';
import { seedAdmin, seedAttack, startWorld, type Scenario, type World } from './support/world.js';

let world: World;
let attack: Scenario;
let admin: Scenario;
const logLines: Array<Record<string, any>> = [];

beforeAll(async () => {
  world = await startWorld();
  const now = Date.now();
  attack = seedAttack(world, new Date(now - 120_000));
  admin = seedAdmin(world, new Date(now - 60_000));
});
afterAll(async () => {
  await world.stop();
});

async function triage(scenario: Scenario): Promise<TriagedReport> {
  const instance = createInstance(world.env, { logDestination: { write: (l: string) => void logLines.push(JSON.parse(l)) } });
  const result = await handleDelivery(pubsubBody(scenario.notification), instance);
  expect(result.outcome).toBe('triaged');
  expect(result.report?.status).toBe('triaged');
  return result.report as TriagedReport;
}

describe('a full triage against every emulator', () => {
  let report: TriagedReport;
  beforeAll(async () => {
    report = await triage(attack);
  });

  it('gathers every section without gaps', () => {
    expect(report.gaps).toEqual([]);
  });

  it('finds the related CTD findings, on the container and on another pod of the workload', () => {
    expect(report.relatedFindings?.sameContainer.map((f) => f.category)).toEqual(['Execution: Added Binary Executed']);
    expect(report.relatedFindings?.otherPodsSameWorkload.map((f) => [f.category, f.pod])).toEqual([['Execution: Malicious Script Executed', 'checkout-7d9fb6c5d4-h7r2n']]);
    expect(report.relatedFindings?.countsByCategory).toEqual({ 'Execution: Added Binary Executed': 1 });
  });

  it('reads the cluster from GKE', () => {
    expect(report.cluster?.details).toMatchObject({
      currentMasterVersion: '1.33.5-gke.1201000',
      networkPolicyEnforced: false,
      podCidr: '10.52.0.0/14',
      servicesCidr: '10.56.0.0/20',
      workloadIdentityPool: 'shop-prod-4711.svc.id.goog',
      loggingComponents: ['SYSTEM_COMPONENTS', 'WORKLOADS'],
      nodePool: 'default-pool',
      ownerLabels: { team: 'payments-platform', 'cost-center': 'cc-4411' },
    });
    expect(report.cluster?.details).not.toHaveProperty('access');
    expect(JSON.stringify(report)).not.toContain('BEGIN CERTIFICATE');
  });

  it('reads the node and the pod through the Kubernetes API', () => {
    expect(report.node).toMatchObject({ instanceId: '4820981273410973451', nodePool: 'default-pool', zone: 'us-central1-b' });
    expect(report.pod).toMatchObject({ source: 'kubernetes', phase: 'Running', serviceAccount: 'checkout' });
    expect(report.pod?.owners.map((o) => `${o.kind}/${o.name}`)).toEqual(['ReplicaSet/checkout-7d9fb6c5d4', 'Deployment/checkout']);
    expect(report.pod?.redFlags.join('\n')).toMatch(/privileged/);
  });

  it('queries the three logs with explicit windows, redacting secrets', () => {
    expect(report.logs.pod?.count).toBe(4);
    const podText = [...(report.logs.pod?.first ?? []), ...(report.logs.pod?.last ?? [])].map((l) => l.text).join('\n');
    expect(podText).toContain('POST /api/v1/import 500');
    expect(podText).not.toContain('ya29.a0AfH6SMBx3kQ9demoTokenValue');
    expect(report.logs.pod?.link).toMatch(/^https:\/\/console\.cloud\.google\.com\/logs\/query;query=.*timeRange=/);
    expect(report.logs.audit?.execs).toEqual([]);
    expect(report.logs.audit?.podChanges.map((c) => c.verb)).toEqual(['create']);
    expect(report.logs.node?.count).toBe(2);
  });

  it('links the console pages', () => {
    expect(report.links.cluster).toBe('https://console.cloud.google.com/kubernetes/clusters/details/us-central1/shop-prod/details?project=shop-prod-4711');
    expect(report.links.pod).toContain('/kubernetes/pod/us-central1/shop-prod/shop/checkout-7d9fb6c5d4-x2lqp/details');
    expect(report.links.node).toContain('/kubernetes/node/us-central1/shop-prod/gke-shop-prod-default-pool-3f2a9c1e-k8vz/summary');
  });

  it('writes the gathered sections into the enrichment finding', () => {
    const stored = ownFindings(world.scc).find((f) => plainProperties(f).I01_Original_Finding === attack.findingName);
    const props = plainProperties(stored);
    expect(props).toMatchObject({ J27_Node_Instance_Id: '4820981273410973451', J20_Pod_Owner_Chain: 'ReplicaSet/checkout-7d9fb6c5d4 → Deployment/checkout', J05_Cluster_Network_Policy_Enforced: false, K1_Logs_Pod_Count: 4 });
    expect(String(props.D2_Related_Same_Container)).toContain('Execution: Added Binary Executed');
    expect(JSON.stringify(props)).not.toContain('demoTokenValue');
  });

  it('stores the whole report machine-readable beside the console text, uncut', () => {
    const stored = ownFindings(world.scc).find((f) => plainProperties(f).I01_Original_Finding === attack.findingName);
    expect(reportFromFinding(stored)).toEqual(storedReport(report));
    expect(reportFromFinding(stored)).toMatchObject({ truncated: [], cluster: { details: { networkPolicyEnforced: false } }, node: { instanceId: '4820981273410973451' }, logs: { pod: { count: 4 } } });
  });

  it('never writes to GKE or Kubernetes', () => {
    expect(world.kube.requestLog.every((r) => r.method === 'GET')).toBe(true);
    expect(world.gke.requests().every((r) => r.method === 'GetCluster')).toBe(true);
  });
});

describe('the admin session', () => {
  it('finds the kubectl exec that ran socat', async () => {
    const report = await triage(admin);
    expect(report.logs.audit?.execs).toEqual([
      expect.objectContaining({ principal: 'alice.sre@example.com', callerIp: '198.51.100.23', pod: 'ledger-6f8b9c7d5-p4k2m', mentionsSocat: true }),
    ]);
    expect(report.relatedFindings?.sameContainer).toEqual([]);
    expect(report.pod?.redFlags).toEqual([]);
  });
});
