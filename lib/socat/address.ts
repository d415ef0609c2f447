/**
 * One socat address (`KEYWORD:param:param,option,option=value`, or two of
 * them joined by `!!`) reduced to the facts the C2 report needs, read the way
 * socat 1.7.4 reads it (checked against the real program:
 * test/fixtures/socat/recorded.json) and knowing the keywords socat 1.8 adds.
 */
import ipaddr from 'ipaddr.js';
import type { C2Transport } from '../report/types.js';
import { lexToken, splitExecCommand } from './scan.js';
import { SOCAT_OPTION_NAMES, TCP_SERVICES, UDP_SERVICES } from './tables.js';

export type AddressClass = 'connect' | 'listen' | 'program' | 'unix' | 'fd' | 'other';

export interface SocatAddress {
  cls: AddressClass;
  /** Null for addresses that are no sockets (STDIO, FILE, PTY, EXEC...). */
  transport: C2Transport | null;
  /** The final target: for SOCKS/PROXY the host the proxy is asked to reach. */
  host: string | null;
  port: number | null;
  ipVersion: 4 | 6 | null;
  /** SOCKS/PROXY: the proxy socat itself connects to. */
  hop: { host: string | null; port: number | null; ipVersion: 4 | 6 | null } | null;
  /** The command as socat runs it (after its unquoting); EXEC's execvp argv in execArgv. */
  program: string | null;
  execArgv: string[] | null;
  pty: boolean;
  /** UNIX socket path (abstract ones as `@name`). */
  socket: string | null;
  /** FD:N: the inherited descriptor. */
  fd: number | null;
  /** Why socat would refuse this address at start-up; null when it accepts it. */
  error: string | null;
  /** What is uncertain although socat accepts it. */
  notes: string[];
}

/**
 * Linux refuses a single argv string longer than MAX_ARG_STRLEN (32 pages),
 * so a longer "address" never reached socat; skipping it bounds the work.
 */
export const MAX_ADDRESS_LENGTH = 128 * 1024;

/** Longest IP literal worth asking ipaddr.js about (IPv6 text + %zone). */
const MAX_IP_LITERAL = 64;

/** socat's defaults when `socksport=` / `proxyport=` are not given (xio-socks.c, xio-proxy.c). */
const DEFAULT_SOCKS_PORT = 1080;
const DEFAULT_PROXY_PORT = 8080;

type Layout =
  | 'host-port' // TCP:host:port
  | 'port' // TCP-LISTEN:port
  | 'proxied' // SOCKS4:proxy:host:port (1.8 also proxy:proxy-port:host:port)
  | 'path' // UNIX:path
  | 'command' // EXEC / SYSTEM / SHELL
  | 'socket-connect' // SOCKET-CONNECT:domain:protocol:hex
  | 'socket-sendto' // SOCKET-SENDTO:domain:type:protocol:hex
  | 'fd' // FD:n
  | 'any'; // file-like addresses: parameters are not checked here

interface Keyword {
  cls: AddressClass;
  transport: C2Transport | null;
  layout: Layout;
  family: 4 | 6 | null;
  /** How EXEC / SYSTEM treat their command. */
  program?: 'exec' | 'system';
  /** For 'proxied': the option naming the proxy port, and its default. */
  proxyPort?: readonly [string, number];
}

const KEYWORDS = new Map<string, Keyword>();

function define(names: readonly string[], keyword: Keyword): void {
  for (const name of names) KEYWORDS.set(name, keyword);
}

