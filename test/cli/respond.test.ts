/**
 * `respond` as an operator runs it: a subprocess through the bin launcher,
 * against the seeded world of emulators. The plan printed by --dry-run is the
 * one carried out, the result is recorded on the enrichment finding and the
 * original, and refusals are exit 2 with the reason.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordKey, responseMarkKey } from '../../lib/respond/records.js';
import { enrichmentFindingName } from '../../lib/scc/names.js';
import { OWN_SOURCE, ownFindings, plainProperties, seedOriginal } from '../support/scc-scenario.js';
import { seedAdmin, seedAttack, startWorld, type Scenario, type World } from '../support/world.js';
import { baseEnv, exit, runCli } from './support.js';

let world: World;
let attack: Scenario;
let env: Record<string, string>;
let node: string;
const dir = mkdtempSync(join(tmpdir(), 'cli-respond-'));

beforeAll(async () => {
  world = await startWorld();
  attack = seedAttack(world, new Date(Date.now() - 120_000));
  env = baseEnv(world.env);
  const triaged = await runCli(['triage', attack.findingName, '--json'], { env });
  expect(exit(triaged)).toMatchObject({ code: 0 });
  writeFileSync(join(dir, 'triage.json'), triaged.stdout);
  node = JSON.parse(triaged.stdout).report.workload.node;
  expect(typeof node).toBe('string');
}, 60_000);
afterAll(async () => {
  await world.stop();
});
beforeEach(() => {
  world.kube.clearRequestLog();
});

const enrichment = () => ownFindings(world.scc).find((f) => f.name === enrichmentFindingName(OWN_SOURCE, attack.findingName));
const kubeWrites = () => world.kube.requestLog.filter((r) => r.method !== 'GET');

describe('respond --dry-run', () => {
  it('plans from a report FILE and calls nothing: the exact Kubernetes request, as JSON', async () => {
    // No emulator and no credentials in the environment: a call would fail the command.
    const r = await runCli(['respond', join(dir, 'triage.json'), '--action', 'cordon', '--dry-run', '--json'], { env: baseEnv() });
    expect(exit(r)).toMatchObject({ code: 0 });
    const plan = JSON.parse(r.stdout);
    expect(plan).toMatchObject({ action: 'cordon', allowed: true });
    expect(plan.requests).toContainEqual({ api: 'kubernetes', method: 'PATCH', path: `/api/v1/nodes/${node}`, body: { spec: { unschedulable: true } }, contentType: 'application/strategic-merge-patch+json' });
    expect(plan.undo).toBe(`kubectl uncordon ${node}`);
    expect(world.kube.requestLog).toHaveLength(0);
  });

  it('refuses block-c2 on a cluster that does not enforce NetworkPolicy, naming why', async () => {
    const r = await runCli(['respond', attack.findingName, '--action', 'block-c2', '--dry-run', '--json'], { env });
    expect(exit(r)).toMatchObject({ code: 0 });
    const plan = JSON.parse(r.stdout);
    expect(plan).toMatchObject({ action: 'block-c2', allowed: false, requests: [] });
    expect(plan.reason).toMatch(/does not enforce NetworkPolicy/i);
  });

  it('a FILE is only planned: without --dry-run it is a usage error', async () => {
    const r = await runCli(['respond', join(dir, 'triage.json'), '--action', 'cordon'], { env: baseEnv() });
    expect(exit(r)).toMatchObject({ code: 2 });
    expect(r.stderr).toMatch(/only planned: add --dry-run/);
  });

  it('names the valid actions for an unknown or missing --action', async () => {
    for (const args of [['--action', 'nuke'], []]) {
      const r = await runCli(['respond', attack.findingName, ...args, '--dry-run'], { env });
      expect(exit(r)).toMatchObject({ code: 2 });
      expect(r.stderr).toContain('capture, block-c2, isolate, cordon, delete-pod');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('respond FINDING_NAME', () => {
  it('cordons the node, records it on the enrichment finding and the original, and is already done the second time', async () => {
    const first = await runCli(['respond', attack.findingName, '--action', 'cordon', '--json'], { env });
    expect(exit(first)).toMatchObject({ code: 0 });
    expect(JSON.parse(first.stdout)).toMatchObject({ action: 'cordon', result: 'done', approver: 'cli:emulator', undo: `kubectl uncordon ${node}` });
    expect(world.kube.get('Node', node)?.spec).toMatchObject({ unschedulable: true });
    expect(kubeWrites().map((w) => `${w.method} ${w.path}`)).toEqual([`PATCH /api/v1/nodes/${node}`]);
    const props = plainProperties(enrichment());
    expect(String(props[recordKey('cordon')])).toMatch(/DONE/);
    expect(world.scc.getMarks(attack.findingName)?.[responseMarkKey('cordon')]).toBe('done');

    world.kube.clearRequestLog();
    const again = await runCli(['respond', attack.findingName, '--action', 'cordon', '--json'], { env });
    expect(exit(again)).toMatchObject({ code: 0 });
    expect(JSON.parse(again.stdout)).toMatchObject({ result: 'already_done' });
    expect(kubeWrites()).toEqual([]);
  });

  it('refuses delete-pod before capture (exit 2, recorded), and deletes nothing', async () => {
    const r = await runCli(['respond', attack.findingName, '--action', 'delete-pod', '--json'], { env });
    expect(exit(r)).toMatchObject({ code: 2 });
    const record = JSON.parse(r.stdout);
    expect(record).toMatchObject({ action: 'delete-pod', result: 'refused' });
    expect(record.detail).toMatch(/capture/);
    expect(kubeWrites()).toEqual([]);
    expect(world.scc.getMarks(attack.findingName)?.[responseMarkKey('delete-pod')]).toBe('refused');
  });

  it('refuses a finding that was never triaged, pointing at triage', async () => {
    const notification = structuredClone(attack.notification);
    notification.finding.name = attack.findingName.replace(/findings\/[^/]+$/, 'findings/f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0');
    seedOriginal(world.scc, notification);
    const r = await runCli(['respond', notification.finding.name, '--action', 'cordon'], { env });
    expect(exit(r)).toMatchObject({ code: 2 });
    expect(r.stderr).toMatch(/not triaged yet: run `scc-socat-triage triage/);
    expect(kubeWrites()).toEqual([]);
  });
});

describe('respond on a likely_benign_admin verdict', () => {
  it('refuses to change the cluster without --force, and cordons with it', async () => {
    const admin = seedAdmin(world, new Date(Date.now() - 90_000));
    const triaged = await runCli(['triage', admin.findingName, '--json'], { env });
    expect(exit(triaged)).toMatchObject({ code: 0 });
    const report = JSON.parse(triaged.stdout).report;
    expect(report.verdict.level).toBe('likely_benign_admin');
    const adminNode: string = report.workload.node;

    const refused = await runCli(['respond', admin.findingName, '--action', 'cordon', '--json'], { env });
    expect(exit(refused)).toMatchObject({ code: 2 });
    expect(JSON.parse(refused.stdout)).toMatchObject({ action: 'cordon', result: 'refused' });
    expect(JSON.parse(refused.stdout).detail).toMatch(/likely_benign_admin.*--force/s);
    expect(kubeWrites()).toEqual([]);

    const forced = await runCli(['respond', admin.findingName, '--action', 'cordon', '--force', '--json'], { env });
    expect(exit(forced)).toMatchObject({ code: 0 });
    expect(JSON.parse(forced.stdout).result).toMatch(/^(done|already_done)$/);
    expect(world.kube.get('Node', adminNode)?.spec).toMatchObject({ unschedulable: true });
  });
});
