/**
 * Secret redaction against a corpus of realistic FAKE secrets
 * (test/fixtures/secrets): each secret must be gone, the text around it must
 * survive, and ordinary log lines must come through unchanged.
 */
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SECRET_KINDS, redactSecrets, type SecretKind } from '../lib/redact.js';
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
      if (kind === 'private-key') continue; // the .pem and service-account fixtures
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