const IP_PROTOCOLS: ReadonlyArray<readonly [string, C2Transport, boolean]> = [
  // [keyword stem, transport, has datagram forms]
  ['TCP', 'tcp', false],
  ['INET', 'tcp', false],
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
      define([`${k}-SENDTO`, `${k}-SEND`, `${k}-DATAGRAM`, `${k}-DGRAM`], { cls: 'connect', transport, layout: 'host-port', family });
      define([`${k}-RECVFROM`, `${k}-RECV`], { cls: 'listen', transport, layout: 'port', family });
    }
  }
}
define(['OPENSSL', 'OPENSSL-CONNECT', 'OPENSSL-CLIENT', 'SSL'], { cls: 'connect', transport: 'tls', layout: 'host-port', family: null });
define(['OPENSSL-LISTEN', 'OPENSSL-SERVER', 'SSL-L', 'SSL-S'], { cls: 'listen', transport: 'tls', layout: 'port', family: null });
define(['OPENSSL-DTLS-CLIENT', 'OPENSSL-DTLS-CONNECT', 'DTLS', 'DTLS-C', 'DTLS-CLIENT', 'DTLS-CONNECT'], { cls: 'connect', transport: 'tls', layout: 'host-port', family: null });
define(['OPENSSL-DTLS-SERVER', 'OPENSSL-DTLS-LISTEN', 'DTLS-L', 'DTLS-LISTEN', 'DTLS-SERVER'], { cls: 'listen', transport: 'tls', layout: 'port', family: null });
// SOCKS5 and the -CLIENT/-CONNECT spellings are socat 1.8's.
define(['SOCKS', 'SOCKS4', 'SOCKS4A', 'SOCKS-CLIENT', 'SOCKS4-CLIENT', 'SOCKS4A-CLIENT', 'SOCKS4-CONNECT', 'SOCKS4A-CONNECT'], {
  cls: 'connect', transport: 'socks', layout: 'proxied', family: null, proxyPort: ['socksport', DEFAULT_SOCKS_PORT],
});
define(['SOCKS5', 'SOCKS5-CLIENT', 'SOCKS5-CONNECT'], { cls: 'connect', transport: 'socks', layout: 'proxied', family: null, proxyPort: ['socksport', DEFAULT_SOCKS_PORT] });
define(['PROXY', 'PROXY-CONNECT'], { cls: 'connect', transport: 'proxy', layout: 'proxied', family: null, proxyPort: ['proxyport', DEFAULT_PROXY_PORT] });
define(
  ['UNIX', 'UNIX-CONNECT', 'UNIX-CLIENT', 'UNIX-SENDTO', 'UNIX-SEND', 'LOCAL', 'ABSTRACT', 'ABSTRACT-CONNECT', 'ABSTRACT-CLIENT', 'ABSTRACT-SENDTO'],
  { cls: 'unix', transport: 'unix', layout: 'path', family: null },
);
define(
  ['UNIX-LISTEN', 'UNIX-L', 'UNIX-RECVFROM', 'UNIX-RECV', 'ABSTRACT-LISTEN', 'ABSTRACT-RECVFROM', 'ABSTRACT-RECV'],
  { cls: 'unix', transport: 'unix', layout: 'path', family: null },
);
define(['SOCKET-CONNECT'], { cls: 'connect', transport: 'other', layout: 'socket-connect', family: null });
define(['SOCKET-SENDTO', 'SOCKET-DATAGRAM', 'SENDTO', 'DATAGRAM', 'DGRAM'], { cls: 'connect', transport: 'other', layout: 'socket-sendto', family: null });
define(['EXEC'], { cls: 'program', transport: null, layout: 'command', family: null, program: 'exec' });
// SHELL is socat 1.8's SYSTEM with the user's $SHELL: same threat, same report.
define(['SYSTEM', 'SHELL'], { cls: 'program', transport: null, layout: 'command', family: null, program: 'system' });
define(['FD'], { cls: 'fd', transport: null, layout: 'fd', family: null });
// Addresses that are no network peer of their own (files, terminals, local
// pipes, raw IP and interfaces, vsock) are only named, so they are not
// mistaken for an unknown keyword.
define(
  [
    '-', 'STDIO', 'STDIN', 'STDOUT', 'STDERR', 'FILE', 'OPEN', 'GOPEN', 'CREATE', 'CREAT', 'PIPE', 'FIFO', 'ECHO', 'PTY', 'READLINE',
    'TUN', 'INTERFACE', 'IF', 'NOP', 'TEST', 'TESTREV', 'TESTUNI', 'SOCKETPAIR', 'ACCEPT-FD', 'SOCKET-LISTEN', 'SOCKET-RECV', 'SOCKET-RECVFROM',
    'IP', 'IP4', 'IP6', 'IP-SENDTO', 'IP4-SENDTO', 'IP6-SENDTO', 'IP-SEND', 'IP4-SEND', 'IP6-SEND', 'IP-DATAGRAM', 'IP4-DATAGRAM', 'IP6-DATAGRAM',
    'IP-DGRAM', 'IP4-DGRAM', 'IP6-DGRAM', 'IP-RECV', 'IP4-RECV', 'IP6-RECV', 'IP-RECVFROM', 'IP4-RECVFROM', 'IP6-RECVFROM',
    'VSOCK', 'VSOCK-CONNECT', 'VSOCK-LISTEN', 'VSOCK-L',
    'POSIXMQ', 'POSIXMQ-READ', 'POSIXMQ-RECEIVE', 'POSIXMQ-RECV', 'POSIXMQ-SEND', 'POSIXMQ-WRITE', 'POSIXMQ-BIDIRECTIONAL',
  ],
  { cls: 'other', transport: null, layout: 'any', family: null },
);

