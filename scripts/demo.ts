/**
 * npm run demo: the whole job on the embedded default, offline. Starts the
 * local SCC emulator, runs the real function under functions-framework in a
 * child process (exactly as Cloud Run runs it, pointed at the emulator),
 * delivers a realistic socat notification, then prints what ops see in the
 * SCC console: the enrichment finding and the marks on the original.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSccEmulator, type SccEmulator } from '../test/emulators/scc-emulator.js';
import { notificationFixture, projectRoot, pubsubBody } from '../test/support/fixtures.js';
import { OWN_SOURCE, ownFindings, plainProperties, seedOriginal, seedSources } from '../test/support/scc-scenario.js';

const bold = (s: string) => (process.stdout.isTTY ? `\u001b[1m${s}\u001b[0m` : s);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

interface FunctionProcess {
  url: string;
  child: ChildProcess;
  outcomes: Array<Record<string, unknown>>;
}

async function startFunction(env: Record<string, string>): Promise<FunctionProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['node_modules/@google-cloud/functions-framework/build/src/main.js', '--target=triageSocatFinding', '--signature-type=cloudevent', `--port=${port}`], {
    cwd: projectRoot(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', METADATA_SERVER_DETECTION: 'none', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const outcomes: Array<Record<string, unknown>> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const entry = JSON.parse(line);
      if (entry.message === 'triage outcome') outcomes.push(entry);
    } catch {
      // functions-framework's own start-up lines are plain text.
    }
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`the function exited with ${child.exitCode}: ${stderr.trim()}`);
    try {
      await fetch(url, { method: 'GET' });
      return { url, child, outcomes };
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`the function did not start listening on ${url}: ${stderr.trim()}`);
}

function deliver(url: string, body: unknown, id: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
      'ce-source': '//pubsub.googleapis.com/projects/sec-tools/topics/scc-socat-findings',
      'ce-id': id,
      'ce-time': new Date().toISOString(),
    },
    body: JSON.stringify(body),
  });
}

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
  console.log(`Triage_Summary:\n${String(props.Triage_Summary).split('\n').map((l) => `  ${l}`).join('\n')}`);
  const width = Math.max(...Object.keys(props).map((k) => k.length));
  for (const [key, value] of Object.entries(props)) {
    if (key !== 'Triage_Summary') console.log(`${key.padEnd(width)}  ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
}

async function main(): Promise<void> {
  let emu: SccEmulator | null = null;
  let fn: FunctionProcess | null = null;
  try {
    emu = await startSccEmulator();
    seedSources(emu);
    const notification = structuredClone(notificationFixture('socat-v2'));
    notification.finding.eventTime = new Date(Date.now() - 90_000).toISOString();
    seedOriginal(emu, notification);
    console.log(bold('scc-socat-triage demo') + ' — local emulators, the real function and the real Google client libraries; no network, no credentials.');
    console.log(`SCC emulator on ${emu.endpoint}; CTD finding ${notification.finding.name}`);

    fn = await startFunction({ SCC_SOURCE_NAME: OWN_SOURCE, SCC_EMULATOR_HOST: emu.endpoint, LOG_LEVEL: 'info', DISABLED_GATHERERS: 'cluster,node,pod,podLogs,auditLogs,nodeLogs' });
    console.log(`function triageSocatFinding listening on ${fn.url} (functions-framework, Node ${process.versions.node})`);

    const first = await deliver(fn.url, pubsubBody(notification, { messageId: 'demo-1' }), 'demo-1');
    const redelivery = await deliver(fn.url, pubsubBody(notification, { messageId: 'demo-1' }), 'demo-1-again');
    // SCC fires the notification again when our marks land: deliver that one too.
    const echoed = structuredClone(notification);
    echoed.finding.securityMarks = { name: `${notification.finding.name}/securityMarks`, marks: emu.getMarks(notification.finding.name) };
    const echo = await deliver(fn.url, pubsubBody(echoed, { messageId: 'demo-2' }), 'demo-2');
    await sleep(100);

    console.log(bold('\n=== Deliveries ==='));
    const labels = ['notification', 'redelivery of the same message', 'notification fired by our own mark update'];
    [first, redelivery, echo].forEach((res, i) => {
      const o = fn!.outcomes[i] ?? {};
      console.log(`${labels[i]!.padEnd(44)} HTTP ${res.status}  ${String(o.outcome).padEnd(8)} ${o.durationMs ?? '?'} ms  ${o.reason ?? ''}`);
    });

    const own = ownFindings(emu);
    if (own.length !== 1) throw new Error(`expected one enrichment finding, found ${own.length}`);
    printFinding(own[0]!);
    console.log(bold('\n=== Security marks on the original CTD finding ==='));
    for (const [k, v] of Object.entries(emu.getMarks(notification.finding.name) ?? {})) console.log(`${k.padEnd(24)} ${v}`);
    if (![first, redelivery, echo].every((r) => r.ok)) throw new Error('a delivery was not acknowledged');
  } finally {
    fn?.child.kill('SIGTERM');
    await emu?.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`demo failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
