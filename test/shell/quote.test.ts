import fc from 'fast-check';
import { viewFromReport } from '../../lib/cli/view.js';
import { isPortableCommandText, isShellWritable, shellJoin, shellQuote, UnwritableValueError } from '../../lib/shell/quote.js';
import { CANARY_PAYLOADS, MAX_COMMAND_BYTES, missingShells, runWithStandIns, shellAvailable, SHELLS, type ShellSpec } from '../support/recording-shell.js';

/** What must never appear raw in a printed command. */
const RAW_UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;

const PRESENT = SHELLS.filter(shellAvailable);

/**
 * Quotes every value, passes all of them to one stand-in in as few runs of
 * `shell` as the command-size limit allows, and returns what that stand-in
 * received. Word count equality is itself an assertion: each quoted value
 * must stay one word.
 */
async function throughShell(shell: ShellSpec, values: readonly string[], env?: Record<string, string>): Promise<Buffer[]> {
  const received: Buffer[] = [];
  const budget = MAX_COMMAND_BYTES - 4096;
  let batch: string[] = [];
  let bytes = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const result = await runWithStandIns(`record ${batch.join(' ')}`, { programs: ['record'], shell, ...(env ? { env } : {}) });
    expect([shell.name, result.canaryFiles, result.exitCode, result.stderr]).toEqual([shell.name, [], 0, '']);
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
  shell: string;
  value: string;
  quoted: string;
  got: string;
}

/** Every value through every installed shell; the values each shell did not give back exactly. */
async function mismatchesEverywhere(values: readonly string[], env?: Record<string, string>): Promise<Mismatch[]> {
  const bad: Mismatch[] = [];
  for (const shell of PRESENT) {
    const received = await throughShell(shell, values, env);
    values.forEach((v, i) => {
      const got = received[i]!;
      if (!got.equals(Buffer.from(v, 'utf8'))) bad.push({ shell: shell.name, value: JSON.stringify(v), quoted: JSON.stringify(shellQuote(v)), got: got.toString('hex') });
    });
  }
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
  ['zsh =cmd', '=kubectl'],
  ['zsh =cmd after =', '--namespace==kubectl'],
  ['zsh =cmd after :', '--target=a:=kubectl'],
  ['zsh extendedglob', '^x#~y'],
  ['ksh glob', '@(a|b)+(c)'],
  ['rcquotes pair', "a''b"],
  ['quick substitution', '^kubectl^rm'],
  ['history word designators', '!:0 !* !#'],
  ['long plain', 'a'.repeat(50_000)],
  ['long hostile', "'$(x)\n\u202E".repeat(5_000)],
  ...CANARY_PAYLOADS.map((p, i): [string, string] => [`canary payload ${i}`, p]),
];

/** The values of HOSTILE a command can carry, and those it must refuse (a control or invisible character, a lone surrogate). */
const WRITABLE = HOSTILE.filter(([, v]) => isShellWritable(v));
const UNWRITABLE = HOSTILE.filter(([, v]) => !isShellWritable(v));

describe('the shells', () => {
  it('are all installed (bash, zsh, dash, busybox sh): a missing one is not checked, so it fails here', () => {
    expect(missingShells()).toEqual([]);
  });
});