/**
 * Option names socat 1.8 added (its CHANGES and man page); socat 1.7.4 knows
 * the rest (tables.ts). A name in neither makes socat stop at start-up.
 */
const SOCAT_18_OPTION_NAMES: ReadonlySet<string> = new Set([
  'netns', 'bind-tmpname', 'unix-bind-tempname', 'retrieve-vlan', 'max-children', 'socks5-username', 'socks5-password', 'socksuser',
  'posixmq-maxmsg', 'posixmq-msgsize', 'posixmq-flush', 'mq-flush', 'ip-transparent', 'transparent', 'ai-addrconfig', 'ai-passive', 'ai-v4mapped',
  'addrconfig', 'passive', 'v4mapped', 'accept-timeout', 'listen-timeout', 'children-shutdown', 'shut-null', 'null-eof', 'ip-recvtos', 'recvtos',
  'dccp-set-ccid', 'ccid', 'udplite-send-cscov', 'udplite-recv-cscov', 'openssl-no-sni', 'no-sni', 'openssl-snihost', 'snihost', 'openssl-maxfd',
  'openssl-min-proto-version', 'min-version', 'openssl-max-proto-version', 'max-version', 'so-reuseport', 'reuseport', 'sctp-nodelay',
  'ipv6-join-group', 'ipv6-join-source-group', 'ip-add-source-membership', 'ip-freebind', 'freebind', 'ipv6-freebind',
  'tcp-fastopen', 'fastopen', 'tcp-quickack', 'quickack', 'tcp-user-timeout', 'user-timeout', 'setsid-ctty', 'setpgid', 'pgid',
  'shell', 'resolve', 'res-nsaddr', 'dash', 'proxy-authorization-file', 'proxyauthfile', 'escape', 'vsock-cid', 'ignoreeof',
]);

export function isKnownOptionName(name: string): boolean {
  const n = name.toLowerCase();
  return SOCAT_OPTION_NAMES.has(n) || SOCAT_18_OPTION_NAMES.has(n);
}

const EMPTY: SocatAddress = Object.freeze({
  cls: 'other',
  transport: null,
  host: null,
  port: null,
  ipVersion: null,
  hop: null,
  program: null,
  execArgv: null,
  pty: false,
  socket: null,
  fd: null,
  error: null,
  notes: [],
}) as SocatAddress;

function rejected(error: string): SocatAddress {
  return { ...EMPTY, notes: [], error };
}

/** One argv element holding a socat address: one address, or two for a dual `A!!B`. */
export interface ParsedArgument {
  sides: SocatAddress[];
  /** Why socat would refuse the argument as a whole; null when it accepts it. */
  error: string | null;
}

/** Parses one argv element holding a socat address; never throws. */
export function parseArgument(text: string): ParsedArgument {
  if (text.length > MAX_ADDRESS_LENGTH) return { sides: [], error: 'the argument is longer than Linux passes to a program' };
  const sides: SocatAddress[] = [];
  let pos = 0;
  for (;;) {
    const single = parseSingle(text, pos);
    if ('error' in single) return { sides, error: single.error };
    sides.push(single.address);
    pos = single.end;
    if (pos >= text.length) break;
    // Only `!!` can stop a single address before the end.
    if (sides.length === 2) return { sides, error: 'a dual address has more than two parts' };
    pos += 2;
  }
  const error = sides.find((s) => s.error !== null)?.error ?? null;
  return { sides, error };
}

interface Lexed {
  keyword: string;
  params: string[];
  options: Array<{ name: string; value: string | null }>;
}

function lexSingle(text: string, start: number): { lexed: Lexed; end: number } | { error: string } {
  const word = lexToken(text, start, [':', ',', '!!']);
  if (!word.ok) return { error: word.error };
  const lexed: Lexed = { keyword: word.value, params: [], options: [] };
  let pos = word.end;
  while (text.charAt(pos) === ':') {
    const param = lexToken(text, pos + 1, [':', ',', '!!']);
    if (!param.ok) return { error: param.error };
    lexed.params.push(param.value);
    pos = param.end;
  }
  while (text.charAt(pos) === ',') {
    const name = lexToken(text, pos + 1, ['=', ',', '!!']);
    if (!name.ok) return { error: name.error };
    pos = name.end;
    let value: string | null = null;
    if (text.charAt(pos) === '=') {
      const v = lexToken(text, pos + 1, [',', '!!']);
      if (!v.ok) return { error: v.error };
      value = v.value;
      pos = v.end;
    }
    lexed.options.push({ name: name.value, value });
  }
  return { lexed, end: pos };
}

