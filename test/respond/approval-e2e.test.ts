/**
 * The approval path with the real action modules: the triage writes its
 * report, an engineer sets socat_response on the enrichment finding, and
 * respondSocatFinding (its default wiring, lib/respond/actions.ts) reaches
 * the cluster through GKE getCluster and the Kubernetes emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createSccClient, type SccClient } from '../../lib/clients.js';
import { fetchFinding, toNotificationJson } from '../../lib/cli/scc.js';
import { handleDelivery } from '../../lib/handler.js';
import { recordsFromProperties, responseMarkKey } from '../../lib/respond/records.js';
import { respondEvent } from '../../lib/respond/responder.js';
import { enrichmentFindingName } from '../../lib/scc/names.js';
import { createInstance, createResponderInstance } from '../../lib/wiring.js';
import { setMarksAs } from '../support/approval-audit.js';
import { pubsubBody } from '../support/fixtures.js';
import { ORG, OWN_SOURCE, plainProperties } from '../support/scc-scenario.js';
import { seedAttack, startWorld, type Scenario, type World } from '../support/world.js';

let world: World;
let attack: Scenario;
let scc: SccClient;
let node: string;
let enrichment: string;

beforeAll(async () => {
  world = await startWorld();
  attack = seedAttack(world, new Date(Date.now() - 120_000));
  enrichment = enrichmentFindingName(OWN_SOURCE, attack.findingName);
  const triage = createInstance(world.env);
  const result = await handleDelivery(pubsubBody(attack.notification), triage);
  expect(result.outcome).toBe('triaged');
  node = result.report!.status === 'triaged' ? result.report!.workload.node! : '';
  expect(world.kube.get('Node', node)).toBeDefined();
  scc = await createSccClient({ sccEmulatorHost: world.scc.endpoint });
}, 60_000);
afterAll(async () => {
  await scc.close();
  await world.stop();
});

async function delivery(id: string): Promise<Record<string, unknown>> {
  const found = await fetchFinding(scc, { name: enrichment, parent: `${OWN_SOURCE}/locations/global` });
  if (!found) throw new Error('no enrichment finding');
  return pubsubBody({ notificationConfigName: `organizations/${ORG}/locations/global/notificationConfigs/socat-response`, ...toNotificationJson(found) }, { messageId: id, publishTime: new Date().toISOString() });
}

const responder = () => createResponderInstance({ ...world.env, RESPONSE_APPROVERS: 'oncall@example.com' });
const records = () => recordsFromProperties(plainProperties(world.scc.getFinding(enrichment))).records;

describe('approval with the real actions', () => {
  it('a mark set by someone not on RESPONSE_APPROVERS changes nothing in the cluster', async () => {
    world.kube.clearRequestLog();
    await setMarksAs(scc, world.logging, { organization: ORG, finding: enrichment, principal: 'intruder@example.com', marks: { socat_response: 'cordon' }, time: new Date(Date.now() - 2000) });
    const r = await respondEvent(await delivery('m1'), responder());
    expect(r.outcome).toBe('responded');
    expect(records().find((x) => x.action === 'cordon')).toMatchObject({ result: 'refused' });
    expect(world.kube.requestLog.filter((q) => q.method !== 'GET')).toEqual([]);
    expect(world.kube.get('Node', node)?.spec?.unschedulable).not.toBe(true);
  });

  it('an approver on the list: the node is cordoned through GKE and Kubernetes, and the result recorded on both findings', async () => {
    world.kube.clearRequestLog();
    await setMarksAs(scc, world.logging, { organization: ORG, finding: enrichment, principal: 'oncall@example.com', marks: { socat_response: 'cordon' }, time: new Date(Date.now() - 1000) });
    const r = await respondEvent(await delivery('m2'), responder());
    expect(r.outcome).toBe('responded');
    expect(r.written.map((w) => [w.action, w.result, w.approver])).toEqual([['cordon', 'done', 'oncall@example.com']]);
    expect(world.kube.get('Node', node)?.spec).toMatchObject({ unschedulable: true });
    expect(world.kube.requestLog.filter((q) => q.method !== 'GET').map((q) => `${q.method} ${q.path}`)).toEqual([`PATCH /api/v1/nodes/${node}`]);
    expect(world.scc.getMarks(attack.findingName)?.[responseMarkKey('cordon')]).toBe('done');

    // The record's own write notifies the responder again: the same approval is not carried out twice.
    world.kube.clearRequestLog();
    const again = await respondEvent(await delivery('m3'), responder());
    expect(again.outcome).toBe('skipped');
    expect(world.kube.requestLog).toEqual([]);
  });
});
