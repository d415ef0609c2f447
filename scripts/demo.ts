/**
 * npm run demo: the whole job on the embedded default, offline. Starts the
 * local SCC, GKE, Cloud Logging and Kubernetes emulators seeded with one
 * cluster and two socat findings, runs the real function under
 * functions-framework in a child process (exactly as Cloud Run runs it,
 * pointed at the emulators), and delivers the notifications the way the
 * deployment does (terraform/delivery.tf): published to SCC's topic on
 * Google's Pub/Sub emulator, pushed by a push subscription whose endpoint is
 * the function's URL. The first delivery meets an injected write-back fault,
 * the function answers 500, and Pub/Sub redelivers it. Then it prints what
 * ops see in the SCC console: the enrichment findings and the marks on the
 * originals. Without Google's emulator (no Cloud SDK component or no Java) it
 * says so in one line and posts the push bodies itself.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createPubSubClient, type PubSubClient } from '../lib/clients.js';
import { reportFromFinding, STORED_REPORT_KEY } from '../lib/scc/stored-report.js';
import { Status } from '../test/emulators/grpc-harness.js';
import { projectRoot } from '../test/support/fixtures.js';
import { EmulatorUnavailable, startGooglePubSub, type GooglePubSub } from '../test/support/google-pubsub.js';
import { ownFindings, plainProperties } from '../test/support/scc-scenario.js';
import { enforceNetworkPolicy, seedAdmin, seedAttack, startWorld, type Scenario, type World } from '../test/support/world.js';
import { demoApproval } from './demo-approval.js';
import { deliver } from './bench/deliver.js';
import { startFunction, type FunctionProcess, type OutcomeLine } from './bench/function-process.js';

/** SCC's notification topic and the push subscription Terraform creates on it (terraform/delivery.tf). */
const PROJECT = 'sec-tools-4711';
const TOPIC = `projects/${PROJECT}/topics/scc-socat-findings`;
const SUBSCRIPTION = `projects/${PROJECT}/subscriptions/scc-socat-triage-push`;
const DEAD_LETTER_TOPIC = `projects/${PROJECT}/topics/scc-socat-triage-dead-letter`;
const INJECTED = 'injected for the demo: the write-back could not reach SCC';

const bold = (s: string) => (process.stdout.isTTY ? `\u001b[1m${s}\u001b[0m` : s);

function printFinding(finding: Record<string, any>): void {
  const props = plainProperties(finding);
  console.log(bold('\n=== Enrichment finding (SCC console → Findings → source "Socat Triage") ==='));
  console.log(`name:        ${finding.name}`);
  console.log(`category:    ${finding.category}    state: ${finding.state}    severity: ${finding.severity}`);
  console.log(`resource:    ${finding.resourceName}`);
  console.log(`externalUri: ${finding.externalUri}`);
  console.log(`\ndescription:\n  ${finding.description}`);
  console.log(`\nnextSteps:\n${String(finding.nextSteps).split('\n').map((l) => `  ${l}`).join('\n')}`);
  console.log(bold('\n--- Source properties ---'));

  const width = Math.max(...Object.keys(props).map((k) => k.length));
  for (const [key, value] of Object.entries(props)) {
    if (key === STORED_REPORT_KEY) {
      // The machine-readable report: its strings are exact (escape sequences included), so it is summarised, not printed.
      const stored = reportFromFinding(finding);
      console.log(`${key.padEnd(width)}  (Struct, schemaVersion ${stored?.schemaVersion}, ${JSON.stringify(value).length} chars of JSON, cut: ${stored?.truncated.length ? stored.truncated.join('; ') : 'nothing'}; \`show\` reads it)`);
      continue;
    }
    const [head, ...rest] = (typeof value === 'string' ? value : JSON.stringify(value)).split('\n');
    console.log(`${key.padEnd(width)}  ${head}`);
    for (const line of rest) console.log(`${' '.repeat(width + 2)}${line}`);
  }
}

/** The two verdicts next to each other, as an engineer compares them: the answer, then why. */
function printSideBySide(findings: Array<[string, Record<string, any>]>): void {
  const rows: Array<[string, (p: Record<string, unknown>, f: Record<string, any>) => string]> = [
    ['verdict', (p) => String(p.A1_Verdict)],
    ['score', (p) => String(p.A2_Score)],
    ['severity', (_p, f) => String(f.severity)],
    ['C2', (p) => `${p.B1_C2} [${p.B2_C2_Scope ?? '?'}]`],
    ['who', (p) => String(p.C1_Attribution ?? '')],
    ['related findings', (p) => `${p.D1_Related_Same_Container_Count ?? 0} on the container`],
    ['pod red flags', (p) => String(p.J19_Pod_Red_Flags ?? 'none').replace(/\n/g, '; ')],
    ['first step', (_p, f) => String(f.nextSteps).split('\n')[0] ?? ''],
  ];
  const width = 40;
  const wrap = (text: string) => (text.match(new RegExp(`.{1,${width}}(\\s|$)|\\S+`, 'g')) ?? ['']).map((l) => l.trimEnd());
  console.log(bold('\n=== Side by side ==='));
  console.log(`${''.padEnd(18)}${findings.map(([label]) => label.padEnd(width + 2)).join('')}`);
  for (const [name, cell] of rows) {
    const cells = findings.map(([, f]) => wrap(cell(plainProperties(f), f)));
    const height = Math.max(...cells.map((c) => c.length));
    for (let i = 0; i < height; i++) {
      console.log(`${(i === 0 ? name : '').padEnd(18)}${cells.map((c) => (c[i] ?? '').padEnd(width + 2)).join('')}`);
    }
  }
}