function parseSingle(text: string, start: number): { address: SocatAddress; end: number } | { error: string } {
  const lexedOrError = lexSingle(text, start);
  if ('error' in lexedOrError) return lexedOrError;
  const { lexed, end } = lexedOrError;
  return { address: interpret(lexed), end };
}

function interpret(lexed: Lexed): SocatAddress {
  const { keyword: word, params, options } = lexed;
  let keyword = word.length <= 32 ? KEYWORDS.get(word.toUpperCase()) : undefined;
  let effectiveParams = params;
  if (keyword === undefined) {
    // socat reads a bare number as FD:n and anything with a '/' as GOPEN:path.
    if (/^[0-9]+$/.test(word) && params.length === 0) {
      keyword = KEYWORDS.get('FD');
      effectiveParams = [word];
    } else if (word.includes('/') && params.length === 0) {
      keyword = KEYWORDS.get('GOPEN');
      effectiveParams = [word];
    } else {
      return rejected(word === '' ? 'an address is empty' : 'socat knows no address type of this name');
    }
  }
  if (keyword === undefined) return rejected('socat knows no address type of this name');
  const unknownOption = options.find((o) => !isKnownOptionName(o.name));
  const address: SocatAddress = { ...EMPTY, notes: [], cls: keyword.cls, transport: keyword.transport, ipVersion: keyword.family };
  if (unknownOption !== undefined) address.error = 'an address option is unknown to socat 1.7 and 1.8';
  const option = (name: string): string | null | undefined => {
    for (let i = options.length - 1; i >= 0; i--) {
      const o = options[i] as { name: string; value: string | null };
      if (o.name.toLowerCase() === name) return o.value;
    }
    return undefined;
  };
  const wrongCount = (expected: string): SocatAddress => ({ ...address, error: `wrong number of parameters (${params.length} instead of ${expected})` });

  switch (keyword.layout) {
    case 'command': {
      // Recorded: EXEC refuses a second ':' parameter, SYSTEM runs the first and drops the rest.
      if (effectiveParams.length === 0 || (keyword.program === 'exec' && effectiveParams.length !== 1)) return wrongCount('1');
      const command = effectiveParams[0] as string;
      address.program = command === '' ? null : command;
      if (keyword.program === 'exec') address.execArgv = splitExecCommand(command);
      address.pty = boolOption(option('pty'));
      return address;
    }
    case 'host-port':
      if (effectiveParams.length !== 2) return wrongCount('2');
      setHostPort(address, effectiveParams[0] as string, effectiveParams[1] as string);
      return address;
    case 'proxied': {
      // proxy:host:port, or socat 1.8's proxy:proxy-port:host:port.
      if (effectiveParams.length !== 3 && effectiveParams.length !== 4) return wrongCount('3');
      const [proxy, ...rest] = effectiveParams as [string, ...string[]];
      const target = rest.slice(-2) as [string, string];
      setHostPort(address, target[0], target[1]);
      const [portOption, portDefault] = keyword.proxyPort ?? ['', 0];
      const proxyPortText = rest.length === 3 ? (rest[0] as string) : option(portOption);
      const hopHost = parseHost(proxy);
      address.hop = {
        host: hopHost,
        port: proxyPortText === undefined ? portDefault : proxyPortText === null ? null : parsePort(proxyPortText, 'tcp'),
        ipVersion: ipVersionOf(hopHost),
      };
      return address;
    }
    case 'port':
      if (effectiveParams.length !== 1) return wrongCount('1');
      address.port = parsePort(effectiveParams[0] as string, address.transport === 'udp' ? 'udp' : 'tcp');
      return address;
    case 'path':
      if (effectiveParams.length !== 1) return wrongCount('1');
      address.socket = word.toUpperCase().startsWith('ABSTRACT') ? `@${effectiveParams[0] as string}` : (effectiveParams[0] as string);
      return address;
    case 'socket-connect':
      if (effectiveParams.length !== 3) return wrongCount('3');
      setSockaddr(address, effectiveParams[0] as string, effectiveParams[1] as string, effectiveParams[2] as string);
      return address;
    case 'socket-sendto':
      if (effectiveParams.length !== 4) return wrongCount('4');
      setSockaddr(address, effectiveParams[0] as string, effectiveParams[2] as string, effectiveParams[3] as string);
      return address;
    case 'fd': {
      if (effectiveParams.length !== 1) return wrongCount('1');
      const n = parseUnsigned(effectiveParams[0] as string);
      address.fd = n;
      // 0-2 are socat's own stdio; a higher one was opened by whoever started it.
      if (n === null || n <= 2) address.cls = 'other';
      return address;
    }
    case 'any':
      return address;
  }
}

