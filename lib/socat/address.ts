/**
 * One socat address (`KEYWORD:param:param,option,option=value`) reduced to the
 * facts the C2 report needs. Knows socat 1.7/1.8 keywords and their aliases.
 */
import ipaddr from 'ipaddr.js';
import type { C2Transport } from '../report/types.js';
import { splitTopLevel, stripSurroundingQuotes } from './scan.js';

export type AddressClass = 'connect' | 'listen' | 'program' | 'other';

export interface SocatAddress {
  cls: AddressClass;
  /** Null for addresses that are not sockets (STDIO, FILE, PTY, EXEC...). */
  transport: C2Transport | null;
  host: string | null;
  port: number | null;
  ipVersion: 4 | 6 | null;
  program: string | null;
  pty: boolean;
}

/** How the colon-separated parameters after the keyword are laid out. */
type Layout = 'host-port' | 'port' | 'proxied' | 'path' | 'command';

interface Keyword {
  cls: AddressClass;
  transport: C2Transport | null;
  layout: Layout;
  family: 4 | 6 | null;
}

/**
 * Linux refuses a single argv string longer than MAX_ARG_STRLEN (32 pages),
 * so a longer "address" never reached socat; skipping it bounds the work.
 */
export const MAX_ADDRESS_LENGTH = 128 * 1024;

/** Longest IP literal worth asking ipaddr.js about (IPv6 text + %zone). */
const MAX_IP_LITERAL = 64;

/**
 * A service-name port is resolved through /etc/services on the host, which we
 * cannot see; only names whose port is fixed by IANA and universal are mapped.
 */
const SERVICE_PORTS = new Map<string, number>([
  ['http', 80],
  ['https', 443],
  ['ssh', 22],
  ['domain', 53],
]);

export const NOT_AN_ENDPOINT: SocatAddress = Object.freeze({
  cls: 'other',
  transport: null,
  host: null,
  port: null,
  ipVersion: null,
  program: null,
  pty: false,
});

const KEYWORDS = new Map<string, Keyword>();

function define(names: readonly string[], keyword: Keyword): void {
  for (const name of names) KEYWORDS.set(name, keyword);
}

const IP_PROTOCOLS: ReadonlyArray<readonly [string, C2Transport, boolean]> = [
  // [keyword stem, transport, has datagram forms]
  ['TCP', 'tcp', false],
  ['UDP', 'udp', true],
  ['SCTP', 'other', false],
  ['DCCP', 'other', false],
  ['UDPLITE', 'other', true],
];
for (const [stem, transport, datagram] of IP_PROTOCOLS) {
  for (const [suffix, family] of [['', null], ['4', 4], ['6', 6]] as const) {
    const k = stem + suffix;
    define([k, `${k}-CONNECT`], { cls: 'connect', transport, layout: 'host-port', family });
    define([`${k}-LISTEN`, `${k}-L`], { cls: 'listen', transport, layout: 'port', family });
    if (datagram) {
      define([`${k}-SENDTO`, `${k}-DATAGRAM`, `${k}-DGRAM`], { cls: 'connect', transport, layout: 'host-port', family });
      define([`${k}-RECVFROM`, `${k}-RECV`], { cls: 'listen', transport, layout: 'port', family });
    }
  }
}
for (const stem of ['OPENSSL', 'SSL', 'TLS']) {
  define([stem, `${stem}-CONNECT`], { cls: 'connect', transport: 'tls', layout: 'host-port', family: null });
  define([`${stem}-LISTEN`, `${stem}-L`], { cls: 'listen', transport: 'tls', layout: 'port', family: null });
}
define(['OPENSSL-DTLS-CLIENT'], { cls: 'connect', transport: 'tls', layout: 'host-port', family: null });
define(['OPENSSL-DTLS-SERVER'], { cls: 'listen', transport: 'tls', layout: 'port', family: null });
for (const stem of ['SOCKS', 'SOCKS4', 'SOCKS4A', 'SOCKS5']) {
  define([stem, `${stem}-CONNECT`], { cls: 'connect', transport: 'socks', layout: 'proxied', family: null });
}
define(['PROXY', 'PROXY-CONNECT'], { cls: 'connect', transport: 'proxy', layout: 'proxied', family: null });
define(
  ['UNIX', 'UNIX-CONNECT', 'UNIX-CLIENT', 'UNIX-SENDTO', 'ABSTRACT', 'ABSTRACT-CONNECT', 'ABSTRACT-CLIENT', 'ABSTRACT-SENDTO'],
  { cls: 'connect', transport: 'unix', layout: 'path', family: null },
);
define(
  ['UNIX-LISTEN', 'UNIX-L', 'UNIX-RECVFROM', 'UNIX-RECV', 'ABSTRACT-LISTEN', 'ABSTRACT-RECVFROM', 'ABSTRACT-RECV'],
  { cls: 'listen', transport: 'unix', layout: 'path', family: null },
);
// SHELL is socat 1.8's SYSTEM with the user's $SHELL: same threat, same report.
define(['EXEC', 'SYSTEM', 'SHELL'], { cls: 'program', transport: null, layout: 'command', family: null });

