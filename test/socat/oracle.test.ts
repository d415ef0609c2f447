/**
 * The parser against real socat: every case of test/fixtures/socat/corpus.json
 * as recorded from socat's own debug log by scripts/socat-oracle/record.mjs
 * (recorded.json). Where socat refuses an argv the parser must say so; where
 * it accepts one, every address socat opened, the program it ran and the pty
 * must be what the parser reports. The cases where they still differ are
 * listed in KNOWN (and in README.md, "socat as the oracle"), and must keep
 * differing, so the list stays true.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import ipaddr from 'ipaddr.js';
import type { C2Endpoint } from '../../lib/report/types.js';
import { parseSocatArgs } from '../../lib/socat/args.js';
import { splitExecCommand } from '../../lib/socat/scan.js';
import { SOCAT_OPTION_NAMES, SOCAT_TABLE_VERSION, TCP_SERVICES } from '../../lib/socat/tables.js';
import { loadJson } from '../support/fixtures.js';

interface Endpoint { af?: number; host?: string; port?: number; path?: string; raw?: string }
interface Recorded {
  id: string;
  argv: string[];
  exit: [number | null, number | null];
  refused: string | null;
  connects: Endpoint[];
  listens: Endpoint[];
  via: Array<{ target: string; kind: string; server: string }>;
  unresolved: string[];
  exec: string[][];
  system: string[];
  pty: boolean[];
  errors: string[];
}

const recorded = loadJson<{ socat: string; cases: Recorded[] }>('test/fixtures/socat/recorded.json');
const corpus = loadJson<{ cases: Array<{ id: string; source: string; argv: string[] }> }>('test/fixtures/socat/corpus.json');

/** Cases where the parser and socat 1.7.4 differ on purpose; README.md lists them with the same reasons. */
const KNOWN: Readonly<Record<string, string>> = {
  'proxy-socks5-18': 'SOCKS5 is a socat 1.8 address; 1.7.4 does not know it, the finding may come from 1.8',
  'proxy-socks4-18-port-param': "socat 1.8's proxy:proxy-port:host:port form; 1.7.4 wants exactly 3 parameters",
  'refuse-statistics-17': '--statistics is a socat 1.8 option',
  'refuse-pty-on-tcp': 'option groups (which option fits which address type) are not modelled: the option name is known',
  'bind-man-system-filan': "option-phase rules (nofork is not allowed with a listener's fork) are not modelled",
};

function canonical(host: string): string | null {
  if (host.length > 64 || !ipaddr.isValid(host)) return null;
  const a = ipaddr.process(host);
  return a.toNormalizedString();
}

function isIp(host: string | null): boolean {
  return host !== null && canonical(host) !== null;
}

/** Every way the parser's answer differs from what socat did. */
function disagreements(rec: Recorded, c2: C2Endpoint): string[] {
  const out: string[] = [];
  if (rec.refused !== null) {
    if (c2.refused === null || c2.role !== 'unknown') out.push(`socat refused (${rec.refused}), the parser did not`);
    return out;
  }
  if (c2.refused !== null && c2.refused !== undefined) {
    out.push(`the parser refused (${c2.refused}), socat did not`);
    return out;
  }
  const peers = c2.peers ?? [];
  const samePort = (a: number | undefined, b: number | null): boolean => a === b;
  const sameHost = (recHost: string | undefined, parsed: string | null): boolean =>
    recHost !== undefined && parsed !== null && (!isIp(parsed) || canonical(recHost) === canonical(parsed));
  for (const c of rec.connects) {
    if (c.af === 1) {
      const path = c.path?.replace(/^\\0/, '@');
      if (c2.socket !== path) out.push(`socat connected to UNIX ${c.path}, the parser names ${String(c2.socket)}`);
      continue;
    }
    const ok = peers.some((p) => (p.direction === 'connect' && sameHost(c.host, p.host) && samePort(c.port, p.port)) || (p.hop !== null && sameHost(c.host, p.hop.host) && samePort(c.port, p.hop.port)));
    if (!ok) out.push(`socat connected to ${c.host}:${c.port}, not among the parser's peers ${JSON.stringify(peers)}`);
  }
  for (const l of rec.listens) {
    if (l.af === 1) {
      if (c2.socket !== l.path) out.push(`socat listened on UNIX ${l.path}, the parser names ${String(c2.socket)}`);
      continue;
    }
    if (!peers.some((p) => p.direction === 'listen' && p.port === l.port)) out.push(`socat listened on port ${l.port}, the parser did not say so`);
  }
  for (const v of rec.via) {
    const target = `${c2.host}:${c2.port}`;
    if (v.target !== target) out.push(`socat asked the proxy for ${v.target}, the parser's target is ${target}`);
    if (`${c2.hop?.host}:${c2.hop?.port}` !== v.server) out.push(`socat's proxy is ${v.server}, the parser's hop is ${JSON.stringify(c2.hop)}`);
  }
  const programs = rec.exec.length + rec.system.length;
  if (programs > 0 && c2.program === null && !(c2.note ?? '').includes('chain')) out.push('socat ran a program, the parser names none');
  if (c2.program !== null) {
    const argv = splitExecCommand(c2.program);
    const asExec = rec.exec.some((e) => JSON.stringify(e) === JSON.stringify(argv));
    const asSystem = rec.system.includes(c2.program);
    if (programs > 0 && !asExec && !asSystem) out.push(`socat ran ${JSON.stringify([...rec.exec, ...rec.system])}, the parser says ${JSON.stringify(c2.program)}`);
    if (rec.pty.length > 0 && !rec.pty.includes(c2.pty)) out.push(`socat's pty was ${rec.pty.join('/')}, the parser says ${c2.pty}`);
  }
  return out;
}

