/**
 * Shared by the hostile-input suite (test/hostile): fixed seeds, the hang
 * guard, what "clean" means for text that reaches SCC, people and our logs,
 * hostile-string arbitraries, and the figures each file records for the
 * README's Reliability section (dist/hostile-figures/FILE.json).
 */
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CANARY_PAYLOADS } from '../support/recording-shell.js';
import { projectRoot } from '../support/fixtures.js';

/**
 * A hang guard, not a speed assertion: every parser and renderer here is
 * meant to be linear, so a megabyte input takes well under a second even on
 * a loaded machine (1.3 s was the worst seen at a load average of 6), while
 * catastrophic backtracking or quadratic work on it would take minutes.
 */
export const HANG_GUARD_MS = 5_000;

export class HangGuard {
  maxMs = 0;
  totalMs = 0;
  count = 0;
  private worst: unknown = null;

  async time<T>(input: unknown, run: () => T | Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await run();
    } finally {
      this.note(input, performance.now() - started);
    }
  }

  timeSync<T>(input: unknown, run: () => T): T {
    const started = performance.now();
    try {
      return run();
    } finally {
      this.note(input, performance.now() - started);
    }
  }

  private note(input: unknown, ms: number): void {
    this.count += 1;
    this.totalMs += ms;
    if (ms > this.maxMs) {
      this.maxMs = ms;
      this.worst = input;
    }
  }

  /** A short description of the slowest input, for the failure message. */
  describeWorst(): string {
    const text = typeof this.worst === 'string' ? this.worst : JSON.stringify(this.worst) ?? String(this.worst);
    return `${this.maxMs.toFixed(0)} ms for ${JSON.stringify(text.slice(0, 300))}${text.length > 300 ? `… (${text.length} chars)` : ''}`;
  }
}

// ---------------------------------------------------------------------------
// What may reach SCC, people and logs

/**
 * Control (Cc: C0, DEL, C1), format (Cf: bidi controls, zero-width, BOM,
 * soft hyphen, tag characters), line/paragraph separators (Zl, Zp) and lone
 * surrogates (Cs). A newline is allowed where a value is multi-line by design.
 */
// With the u flag a surrogate pair is one code point, so \p{Cs} matches only a lone surrogate (no UTF-8 encoding).
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const FORBIDDEN_EXCEPT_NEWLINE = /(?!\n)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

/** Why `text` is not clean, or null. */
export function uncleanReason(text: string, options: { newlines?: boolean } = {}): string | null {
  const m = (options.newlines ? FORBIDDEN_EXCEPT_NEWLINE : FORBIDDEN).exec(text);
  return m ? `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} at ${m.index}` : null;
}

/** Every string inside a JSON-like value, with its path. */
export function* stringsIn(value: unknown, path = '$'): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value)) for (let i = 0; i < value.length; i++) yield* stringsIn(value[i], `${path}[${i}]`);
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) {
    yield [`${path}.key`, k];
    yield* stringsIn(v, `${path}.${k}`);
  }
}

