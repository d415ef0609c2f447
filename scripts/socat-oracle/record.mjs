#!/usr/bin/env node
/**
 * Records what real socat does with every argv of test/fixtures/socat/corpus.json
 * into test/fixtures/socat/recorded.json:
 *   node scripts/socat-oracle/record.mjs            (needs root, socat, unshare)
 *
 * Each case runs twice, as given and with its two addresses swapped (socat
 * opens its first address first and stops at the first failure, so the swap
 * lets the second address show what it does too), each time as
 *   timeout 3 unshare -n -m -p -f --kill-child … socat -d -d -d -d ARGS </dev/null
 * with argv[0] set to the corpus' own (`exec -a`):
 *  - -n: an empty network namespace (only a down loopback), so nothing leaves
 *    the machine; socat still logs the address it tries before the connect fails;
 *  - -m with a tmpfs on /tmp and the working directory there: files the
 *    addresses create (UNIX sockets, logs) vanish with the namespace;
 *  - -p -f --kill-child: programs socat starts (EXEC/SYSTEM) die with it.
 * Four -d (one more than the usual three) for socat's debug lines, which carry
 * the execvp() argv and the system() string before the program runs.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpus = JSON.parse(readFileSync(join(root, 'test/fixtures/socat/corpus.json'), 'utf8'));

// Logs that -lf sends to a file (wherever in the tmpfs) are appended to stderr.
const INNER = 'mount -t tmpfs tmpfs /tmp && cd /tmp || exit 97; (exec -a "$0" socat -d -d -d -d "$@" </dev/null); rc=$?; find /tmp -type f -exec cat {} + >&2 2>/dev/null; exit $rc';

function run(argv0, args) {
  const r = spawnSync('timeout', ['3', 'unshare', '-n', '-m', '-p', '-f', '--kill-child', 'bash', '-c', INNER, argv0, ...args], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  return { exit: r.status, log: r.stderr, stdout: r.stdout };
}

/** socat prints IPv6 addresses fully expanded in brackets; keep its text, the tests compare canonically. */
function endpoint(text) {
  let m = /^AF=(\d+) \[([0-9a-fA-F:]+)\]:(\d+)$/.exec(text) ?? /^AF=(\d+) ([0-9.]+):(\d+)$/.exec(text);
  if (m) return { af: Number(m[1]), host: m[2], port: Number(m[3]) };
  m = /^AF=1 "(.*)"$/.exec(text);
  if (m) return { af: 1, path: m[1] };
  return { raw: text };
}

function facts(log) {
  const out = { connects: [], listens: [], via: [], unresolved: [], exec: [], system: [], pty: [], errors: [] };
  for (const line of log.split('\n')) {
    const m = /^\S+ \S+ (?:\S+ )?\S+\[\d+\] ([DINWE]) (.*)$/.exec(line);
    if (!m) continue;
    const [, level, text] = m;
    let x;
    if ((x = /^opening connection to (.+) via (\S+) server (.+?)(?: as user .*)?$/.exec(text))) out.via.push({ target: x[1], kind: x[2], server: x[3] });
    else if ((x = /^opening connection to (AF=.*)$/.exec(text))) out.connects.push(endpoint(x[1]));
    else if ((x = /^listening on (AF=.*)$/.exec(text))) out.listens.push(endpoint(x[1]));
    else if ((x = /^execvp\("(.*)", "(.*)"\)$/.exec(text)) && level === 'D') out.exec.push(x[2].split('" "'));
    else if ((x = /^system\("(.*)"\)$/.exec(text)) && level === 'D') out.system.push(x[1]);
    else if ((x = /^forking off child, using (\S+)/.exec(text))) out.pty.push(x[1] === 'pty');
    if (level === 'E') {
      out.errors.push(text);
      // A socat chained inside EXEC logs only its errors: the failed connect names the address.
      const c = /^connect\(\d*, (AF=\S+ .+?), \d+\): /.exec(text);
      if (c) out.connects.push(endpoint(c[1]));
      const g = /^getaddrinfo\(?"([^"]*)"/.exec(text);
      if (g && /name resolution|not known|No address/.test(text)) out.unresolved.push(g[1]);
    }
  }
  return out;
}

/** Messages with which socat stops before opening anything (xioopen, socat.c). */
const STARTUP_ERRORS = /wrong number of parameters|parameters required|unknown device\/address|unknown option|syntax error|parseopts|not supported with this address|not allowed here|exactly 2 addresses|requires an argument|missing/i;

function record(c) {
  const [argv0, ...args] = c.argv;
  const asGiven = run(argv0, args);
  // socat stops when its first address fails and then ends the program it
  // started, sometimes before the child logged its execvp(): up to 3 tries.
  const wantsProgram = args.some((x) => /(exec|system)/i.test(x));
  let swapped = null;
  let b = null;
  for (let attempt = 0; attempt < 3 && args.length >= 2; attempt++) {
    swapped = run(argv0, [...args.slice(0, -2), args.at(-1), args.at(-2)]);
    b = facts(swapped.log);
    if (!wantsProgram || b.exec.length + b.system.length > 0) break;
  }
  const a = facts(asGiven.log);
  // 1.7.4 parses an address only when it opens it, so the second address's
  // refusal may come after the first one connected (it shows in the swapped run).
  const startup = a.errors.find((e) => STARTUP_ERRORS.test(e)) ?? b?.errors.find((e) => STARTUP_ERRORS.test(e)) ?? null;
  let refused = startup;
  if (refused === null && asGiven.exit === 0 && a.connects.length + a.listens.length + a.exec.length + a.system.length === 0 && asGiven.stdout.trim() !== '') {
    refused = `printed and exited: ${asGiven.stdout.split('\n')[0]}`;
  }
  const merged = {};
  for (const key of Object.keys(a)) merged[key] = dedupe([...a[key], ...(b?.[key] ?? [])]);
  return { id: c.id, argv: c.argv, exit: [asGiven.exit, swapped?.exit ?? null], refused, ...merged };
}

function dedupe(items) {
  const seen = new Set();
  return items.filter((i) => {
    const k = JSON.stringify(i);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const version = execFileSync('socat', ['-V'], { encoding: 'utf8' }).split('\n').find((l) => l.startsWith('socat version'));
const recorded = { socat: version, recordedWith: 'timeout 3 unshare -n -m -p -f --kill-child socat -d -d -d -d ARGS (and with the two addresses swapped)', cases: corpus.cases.map(record) };
writeFileSync(join(root, 'test/fixtures/socat/recorded.json'), `${JSON.stringify(recorded, null, 1)}\n`);
process.stdout.write(`recorded ${recorded.cases.length} cases with ${version}\n`);
