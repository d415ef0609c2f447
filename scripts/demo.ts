/**
 * npm run demo: the whole job on the embedded default, offline. Starts the
 * local SCC, GKE, Cloud Logging and Kubernetes emulators seeded with one
 * cluster and two socat findings, runs the real function under
 * functions-framework in a child process (exactly as Cloud Run runs it,
 * pointed at the emulators), delivers the notifications, then prints what ops
 * see in the SCC console: the enrichment findings and the marks on the originals.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '../test/support/fixtures.js';
import { ownFindings, plainProperties } from '../test/support/scc-scenario.js';
import { seedAdmin, seedAttack, startWorld, type Scenario, type World } from '../test/support/world.js';
import { deliver, type Delivered } from './bench/deliver.js';
import { startFunction, type FunctionProcess } from './bench/function-process.js';

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

async function main(): Promise<void> {
  let world: World | null = null;
  let fn: FunctionProcess | null = null;
  try {
    world = await startWorld();
    const now = Date.now();
    const scenarios: Array<[string, Scenario]> = [
      ['attack: checkout (shop)', seedAttack(world, new Date(now - 150_000))],
      ['admin session: ledger (payments)', seedAdmin(world, new Date(now - 90_000))],
    ];
    console.log(bold('scc-socat-triage demo') + ' — local emulators, the real function and the real Google client libraries; no network, no credentials.');
    console.log(`emulators: SCC ${world.scc.endpoint}, GKE ${world.gke.endpoint}, Logging ${world.logging.endpoint}, Kubernetes https://${world.kube.access.endpoint}`);

    // The project's main (dist/), not the bundle: what npm test runs.
    fn = await startFunction({ root: projectRoot(), env: world.env });
    await fn.ready;
    console.log(`function triageSocatFinding listening on ${fn.url} (functions-framework, Node ${process.versions.node})`);

    const deliveries: Array<[string, Delivered]> = [];
    for (const [label, scenario] of scenarios) {
      deliveries.push([`${label}: notification`, await deliver(fn.url, scenario.notification, `${label}-1`)]);
    }
    const [firstLabel, first] = scenarios[0]!;
    deliveries.push([`${firstLabel}: redelivery of the same message`, await deliver(fn.url, first.notification, 'again')]);
    // SCC fires the notification again when our marks land: deliver that one too.
    const echoed = structuredClone(first.notification);
    echoed.finding.securityMarks = { name: `${first.findingName}/securityMarks`, marks: world.scc.getMarks(first.findingName) };
    deliveries.push([`${firstLabel}: notification fired by our own marks`, await deliver(fn.url, echoed, 'echo')]);
    await sleep(100);

    console.log(bold('\n=== Deliveries ==='));
    deliveries.forEach(([label, res], i) => {
      const o = fn!.outcomes[i];
      console.log(`${label.padEnd(62)} HTTP ${res.status}  ${String(o?.outcome).padEnd(8)} ${String(o?.durationMs ?? '?').padStart(5)} ms`);
    });

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
    if (!deliveries.every(([, r]) => r.status >= 200 && r.status < 300)) throw new Error('a delivery was not acknowledged');
  } finally {
    await fn?.stop();
    await world?.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`demo failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
