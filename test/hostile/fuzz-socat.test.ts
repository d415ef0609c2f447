/**
 * Fuzzing socat's argument parser (lib/socat): argv built from socat's own
 * grammar with hostile pieces, arbitrary strings, real command lines mutated
 * character by character, non-string JSON, and 100k–1 MiB runs of the
 * characters the tokenizer cares about. parseSocatArgs must be total
 * (never throws, always a well-formed endpoint), deterministic, never invent
 * a host or program that is not in the input, and stay linear (hang guard).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { C2Endpoint } from '../../lib/report/types.js';
import { parseSocatArgs } from '../../lib/socat/args.js';
import { loadJson } from '../support/fixtures.js';
import { socatArgv } from './arbitraries.js';
import { HANG_GUARD_MS, HangGuard, seeded, hostileChar, hostileString, megabyte, recordFigures } from './support.js';

const SEED = 0x50ca7_002;
const CORPUS = loadJson<{ argv: string[][] }>('test/fixtures/hostile/socat-argv.json').argv;

const ROLES = new Set(['reverse', 'bind', 'relay', 'unknown']);
const TRANSPORTS = new Set([null, 'tcp', 'udp', 'tls', 'socks', 'proxy', 'unix', 'other']);

const guard = new HangGuard();
const roles: Record<string, number> = { reverse: 0, bind: 0, relay: 0, unknown: 0 };
let inputs = 0;

function problemsOf(argv: readonly unknown[], c2: C2Endpoint): string[] {
  const p: string[] = [];
  if (!ROLES.has(c2.role)) p.push(`role ${String(c2.role)}`);
  if (!TRANSPORTS.has(c2.transport)) p.push(`transport ${String(c2.transport)}`);
  // Port 0 is real: socat connects to it (strtoul then 16 bits, recorded in test/fixtures/socat/recorded.json).
  if (c2.port !== null && !(Number.isInteger(c2.port) && c2.port >= 0 && c2.port <= 65535)) p.push(`port ${c2.port}`);
  if (c2.refused !== null && c2.role !== 'unknown') p.push(`refused (${c2.refused}) but role ${c2.role}`);
  if (![null, 4, 6].includes(c2.ipVersion)) p.push(`ipVersion ${c2.ipVersion}`);
  if (typeof c2.pty !== 'boolean') p.push('pty not boolean');
  const texts = argv.filter((a): a is string => typeof a === 'string').map(decodeEscapes);
  // Host and program are what socat reads out of an argument: it only drops
  // quotes and backslashes and decodes C escapes, so they are a subsequence
  // of the escape-decoded argument, never composed. (SOCKET-CONNECT's hex
  // socket address is the one place a host is decoded.)
  const fromHex = argv.some((a) => typeof a === 'string' && /socket-(connect|sendto|datagram)|(^|[^-])(sendto|datagram|dgram):/i.test(a));
  if (c2.host !== null && (c2.host === '' || (!fromHex && !texts.some((a) => isSubsequence(c2.host as string, a))))) p.push(`host ${JSON.stringify(c2.host)} is not in the input`);
  if (c2.program !== null && (c2.program === '' || !texts.some((a) => isSubsequence(c2.program as string, a)))) p.push(`program ${JSON.stringify(c2.program)} is not in the input`);
  if (c2.role === 'relay' && c2.program !== null) p.push('relay with a program');
  return p;
}

const C_ESCAPES: Readonly<Record<string, string>> = { '0': '\0', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** `\c` pairs read left to right, as socat's lexer reads them. */
function decodeEscapes(text: string): string {
  return text.replace(/\\([\s\S])/g, (_m, c: string) => C_ESCAPES[c] ?? c);
}

/** Linear: `needle`'s characters appear in `hay` in order. */
function isSubsequence(needle: string, hay: string): boolean {
  let j = 0;
  for (let i = 0; i < hay.length && j < needle.length; i++) if (hay.charCodeAt(i) === needle.charCodeAt(j)) j++;
  return j === needle.length;
}

function check(argv: readonly unknown[]): void {
  inputs += 1;
  const c2 = guard.timeSync(argv, () => parseSocatArgs(argv as string[]));
  roles[c2.role] = (roles[c2.role] ?? 0) + 1;
  const problems = problemsOf(argv, c2);
  if (JSON.stringify(parseSocatArgs(argv as string[])) !== JSON.stringify(c2)) problems.push('not deterministic');
  if (problems.length > 0) throw new Error(`${problems.join('; ')} for ${JSON.stringify(argv).slice(0, 500)}`);
}

