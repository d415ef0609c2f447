/**
 * Reads the C2 endpoint out of a socat argv the way socat itself reads it:
 * argv[0], socat's own options, then exactly two addresses. Checked case by
 * case against the real program (test/fixtures/socat/recorded.json).
 *
 * argv[0] is free text: whoever starts socat chooses it (`[kworker/0:1]`,
 * `sh`, a renamed copy), and the finding's binary already says the process is
 * socat, so args[0] is skipped whatever it says. Only when that leaves no
 * valid command line and the argv read from its first element does (a
 * producer that dropped argv[0]) is args[0] read as an address.
 *
 * Pure and total: hostile or truncated input yields role 'unknown'.
 */
import type { C2Endpoint, C2Peer, C2Role } from '../report/types.js';
import { parseArgument, type SocatAddress } from './address.js';
import { splitExecCommand } from './scan.js';

/** socat options whose value may be the next argv element (`-lf FILE`) as well as attached (`-lfFILE`). */
const OPTIONS_WITH_VALUE = new Set(['-lf', '-lp', '-b', '-t', '-T', '-L', '-W', '-r', '-R', '-S']);
/** Options that take no value (socat 1.7.4 and 1.8). `-d` may be repeated in one word (`-dd`); 1.8 also reads `-d0`…`-d4`. */
const FLAG_OPTIONS = new Set(['-D', '-ls', '-lu', '-lh', '-v', '-x', '-s', '-u', '-U', '-g', '-4', '-6', '--statistics', '--experimental']);
/** Options after which socat prints something and exits without opening an address. */
const EXITING_OPTIONS = /^(-V|--version|-h+|-\?+|--help|-h[h?]*)$/;

/** Socat chained inside EXEC/SYSTEM (socat-chain.sh, `EXEC:'socat - TCP:…'`) is read to this depth. */
const MAX_CHAIN_DEPTH = 2;

/** `-`, `-,opts`, `-:...` and `-!!...` are STDIO addresses, not options (socat.c). */
function isOption(arg: string): boolean {
  if (!arg.startsWith('-') || arg.length < 2) return false;
  const next = arg.charAt(1);
  return next !== ',' && next !== ':' && !arg.startsWith('-!!');
}

interface CommandLine {
  addresses: string[];
  refused: string | null;
}

/** socat's own option loop (socat.c main): options until the first address. */
function readCommandLine(args: readonly string[], start: number): CommandLine {
  let i = start;
  while (i < args.length && isOption(args[i] as string)) {
    const arg = args[i] as string;
    if (EXITING_OPTIONS.test(arg)) return { addresses: [], refused: `the option ${arg} makes socat print and exit` };
    if (/^-d+$/.test(arg) || /^-d[0-4]$/.test(arg) || FLAG_OPTIONS.has(arg) || /^-l[ym]/.test(arg)) {
      i += 1;
      continue;
    }
    const withValue = [...OPTIONS_WITH_VALUE].find((o) => arg.startsWith(o));
    if (withValue === undefined) return { addresses: [], refused: 'socat knows no option of this name' };
    if (arg.length > withValue.length) {
      i += 1;
    } else {
      if (i + 1 >= args.length) return { addresses: [], refused: `the option ${withValue} lacks its value` };
      i += 2;
    }
  }
  const addresses = args.slice(i) as string[];
  if (addresses.length !== 2) return { addresses, refused: `socat needs exactly 2 addresses, and got ${addresses.length}` };
  return { addresses, refused: null };
}

function emptyEndpoint(refused: string | null): C2Endpoint {
  return {
    role: 'unknown', transport: null, host: null, port: null, ipVersion: null, program: null, pty: false,
    hop: null, peers: [], socket: null, refused, note: null,
  };
}

export function parseSocatArgs(args: readonly string[]): C2Endpoint {
  return parseAt(args, 0);
}

function parseAt(args: readonly string[], depth: number): C2Endpoint {
  // The finding is untrusted JSON; the static type is no guarantee.
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) return emptyEndpoint('the arguments are not a list of strings');
  const line = readCommandLine(args, 1);
  const result = line.refused === null ? endpointOf(line, depth) : emptyEndpoint(line.refused);
  if (result.refused === null) return result;
  const withoutArgv0 = readCommandLine(args, 0);
  if (withoutArgv0.refused === null) {
    const fallback = endpointOf(withoutArgv0, depth);
    if (fallback.refused === null) return fallback;
  }
  return result;
}

function endpointOf(line: CommandLine, depth: number): C2Endpoint {
  const [first, second] = line.addresses as [string, string];
  return classify(sideOf(first, depth), sideOf(second, depth));
}