describe('shellQuote', () => {
  it('round-trips every writable hostile value exactly through every shell, -c and interactive', async () => {
    expect(WRITABLE.length).toBeGreaterThan(50);
    expect(await mismatchesEverywhere(WRITABLE.map(([, v]) => v))).toEqual([]);
  }, 60_000);

  it('round-trips in a UTF-8 locale too (quoting does not depend on the locale)', async () => {
    expect(await mismatchesEverywhere(WRITABLE.map(([, v]) => v), { LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' })).toEqual([]);
  }, 60_000);

  it.each(WRITABLE)('%s: printed form has no raw control, bidi or invisible characters', (_name, value) => {
    expect(shellQuote(value)).not.toMatch(RAW_UNSAFE);
  });

  it.each(UNWRITABLE)('%s: refused, as no shell command can show it exactly', (_name, value) => {
    expect(() => shellQuote(value)).toThrow(UnwritableValueError);
    expect(() => shellJoin(['kubectl', value])).toThrow(UnwritableValueError);
  });

  it.each([
    ['newline', 'a\nb'],
    ['carriage return', 'a\rb'],
    ['tab (completion when pasted)', 'a\tb'],
    ['ESC', '\x1b[0m'],
    ['DEL', '\x7f'],
    ['C1 NEL', '\u0085'],
    ['RLO', '\u202E'],
    ['zero-width space', '/tmp/.x\u200B'],
    ['word joiner', '\u2060'],
    ['BOM', '\uFEFF'],
    ['line separator', '\u2028'],
    ['Hangul filler (renders blank)', 'a\u3164b'],
    ['variation selector', 'a\uFE0F'],
    ['tag character', 'a\u{E0041}'],
    ['NUL (no argv entry can carry it)', 'a\0b'],
    ['lone surrogate (Node would pass U+FFFD)', 'a\uD800b'],
  ])('%s is not writable, and the error names the code point, not the value', (_name, value) => {
    expect(isShellWritable(value)).toBe(false);
    expect(() => shellQuote(value)).toThrow(/U\+[0-9A-F]{4,} at index \d+$/);
  });

  it.each([
    ['safe word', 'abc', 'abc'],
    ['path', '/usr/bin/socat', '/usr/bin/socat'],
    ['all safe punctuation', 'user@host:1.2,3+4=5%', 'user@host:1.2,3+4=5%'],
    ['leading dash (bare: a shell issue it is not)', '-leading-dash', '-leading-dash'],
    ['flag with value', '--namespace=shop', '--namespace=shop'],
    ['empty', '', "''"],
    ['space', 'a b', "'a b'"],
    ['single quote', "it's", "'it'\\''s'"],
    ['backslash and dollar', '\\$x', "'\\$x'"],
    ['bang', 'a!b', "'a!b'"],
    ['zsh =cmd', '=kubectl', "'=kubectl'"],
    ['zsh =cmd after = (magicequalsubst)', '--namespace==kubectl', "'--namespace==kubectl'"],
    ['zsh =cmd after : (magicequalsubst)', '--target=a:=x', "'--target=a:=x'"],
    ['caret (zsh extendedglob)', 'a^b', "'a^b'"],
    ['hash (zsh extendedglob, comments)', 'a#', "'a#'"],
    ['tilde', 'a~b', "'a~b'"],
    ['non-ASCII letters (visible)', 'café', "'café'"],
  ])('quotes %s', async (_name, value, quoted) => {
    expect(shellQuote(value)).toBe(quoted);
    for (const shell of PRESENT) {
      const [got] = await throughShell(shell, [value]);
      expect([shell.name, got?.toString('utf8')]).toEqual([shell.name, value]);
    }
  });

  it("cannot use bash's $'…': dash runs what follows an escaped quote (why only '…' is used)", async () => {
    // A positive control for the four-shell checks: the form this module used before is caught by them.
    const ansiC = "record $'x\\'; touch $CANARY_DIR/pwned; #'";
    const bash = await runWithStandIns(ansiC, { programs: ['record'] });
    expect([bash.canaryFiles, bash.invocations.map((i) => i.argv)]).toEqual([[], [["x'; touch $CANARY_DIR/pwned; #"]]]);
    const dash = SHELLS.find((s) => s.program === 'dash')!;
    expect(missingShells([dash])).toEqual([]);
    const underDash = await runWithStandIns(ansiC, { programs: ['record'], shell: dash });
    expect(underDash.canaryFiles).toEqual(['pwned']);
    expect(underDash.invocations.map((i) => i.argv)).not.toEqual([["x'; touch $CANARY_DIR/pwned; #"]]);
  });

  it('keeps a bare =word from zsh (a positive control: unquoted, zsh replaces it)', async () => {
    const zsh = SHELLS.find((s) => s.program === 'zsh' && s.mode === 'argument')!;
    expect(missingShells([zsh])).toEqual([]);
    const bare = await runWithStandIns('record =record', { programs: ['record'], shell: zsh });
    expect(bare.invocations[0]?.argv[0]).toMatch(/\/bin\/record$/);
    const quoted = await runWithStandIns(`record ${shellQuote('=record')}`, { programs: ['record'], shell: zsh });
    expect(quoted.invocations[0]?.argv).toEqual(['=record']);
  });

  it('keeps round-tripping on thousands of random hostile strings in every shell (seeded)', async () => {
    const alphabet = [
      ...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)),
      ...` !"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~aZ09`,
      '\x7f', '\u0080', '\u0085', '\u009b', '\u009f', '\u00a0', '\u00ad',
      '\u061c', '\u200b', '\u200c', '\u200d', '\u200e', '\u200f', '\u2028', '\u2029',
      '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2060', '\u2066', '\u2067', '\u2068', '\u2069',
      '\ufeff', '\ufffd', '\ud800', '\udfff', 'é', '中', '😀', '\u{e0041}', 'x', 'f', 'F', '=', '=', ':', '!', '^', '~',
    ];
    const hostileString = fc.oneof(
      fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 30 }),
      fc.string({ unit: fc.constantFrom(...alphabet.filter((c) => isShellWritable(c))), maxLength: 30 }),
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.string({ unit: 'grapheme', maxLength: 8 }),
    );
    const sample = fc.sample(hostileString, { seed: 0x5ca7, numRuns: 4000 });
    const values = sample.filter(isShellWritable);
    const refused = sample.filter((v) => !isShellWritable(v));
    expect(await mismatchesEverywhere(values)).toEqual([]);
    expect(values.filter((v) => RAW_UNSAFE.test(shellQuote(v)))).toEqual([]);
    expect(refused.filter((v) => !RAW_UNSAFE.test(v) && !/[\uD800-\uDFFF]/.test(v))).toEqual([]);
    // Not vacuous: the sample exercises both quoting forms and the refusal.
    const forms = values.map((v) => shellQuote(v)).map((q) => (q.startsWith("'") ? 'single' : 'bare'));
    for (const form of ['single', 'bare']) expect([form, forms.filter((f) => f === form).length > 50]).toEqual([form, true]);
    expect(refused.length).toBeGreaterThan(200);
  }, 120_000);
});

