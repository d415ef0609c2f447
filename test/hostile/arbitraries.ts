/**
 * Generators shared by the fuzzers: socat argv from socat's own grammar with
 * hostile pieces in every slot (lib/socat must read it; the renderers must
 * show it safely).
 */
import fc from 'fast-check';
import { hostileString } from './support.js';

// ---------------------------------------------------------------------------
// socat's grammar, with hostile pieces in every slot

const KEYWORDS = [
  'TCP', 'TCP4', 'TCP6', 'TCP-CONNECT', 'TCP-LISTEN', 'TCP-L', 'TCP4-LISTEN', 'UDP', 'UDP6', 'UDP-SENDTO', 'UDP-RECVFROM', 'UDP-DATAGRAM',
  'SCTP', 'DCCP-CONNECT', 'UDPLITE-RECV', 'OPENSSL', 'SSL', 'TLS', 'OPENSSL-LISTEN', 'OPENSSL-DTLS-CLIENT', 'SOCKS', 'SOCKS4A', 'SOCKS5',
  'PROXY', 'PROXY-CONNECT', 'UNIX', 'UNIX-CONNECT', 'UNIX-LISTEN', 'ABSTRACT-CONNECT', 'EXEC', 'SYSTEM', 'SHELL', 'STDIO', 'FILE', 'PTY',
  'OPEN', 'PIPE', 'GOPEN', 'CREATE', 'IP-SENDTO', 'INTERFACE', 'TUN', 'VSOCK-CONNECT', '-', '',
];

const keyword = fc.oneof({ weight: 6, arbitrary: fc.mixedCase(fc.constantFrom(...KEYWORDS)) }, { weight: 1, arbitrary: hostileString(10) });

const host = fc.oneof(
  fc.ipV4(),
  fc.ipV4Extended(),
  fc.ipV6().map((h) => `[${h}]`),
  fc.ipV6(),
  fc.domain(),
  fc.constantFrom('169.254.169.254', 'metadata.google.internal', 'localhost', '0', '::1', '$RHOST', '"10.0.0.1"', "'c2.example'", '[', ']'),
  hostileString(16),
);

const port = fc.oneof(
  fc.integer({ min: -5, max: 70_000 }).map(String),
  fc.constantFrom('http', 'https', 'ssh', 'domain', 'gopher', '0', '65535', '65536', '08', '00080', '1e3', '"443"', '$RPORT'),
  hostileString(8),
);

const option = fc.oneof(
  fc.mixedCase(fc.constantFrom('pty', 'pty=1', 'pty=0', 'pty=00', 'stderr', 'setsid', 'sigint', 'sane', 'fork', 'reuseaddr', 'verify=0', 'cert=x.pem', 'key=/tmp/k', 'proxyport=3128', 'proxyauth=u:p', 'socksport=9050', 'bind=1.2.3.4', 'raw', 'echo=0')),
  hostileString(12),
);

const program = fc.oneof(fc.constantFrom('/bin/sh', 'sh', "'bash -li'", '"bash -i"', "'sh -c \"id\"'", 'bash -c "a,b:c"', ''), hostileString(20));

const options = fc.array(option, { maxLength: 5 }).map((opts) => opts.map((o) => `,${o}`).join(''));
const kw = (names: string[]) => fc.oneof({ weight: 5, arbitrary: fc.mixedCase(fc.constantFrom(...names)) }, { weight: 1, arbitrary: keyword });

/** Addresses shaped as socat expects them (so every role is reached), and free-form ones. */
const address: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(kw(['TCP', 'TCP4', 'TCP6', 'UDP', 'OPENSSL', 'SSL', 'TCP-CONNECT', 'UDP-SENDTO']), host, port, options).map(([k, h, p, o]) => `${k}:${h}:${p}${o}`),
  fc.tuple(kw(['TCP-LISTEN', 'TCP-L', 'UDP-RECVFROM', 'OPENSSL-LISTEN', 'TCP6-LISTEN']), port, options).map(([k, p, o]) => `${k}:${p}${o}`),
  fc.tuple(kw(['SOCKS4A', 'SOCKS5', 'PROXY', 'PROXY-CONNECT']), host, host, port, options).map(([k, a, h, p, o]) => `${k}:${a}:${h}:${p}${o}`),
  fc.tuple(kw(['EXEC', 'SYSTEM', 'SHELL']), program, options).map(([k, c, o]) => `${k}:${c}${o}`),
  fc.tuple(kw(['UNIX-CONNECT', 'UNIX-LISTEN', 'STDIO', 'FILE', '-']), hostileString(10), options).map(([k, path, o]) => `${k}:${path}${o}`),
  fc.tuple(keyword, fc.array(fc.oneof(host, port, program), { maxLength: 4 }), options).map(([k, params, o]) => [k, ...params].join(':') + o),
);

const dualAddress = fc.oneof({ weight: 8, arbitrary: address }, { weight: 1, arbitrary: fc.tuple(address, address).map(([a, b]) => `${a}!!${b}`) });

const socatOption = fc.oneof(
  fc.constantFrom('-d', '-dd', '-v', '-x', '-u', '-U', '-4', '-6', '-s', '-lu', '-lh', '-T10', '-b8192', '--statistics', '-lf/tmp/x'),
  fc.tuple(fc.constantFrom('-lf', '-lp', '-b', '-t', '-T', '-L', '-W', '-S', '-r', '-R'), hostileString(8)).map(([o, v]) => `${o}\u0000${v}`),
  hostileString(6).map((s) => `-${s}`),
);

export const socatArgv: fc.Arbitrary<string[]> = fc
  .tuple(
    fc.option(fc.constantFrom('socat', '/usr/bin/socat', './socat', '/tmp/.x/socat', 'socat1.7.4', 'kworker'), { nil: undefined }),
    fc.array(socatOption, { maxLength: 4 }),
    fc.oneof({ weight: 6, arbitrary: fc.array(dualAddress, { minLength: 2, maxLength: 2 }) }, { weight: 1, arbitrary: fc.array(dualAddress, { maxLength: 3 }) }),
  )
  .map(([argv0, opts, addrs]) => [...(argv0 === undefined ? [] : [argv0]), ...opts.flatMap((o) => o.split('\u0000')), ...addrs]);

