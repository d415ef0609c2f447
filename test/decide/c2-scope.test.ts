import { describe, expect, it } from '@jest/globals';
import { classifyC2, egressCidr, type ClusterRanges } from '../../lib/decide/c2-scope.js';
import type { C2Scope } from '../../lib/decide/types.js';
import type { C2Endpoint } from '../../lib/report/types.js';

function c2(host: string | null): C2Endpoint {
  return { role: 'reverse', transport: 'tcp', host, port: 4444, ipVersion: null, program: '/bin/sh', pty: false };
}

const NO_RANGES: ClusterRanges = { podCidr: null, servicesCidr: null, nodeSubnetCidr: null };
// Shaped like a GKE VPC-native cluster: pods 10.4/14, services 10.8/20, nodes 10.128/20.
const GKE: ClusterRanges = { podCidr: '10.4.0.0/14', servicesCidr: '10.8.0.0/20', nodeSubnetCidr: '10.128.0.0/20' };
// Privately used public IPs for pods, Class E for services: both allowed by GKE.
const PUPI: ClusterRanges = { podCidr: '45.0.0.0/16', servicesCidr: '240.10.0.0/20', nodeSubnetCidr: null };
const V6_CLUSTER: ClusterRanges = { podCidr: '2600:1900:4000::/64', servicesCidr: 'fd00:10:96::/108', nodeSubnetCidr: null };