/** Parses one argv element holding a socat address; never throws. */
export function parseAddress(text: string): SocatAddress {
  if (text.length > MAX_ADDRESS_LENGTH) return NOT_AN_ENDPOINT;
  const sides = splitTopLevel(text, '!!');
  if (sides === null || sides.length > 2) return NOT_AN_ENDPOINT;
  const [first, second] = sides;
  if (first === undefined) return NOT_AN_ENDPOINT;
  if (second === undefined) return parseSingle(first);
  return preferredDualSide(parseSingle(first), parseSingle(second));
}

/**
 * Ranks addresses by how much they tell about a remote peer: an IP socket
 * beats a UNIX socket (which has no host or port), and the connecting side
 * names the peer while a listener only names a local port.
 */
export function endpointRank(a: SocatAddress): number {
  if (a.transport === null) return -1;
  return (a.transport === 'unix' ? 0 : 2) + (a.cls === 'connect' ? 1 : 0);
}

/** A dual address (`read!!write`) is a network address when either half is. */
function preferredDualSide(a: SocatAddress, b: SocatAddress): SocatAddress {
  const best = endpointRank(b) > endpointRank(a) ? b : a;
  if (best.transport !== null) return best;
  if (a.cls === 'program') return a;
  if (b.cls === 'program') return b;
  return NOT_AN_ENDPOINT;
}

function parseSingle(text: string): SocatAddress {
  const [head, ...options] = splitTopLevel(text, ',') ?? [];
  if (head === undefined) return NOT_AN_ENDPOINT;
  const [word, ...params] = splitTopLevel(head, ':') ?? [];
  if (word === undefined) return NOT_AN_ENDPOINT;
  const keyword = word.length <= 32 ? KEYWORDS.get(word.toUpperCase()) : undefined;
  if (keyword === undefined) return NOT_AN_ENDPOINT;

  const address: SocatAddress = {
    ...NOT_AN_ENDPOINT,
    cls: keyword.cls,
    transport: keyword.transport,
    ipVersion: keyword.family,
  };
  switch (keyword.layout) {
    case 'command': {
      // Taken from the raw text so colons in an unquoted command survive.
      const command = stripSurroundingQuotes(head.slice(word.length + 1));
      address.program = command === '' ? null : command;
      address.pty = options.some(isPtyOption);
      return address;
    }
    case 'host-port':
      // socat needs exactly host and port; any other count is its syntax error.
      if (params.length === 2) setTarget(address, params[0], params[1]);
      return address;
    case 'proxied':
      // proxy:host:port, or socat 1.8's proxy:proxy-port:host:port; the
      // target is always the last two parameters.
      if (params.length === 3 || params.length === 4) {
        setTarget(address, params[params.length - 2], params[params.length - 1]);
      }
      return address;
    case 'port':
      if (params.length === 1) address.port = parsePort(params[0]);
      return address;
    case 'path':
      // A UNIX socket path is not a host; reporting it there would mislead
      // consumers that treat host as something to resolve or block.
      return address;
  }
}

/** An IP literal host decides the version; otherwise the keyword's (TCP6...) stands. */
function setTarget(address: SocatAddress, rawHost: string | undefined, rawPort: string | undefined): void {
  address.host = parseHost(rawHost);
  address.port = parsePort(rawPort);
  address.ipVersion = ipVersionOf(address.host) ?? address.ipVersion;
}

function parseHost(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  let host = stripSurroundingQuotes(raw);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return host === '' ? null : host;
}

function ipVersionOf(host: string | null): 4 | 6 | null {
  if (host === null || host.length > MAX_IP_LITERAL) return null;
  // IPv4.isValid accepts inet_aton forms (`10.1`, `0x7f000001`), as socat's resolver does.
  if (ipaddr.IPv4.isValid(host)) return 4;
  if (ipaddr.IPv6.isValid(host)) return 6;
  return null;
}

export function parsePort(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const value = stripSurroundingQuotes(raw);
  if (/^[0-9]{1,5}$/.test(value)) {
    const port = Number(value);
    return port >= 1 && port <= 65535 ? port : null;
  }
  return SERVICE_PORTS.get(value) ?? null;
}

/** `pty`, `pty=1`; socat reads a bool option's value as a number. */
function isPtyOption(option: string): boolean {
  const eq = option.indexOf('=');
  const name = eq < 0 ? option : option.slice(0, eq);
  if (name.length !== 3 || name.toLowerCase() !== 'pty') return false;
  if (eq < 0) return true;
  const value = option.slice(eq + 1);
  return /^[0-9]{1,9}$/.test(value) && Number(value) !== 0;
}
