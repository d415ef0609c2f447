/**
 * Quoting for commands that a person copies out of a report into a shell, or
 * that a script hands to one: bash (Cloud Shell), zsh (macOS's default), dash
 * (Debian's and Ubuntu's /bin/sh, which `child_process.exec` and Python's
 * `subprocess(shell=True)` run) and busybox sh (Alpine, debug images). Every
 * value is attacker-influenced, so the contract is: each of those shells turns
 * `shellQuote(v)` back into exactly `v` (as the UTF-8 bytes Node would pass in
 * argv), and the quoted text shows every character a reader is about to run.
 *
 * Only two forms, both read the same way by every POSIX shell (POSIX.1-2017
 * XCU 2.2.2: inside single quotes every character is literal; 2.2.1: a
 * backslash quotes the next character;
 * https://pubs.opengroup.org/onlinepubs/9699919799/utilities/V3_chap02.html#tag_18_02):
 *  - a bare word of characters no shell gives a meaning to;
 *  - '…', with each ' written as '\''.
 * bash's ANSI-C `$'…'` is not in POSIX.1-2017, and dash 0.5.12 (Debian 12's
 * /bin/sh) reads `$'\x41'` as `$` and the literal text, so a quote in the
 * escaped text ends the word and what follows runs (checked in
 * test/shell/recording-shell.test.ts; busybox 1.35 does know it).
 * Without it there is no way to write a control, bidi or zero-width
 * character both exactly and visibly: raw inside '…' it is exact but hidden (a newline ends the line being pasted, U+202E reorders the
 * line, U+200B shows nothing). Such a value is not writable; callers check
 * isShellWritable and refuse the command with a note instead.
 *
 * Hand-written rather than `shell-quote` (which is installed): shell-quote
 * writes such characters raw (a U+200B even in an unquoted word).
 *
 * Every rule below is checked in all four shells, and in interactive bash and
 * zsh with history expansion and the extra glob and `=` options, by
 * test/shell/quote.test.ts and test/shell/four-shells.test.ts.
 */

/**
 * Characters no shell gives a meaning to in any position of an argument
 * (after the command word). Left out on purpose: `~` (tilde expansion), `!`
 * (history expansion in interactive bash and zsh), `^` and `#` (zsh
 * extendedglob operators; `#` also starts a comment), `*?[]{}()` (globs,
 * brace and ksh-style pattern lists), and all whitespace and shell syntax.
 * '-' is included: a leading '-' means nothing to a shell, and quoting would
 * not stop the called program from reading it as a flag (flag injection is
 * handled where commands are built, lib/report/commands.ts).
 */
const BARE_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * zsh replaces a word starting with an unquoted `=` by the path of the
 * command it names (EQUALS, on by default: `=kubectl` → /usr/bin/kubectl),
 * and with MAGIC_EQUAL_SUBST also `=cmd` right after an `=` or `:` of an
 * argument shaped like NAME=VALUE (`--namespace==kubectl`,
 * `--target=a:=kubectl`): zshexpn(1) "Filename Expansion",
 * https://zsh.sourceforge.io/Doc/Release/Expansion.html#Filename-Expansion,
 * and zshoptions(1) EQUALS, MAGIC_EQUAL_SUBST (both seen with zsh 5.9).
 */
const ZSH_EQUALS = /(?:^|[=:])=/;

/**
 * Characters that cannot be written exactly and visibly: C0 and C1 controls
 * and DEL (\p{Cc}, NUL included: no argv entry can carry it); format
 * characters (\p{Cf}: bidi controls U+061C, U+200E/F, U+202A–E, U+2066–9,
 * zero-width U+200B–D, U+2060, U+FEFF, soft hyphen, tag characters); line
 * and paragraph separators; and the other default-ignorable code points,
 * which render as nothing (Hangul fillers U+115F/U+1160/U+3164/U+FFA0,
 * variation selectors, U+034F, U+2065).
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;

/** A lone UTF-16 surrogate has no UTF-8 encoding: Node would pass U+FFFD instead, i.e. another value. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when `value` holds half of a surrogate pair, which no UTF-8 text (argv, YAML, a Kubernetes name) can carry. */
export function hasLoneSurrogate(value: string): boolean {
  return LONE_SURROGATE.test(value);
}

/**
 * True when `value` can be written as one word that every supported shell
 * reads back exactly and that shows every character it holds.
 */
export function isShellWritable(value: string): boolean {
  return !HIDDEN.test(value) && !hasLoneSurrogate(value);
}