// [host, scope without cluster ranges]
const withoutCluster: ReadonlyArray<readonly [string, C2Scope]> = [
  // loopback
  ['127.0.0.1', 'loopback'],
  ['127.45.6.7', 'loopback'],
  ['::1', 'loopback'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['0177.0.0.1', 'loopback'], // inet_aton octal, as socat's resolver reads it
  ['2130706433', 'loopback'], // inet_aton single number
  ['0.0.0.0', 'loopback'], // Linux connects to the local host
  ['::', 'loopback'],
  // link-local
  ['169.254.1.1', 'link_local'],
  ['169.254.169.252', 'link_local'],
  ['fe80::1', 'link_local'],
  ['fe80::1%eth0', 'link_local'],
  ['::ffff:169.254.10.10', 'link_local'],
  // metadata server
  ['169.254.169.254', 'metadata_server'],
  ['::ffff:169.254.169.254', 'metadata_server'],
  ['fd20:ce::254', 'metadata_server'],
  // private
  ['10.0.0.1', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.254', 'private'],
  ['192.168.1.10', 'private'],
  ['100.64.0.1', 'private'],
  ['100.127.255.254', 'private'],
  ['fc00::1', 'private'],
  ['fd12:3456:789a::1', 'private'],
  ['fec0::1', 'private'],
  ['::ffff:10.1.2.3', 'private'],
  ['64:ff9b:1::a00:1', 'private'], // RFC 8215 local-use NAT64
  // reserved
  ['203.0.113.77', 'reserved'], // the fixtures' C2: documentation range
  ['192.0.2.1', 'reserved'],
  ['198.51.100.7', 'reserved'],
  ['198.18.0.1', 'reserved'],
  ['198.19.255.1', 'reserved'],
  ['192.0.0.8', 'reserved'],
  ['192.88.99.1', 'reserved'],
  ['0.1.2.3', 'reserved'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'reserved'],
  ['224.0.0.1', 'reserved'],
  ['239.255.255.250', 'reserved'],
  ['2001:db8::1', 'reserved'],
  ['3fff::1', 'reserved'],
  ['2001:2::1', 'reserved'],
  ['ff02::1', 'reserved'],
  ['ff0e::1', 'reserved'],
  ['100::1', 'reserved'],
  ['2001:20::1', 'reserved'],
  ['5f00::1', 'reserved'],
  ['::7f00:1', 'reserved'], // IPv4-compatible, deprecated: outside 2000::/3
  ['4000::1', 'reserved'], // unallocated IPv6
  ['::ffff:0:7f00:1', 'reserved'], // RFC 6145 translated
  ['::ffff:203.0.113.77', 'reserved'],
  ['64:ff9b::10.0.0.1', 'reserved'], // NAT64 never translates non-global IPv4
  ['64:ff9b::203.0.113.77', 'reserved'],
  // public
  ['8.8.8.8', 'public'],
  ['1.1.1.1', 'public'],
  ['100.128.0.1', 'public'], // just past CGNAT
  ['172.32.0.1', 'public'], // just past 172.16/12
  ['45.33.32.156', 'public'],
  ['::ffff:8.8.8.8', 'public'],
  ['2001:4860:4860::8888', 'public'],
  ['2606:4700:4700::1111', 'public'],
  ['64:ff9b::8.8.8.8', 'public'], // NAT64 to a public IPv4
  ['2002:808:808::1', 'public'], // 6to4
  ['2001:0:4136:e378::1', 'public'], // Teredo
  ['192.31.196.1', 'public'], // AS112 anycast
  // hostnames
  // localhost is a name the container resolves with its own, writable /etc/hosts (issue 13): no proof of loopback.
  ['localhost', 'hostname'],
  ['localhost.', 'hostname'],
  ['LOCALHOST.', 'hostname'],
  ['ip6-localhost', 'hostname'],
  ['ip6-loopback', 'hostname'],
  ['metadata.google.internal', 'metadata_server'],
  ['Metadata.Google.Internal.', 'metadata_server'],
  ['metadata', 'metadata_server'],
  ['METADATA.', 'metadata_server'],
  ['attacker.example.com', 'hostname'],
  ['evil.localhost', 'hostname'],
  ['metadata.google.internal.evil.com', 'hostname'],
  ['$RHOST', 'hostname'],
  ['10.0.0.1.nip.io', 'hostname'],
  ['256.1.1.1', 'hostname'],
  ['1'.repeat(100), 'hostname'],
];

describe('classifyC2 without cluster ranges', () => {
  it.each(withoutCluster)('%s → %s', (host, scope) => {
    expect(classifyC2(c2(host), NO_RANGES)).toBe(scope);
  });

  it('also without the optional node subnet key', () => {
    expect(classifyC2(c2('10.0.0.1'), { podCidr: null, servicesCidr: null })).toBe('private');
  });

  it('returns null when the endpoint has no host', () => {
    expect(classifyC2(c2(null), GKE)).toBeNull();
    expect(classifyC2(c2(''), GKE)).toBeNull();
  });
});

// [host, ranges, scope]
const withCluster: ReadonlyArray<readonly [string, string, ClusterRanges, C2Scope]> = [
  ['10.4.0.10', 'GKE', GKE, 'pod_cidr'],
  ['10.7.255.254', 'GKE', GKE, 'pod_cidr'],
  ['::ffff:10.5.1.1', 'GKE', GKE, 'pod_cidr'],
  ['10.8.0.1', 'GKE', GKE, 'services_cidr'],
  ['10.8.15.255', 'GKE', GKE, 'services_cidr'],
  ['10.8.16.0', 'GKE', GKE, 'private'], // one past the services /20
  ['10.128.0.5', 'GKE', GKE, 'node_subnet'],
  ['10.3.255.255', 'GKE', GKE, 'private'], // one before the pod /14
  ['192.168.0.1', 'GKE', GKE, 'private'],
  ['8.8.8.8', 'GKE', GKE, 'public'],
  ['127.0.0.1', 'GKE', GKE, 'loopback'],
  ['169.254.169.254', 'GKE', GKE, 'metadata_server'],
  ['attacker.example.com', 'GKE', GKE, 'hostname'],
  ['45.0.1.2', 'PUPI', PUPI, 'pod_cidr'], // would be public without the cluster
  ['240.10.0.1', 'PUPI', PUPI, 'services_cidr'], // would be reserved without the cluster
  ['45.1.0.1', 'PUPI', PUPI, 'public'],
  ['2600:1900:4000::42', 'IPv6 cluster', V6_CLUSTER, 'pod_cidr'],
  ['fd00:10:96::1', 'IPv6 cluster', V6_CLUSTER, 'services_cidr'],
  ['fd00:10:97::1', 'IPv6 cluster', V6_CLUSTER, 'private'],
  ['10.4.0.10', 'IPv6 cluster', V6_CLUSTER, 'private'], // family mismatch is no match, and no throw
];

describe('classifyC2 with cluster ranges', () => {
  it.each(withCluster)('%s in %s → %s', (host, _label, ranges, scope) => {
    expect(classifyC2(c2(host), ranges)).toBe(scope);
  });

  const malformed: ReadonlyArray<readonly [string, ClusterRanges]> = [
    ['no prefix', { podCidr: '10.4.0.0', servicesCidr: null }],
    ['prefix too long', { podCidr: '10.4.0.0/33', servicesCidr: null }],
    ['not an address', { podCidr: 'ten/8', servicesCidr: null }],
    ['empty', { podCidr: '', servicesCidr: '' }],
    ['/0 would swallow everything', { podCidr: '0.0.0.0/0', servicesCidr: null }],
    ['wrong type at runtime', { podCidr: 42 as unknown as string, servicesCidr: {} as unknown as string }],
  ];
  it.each(malformed)('ignores a malformed range (%s)', (_label, ranges) => {
    expect(classifyC2(c2('10.4.0.10'), ranges)).toBe('private');
    expect(classifyC2(c2('8.8.8.8'), ranges)).toBe('public');
  });

  it('tolerates surrounding blanks in a range', () => {
    expect(classifyC2(c2('10.4.0.10'), { podCidr: ' 10.4.0.0/14 ', servicesCidr: null })).toBe('pod_cidr');
  });

  it('keeps a good range when another is malformed', () => {
    expect(classifyC2(c2('10.8.0.1'), { podCidr: 'garbage', servicesCidr: '10.8.0.0/20' })).toBe('services_cidr');
  });
});

describe('egressCidr', () => {
  const cases: ReadonlyArray<readonly [string | null, string | null]> = [
    ['203.0.113.77', '203.0.113.77/32'],
    ['0177.0.0.1', '127.0.0.1/32'],
    ['::ffff:203.0.113.77', '203.0.113.77/32'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1/128'],
    ['fe80::1%eth0', 'fe80::1/128'],
    ['64:ff9b::8.8.8.8', '64:ff9b::808:808/128'],
    ['attacker.example.com', null],
    ['localhost', null],
    [null, null],
  ];
  it.each(cases)('%s → %s', (host, expected) => {
    expect(egressCidr(c2(host))).toBe(expected);
  });
});
