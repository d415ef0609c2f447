/**
 * Who started the shell: socat's ancestry as far as the finding shows it,
 * followed through parentPid links. Every name and pid is attacker-influenced
 * (argv[0] is free text, pids can repeat or loop), so the walk is bounded and
 * a kind is only a hint for the verdict, never proof.
 *
 * Kinds, by the basename of binary, argv[0] and name (setproctitle titles such
 * as "nginx: worker process" and login shells' "-bash" are reduced to the
 * program name; version suffixes as in python3.11 or php-fpm8.2 are allowed):
 *   socat             socat
 *   shell             sh bash rbash dash ash hush zsh ksh ksh93 mksh pdksh oksh
 *                     loksh yash posh csh tcsh fish pwsh (busybox/toybox when
 *                     the applet is one of these)
 *   web_server        network-facing HTTP servers and proxies: nginx openresty
 *                     httpd apache apache2 lighttpd caddy h2o unitd haproxy
 *                     traefik envoy; application servers: gunicorn uwsgi
 *                     uvicorn hypercorn daphne waitress-serve puma unicorn
 *                     passenger thin; php-fpm and php-cgi (their workers run
 *                     the request's PHP, so a shell under them is the webshell
 *                     pattern); an interpreter running one of the above
 *                     (python -m gunicorn, ruby .../puma); java whose
 *                     arguments mention catalina, tomcat or jetty
 *   interpreter       python pypy perl ruby php node nodejs deno bun java lua
 *                     luajit tclsh dotnet (node and java apps cannot be told
 *                     from other programs by their argv, so they stay here)
 *   container_runtime containerd-shim* containerd runc crun runsc* conmon
 *                     dockerd crio youki
 *   init              tini tini-static docker-init dumb-init catatonit init
 *                     systemd pause s6-svscan s6-supervise runsvdir runsv
 *                     supervisord (also when run by an interpreter)
 *   other             anything else
 * When the names disagree the most telling kind wins, in the order above
 * (socat, shell, web_server, container_runtime, init, interpreter, other):
 * python3 running gunicorn is a web server, bash exec'd as "socat" is socat.
 */
import type { ProcessInfo } from '../finding/types.js';
import type { Lineage, LineageEntry, ProcessKind } from './types.js';

/** Deeper than any real process tree in a container; bounds hostile input. */
export const MAX_LINEAGE_DEPTH = 32;
/** The summary keeps the processes nearest to socat. */
const SUMMARY_MAX_ENTRIES = 6;
const SUMMARY_MAX_NAME = 40;
/** Enough to see an interpreter's script or module; bounds the scan. */
const MAX_ARGS_SCANNED = 16;

const SHELLS = new Set([
  'sh', 'bash', 'rbash', 'dash', 'ash', 'hush', 'zsh', 'ksh', 'ksh93', 'mksh', 'pdksh', 'oksh', 'loksh', 'yash', 'posh',
  'csh', 'tcsh', 'fish', 'pwsh',
]);
const WEB_SERVERS = new Set([
  'nginx', 'openresty', 'httpd', 'apache', 'apache2', 'lighttpd', 'caddy', 'h2o', 'unitd', 'haproxy', 'traefik', 'envoy',
  'gunicorn', 'uwsgi', 'uvicorn', 'hypercorn', 'daphne', 'waitress-serve', 'puma', 'unicorn', 'passenger', 'thin',
]);
const CONTAINER_RUNTIMES = new Set(['containerd', 'runc', 'crun', 'conmon', 'dockerd', 'crio', 'youki']);
const INITS = new Set([
  'tini', 'tini-static', 'docker-init', 'dumb-init', 'catatonit', 'init', 'systemd', 'pause', 's6-svscan', 's6-supervise',
  'runsvdir', 'runsv', 'supervisord',
]);
const MULTI_CALL = new Set(['busybox', 'toybox']);

const SOCAT = /^socat(\d+(\.\d+)*)?$/;
const PHP_WORKER = /^php(\d+(\.\d+)*)?-(fpm|cgi)(\d+(\.\d+)*)?$/;
const INTERPRETER = /^(python|pypy|perl|ruby|php|lua|tclsh)(\d+(\.\d+)*)?$|^(node|nodejs|deno|bun|java|luajit|dotnet)$/;
const CONTAINER_RUNTIME = /^(docker-)?containerd-shim|^runsc/;
const JAVA_WEB_SERVER = /catalina|tomcat|jetty/i;

const PRIORITY: readonly ProcessKind[] = ['socat', 'shell', 'web_server', 'container_runtime', 'init', 'interpreter', 'other'];

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * The program name an argv[0] or process name stands for. A binary path is
 * taken whole (a directory may contain spaces); argv[0] and names are cut at
 * the first blank because setproctitle appends a description there.
 */
function programKey(text: unknown, isPath: boolean): string | null {
  if (typeof text !== 'string') return null;
  let word = isPath ? basename(text) : basename(text.trim().split(/\s/, 1)[0] ?? '');
  word = word.replace(/^-/, '').replace(/:$/, '').toLowerCase();
  return word === '' ? null : word;
}

/** The kind a program name stands for (a basename, lower-cased; version suffixes allowed). */
export function kindOfName(name: string): ProcessKind {
  if (SOCAT.test(name)) return 'socat';
  if (SHELLS.has(name)) return 'shell';
  if (WEB_SERVERS.has(name) || PHP_WORKER.test(name)) return 'web_server';
  if (CONTAINER_RUNTIMES.has(name) || CONTAINER_RUNTIME.test(name)) return 'container_runtime';
  if (INITS.has(name)) return 'init';
  if (INTERPRETER.test(name)) return 'interpreter';
  return 'other';
}