/** The unclean strings of a value: [path, reason] pairs (empty when clean). */
export function uncleanStrings(value: unknown, options: { newlines?: boolean } = {}): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [path, s] of stringsIn(value)) {
    const why = uncleanReason(s, options);
    if (why !== null) out.push([path, why]);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Hostile text

/** Characters that break shells, terminals, parsers and readers. */
export const HOSTILE_CHARS: readonly string[] = [
  "'", '"', '`', '$', '(', ')', ';', '&', '|', '<', '>', '\\', '!', '*', '?', '[', ']', '{', '}', '~', '#', '=', '%', ',', ':', '/', '-', ' ', '.',
  '\n', '\r', '\t', '\v', '\f', '\0', '\x1b', '\x07', '\x08', '\x7f', '\u0085', '\u009b',
  '\u202e', '\u202d', '\u202a', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c',
  '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u2028', '\u2029', '\u{E0041}', '\u{E007F}',
  '\ud800', '\udc00', '\ufffd', 'a', 'Z', '0', '9', 'é', 'ß', '日', '😀',
];

/** ANSI sequences: colour, cursor movement, OSC window title, hyperlinks, an unterminated CSI. */
export const ANSI_SAMPLES: readonly string[] = [
  '\x1b[31mred\x1b[0m',
  '\x1b[2J\x1b[H',
  '\x1b]0;pwned\x07',
  '\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\',
  '\x1b[1A\x1b[2K',
  '\x1b[',
  '\x9b31m',
];

export const hostileChar = fc.constantFrom(...HOSTILE_CHARS);

/** Short hostile strings of every flavour; `maxLength` bounds the generated part. */
export function hostileString(maxLength = 40): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: hostileChar, maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: Math.min(maxLength, 24) }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: Math.min(maxLength, 12) }) },
    { weight: 1, arbitrary: fc.constantFrom(...CANARY_PAYLOADS, ...ANSI_SAMPLES) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.string({ unit: hostileChar, maxLength: 8 }), fc.constantFrom(...ANSI_SAMPLES, ...CANARY_PAYLOADS), fc.string({ unit: hostileChar, maxLength: 8 }))
        .map(([a, b, c]) => a + b + c),
    },
  );
}

/** Now and then a long run (up to `maxRepeat` copies of a hostile piece): caps and linear-time paths get exercised. */
export function sometimesLong(arb: fc.Arbitrary<string>, maxRepeat = 3000): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 12, arbitrary: arb },
    { weight: 1, arbitrary: fc.tuple(fc.string({ unit: hostileChar, minLength: 1, maxLength: 4 }), fc.integer({ min: 100, max: maxRepeat })).map(([s, n]) => s.repeat(n)) },
  );
}

/** A 1 MiB string made of `piece`. */
export function megabyte(piece: string): string {
  return piece.repeat(Math.ceil((1 << 20) / piece.length)).slice(0, 1 << 20);
}

// ---------------------------------------------------------------------------
// Figures

/** dist (default) or bundle:DIR: where test/hostile/under-test.ts loads the function from. */
export const UNDER_TEST_ENV = 'SCC_TRIAGE_UNDER_TEST';
/** In the bundle's DIR: one line per suite that loaded it. */
export const LOADED_BY_FILE = 'loaded-by.txt';

// A run against the bundle keeps its figures apart: the README's are dist/'s.
const figuresDir = join(projectRoot(), 'dist', (process.env[UNDER_TEST_ENV] ?? 'dist').startsWith('bundle:') ? 'hostile-figures-bundle' : 'hostile-figures');
const recorded = new Map<string, Record<string, number>>();

/** Merges `figures` into dist/hostile-figures/FILE.json (one file per test file, rewritten as figures come in). */
export function recordFigures(file: string, figures: Record<string, number>): void {
  const all = { ...(recorded.get(file) ?? {}), ...figures };
  recorded.set(file, all);
  mkdirSync(figuresDir, { recursive: true });
  writeFileSync(join(figuresDir, `${file}.json`), `${JSON.stringify(all, null, 2)}\n`);
}

// ---------------------------------------------------------------------------
// fast-check parameters

/**
 * Seeded, reproducible runs. On failure the error names the seed and path
 * (rerun with both to replay exactly that input) and the cause, with the
 * counterexample cut short: hostile inputs can be megabytes.
 */
export function seeded(seed: number, numRuns: number): fc.Parameters<unknown> {
  return {
    seed,
    numRuns,
    endOnFailure: true,
    reporter(details) {
      if (!details.failed) return;
      const example = fc.stringify(details.counterexample);
      const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      throw new Error(
        `property failed: seed ${details.seed}, path "${details.counterexamplePath}" (fc.assert(..., { seed: ${details.seed}, path: "${details.counterexamplePath}" }) replays it)\n` +
          `cause: ${cause.slice(0, 4000)}\ncounterexample: ${example.slice(0, 2000)}${example.length > 2000 ? `… (${example.length} chars)` : ''}`,
      );
    },
  };
}
