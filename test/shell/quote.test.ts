import fc from 'fast-check';
import { argvRepresentable, isArgvRepresentable, shellJoin, shellQuote } from '../../lib/shell/quote.js';
import { CANARY_PAYLOADS, MAX_COMMAND_BYTES, runWithStandIns } from '../support/recording-shell.js';

/** What must never appear raw in a printed command. */
const RAW_UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/**
 * Quotes every value, passes all of them to one stand-in in as few bash runs
 * as the command-size limit allows, and returns what that stand-in received.
 * Word count equality is itself an assertion: each quoted value must stay one word.
 */
async function throughBash(values: readonly string[], env?: Record<string, string>): Promise<Buffer[]> {
  const received: Buffer[] = [];
  const budget = MAX_COMMAND_BYTES - 4096;
  let batch: string[] = [];
  let bytes = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const result = await runWithStandIns(`record ${batch.join(' ')}`, { programs: ['record'], ...(env ? { env } : {}) });
    expect(result.canaryFiles).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.invocations).toHaveLength(1);
    received.push(...result.invocations[0]!.rawArgv);
    batch = [];
    bytes = 0;
  };
  for (const v of values) {
    const word = shellQuote(v);
    const size = Buffer.byteLength(word) + 1;
    if (bytes + size > budget) await flush();
    batch.push(word);
    bytes += size;
  }
  await flush();
  expect(received).toHaveLength(values.length);
  return received;
}

interface Mismatch {
  value: string;
  quoted: string;
  got: string;
}

function mismatches(values: readonly string[], received: readonly Buffer[]): Mismatch[] {
  const bad: Mismatch[] = [];
  values.forEach((v, i) => {
    const expected = Buffer.from(argvRepresentable(v), 'utf8');
    const got = received[i]!;
    if (!got.equals(expected)) bad.push({ value: JSON.stringify(v), quoted: JSON.stringify(shellQuote(v)), got: got.toString('hex') });
  });
  return bad;
}

const HOSTILE: ReadonlyArray<[name: string, value: string]> = [
  ['space', 'a b'],
  ['single quote', "it's"],
  ['only single quotes', "'''"],
  ['double quote', 'say "hi"'],
  ['backtick', '`id`'],
  ['command substitution', '$(id)'],
  ['parameter expansion', '${HOME}'],
  ['arithmetic', '$((1+1))'],
  ['semicolon', 'a;b'],
  ['pipe', 'a|b'],
  ['ampersand', 'a&b'],
  ['redirections', 'a>b<c'],
  ['globs', '*?[a-z]'],
  ['brace expansion', '{a,b}'],
  ['tilde', '~'],
  ['tilde user', '~root/x'],
  ['bang', '!!'],
  ['hash', '#comment'],
  ['backslash', 'a\\b\\'],
  ['backslash-quote', "\\'"],
  ['newline', 'a\nb'],
  ['carriage return', 'a\rb'],
  ['tab', 'a\tb'],
  ['trailing newline', 'x\n'],
  ['ANSI color', '\x1b[31mred\x1b[0m'],
  ['OSC title', '\x1b]0;owned\x07'],
  ['escape followed by hex digits', '\x1bab12'],
  ['DEL', 'a\x7fb'],
  ['C1 CSI and NEL', 'a\u009b31m\u0085b'],
  ['all C0', Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join('')],
  ['bidi RLO', 'abc\u202Etxt.exe'],
  ['bidi isolates', '\u2066a\u2067b\u2068c\u2069'],
  ['bidi marks', '\u200E\u200F\u061C'],
  ['bidi override then hex letters', '\u202EFF'],
  ['zero-width', 'a\u200Bb\u200Cc\u200Dd\u2060e\uFEFF'],
  ['line/paragraph separator', 'a\u2028b\u2029c'],
  ['soft hyphen and tag char', 'a\u00ADb\u{E0041}'],
  ['emoji', 'socat 🐚🔥'],
  ['emoji ZWJ sequence', '👩‍💻'],
  ['non-BMP plain', '𝔰𝔬𝔠𝔞𝔱'],
  ['U+FFFD itself', '\uFFFD'],
  ['leading dash', '-rf'],
  ['leading double dash', '--namespace=x'],
  ['empty', ''],
  ['only spaces', '   '],
  ['equals', 'a=b'],
  ['percent', '%1'],
  ['long plain', 'a'.repeat(50_000)],
  ['long hostile', "'$(x)\n\u202E".repeat(5_000)],
  ...CANARY_PAYLOADS.map((p, i): [string, string] => [`canary payload ${i}`, p]),
];

