import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { notificationFixture, projectRoot, pubsubBody } from '../support/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'analyze-'));
function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** The CLI as a user runs it: a separate process through the package's bin launcher. */
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(projectRoot(), 'bin/scc-socat-triage.js'), ...args], { encoding: 'utf8', timeout: 20000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('scc-socat-triage analyze', () => {
  const v2 = notificationFixture('socat-v2');

  it.each([
    ['a NotificationMessage', v2],
    ['a bare Finding', v2.finding],
    ['a Pub/Sub envelope', pubsubBody(v2)],
  ])('prints the report for %s', (name, content) => {
    const r = cli('analyze', file(`${name.replace(/\W+/g, '-')}.json`, content));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      schemaVersion: 1,
      status: 'triaged',
      finding: { name: v2.finding.name, category: 'Execution: Socat Reverse Shell Detected', severity: 'CRITICAL' },
      cluster: { project: 'shop-prod-4711', location: 'us-central1', name: 'shop-prod', locationType: 'regional' },
      workload: { namespace: 'shop', pod: 'checkout-7d9fb6c5d4-x2lqp', container: 'checkout', node: 'gke-shop-prod-default-pool-3f2a9c1e-k8vz' },
      process: { binary: '/usr/bin/socat', argsTruncated: false },
      c2: { role: 'reverse', transport: 'tcp', host: '203.0.113.77', port: 4444, ipVersion: 4, program: '/bin/bash', pty: true },
    });
    expect(report.commands.getCredentials).toBe('gcloud container clusters get-credentials shop-prod --region us-central1 --project shop-prod-4711');
  });

  it('accepts --json like every command (its output is JSON already)', () => {
    const plain = cli('analyze', file('json-flag.json', v2));
    const json = cli('analyze', file('json-flag.json', v2), '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(plain.stdout));
  });

  it('reads standard input with -', () => {
    const r = spawnSync(process.execPath, [join(projectRoot(), 'bin/scc-socat-triage.js'), 'analyze', '-'], { input: JSON.stringify(v2), encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).status).toBe('triaged');
  });

  it('reports a finding of another category as skipped, exit 0', () => {
    const other = structuredClone(v2);
    other.finding.category = 'Execution: Added Binary Executed';
    const r = cli('analyze', file('other.json', other));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/not a triaged category/) });
  });

  it('reports an INACTIVE finding as skipped', () => {
    const inactive = structuredClone(v2);
    inactive.finding.state = 'INACTIVE';
    expect(JSON.parse(cli('analyze', file('inactive.json', inactive)).stdout)).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/INACTIVE/) });
  });

  it.each([
    ['invalid JSON', ['analyze', file('bad.json', '{"finding": ')], /input is not valid JSON/],
    ['a missing file', ['analyze', join(dir, 'nope.json')], /cannot read .*ENOENT/],
    ['a directory', ['analyze', dir], /is not a file/],
    ['an invalid finding', ['analyze', file('invalid.json', { finding: { name: 'x', category: 'c', processes: 'no' } })], /finding.processes/],
    ['an unknown command', ['frobnicate'], /unknown command/],
    ['a missing FILE', ['analyze'], /exactly one FILE/],
    ['an unknown option', ['analyze', '--bogus', 'x'], /bogus/],
  ])('exits 2 with one line on stderr for %s', (_name, args, message) => {
    const r = cli(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('prints usage with exit codes on --help', () => {
    const r = cli('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Exit codes:/);
  });
});
