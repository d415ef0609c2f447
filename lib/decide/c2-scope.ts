/**
 * Where the shell connects: the network scope of the C2 host socat was told
 * to reach. Pure: a hostname is never resolved (the attacker may control its
 * DNS, and a lookup from here would tip them off), so it stays 'hostname'
 * unless its meaning is fixed inside every GKE pod.
 *
 * Order of the checks, most specific first:
 *   1. metadata_server  169.254.169.254, fd20:ce::254, metadata(.google.internal)
 *   2. loopback         127/8, ::1, 0.0.0.0 and :: (see THIS_HOST)
 *   3. link_local       169.254/16, fe80::/10
 *   4. pod_cidr, services_cidr, node_subnet: the cluster's own ranges when known.
 *      Before private AND before reserved/public, because GKE also accepts
 *      privately used public ranges and Class E (240/4) for pods and services.
 *   5. private          RFC 1918, CGNAT 100.64/10, ULA fc00::/7, site-local fec0::/10
 *   6. reserved         special-purpose blocks that are no real destination
 *   7. public           everything else globally routed (IPv6: only 2000::/3)
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) is classified as its IPv4 address: a
 * dual-stack socket sends such a connection as IPv4.
 *
 * The test fixtures' C2 (203.0.113.77) is a documentation address and so is
 * 'reserved'; real attackers' servers are 'public'.
 */
import ipaddr from 'ipaddr.js';
import type { C2Endpoint } from '../report/types.js';
import type { C2Scope } from './types.js';

type Address = ReturnType<typeof ipaddr.parse>;
type Cidr = [Address, number];

export interface ClusterRanges {
  podCidr: string | null;
  servicesCidr: string | null;
  nodeSubnetCidr?: string | null;
}

/** IPv6 text (45) + '%' + an interface name (IFNAMSIZ 16): longer text is no IP literal. */
const MAX_IP_LITERAL = 64;
const MAX_CIDR_TEXT = MAX_IP_LITERAL + 4;

function cidr(text: string): Cidr {
  return ipaddr.parseCIDR(text);
}

/**
 * fd20:ce::254 is the metadata server of IPv6-only Compute Engine VMs; a pod
 * reaching either address can ask for the node's service-account token.
 */
const METADATA_ADDRESSES: readonly Cidr[] = [cidr('169.254.169.254/32'), cidr('fd20:ce::254/128')];
const METADATA_HOSTNAMES = new Set(['metadata.google.internal', 'metadata']);

/**
 * Linux routes a connect() to the unspecified address to the local host
 * (INADDR_ANY becomes 127.0.0.1, in6addr_any becomes ::1), so `TCP:0.0.0.0:P`
 * is a loopback connection. The rest of 0/8 stays reserved.
 */
const THIS_HOST: readonly Cidr[] = [cidr('0.0.0.0/32'), cidr('::/128')];

/*
 * `localhost` (and `localhost.`, `ip6-localhost`) are names like any other:
 * the kubelet writes them into the pod's /etc/hosts, but whoever runs socat
 * in the container can rewrite that file, and `localhost.` is not in it at
 * all (socat then asks DNS: recorded in test/fixtures/socat/recorded.json,
 * case rev-host-localhost). So they stay 'hostname', never proof of loopback.
 */

/** IANA's global unicast block; ipaddr.js calls the unallocated rest 'unicast' too. */
const IPV6_GLOBAL_UNICAST = cidr('2000::/3');
/** RFC 6052 well-known NAT64 prefix: the last 32 bits are the IPv4 destination. */
const NAT64_WELL_KNOWN = cidr('64:ff9b::/96');

/**
 * ipaddr.js range() names → scope. A name missing here (a special-purpose
 * block added by a later ipaddr.js) falls back to 'reserved': IANA special
 * blocks are overwhelmingly not globally reachable.
 * as112/amt are anycast services announced on the internet, hence public;
 * 6to4 and Teredo reach the internet through public relays, hence public.
 */
const IPV4_SCOPES = new Map<string, C2Scope>([
  ['loopback', 'loopback'],
  ['linkLocal', 'link_local'],
  ['private', 'private'],
  ['carrierGradeNat', 'private'],
  ['unspecified', 'reserved'],
  ['broadcast', 'reserved'],
  ['multicast', 'reserved'],
  ['reserved', 'reserved'],
  ['as112', 'public'],
  ['amt', 'public'],
  ['unicast', 'public'],
]);