describe('the parser against real socat (recorded.json)', () => {
  it('has a corpus of at least 80 invocations, each with its source, all recorded', () => {
    expect(corpus.cases.length).toBeGreaterThanOrEqual(80);
    expect(corpus.cases.every((c) => c.source.length > 0)).toBe(true);
    expect(recorded.cases.map((c) => c.id)).toEqual(corpus.cases.map((c) => c.id));
    expect(recorded.cases.map((c) => c.argv)).toEqual(corpus.cases.map((c) => c.argv));
    expect(recorded.socat).toMatch(/^socat version 1\.7\.4/);
  });

  it('recorded something for most cases (the recording itself worked)', () => {
    const seen = recorded.cases.filter((c) => c.refused !== null || c.connects.length + c.listens.length + c.exec.length + c.system.length > 0);
    expect(seen.length).toBeGreaterThanOrEqual(80);
  });

  it.each(recorded.cases.filter((c) => KNOWN[c.id] === undefined).map((c) => [c.id, c] as const))('%s: agrees with socat', (_id, rec) => {
    expect(disagreements(rec, parseSocatArgs(rec.argv))).toEqual([]);
  });

  it.each(Object.entries(KNOWN))('%s: still differs (%s)', (id) => {
    const rec = recorded.cases.find((c) => c.id === id);
    expect(rec).toBeDefined();
    expect(disagreements(rec as Recorded, parseSocatArgs((rec as Recorded).argv)).length).toBeGreaterThan(0);
  });

  it('README.md lists every known disagreement', () => {
    const readme = readFileSync('README.md', 'utf8');
    for (const id of Object.keys(KNOWN)) expect(readme).toContain(`\`${id}\``);
  });
});

function installed(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('lib/socat/tables.ts against its sources', () => {
  // .ci/run installs socat; on a machine without it this fails with the reason rather than passing.
  it('socat is installed, so its option table can be checked', () => {
    expect(installed('socat') ? 'socat found' : 'socat is not installed: apt-get install -y socat (.ci/run does)').toBe('socat found');
  });

  it('option names are those of the installed socat, the version recorded', () => {
    if (!installed('socat')) throw new Error('socat is not installed: apt-get install -y socat (.ci/run does)');
    const version = /socat version (\S+)/.exec(execFileSync('socat', ['-V'], { encoding: 'utf8' }))?.[1];
    const help = execFileSync('socat', ['-hhh'], { encoding: 'utf8' });
    const names = help.slice(help.indexOf('\n   opt:\n')).split('\n').slice(2).map((l) => l.trim().split(/\s+/)[0] ?? '').filter((w) => /^[a-z0-9][a-z0-9_-]*$/.test(w));
    // Another socat version means: re-run scripts/socat-oracle/tables.mjs and record.mjs.
    expect(version).toBe(SOCAT_TABLE_VERSION);
    expect(new Set(names)).toEqual(new Set(SOCAT_OPTION_NAMES));
  });

  it('service names are those of the services database', () => {
    expect(TCP_SERVICES.get('www')).toBe(80);
    expect(TCP_SERVICES.get('https')).toBe(443);
    expect(TCP_SERVICES.get('ssh')).toBe(22);
  });
});
