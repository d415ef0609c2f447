/**
 * `triage` as an operator runs it: a subprocess through the bin launcher,
 * against the seeded world of emulators, by finding name and by file.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONCURRENCY, MAX_CONCURRENCY } from '../../lib/cli/backfill-command.js';
import { propertyValue } from '../../lib/cli/view.js';
import { MARK_EVENT_TIME, MARK_REPORT } from '../../lib/scc/marks.js';
import { enrichmentFindingName } from '../../lib/scc/names.js';
import { canonicalTimestamp } from '../../lib/timestamp.js';
import { Status } from '../emulators/grpc-harness.js';
import { notificationFixture } from '../support/fixtures.js';
import { OWN_SOURCE, ownFindings, plainProperties } from '../support/scc-scenario.js';
import { seedAttack, startWorld, type Scenario, type World } from '../support/world.js';
import { baseEnv, exit, runCli, seedSocat } from './support.js';

let world: World;
let attack: Scenario;
let env: Record<string, string>;
const dir = mkdtempSync(join(tmpdir(), 'cli-triage-'));

beforeAll(async () => {
  world = await startWorld();
  attack = seedAttack(world, new Date(Date.now() - 120_000));
  env = baseEnv(world.env);
});
afterAll(async () => {
  await world.stop();
});
beforeEach(() => {
  world.scc.clearRequestLog();
  world.scc.clearFaults();
});

const writes = () => world.scc.requests().filter((r) => r.method === 'UpdateFinding' || r.method === 'CreateFinding' || r.method === 'UpdateSecurityMarks');

function expectOneLineError(stderr: string, message: RegExp): void {
  expect(stderr).toMatch(message);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('triage FINDING_NAME', () => {
  it('--dry-run gathers and analyzes, and writes nothing', async () => {
    const marksBefore = world.scc.getMarks(attack.findingName);
    const r = await runCli(['triage', attack.findingName, '--dry-run', '--json'], { env });
    expect(r.stderr).toBe('');
    expect(exit(r)).toMatchObject({ code: 0 });
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ outcome: 'triaged', dryRun: true, findingName: attack.findingName, enrichmentFinding: null, marks: null });
    expect(out.report).toMatchObject({ status: 'triaged', c2: { role: 'reverse', host: '203.0.113.77', port: 4444 }, pod: { serviceAccount: 'checkout' } });
    expect(out.report.relatedFindings.sameContainer.map((f: { category: string }) => f.category)).toEqual(['Execution: Added Binary Executed']);
    // It read from SCC (the finding itself, related findings) …
    expect(world.scc.requests('ListFindings').length).toBeGreaterThanOrEqual(2);
    // … and wrote nothing anywhere.
    expect(writes()).toEqual([]);
    expect(ownFindings(world.scc)).toEqual([]);
    expect(world.scc.getMarks(attack.findingName)).toEqual(marksBefore);
  });

  it('fetches the finding by name, triages it and writes the enrichment finding and marks', async () => {
    const r = await runCli(['triage', attack.findingName, '--json'], { env });
    expect(r.stderr).toBe('');
    expect(exit(r)).toMatchObject({ code: 0 });
    const out = JSON.parse(r.stdout);
    const enrichment = enrichmentFindingName(OWN_SOURCE, attack.findingName);
    expect(out).toMatchObject({ outcome: 'triaged', dryRun: false, enrichmentFinding: enrichment });
    const marks = world.scc.getMarks(attack.findingName)!;
    expect(marks[MARK_REPORT]).toBe(enrichment);
    expect(canonicalTimestamp(marks[MARK_EVENT_TIME]!)).toBe(canonicalTimestamp(attack.notification.finding.eventTime));
    const props = plainProperties(ownFindings(world.scc).find((f) => f.name === enrichment));
    // Keys carry the console's ordering prefix (I01_Original_Finding); show reads them the same way.
    expect([propertyValue(props, 'Original_Finding'), propertyValue(props, 'C2_Host'), propertyValue(props, 'Pod_Service_Account')]).toEqual([attack.findingName, '203.0.113.77', 'checkout']);
  });

  it('re-runs a finding that was already triaged (the loop guard does not apply to an explicit re-run)', async () => {
    expect(world.scc.getMarks(attack.findingName)![MARK_EVENT_TIME]).toBeDefined();
    const r = await runCli(['triage', attack.findingName], { env });
    expect(exit(r)).toMatchObject({ code: 0 });
    expect(r.stdout.split('\n')[0]).toBe(`triaged: enrichment finding ${enrichmentFindingName(OWN_SOURCE, attack.findingName)} written`);
    expect(world.scc.requests('UpdateFinding')).toHaveLength(1);
    // The person-readable report, plain because stdout is a pipe.
    expect(r.stdout).toContain('reverse shell connecting out to tcp 203.0.113.77:4444 running /bin/bash with a pty');
    expect(r.stdout).toMatch(/\nVerdict\n[\s\S]*\nC2\n[\s\S]*\nAttribution\n[\s\S]*\nRelated findings\n[\s\S]*\n(Runbook|Commands)\n/);
    expect(r.stdout).not.toContain('\u001b');
  });

  it('exits 2 naming a finding that does not exist', async () => {
    const missing = 'organizations/123456789012/sources/9876543210123456789/locations/global/findings/00000000000000000000000000000000';
    const r = await runCli(['triage', missing], { env });
    expect(exit(r)).toMatchObject({ code: 2 });
    expect(r.stdout).toBe('');
    expectOneLineError(r.stderr, /finding .*00000000000000000000000000000000 not found/);
  });

  it('exits 3 with one line when SCC refuses the write-back, and says so in the JSON result', async () => {
    world.scc.injectFault('UpdateFinding', { code: Status.PERMISSION_DENIED, message: 'caller lacks securitycenter.findings.update' });
    const r = await runCli(['triage', attack.findingName, '--json'], { env });
    expect(exit(r)).toMatchObject({ code: 3 });
    expectOneLineError(r.stderr, /triage failed \(failed_permanent\): write-back: PERMISSION_DENIED: caller lacks securitycenter\.findings\.update/);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'failed_permanent', enrichmentFinding: null });
  });

  it('exits 2 on a configuration the function would reject', async () => {
    const { SCC_SOURCE_NAME: _omit, ...withoutSource } = env;
    const r = await runCli(['triage', attack.findingName], { env: withoutSource });
    expect(exit(r)).toMatchObject({ code: 2 });
    expectOneLineError(r.stderr, /configuration: SCC_SOURCE_NAME: is required unless DRY_RUN=true/);
    expect(writes()).toEqual([]);
  });
});

describe('triage FILE', () => {
  it('triages the finding a notification file holds and writes back for it', async () => {
    const eventTime = new Date(Date.now() - 300_000);
    const name = seedSocat(world, { id: 'f1e2d3c4b5a69788796a5b4c3d2e1f00', eventTime });
    const notification = structuredClone(notificationFixture('socat-v2'));
    notification.finding.name = name;
    notification.finding.eventTime = eventTime.toISOString();
    const file = join(dir, 'notification.json');
    writeFileSync(file, JSON.stringify(notification));
    const r = await runCli(['triage', file, '--json'], { env });
    expect(r.stderr).toBe('');
    expect(exit(r)).toMatchObject({ code: 0 });
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'triaged', findingName: name, enrichmentFinding: enrichmentFindingName(OWN_SOURCE, name) });
    expect(world.scc.requests('UpdateFinding').map((q) => q.request.finding.name)).toEqual([enrichmentFindingName(OWN_SOURCE, name)]);
    expect(world.scc.getMarks(name)![MARK_EVENT_TIME]).toBe(eventTime.toISOString());
  });

  it('reads standard input with -, and --dry-run still writes nothing', async () => {
    const r = await runCli(['triage', '-', '--dry-run', '--json'], { env, input: JSON.stringify(attack.notification) });
    expect(exit(r)).toMatchObject({ code: 0 });
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'triaged', dryRun: true, findingName: attack.findingName });
    expect(writes()).toEqual([]);
  });

  it('reports a finding of another category as skipped, exit 0, nothing written', async () => {
    const other = structuredClone(attack.notification);
    other.finding.category = 'Execution: Added Binary Executed';
    const file = join(dir, 'other.json');
    writeFileSync(file, JSON.stringify(other));
    const r = await runCli(['triage', file, '--json'], { env });
    expect(exit(r)).toMatchObject({ code: 0 });
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/not a triaged category/) });
    expect(writes()).toEqual([]);
  });

  it.each([
    ['no argument', ['triage'], /exactly one FINDING_NAME or FILE/],
    ['two arguments', ['triage', 'a.json', 'b.json'], /exactly one FINDING_NAME or FILE/],
    ['a missing file', ['triage', '/nonexistent/finding.json'], /cannot read .*ENOENT/],
    ['an unknown option', ['triage', '--bogus', 'x'], /bogus/],
  ])('exits 2 with one line on stderr for %s', async (_what, args, message) => {
    const r = await runCli(args, { env });
    expect(exit(r)).toMatchObject({ code: 2 });
    expect(r.stdout).toBe('');
    expectOneLineError(r.stderr, message);
  });
});

describe('--help', () => {
  it('documents every command and exit code', async () => {
    const r = await runCli(['--help'], { env });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    for (const word of ['analyze FILE', 'triage FINDING_NAME|FILE', 'backfill --organization ORG', 'show FINDING_NAME|FILE', '--json']) expect(r.stdout).toContain(word);
    for (const code of ['0 ', '1 ', '2 ', '3 ', '130 ']) expect(r.stdout).toMatch(new RegExp(`^  ${code} `, 'm'));
    expect(r.stdout).toContain(`(default ${DEFAULT_CONCURRENCY}, at most ${MAX_CONCURRENCY})`);
  });

  it('answers COMMAND --help with the usage, exit 0', async () => {
    const r = await runCli(['backfill', '--help'], { env });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain('Exit codes:');
  });
});