function mostTelling(kinds: Iterable<ProcessKind>): ProcessKind {
  let best = PRIORITY.length - 1;
  for (const kind of kinds) best = Math.min(best, PRIORITY.indexOf(kind));
  return PRIORITY[best] ?? 'other';
}

function argsOf(p: ProcessInfo): string[] {
  return Array.isArray(p.args) ? p.args.filter((a): a is string => typeof a === 'string') : [];
}

/** The one init commonly run as an interpreted script (python3 /usr/bin/supervisord). */
const INTERPRETED_INIT = 'supervisord';

/** What an interpreter runs, judged by its script or module argument. */
function interpretedKind(interpreter: string, args: readonly string[]): ProcessKind {
  const scanned = args.slice(1, MAX_ARGS_SCANNED);
  if (interpreter === 'java') return scanned.some((a) => JAVA_WEB_SERVER.test(a)) ? 'web_server' : 'interpreter';
  // `python -m gunicorn.app.wsgiapp` names the package before the first dot.
  // Generic names such as init.py must not count, hence the narrow lists.
  const keys = scanned.map((a) => programKey(a, true)?.split('.', 1)[0] ?? '');
  if (keys.some((k) => WEB_SERVERS.has(k))) return 'web_server';
  if (keys.includes(INTERPRETED_INIT)) return 'init';
  return 'interpreter';
}

export function processKind(p: ProcessInfo): ProcessKind {
  const args = argsOf(p);
  const names = [programKey(p.binary, true), programKey(args[0], false), programKey(p.name, false)].filter(
    (n): n is string => n !== null,
  );
  // `busybox sh -c ...`: a multi-call binary run as itself takes the applet from argv[1].
  if (MULTI_CALL.has(programKey(args[0], false) ?? '')) {
    const applet = programKey(args[1], false);
    if (applet !== null) names.push(applet);
  }
  const kinds = names.map((n) => {
    const kind = kindOfName(n);
    return kind === 'interpreter' ? interpretedKind(n, args) : kind;
  });
  return mostTelling(kinds);
}

function validPid(pid: unknown): pid is number {
  return typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 0;
}

function toEntry(p: ProcessInfo): LineageEntry {
  return {
    pid: validPid(p.pid) ? p.pid : null,
    parentPid: validPid(p.parentPid) ? p.parentPid : null,
    name: typeof p.name === 'string' ? p.name : null,
    binary: typeof p.binary === 'string' ? p.binary : null,
    args: argsOf(p),
    kind: processKind(p),
  };
}

function displayName(entry: LineageEntry): string {
  const fromBinary = entry.binary !== null ? basename(entry.binary) : '';
  // "nginx: master process" is shown as nginx.
  const fromArgv0 = entry.args[0] !== undefined ? basename(entry.args[0].trim().split(/\s/, 1)[0] ?? '').replace(/:$/, '') : '';
  const fromName = entry.name?.trim() ?? '';
  const raw = fromBinary || fromArgv0 || fromName;
  if (raw === '') return entry.pid !== null ? `pid ${entry.pid}` : '?';
  return raw.length > SUMMARY_MAX_NAME ? raw.slice(0, SUMMARY_MAX_NAME - 1) + '…' : raw;
}

/** The kind is shown only where the shown name alone would not tell it ("java (web_server)"). */
function label(entry: LineageEntry): string {
  const name = displayName(entry);
  const nameKind = kindOfName(programKey(name, true) ?? '');
  return nameKind === entry.kind ? name : `${name} (${entry.kind})`;
}

function summarize(chain: readonly LineageEntry[]): string {
  const labels = chain.map(label);
  if (labels.length <= SUMMARY_MAX_ENTRIES) return labels.join(' → ');
  return ['…', ...labels.slice(-SUMMARY_MAX_ENTRIES)].join(' → ');
}

export function buildLineage(processes: ProcessInfo[], socat: ProcessInfo | null): Lineage {
  if (socat === null || typeof socat !== 'object') return { chain: [], startedBy: null, summary: '' };
  const candidates = Array.isArray(processes) ? processes.filter((p) => p !== null && typeof p === 'object') : [];

  // Nearest first. Visited objects keep a repeated entry from being its own
  // parent; visited pids stop loops between distinct entries (A→B→A).
  const ancestry: ProcessInfo[] = [socat];
  const visited = new Set<ProcessInfo>([socat]);
  const seenPids = new Set<number>();
  if (validPid(socat.pid)) seenPids.add(socat.pid);

  let current = socat;
  while (ancestry.length < MAX_LINEAGE_DEPTH) {
    const parentPid = current.parentPid;
    if (!validPid(parentPid) || seenPids.has(parentPid)) break;
    // Same pid twice (e.g. a shell and what it exec'd): the first listed wins.
    const parent = candidates.find((p) => !visited.has(p) && p.pid === parentPid);
    if (parent === undefined) break;
    ancestry.push(parent);
    visited.add(parent);
    seenPids.add(parentPid);
    current = parent;
  }

  const chain = ancestry.reverse().map(toEntry);
  const parent = chain.length >= 2 ? chain[chain.length - 2] : undefined;
  return { chain, startedBy: parent?.kind ?? null, summary: summarize(chain) };
}