describe('shellQuote', () => {
  it('round-trips every hostile value exactly through bash', async () => {
    const values = HOSTILE.map(([, v]) => v);
    expect(mismatches(values, await throughBash(values))).toEqual([]);
  });

  it.each(HOSTILE)('%s: printed form has no raw control, bidi or invisible characters', (_name, value) => {
    expect(shellQuote(value)).not.toMatch(RAW_UNSAFE);
  });

  it('round-trips in a UTF-8 locale too (quoting does not depend on the locale)', async () => {
    const values = HOSTILE.map(([, v]) => v);
    expect(mismatches(values, await throughBash(values, { LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' }))).toEqual([]);
  });

  it.each([
    ['safe word', 'abc', 'abc'],
    ['path', '/usr/bin/socat', '/usr/bin/socat'],
    ['all safe punctuation', 'user@host:1.2,3+4=5%', 'user@host:1.2,3+4=5%'],
    ['leading dash (bare: a shell issue it is not)', '-leading-dash', '-leading-dash'],
    ['empty', '', "''"],
    ['space', 'a b', "'a b'"],
    ['single quote', "it's", "'it'\\''s'"],
    ['newline', 'a\nb', "$'a\\nb'"],
    ['tab', 'a\tb', "$'a\\tb'"],
    ['newline, quote, backslash', "a\n'\\", "$'a\\n\\'\\\\'"],
    ['ESC', '\x1b[0m', "$'\\x1b[0m'"],
    ['DEL', '\x7f', "$'\\x7f'"],
    ['C1 NEL as UTF-8 bytes', '\u0085', "$'\\xc2\\x85'"],
    ['RLO as UTF-8 bytes', '\u202E', "$'\\xe2\\x80\\xae'"],
    ['zero-width space, dollar literal', '\u200B$x', "$'\\xe2\\x80\\x8b$x'"],
  ])('quotes %s', async (_name, value, quoted) => {
    expect(shellQuote(value)).toBe(quoted);
    const [got] = await throughBash([value]);
    expect(got?.toString('utf8')).toBe(value);
  });

  it('needs byte escapes: bash expands \\uXXXX only in a UTF-8 locale', async () => {
    // The reason ansiCQuote never emits \u: in the C locale the "escape"
    // survives as six literal characters.
    const c = await runWithStandIns("record $'\\u202e'", { programs: ['record'] });
    expect(c.invocations[0]?.argv).toEqual(['\\u202E']);
    const ours = await runWithStandIns(`record ${shellQuote('\u202e')}`, { programs: ['record'] });
    expect(ours.invocations[0]?.argv).toEqual(['\u202e']);
  });

  it('strips NUL, which no argv entry can carry', async () => {
    expect(shellQuote('a\0b')).toBe('ab');
    expect(shellQuote('\0')).toBe("''");
    expect(isArgvRepresentable('a\0b')).toBe(false);
    const [got] = await throughBash(['\0x\0y\0']);
    expect(got?.toString('utf8')).toBe('xy');
  });

  it('writes a lone surrogate as U+FFFD, the bytes Node would pass anyway', async () => {
    expect(argvRepresentable('a\uD800b\uDC00')).toBe('a\uFFFDb\uFFFD');
    expect(isArgvRepresentable('a\uD800b')).toBe(false);
    expect(isArgvRepresentable('😀')).toBe(true);
    const [got] = await throughBash(['a\uD800b']);
    expect(got?.toString('utf8')).toBe('a\uFFFDb');
  });

  it('survives pasting into an interactive bash with history expansion on', async () => {
    const values = ['!!', 'a!!b', "it's!!", '!$', '!-1', 'x\n!!', "\n'!!", '\\!!'];
    const script = ['set -H', 'true', ...values.map((v) => `record ${shellQuote(v)}`), 'exit 0', ''].join('\n');
    const result = await runWithStandIns('bash --norc -i', { programs: ['record'], stdin: script });
    expect(result.canaryFiles).toEqual([]);
    expect(result.invocations.map((i) => i.argv)).toEqual(values.map((v) => [v]));
  });

  it('keeps round-tripping on thousands of random hostile strings (seeded)', async () => {
    const alphabet = [
      ...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)),
      ...` !"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~aZ09`,
      '\x7f', '\u0080', '\u0085', '\u009b', '\u009f', '\u00a0', '\u00ad',
      '\u061c', '\u200b', '\u200c', '\u200d', '\u200e', '\u200f', '\u2028', '\u2029',
      '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2060', '\u2066', '\u2067', '\u2068', '\u2069',
      '\ufeff', '\ufffd', '\ud800', '\udfff', 'é', '中', '😀', '\u{e0041}', 'x', 'f', 'F',
    ];
    const hostileString = fc.oneof(
      fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 30 }),
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.string({ unit: 'grapheme', maxLength: 8 }),
    );
    const values = fc.sample(hostileString, { seed: 0x5ca7, numRuns: 4000 });
    const received = await throughBash(values);
    expect(mismatches(values, received)).toEqual([]);
    expect(values.filter((v) => RAW_UNSAFE.test(shellQuote(v)))).toEqual([]);
    // Not vacuous: the sample exercises all three quoting forms.
    const forms = values.map((v) => shellQuote(v)).map((q) => (q.startsWith("$'") ? 'ansi-c' : q.startsWith("'") ? 'single' : 'bare'));
    for (const form of ['ansi-c', 'single', 'bare']) expect(forms.filter((f) => f === form).length).toBeGreaterThan(50);
  });
});

describe('shellJoin', () => {
  it('passes argv through bash unchanged', async () => {
    const argv = ['record', 'plain', '', 'two words', "'", '$(touch $CANARY_DIR/pwned)', '\n', '\u202E'];
    const result = await runWithStandIns(shellJoin(argv), { programs: ['record'] });
    expect(result.canaryFiles).toEqual([]);
    expect(result.invocations).toEqual([{ program: 'record', argv: argv.slice(1), rawArgv: argv.slice(1).map((a) => Buffer.from(a)) }]);
  });

  it.each([
    ['A=1', "'A=1'"],
    ['if', "'if'"],
    ['while', "'while'"],
  ])('quotes command word %s so bash runs it as a command (not an assignment or keyword)', async (word, quoted) => {
    const joined = shellJoin([word, 'arg']);
    expect(joined).toBe(`${quoted} arg`);
    const result = await runWithStandIns(joined, { programs: [] });
    expect(result.exitCode).toBe(127);
    expect(result.stderr).toContain(`${word}: command not found`);
  });

  it('leaves assignment-like words bare after the command word', () => {
    expect(shellJoin(['kubectl', '--namespace=a', 'x=y'])).toBe('kubectl --namespace=a x=y');
  });
});