const IPV6_SCOPES = new Map<string, C2Scope>([
  ['loopback', 'loopback'],
  ['linkLocal', 'link_local'],
  ['uniqueLocal', 'private'],
  // Deprecated by RFC 3879 but still routed by Linux, and only ever inside a site.
  ['deprecatedSiteLocal', 'private'],
  ['multicast', 'reserved'],
  ['discard', 'reserved'],
  ['rfc6145', 'reserved'],
  ['benchmarking', 'reserved'],
  ['reserved', 'reserved'],
  ['deprecatedOrchid', 'reserved'],
  ['orchid2', 'reserved'],
  ['droneRemoteIdProtocolEntityTags', 'reserved'],
  ['segmentRouting', 'reserved'],
  ['6to4', 'public'],
  ['teredo', 'public'],
  ['amt', 'public'],
  ['as112v6', 'public'],
]);

function within(addr: Address, ranges: readonly Cidr[]): boolean {
  // ipaddr.js throws when the families differ.
  return ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
}

/** An IP literal as socat's resolver would read it (inet_aton forms included), IPv4-mapped unwrapped. */
function parseIp(host: string): Address | null {
  if (host.length > MAX_IP_LITERAL || !ipaddr.isValid(host)) return null;
  return ipaddr.process(host);
}

function parseClusterCidr(text: string | null | undefined): Cidr | null {
  if (typeof text !== 'string' || text.length > MAX_CIDR_TEXT) return null;
  let parsed: Cidr;
  try {
    parsed = cidr(text.trim());
  } catch {
    return null;
  }
  // A /0 would swallow every address, public C2 included: no cluster has one.
  return parsed[1] > 0 ? parsed : null;
}

function clusterScopes(ranges: ClusterRanges | null | undefined): Array<[C2Scope, Cidr]> {
  const out: Array<[C2Scope, Cidr]> = [];
  const candidates: Array<[C2Scope, string | null | undefined]> = [
    ['pod_cidr', ranges?.podCidr],
    ['services_cidr', ranges?.servicesCidr],
    ['node_subnet', ranges?.nodeSubnetCidr],
  ];
  for (const [scope, text] of candidates) {
    const parsed = parseClusterCidr(text);
    if (parsed !== null) out.push([scope, parsed]);
  }
  return out;
}

function classifyHostname(host: string): C2Scope {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (METADATA_HOSTNAMES.has(name)) return 'metadata_server';
  return 'hostname';
}

/** Scope by the address alone, with no cluster knowledge. */
function addressScope(addr: Address): C2Scope {
  const range = addr.range();
  if (addr.kind() === 'ipv4') return IPV4_SCOPES.get(range) ?? 'reserved';
  if (range === 'unicast') return within(addr, [IPV6_GLOBAL_UNICAST]) ? 'public' : 'reserved';
  if (range === 'rfc6052') {
    // 64:ff9b:1::/48 is RFC 8215's local-use translation prefix.
    if (!within(addr, [NAT64_WELL_KNOWN])) return 'private';
    // RFC 6052 §3.1: the well-known prefix must not carry non-global IPv4,
    // so only a public embedded address is reachable through it.
    const embedded = ipaddr.fromByteArray(addr.toByteArray().slice(12));
    return addressScope(embedded) === 'public' ? 'public' : 'reserved';
  }
  return IPV6_SCOPES.get(range) ?? 'reserved';
}

export function classifyC2(c2: C2Endpoint, ranges: ClusterRanges): C2Scope | null {
  return classifyHost(c2?.host, ranges);
}

/** The scope of one host as the pod sees it (the C2 target, or the proxy in front of it). */
export function classifyHost(host: string | null | undefined, ranges: ClusterRanges): C2Scope | null {
  if (typeof host !== 'string' || host === '') return null;
  const addr = parseIp(host);
  if (addr === null) return classifyHostname(host);

  if (within(addr, METADATA_ADDRESSES)) return 'metadata_server';
  if (within(addr, THIS_HOST)) return 'loopback';
  const range = addr.range();
  if (range === 'loopback') return 'loopback';
  if (range === 'linkLocal') return 'link_local';
  for (const [scope, net] of clusterScopes(ranges)) {
    if (within(addr, [net])) return scope;
  }
  return addressScope(addr);
}

/**
 * The host as a single-address CIDR for a NetworkPolicy ipBlock: canonical
 * text, IPv4-mapped written as IPv4 (the packets are IPv4), zone id dropped
 * (ipBlock has no place for it). Null for hostnames: NetworkPolicy cannot
 * name them, and resolving here is not allowed.
 */
export function egressCidr(c2: C2Endpoint): string | null {
  return hostCidr(c2?.host);
}

/** One host as a single-address CIDR (see egressCidr); null for names. */
export function hostCidr(host: string | null | undefined): string | null {
  if (typeof host !== 'string') return null;
  const addr = parseIp(host);
  if (addr === null) return null;
  if (addr.kind() === 'ipv4') return `${addr.toString()}/32`;
  return `${ipaddr.fromByteArray(addr.toByteArray()).toString()}/128`;
}