/** A value that shellQuote was given although isShellWritable rejects it: a bug in the caller. */
export class UnwritableValueError extends Error {
  constructor(value: string) {
    // The code point and its position, never the value: it is hostile text.
    const hidden = HIDDEN.exec(value) ?? LONE_SURROGATE.exec(value);
    const at = hidden?.index ?? 0;
    const cp = value.codePointAt(at) ?? 0;
    super(`value of ${value.length} chars cannot be written exactly and visibly in a shell command: U+${cp.toString(16).toUpperCase().padStart(4, '0')} at index ${at}`);
    this.name = 'UnwritableValueError';
  }
}

/** One word that bash, zsh, dash and busybox sh all expand to exactly `value`. Throws UnwritableValueError for a value isShellWritable rejects. */
export function shellQuote(value: string): string {
  if (!isShellWritable(value)) throw new UnwritableValueError(value);
  if (value === '') return "''";
  if (BARE_SAFE.test(value) && !ZSH_EQUALS.test(value)) return value;
  // '\'' never leaves '' inside a quoted string, so zsh's RC_QUOTES (where ''
  // inside single quotes is a quote) reads it the same way.
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Words that the shells give meaning only in command position: reserved words
 * of POSIX sh, bash and zsh (including zsh's declaration keywords). A quoted
 * reserved word is an ordinary command name, and a quoted NAME=value is not
 * an assignment, so shellJoin quotes argv[0] in those cases.
 */
const RESERVED_WORDS = new Set([
  '!', '[[', ']]', '{', '}', 'case', 'coproc', 'do', 'done', 'elif', 'else', 'esac', 'fi', 'for',
  'function', 'if', 'in', 'select', 'then', 'time', 'until', 'while',
  'repeat', 'foreach', 'end', 'declare', 'export', 'float', 'integer', 'local', 'readonly', 'typeset',
]);

/** zsh's precommand modifiers act even when quoted (`'noglob' x` runs x under noglob; checked with zsh 5.9). */
const ZSH_PRECOMMAND_MODIFIERS = new Set(['noglob', 'nocorrect', '-']);

/**
 * A command line whose words are exactly `argv` in every supported shell.
 * argv[0] names the program (callers pass kubectl or gcloud); a builtin of the
 * same name would still run instead, which quoting cannot prevent. Throws
 * UnwritableValueError like shellQuote, and an Error for a zsh precommand
 * modifier as argv[0].
 */
export function shellJoin(argv: readonly string[]): string {
  if (argv[0] !== undefined && ZSH_PRECOMMAND_MODIFIERS.has(argv[0])) throw new Error(`"${argv[0]}" cannot be a command word: zsh reads it as a precommand modifier even when quoted`);
  return argv
    .map((arg, i) => {
      const word = shellQuote(arg);
      if (i === 0 && word === arg && (arg.includes('=') || RESERVED_WORDS.has(arg))) return `'${arg}'`;
      return word;
    })
    .join(' ');
}

/**
 * True when `command` is written only in the forms shellJoin produces (words
 * of bare safe characters, '…' and \' separated by single spaces), optionally
 * followed by a quoted here-document, i.e. text every supported shell reads
 * alike. For commands read back from storage (an older release wrote bash's
 * $'…'), before they are printed for a person to paste.
 */
export function isPortableCommandText(command: string): boolean {
  const newline = command.indexOf('\n');
  let line = newline === -1 ? command : command.slice(0, newline);
  if (newline !== -1) {
    const heredoc = /^(.*) <<'([A-Za-z0-9_]+)'$/.exec(line);
    if (heredoc === null || !command.endsWith(`\n${heredoc[2]}`)) return false;
    line = heredoc[1]!;
  }
  if (line === '' || !isShellWritable(line)) return false;
  // Words of bare runs, '…' and \' separated by single spaces; the bare text of a word must hold no zsh =cmd.
  let bare = '';
  let wordStart = true;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === ' ') {
      if (wordStart || ZSH_EQUALS.test(bare)) return false;
      bare = '';
      wordStart = true;
      continue;
    }
    wordStart = false;
    if (ch === "'") {
      const close = line.indexOf("'", i + 1);
      if (close === -1) return false;
      i = close;
      bare += "'";
    } else if (ch === '\\') {
      if (line[i + 1] !== "'") return false;
      i += 1;
      bare += "'";
    } else if (/^[A-Za-z0-9_@%+=:,./-]$/.test(ch)) {
      bare += ch;
    } else {
      return false;
    }
  }
  return !wordStart && !ZSH_EQUALS.test(bare);
}
