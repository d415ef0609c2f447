/**
 * The demo's approval: an on-call engineer sets socat_response = block-c2 on
 * the enrichment finding in the SCC console (here: the mark written through
 * the real SCC client, and the Data Access audit entry Google would log for
 * it), the second notification config delivers the enrichment finding to
 * respondSocatFinding (its own process, as Cloud Run runs it), which finds who
 * set the mark, plans from the stored report and applies the NetworkPolicy.
 * Then what changed: the policy in the cluster, the records on the
 * enrichment finding, the result mark on the original.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { createSccClient, type PubSubClient } from '../lib/clients.js';
import { fetchFinding, toNotificationJson } from '../lib/cli/scc.js';
import { RESPONSE_PROPERTY, responseMarkKey } from '../lib/respond/records.js';
import { enrichmentFindingName } from '../lib/scc/names.js';
import { setMarksAs } from '../test/support/approval-audit.js';
import { projectRoot } from '../test/support/fixtures.js';
import { ORG, OWN_SOURCE, plainProperties } from '../test/support/scc-scenario.js';
import type { Scenario, World } from '../test/support/world.js';
import { deliver } from './bench/deliver.js';
import { startFunction, type OutcomeLine } from './bench/function-process.js';

const PROJECT = 'sec-tools-4711';
const TOPIC = `projects/${PROJECT}/topics/scc-socat-triage-responses`;
const SUBSCRIPTION = `projects/${PROJECT}/subscriptions/scc-socat-triage-responses-push`;
export const APPROVER = 'oncall@example.com';

export async function demoApproval(world: World, attack: Scenario, pubsub: PubSubClient | null, bold: (s: string) => string): Promise<void> {
  const enrichment = enrichmentFindingName(OWN_SOURCE, attack.findingName);
  const fn = await startFunction({ root: projectRoot(), env: { ...world.env, RESPONSE_APPROVERS: APPROVER }, target: 'respondSocatFinding' });
  const scc = await createSccClient({ sccEmulatorHost: world.scc.endpoint });
  try {
    await fn.ready;
    console.log(bold('\n=== Approval from the console ==='));
    console.log(`function respondSocatFinding listening on ${fn.url} (its own service account in production; RESPONSE_APPROVERS=${APPROVER})`);
    await setMarksAs(scc, world.logging, { organization: ORG, finding: enrichment, principal: APPROVER, marks: { socat_response: 'block-c2' }, time: new Date(Date.now() - 1000) });
    console.log(`${APPROVER} sets the mark socat_response = block-c2 on ${enrichment}`);

    // What SCC publishes for the enrichment finding after the marks change.
    const notification = async () => {
      const found = await fetchFinding(scc, { name: enrichment, parent: `${OWN_SOURCE}/locations/global` });
      if (!found) throw new Error('the enrichment finding is gone');
      return { notificationConfigName: `organizations/${ORG}/locations/global/notificationConfigs/scc-socat-triage-responses`, ...toNotificationJson(found) };
    };
    let send: (body: unknown, id: string) => Promise<string>;
    if (pubsub) {
      const [topic] = await pubsub.createTopic(TOPIC);
      await pubsub.createSubscription(topic, SUBSCRIPTION, { pushConfig: { pushEndpoint: `${fn.url}/${TOPIC}` }, ackDeadlineSeconds: 60, retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 10 } } });
      console.log(`delivery: ${TOPIC} → push subscription ${SUBSCRIPTION} → ${fn.url}/${TOPIC}`);
      send = async (body) => topic.publishMessage({ data: Buffer.from(JSON.stringify(body)) });
    } else {
      send = async (body, id) => {
        await deliver(fn.url, body, id);
        return id;
      };
    }
    const outcome = async (id: string): Promise<OutcomeLine> => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const line = fn.outcomes.filter((o) => o.messageId === id && o.outcome !== 'retry').at(-1);
        if (line) return line;
        if (Date.now() > deadline) throw new Error(`respondSocatFinding: no outcome for message ${id}; stderr: ${fn.stderr().slice(-500)}`);
        await sleep(50);
      }
    };
    const first = await outcome(await send(await notification(), 'approval-1'));
    console.log(`responder: ${first.outcome} — ${first.reason}`);
    // Its own record write notifies it again: the loop guard.
    const echo = await outcome(await send(await notification(), 'approval-2'));
    console.log(`responder, on the notification its own record fired: ${echo.outcome} — ${echo.reason}`);

    const policies = world.kube.requestLog.filter((r) => r.method === 'POST' && r.path.endsWith('/networkpolicies'));
    console.log(bold('\n--- NetworkPolicy now in the cluster ---'));
    for (const p of policies) {
      const body = p.body as { metadata?: { name?: string; namespace?: string } } | undefined;
      const stored = world.kube.get('NetworkPolicy', body?.metadata?.name ?? '', body?.metadata?.namespace);
      console.log(stored ? stringify({ apiVersion: stored.apiVersion, kind: stored.kind, metadata: { name: stored.metadata?.name, namespace: stored.metadata?.namespace, labels: stored.metadata?.labels }, spec: stored.spec }).trimEnd() : '(not found)');
    }
    if (policies.length === 0) throw new Error('the approved block-c2 created no NetworkPolicy');

    console.log(bold('\n--- Response records on the enrichment finding ---'));
    const props = plainProperties(world.scc.getFinding(enrichment));
    for (const [k, v] of Object.entries(props).filter(([k]) => RESPONSE_PROPERTY.test(k) && !k.endsWith('_Record'))) console.log(`${k.padEnd(32)} ${String(v).split('\n').join('\n'.padEnd(34))}`);
    console.log(bold('\n--- Result mark on the original CTD finding ---'));
    console.log(`${responseMarkKey('block-c2')} = ${world.scc.getMarks(attack.findingName)?.[responseMarkKey('block-c2')] ?? '(none)'}`);
    if (first.outcome !== 'responded' || echo.outcome !== 'skipped') throw new Error(`approval deliveries ended ${first.outcome}, ${echo.outcome}; expected responded, skipped`);
  } finally {
    await scc.close();
    await fn.stop();
  }
}
