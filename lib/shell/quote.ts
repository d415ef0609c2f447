/**
 * Quoting for commands that a person copies out of a report into bash (Cloud
 * Shell) and that tests run with bash. Every value is attacker-influenced, so
 * the contract is: bash turns `shellQuote(v)` back into exactly `v` (as the
 * UTF-8 bytes Node would pass in argv), and the quoted text contains no raw
 * control, bidi or invisible character that could hide what a reader is about
 * to run.
 *
 * Hand-written rather than `shell-quote` (which is installed): shell-quote has
 * no ANSI-C quoting, so a newline, an ESC sequence or a U+202E in a value
 * would appear raw in the command shown to a person — a terminal would act on
 * it or a bidi override would reorder what the reader sees.
 *
 * Every rule below is checked against real bash in test/shell/quote.test.ts.
 */

/**
 * Bytes bash never treats specially inside a word, in any position of an
 * argument. '-' is included on purpose: a leading '-' means nothing to bash,
 * and quoting would not stop the called program from reading it as a flag —
 * flag injection is handled where commands are built (lib/report/commands.ts).
 */
const BARE_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Characters that must never appear raw in a printed command: C0 and C1
 * controls and DEL (\p{Cc}); format characters (\p{Cf}) — which include every
 * bidi control the brief names (U+061C, U+200E/F, U+202A–E, U+2066–9), the
 * zero-width characters U+200B–D, U+2060, U+FEFF, the soft hyphen and tag
 * characters; and the line/paragraph separators U+2028/U+2029, which some
 * viewers render as line breaks.
 */
const NEEDS_ANSI_C = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The string a process can actually receive for `value`: argv entries are C
 * strings, so NUL cannot exist in them (Node's spawn even throws on it) —
 * stripping is the only faithful choice; and a lone UTF-16 surrogate has no
 * UTF-8 encoding, so Node writes U+FFFD for it at every OS boundary. Exported
 * so callers can detect values that quoting cannot preserve exactly.
 */
export function argvRepresentable(value: string): string {
  return value.replaceAll('\0', '').replace(LONE_SURROGATE, '\uFFFD');
}

/** True when `value` reaches a process unchanged (no NUL, no lone surrogate). */
export function isArgvRepresentable(value: string): boolean {
  return argvRepresentable(value) === value;
}

/** One bash word that bash expands to exactly `argvRepresentable(value)`. */
export function shellQuote(value: string): string {
  const v = argvRepresentable(value);
  if (v === '') return "''";
  if (BARE_SAFE.test(v)) return v;
  if (NEEDS_ANSI_C.test(v)) return ansiCQuote(v);
  return `'${v.replaceAll("'", `'\\''`)}'`;
}

/**
 * $'...' quoting. Escaped non-ASCII characters are written as their UTF-8
 * bytes (\xHH each), not as \uXXXX: bash expands \uXXXX according to the
 * current locale, and under LANG=C / POSIX bash 5.2 yields the six literal
 * characters "\u202E" instead of the character — verified, and covered by a
 * test. Byte escapes are exact in every locale. Escapes always use two hex
 * digits so a following hex-digit character is never absorbed.
 *
 * '!' needs no escape here or in '...': bash's history expansion honours both
 * quoting forms (checked with an interactive bash in the tests).
 */
function ansiCQuote(v: string): string {
  let out = "$'";
  for (const ch of v) {
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (NEEDS_ANSI_C.test(ch)) out += utf8Escapes(ch);
    else out += ch;
  }
  return out + "'";
}

function utf8Escapes(ch: string): string {
  let out = '';
  for (const byte of Buffer.from(ch, 'utf8')) out += `\\x${byte.toString(16).padStart(2, '0')}`;
  return out;
}

/**
 * Words that bash gives meaning only in command position. A quoted reserved
 * word is an ordinary command name, and a quoted NAME=value is not an
 * assignment, so shellJoin quotes argv[0] in those cases.
 */
const RESERVED_WORDS = new Set([
  '!', '[[', ']]', '{', '}', 'case', 'coproc', 'do', 'done', 'elif', 'else', 'esac', 'fi', 'for',
  'function', 'if', 'in', 'select', 'then', 'time', 'until', 'while',
]);

/** A bash command line whose words are exactly `argv` (after argvRepresentable). */
export function shellJoin(argv: readonly string[]): string {
  return argv
    .map((arg, i) => {
      const word = shellQuote(arg);
      if (i === 0 && word === arg && (arg.includes('=') || RESERVED_WORDS.has(arg))) return `'${arg}'`;
      return word;
    })
    .join(' ');
}