interface Row {
  label: string;
  /** How it reached the function: "push #N" (Pub/Sub's Nth delivery of the message) or the fallback's HTTP status. */
  how: string;
  outcome: OutcomeLine | undefined;
}

/** The outcome lines the function logged for one Pub/Sub message id, waiting until `until` holds. */
async function outcomesOf(fn: FunctionProcess, messageId: string, until: (lines: OutcomeLine[]) => boolean, timeoutMs = 60_000): Promise<OutcomeLine[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = fn.outcomes.filter((o) => o.messageId === messageId);
    if (until(lines)) return lines;
    if (Date.now() > deadline) throw new Error(`message ${messageId}: no final outcome within ${timeoutMs} ms (seen: ${lines.map((l) => l.outcome).join(', ') || 'nothing'}); function stderr: ${fn.stderr().slice(-500)}`);
    await sleep(50);
  }
}

const settled = (lines: OutcomeLine[]) => lines.some((l) => l.outcome !== 'retry');

/** Production's path: publish to SCC's topic; the push subscription delivers to the function and redelivers on a non-2xx. */
async function viaPubSub(pubsub: PubSubClient, fn: FunctionProcess, world: World, scenarios: Array<[string, Scenario]>, echo: () => Record<string, any>): Promise<Row[]> {
  const [[topic], [deadLetter]] = await Promise.all([pubsub.createTopic(TOPIC), pubsub.createTopic(DEAD_LETTER_TOPIC)]);
  // As terraform/delivery.tf creates it: functions-framework takes the topic from the request path; bounded retries with
  // backoff, then the dead-letter topic (shorter backoff than the deployment's, for a demo).
  await pubsub.createSubscription(topic, SUBSCRIPTION, {
    pushConfig: { pushEndpoint: `${fn.url}/${TOPIC}` },
    ackDeadlineSeconds: 60,
    retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 10 } },
    deadLetterPolicy: { deadLetterTopic: deadLetter.name, maxDeliveryAttempts: 5 },
  });
  const rows: Row[] = [];
  const publish = async (label: string, notification: unknown) => {
    // SCC publishes the NotificationMessage as JSON, without attributes.
    const id = await topic.publishMessage({ data: Buffer.from(JSON.stringify(notification)) });
    const lines = await outcomesOf(fn, id, settled);
    lines.forEach((outcome, i) => rows.push({ label: i === 0 ? label : `${label}: redelivered by Pub/Sub`, how: `push #${i + 1}`, outcome }));
  };
  const [[firstLabel, first], ...rest] = scenarios as [[string, Scenario], ...Array<[string, Scenario]>];
  world.scc.injectFault('UpdateFinding', { code: Status.UNAVAILABLE, message: INJECTED, times: 1 });
  await publish(`${firstLabel}: notification`, first.notification);
  for (const [label, scenario] of rest) await publish(`${label}: notification`, scenario.notification);
  await publish(`${firstLabel}: notification fired by our own marks`, echo());
  return rows;
}

/** Without Google's emulator: post the push bodies ourselves, redelivering the failed one as Pub/Sub would. */
async function viaDirectPost(fn: FunctionProcess, world: World, scenarios: Array<[string, Scenario]>, echo: () => Record<string, any>): Promise<Row[]> {
  const rows: Row[] = [];
  const post = async (label: string, notification: unknown, id: string) => {
    const before = fn.outcomes.length;
    const res = await deliver(fn.url, notification, id);
    await outcomesOf(fn, id, (lines) => lines.length > 0 && fn.outcomes.length > before);
    rows.push({ label, how: `HTTP ${res.status}`, outcome: fn.outcomes.filter((o) => o.messageId === id).at(-1) });
    return res.status;
  };
  const [[firstLabel, first], ...rest] = scenarios as [[string, Scenario], ...Array<[string, Scenario]>];
  world.scc.injectFault('UpdateFinding', { code: Status.UNAVAILABLE, message: INJECTED, times: 1 });
  if ((await post(`${firstLabel}: notification`, first.notification, 'demo-1')) >= 300) await post(`${firstLabel}: posted again (as Pub/Sub would)`, first.notification, 'demo-1');
  let n = 2;
  for (const [label, scenario] of rest) await post(`${label}: notification`, scenario.notification, `demo-${n++}`);
  await post(`${firstLabel}: notification fired by our own marks`, echo(), `demo-${n}`);
  return rows;
}