describe('shellJoin', () => {
  it('passes argv through every shell unchanged', async () => {
    const argv = ['record', 'plain', '', 'two words', "'", '$(touch $CANARY_DIR/pwned)', '=record', '--x==record', '!!', 'é'];
    for (const shell of PRESENT) {
      const result = await runWithStandIns(shellJoin(argv), { programs: ['record'], shell });
      expect([shell.name, result.canaryFiles, result.stderr]).toEqual([shell.name, [], '']);
      expect(result.invocations).toEqual([{ program: 'record', argv: argv.slice(1), rawArgv: argv.slice(1).map((a) => Buffer.from(a)), stdin: null }]);
    }
  });

  it.each([
    ['A=1', "'A=1'"],
    ['if', "'if'"],
    ['while', "'while'"],
    ['foreach', "'foreach'"],
  ])('quotes command word %s so every shell runs it as a command (not an assignment or keyword)', async (word, quoted) => {
    const joined = shellJoin([word, 'arg']);
    expect(joined).toBe(`${quoted} arg`);
    for (const shell of PRESENT.filter((s) => s.mode === 'argument')) {
      const result = await runWithStandIns(joined, { programs: [], shell });
      expect([shell.name, result.exitCode]).toEqual([shell.name, 127]);
      expect(result.stderr).toContain(word);
      expect(result.stderr).toMatch(/not found/);
    }
  });

  it("refuses zsh's precommand modifiers as the command word, which act even quoted", async () => {
    expect(() => shellJoin(['noglob', 'arg'])).toThrow(/precommand modifier/);
    expect(() => shellJoin(['nocorrect', 'arg'])).toThrow(/precommand modifier/);
    // Why: quoting does not stop zsh (a positive control of the rule).
    const zsh = SHELLS.find((s) => s.program === 'zsh' && s.mode === 'argument')!;
    expect(missingShells([zsh])).toEqual([]);
    const result = await runWithStandIns("'noglob' record *", { programs: ['record'], shell: zsh });
    expect(result.invocations.map((i) => i.argv)).toEqual([['*']]);
  });

  it('leaves assignment-like words bare after the command word', () => {
    expect(shellJoin(['kubectl', '--namespace=a', 'x=y'])).toBe('kubectl --namespace=a x=y');
  });
});

describe('isPortableCommandText (commands read back from storage before printing)', () => {
  it('accepts what shellJoin writes, with or without a quoted here-document', () => {
    const joined = WRITABLE.map(([, v]) => shellJoin(['kubectl', 'cp', v, `--namespace=${v}`]));
    expect(joined.filter((c) => !isPortableCommandText(c))).toEqual([]);
    expect(isPortableCommandText("kubectl apply -f - <<'EOF'\na: '$(x)'\nEOF")).toBe(true);
  });

  it.each([
    ["bash's $'…' (an older release)", "kubectl cp $'a\\x41' ./x"],
    ['bare =cmd', 'kubectl exec =kubectl'],
    ['bare =cmd after =', 'kubectl exec --namespace==kubectl'],
    ['double quotes', 'kubectl exec "$(id)"'],
    ['two spaces', 'kubectl  exec'],
    ['a second command', 'kubectl exec x; touch y'],
    ['an unterminated here-document', "kubectl apply -f - <<'EOF'\na: 1\n"],
    ['a line break outside a here-document', 'kubectl exec\ntouch y'],
    ['an invisible character inside quotes', "kubectl cp '/tmp/.x\u200b' ./x"],
  ])('refuses %s', (_name, command) => {
    expect(isPortableCommandText(command)).toBe(false);
  });

  it('show withholds a stored command in a form not every shell reads alike, saying so', () => {
    const view = viewFromReport({ status: 'triaged', runbook: { steps: [{ id: 'copy_binary', title: 'Copy', command: "kubectl cp $'/tmp/.x\\xe2\\x80\\x8b\\';touch X;#/socat' ./x", note: null }] } });
    expect(view.runbook).toEqual([{ title: 'Copy', commands: [], notes: [expect.stringMatching(/withheld.*not every shell reads alike/)], disruptive: false }]);
  });
});