/** socat reads numbers with strtoul(…, 0): 0x hex, leading-zero octal, digits up to the first other character. */
function parseUnsigned(text: string): number | null {
  const m = /^\s*\+?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  if (m === null) return null;
  const digits = m[1] as string;
  let value: bigint;
  if (/^0[xX]/.test(digits)) value = BigInt(digits);
  else if (digits.startsWith('0')) value = digits.length === 1 ? 0n : BigInt(`0o${digits.slice(1)}`);
  else value = BigInt(digits);
  // strtoul saturates at ULONG_MAX (64-bit) on overflow.
  const max = (1n << 64n) - 1n;
  return Number((value > max ? max : value) & 0xffffffffn);
}

/**
 * A port as socat converts it: a leading digit means strtoul(…, 0) cast to
 * 16 bits (`04444` is octal 2340, `70000` wraps to 4464, `80x` is 80); a name
 * goes through the services database. Debian's netbase table stands in for
 * the container's /etc/services, which is not visible here.
 */
export function parsePort(raw: string, protocol: 'tcp' | 'udp'): number | null {
  if (/^[0-9]/.test(raw)) {
    const n = parseUnsigned(raw);
    return n === null ? null : n & 0xffff;
  }
  return (protocol === 'udp' ? UDP_SERVICES : TCP_SERVICES).get(raw) ?? null;
}

function setHostPort(address: SocatAddress, rawHost: string, rawPort: string): void {
  address.host = parseHost(rawHost);
  address.port = parsePort(rawPort, address.transport === 'udp' ? 'udp' : 'tcp');
  if (address.port === null) address.notes.push('the port is a service name not in the standard services database');
  address.ipVersion = ipVersionOf(address.host) ?? address.ipVersion;
}

function parseHost(raw: string): string | null {
  let host = raw;
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

/**
 * SOCKET-CONNECT's address is the sockaddr after its family field, as `x`
 * followed by hex digits (man socat, "GENERIC SOCKETS"): for AF_INET (2) the
 * port then the IPv4 address, for AF_INET6 (10) the port, flow info, the
 * IPv6 address; AF_UNIX (1) carries a path.
 */
function setSockaddr(address: SocatAddress, domainText: string, protocolText: string, data: string): void {
  const domain = parseUnsigned(domainText);
  const protocol = parseUnsigned(protocolText);
  address.transport = protocol === 6 ? 'tcp' : protocol === 17 ? 'udp' : 'other';
  const hex = /^(x[0-9a-fA-F]*)+$/.test(data) ? data.replace(/x/g, '') : null;
  if (domain === 1) {
    address.cls = 'unix';
    address.transport = 'unix';
    address.socket = hex === null ? data : null;
    return;
  }
  if (hex === null || hex.length % 2 !== 0) {
    address.notes.push('the socket address is not plain hex data');
    return;
  }
  const bytes = Buffer.from(hex, 'hex');
  if (domain === 2 && bytes.length >= 6) {
    address.port = bytes.readUInt16BE(0);
    address.host = ipaddr.fromByteArray([...bytes.subarray(2, 6)]).toString();
    address.ipVersion = 4;
  } else if (domain === 10 && bytes.length >= 22) {
    address.port = bytes.readUInt16BE(0);
    address.host = ipaddr.fromByteArray([...bytes.subarray(6, 22)]).toString();
    address.ipVersion = 6;
  } else {
    address.notes.push('the socket address is of a family or length not read here');
  }
}

/** `pty`, `pty=1`, `pty=0`: socat reads a bool option's value as a number. */
function boolOption(value: string | null | undefined): boolean {
  if (value === undefined) return false;
  if (value === null) return true;
  const n = parseUnsigned(value);
  return n !== null && n !== 0;
}