async function main(): Promise<void> {
  // What is up, for `finally` to stop whichever of them started.
  const held: { world?: World; emulator?: GooglePubSub; fn?: FunctionProcess; pubsub?: PubSubClient } = {};
  try {
    const worldUp = startWorld().then((w) => (held.world = w));
    const emulatorUp = startGooglePubSub().then(
      (e) => (held.emulator = e),
      (err: unknown) => {
        if (err instanceof EmulatorUnavailable) return err;
        throw err;
      },
    );
    await Promise.allSettled([worldUp, emulatorUp]);
    const world = await worldUp;
    const started = await emulatorUp;
    const emulator = started instanceof EmulatorUnavailable ? null : started;
    // Enforcing NetworkPolicy, so the approval at the end can apply one (the tests' world does not enforce it).
    enforceNetworkPolicy(world);
    const now = Date.now();
    const scenarios: Array<[string, Scenario]> = [
      ['attack: checkout (shop)', seedAttack(world, new Date(now - 150_000))],
      ['admin session: ledger (payments)', seedAdmin(world, new Date(now - 90_000))],
    ];
    console.log(bold('scc-socat-triage demo') + ' — local emulators, the real function and the real Google client libraries; no network, no credentials.');
    console.log(`emulators: SCC ${world.scc.endpoint}, GKE ${world.gke.endpoint}, Logging ${world.logging.endpoint}, Kubernetes https://${world.kube.access.endpoint}${emulator ? `, Pub/Sub (Google's emulator) ${emulator.endpoint}` : ''}`);
    if (started instanceof EmulatorUnavailable) console.log(`${started.message}; posting push bodies to the function directly instead.`);

    // The project's main (dist/), not the bundle: what npm test runs.
    const fn = (held.fn = await startFunction({ root: projectRoot(), env: world.env }));
    await fn.ready;
    console.log(`function triageSocatFinding listening on ${fn.url} (functions-framework, Node ${process.versions.node})`);
    if (emulator) console.log(`delivery: ${TOPIC} → push subscription ${SUBSCRIPTION} → ${fn.url}/${TOPIC}`);

    // SCC fires the notification again when our marks land: built once the first triage has written them.
    const [, first] = scenarios[0]!;
    const echo = () => {
      const echoed = structuredClone(first.notification);
      echoed.finding.securityMarks = { name: `${first.findingName}/securityMarks`, marks: world.scc.getMarks(first.findingName) };
      return echoed;
    };
    let rows: Row[];
    if (emulator) {
      held.pubsub = await createPubSubClient({ pubsubEmulatorHost: emulator.endpoint, projectId: PROJECT });
      rows = await viaPubSub(held.pubsub, fn, world, scenarios, echo);
    } else {
      rows = await viaDirectPost(fn, world, scenarios, echo);
    }

    console.log(bold('\n=== Deliveries ==='));
    for (const { label, how, outcome } of rows) {
      const why = outcome?.outcome === 'retry' ? `  (${outcome.reason ?? ''})` : '';
      console.log(`${label.padEnd(62)} ${how.padEnd(8)}  ${String(outcome?.outcome).padEnd(8)} ${String(outcome?.durationMs ?? '?').padStart(5)} ms${why}`);
    }

    const own = ownFindings(world.scc);
    if (own.length !== scenarios.length) throw new Error(`expected ${scenarios.length} enrichment findings, found ${own.length}`);
    const enriched = scenarios.map(([label, scenario]) => {
      const finding = own.find((f) => plainProperties(f).I01_Original_Finding === scenario.findingName);
      if (!finding) throw new Error(`no enrichment finding for ${label}`);
      return [label, scenario, finding] as const;
    });
    printSideBySide(enriched.map(([label, , finding]) => [label, finding]));
    for (const [label, scenario, finding] of enriched) {
      console.log(bold(`\n######## ${label} ########`));
      printFinding(finding);
      console.log(bold('\n--- Security marks on the original CTD finding ---'));
      for (const [k, v] of Object.entries(world.scc.getMarks(scenario.findingName) ?? {})) console.log(`${k.padEnd(24)} ${v}`);
    }
    const outcomes = rows.map((r) => r.outcome?.outcome);
    const expected = ['retry', 'triaged', 'triaged', 'skipped'];
    if (outcomes.join() !== expected.join()) throw new Error(`deliveries ended ${outcomes.join(', ')}; expected ${expected.join(', ')}`);
    await demoApproval(world, first, held.pubsub ?? null, bold);
  } finally {
    await held.pubsub?.close();
    await held.fn?.stop();
    await held.emulator?.stop();
    await held.world?.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`demo failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