/** Character edits on random elements of a real command line; elements may also be dropped or duplicated. */
const mutatedArgv: fc.Arbitrary<string[]> = fc
  .tuple(
    fc.constantFrom(...CORPUS),
    fc.array(fc.record({ which: fc.nat(), at: fc.nat(), op: fc.constantFrom('insert', 'delete', 'replace', 'dropArg', 'dupArg'), ch: fc.oneof(hostileChar, fc.constantFrom(':', ',', '!', '[', ']', "'", '"', '\\', '-')) }), { minLength: 1, maxLength: 6 }),
  )
  .map(([base, edits]) => {
    const argv = [...base];
    for (const e of edits) {
      if (argv.length === 0) break;
      const i = e.which % argv.length;
      const a = argv[i] as string;
      const at = e.at % (a.length + 1);
      if (e.op === 'dropArg') argv.splice(i, 1);
      else if (e.op === 'dupArg') argv.splice(i, 0, a);
      else argv[i] = e.op === 'insert' ? a.slice(0, at) + e.ch + a.slice(at) : e.op === 'delete' ? a.slice(0, at) + a.slice(at + 1) : a.slice(0, at) + e.ch + a.slice(at + 1);
    }
    return argv;
  });

const runs = (numRuns: number) => seeded(SEED + numRuns, numRuns);

describe('fuzzing parseSocatArgs', () => {
  it('stays total and truthful on argv built from socat grammar with hostile pieces', () => {
    fc.assert(fc.property(socatArgv, (argv) => check(argv)), runs(6000));
  });

  it('stays total on real command lines mutated character by character', () => {
    fc.assert(fc.property(mutatedArgv, (argv) => check(argv)), runs(3000));
  });

  it('stays total on arbitrary strings', () => {
    fc.assert(fc.property(fc.array(fc.oneof(hostileString(30), fc.string({ unit: 'binary', maxLength: 30 })), { maxLength: 6 }), (argv) => check(argv)), runs(2500));
  });

  it('answers unknown for argv that is not an array of strings (untrusted JSON)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything({ maxDepth: 2 }), fc.array(fc.anything({ maxDepth: 1 }), { minLength: 1, maxLength: 4 }).filter((a) => a.some((x) => typeof x !== 'string'))), (value) => {
        inputs += 1;
        const c2 = guard.timeSync(value, () => parseSocatArgs(value as string[]));
        expect(c2.role).toBe('unknown');
        expect(c2.host).toBeNull();
      }),
      runs(500),
    );
  });

  it('stays linear on 100k–1 MiB runs of the characters the tokenizer cares about', () => {
    const piece = fc.constantFrom('[', '(', '{', '"', "'", '\\', ',', ':', '!!', '!', '-', 'TCP:', 'EXEC:', '[::', '\u202e', 'a');
    fc.assert(
      fc.property(piece, fc.integer({ min: 100_000, max: 1 << 20 }), fc.constantFrom(0, 1, 2), (p, n, slot) => {
        const long = slot === 2 ? megabyte(p) : p.repeat(Math.ceil(n / p.length));
        const argv = ['socat', slot === 0 ? `TCP:${long}:4444` : 'TCP:10.0.0.1:4444', slot === 0 ? 'EXEC:sh' : `EXEC:${long}`];
        check(argv);
      }),
      runs(50),
    );
  });

  it('tried at least 10,000 inputs, none beyond the hang guard', () => {
    expect(inputs).toBeGreaterThanOrEqual(10_000);
    // The generators reach every role, so the role invariants were exercised.
    // (6000 grammar runs: socat refuses an EXEC whose command holds an unquoted ':', which the grammar often writes.)
    for (const role of ['reverse', 'bind', 'relay', 'unknown']) expect(roles[role]).toBeGreaterThan(50);
    expect(guard.maxMs < HANG_GUARD_MS ? 'within the hang guard' : guard.describeWorst()).toBe('within the hang guard');
  });
});

afterAll(() => {
  recordFigures('fuzz-socat', { socatInputs: inputs, socatMaxMs: Math.round(guard.maxMs), ...Object.fromEntries(Object.entries(roles).map(([k, v]) => [`socatRole_${k}`, v])) });
});
