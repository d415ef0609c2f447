/**
 * Reads the C2 endpoint out of a socat argv, the way socat itself reads it:
 * optional argv[0], socat's own options, then exactly two addresses.
 * Pure and total: hostile or truncated input yields role 'unknown' with nulls.
 */
import type { C2Endpoint } from '../report/types.js';
import { endpointRank, parseAddress, type SocatAddress } from './address.js';

/**
 * socat options whose value may be a separate argv element (`-lf FILE`) as
 * well as attached (`-lfFILE`); every other option is a self-contained token.
 */
const OPTIONS_WITH_VALUE = new Set(['-lf', '-lp', '-b', '-t', '-T', '-L', '-W', '-S', '-r', '-R']);

function unknownEndpoint(): C2Endpoint {
  return { role: 'unknown', transport: null, host: null, port: null, ipVersion: null, program: null, pty: false };
}

/** `-`, `-,opts`, `-:...` and `-!!...` are STDIO addresses, not options (as in socat.c). */
function isOption(arg: string): boolean {
  if (!arg.startsWith('-') || arg.length < 2) return false;
  const next = arg.charAt(1);
  return next !== ',' && next !== ':' && next !== '!';
}

function isArgv0(args: readonly string[]): boolean {
  const first = args[0];
  if (first === undefined) return false;
  if (first.slice(first.lastIndexOf('/') + 1) === 'socat') return true;
  // socat stops reading options at its first address, so a non-option
  // followed by an option can only be argv[0] of a renamed binary.
  const second = args[1];
  return !first.startsWith('-') && second !== undefined && isOption(second);
}

export function parseSocatArgs(args: readonly string[]): C2Endpoint {
  // The finding is untrusted JSON; the static type is no guarantee.
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) return unknownEndpoint();

  let i = isArgv0(args) ? 1 : 0;
  while (i < args.length && isOption(args[i] as string)) {
    i += OPTIONS_WITH_VALUE.has(args[i] as string) ? 2 : 1;
  }
  // socat refuses anything but two addresses and then runs nothing.
  if (args.length - i !== 2) return unknownEndpoint();
  return classify(parseAddress(args[i] as string), parseAddress(args[i + 1] as string));
}

function classify(a: SocatAddress, b: SocatAddress): C2Endpoint {
  const program = a.cls === 'program' ? a : b.cls === 'program' ? b : null;
  const peer = program === a ? b : a;
  // A UNIX socket never leaves the host, so EXEC on one is no remote shell.
  const ipPeer = peer.transport !== null && peer.transport !== 'unix';

  let role: C2Endpoint['role'] = 'unknown';
  let endpoint: SocatAddress | null;
  if (program !== null && ipPeer && peer.cls === 'connect') {
    role = 'reverse';
    endpoint = peer;
  } else if (program !== null && ipPeer && peer.cls === 'listen') {
    role = 'bind';
    endpoint = peer;
  } else {
    if (a.transport !== null && b.transport !== null) role = 'relay';
    const best = endpointRank(b) > endpointRank(a) ? b : a;
    endpoint = best.transport !== null ? best : null;
  }

  return {
    role,
    transport: endpoint?.transport ?? null,
    host: endpoint?.host ?? null,
    port: endpoint?.port ?? null,
    ipVersion: endpoint?.ipVersion ?? null,
    program: program?.program ?? null,
    pty: program?.pty ?? false,
  };
}