interface Side {
  addresses: SocatAddress[];
  refused: string | null;
  /** Network facts of a socat chained inside this side's program. */
  chained: C2Endpoint | null;
}

function sideOf(text: string, depth: number): Side {
  const parsed = parseArgument(text);
  let chained: C2Endpoint | null = null;
  const program = parsed.sides.find((s) => s.cls === 'program');
  if (program !== undefined && depth < MAX_CHAIN_DEPTH) {
    const argv = program.execArgv ?? (program.program === null ? null : splitExecCommand(program.program));
    const name = argv?.[0]?.slice((argv[0] ?? '').lastIndexOf('/') + 1) ?? '';
    if (argv !== null && /^socat\d*$/i.test(name)) {
      const inner = parseAt(argv, depth + 1);
      if (inner.refused === null && (inner.peers?.length ?? 0) > 0) chained = inner;
    }
  }
  // An address socat refuses opens nothing: it names no peer and runs no program.
  return { addresses: parsed.sides.filter((x) => x.error === null), refused: parsed.error, chained };
}

function peerOf(a: SocatAddress): C2Peer {
  return {
    direction: a.cls === 'listen' ? 'listen' : 'connect',
    transport: a.transport,
    host: a.host,
    port: a.port,
    ipVersion: a.ipVersion,
    hop: a.hop,
  };
}

function networkPeers(side: Side): C2Peer[] {
  if (side.chained !== null) return side.chained.peers ?? [];
  return side.addresses.filter((a) => a.cls === 'connect' || a.cls === 'listen').map(peerOf);
}

function classify(a: Side, b: Side): C2Endpoint {
  const peersA = networkPeers(a);
  const peersB = networkPeers(b);
  const all = [...peersA, ...peersB];
  const programOf = (s: Side): SocatAddress | null => (s.chained === null ? (s.addresses.find((x) => x.cls === 'program') ?? null) : null);
  const progA = programOf(a);
  const progB = programOf(b);
  const program = progA ?? progB;
  const other = progA !== null ? b : a;
  const otherPeers = progA !== null ? peersB : peersA;
  const unixSide = [...a.addresses, ...b.addresses].find((x) => x.cls === 'unix') ?? null;
  const fdSide = other.addresses.find((x) => x.cls === 'fd') ?? null;
  const reaches = (s: Side, peers: C2Peer[]): boolean => peers.length > 0 || s.addresses.some(isRelayEnd);

  let role: C2Role = 'unknown';
  let primary: C2Peer | null = best(all);
  let note: string | null = a.chained !== null || b.chained !== null ? 'a socat run inside EXEC/SYSTEM (a chain) makes the connection' : null;
  if (progA !== null && progB !== null) {
    note = 'both addresses are programs: socat opens no socket itself, and what the programs connect to is not read here';
  } else if (program !== null && otherPeers.length > 0) {
    primary = best(otherPeers);
    role = primary?.direction === 'listen' ? 'bind' : 'reverse';
  } else if (program !== null && fdSide !== null && fdSide.fd !== null) {
    role = 'reverse';
    note = `the program talks to inherited file descriptor ${fdSide.fd}, which socat's parent opened: its peer is not in the arguments`;
  } else if (program !== null && unixSide !== null) {
    note = 'the program is bridged to a local UNIX socket, which never leaves the host';
  } else if (program === null && reaches(a, peersA) && reaches(b, peersB)) {
    role = 'relay';
  }

  const refused = a.refused ?? b.refused;
  let transport = primary?.transport ?? null;
  if (transport === null && role === 'reverse') transport = 'other';
  if (transport === null && unixSide !== null) transport = 'unix';
  return {
    role: refused === null ? role : 'unknown',
    transport,
    host: primary?.host ?? null,
    port: primary?.port ?? null,
    ipVersion: primary?.ipVersion ?? null,
    program: program?.program ?? null,
    pty: program?.pty ?? false,
    hop: primary?.hop ?? null,
    peers: primary === null ? all : [primary, ...all.filter((p) => p !== primary)],
    socket: unixSide?.socket ?? null,
    refused,
    note,
  };
}

/** The connecting side names the peer; a listener only its own port. Ties keep argv order. */
function best(peers: readonly C2Peer[]): C2Peer | null {
  return peers.find((p) => p.direction === 'connect') ?? peers[0] ?? null;
}

/** The non-network end a relay can bridge a network address to. */
function isRelayEnd(a: SocatAddress): boolean {
  return a.cls === 'unix' || (a.cls === 'fd' && a.fd !== null);
}

