/**
 * socat's address lexer (nestlex.c, socat 1.7.4), as recorded from the real
 * program (test/fixtures/socat/recorded.json):
 *  - a token ends at one of the caller's end strings (`:` `,` `!!` `=`) found
 *    outside quotes and brackets;
 *  - `'…'` quotes hard, `"…"` softly (brackets and `'` still nest inside);
 *    quotes at the top level are removed, quotes inside other quotes or
 *    brackets are kept (`EXEC:"sh -c 'id'"` hands `sh -c 'id'` on);
 *  - `(…)`, `[…]` and `{…}` nest and are kept; an unclosed bracket simply
 *    runs to the end of the argument;
 *  - `\c` is `c` everywhere, `\n \t \r \0 \a \b \f \v` are C escapes, a
 *    trailing `\` ends the text;
 *  - an unclosed quote makes socat 1.7.4 read past the end of the argument
 *    into the next one (recorded: `SYSTEM:echo 'a` runs `echo aTCP`), so it
 *    is reported as an error rather than guessed.
 * One left-to-right pass with an explicit stack: attacker-sized input costs
 * linear time and no recursion depth.
 */

const C_ESCAPES: Readonly<Record<string, string>> = { '0': '\0', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
const NEST_CLOSERS: Readonly<Record<string, string>> = { '(': ')', '[': ']', '{': '}' };

interface Frame {
  kind: 'hard' | 'soft' | 'nest';
  closer: string;
  /** Whether the closer is dropped from the output (a quote at the top level). */
  drop: boolean;
}

export type Lexed = { ok: true; value: string; end: number } | { ok: false; error: string };

/**
 * Reads one token of `text` from `start` until an unquoted, unnested end
 * string (or the end of the text). `end` is where the terminating end string
 * starts (text.length when none).
 */
export function lexToken(text: string, start: number, ends: readonly string[]): Lexed {
  const stack: Frame[] = [];
  let out = '';
  let i = start;
  while (i < text.length) {
    const top = stack[stack.length - 1];
    if (top === undefined) {
      if (ends.some((e) => text.startsWith(e, i))) return { ok: true, value: out, end: i };
    } else if (text.startsWith(top.closer, i)) {
      if (!top.drop) out += top.closer;
      stack.pop();
      i += top.closer.length;
      continue;
    }
    const c = text.charAt(i);
    if (top === undefined || top.kind !== 'hard') {
      if (c === "'" || c === '"') {
        const drop = top === undefined;
        if (!drop) out += c;
        stack.push({ kind: c === "'" ? 'hard' : 'soft', closer: c, drop });
        i += 1;
        continue;
      }
      const closer = NEST_CLOSERS[c];
      if (closer !== undefined) {
        out += c;
        stack.push({ kind: 'nest', closer, drop: false });
        i += 1;
        continue;
      }
    }
    if (c === '\\') {
      if (i + 1 >= text.length) break;
      const next = text.charAt(i + 1);
      out += C_ESCAPES[next] ?? next;
      i += 2;
      continue;
    }
    out += c;
    i += 1;
  }
  if (stack.some((f) => f.kind !== 'nest')) {
    return { ok: false, error: 'a quote is not closed (socat 1.7.4 then reads past the end of the argument)' };
  }
  return { ok: true, value: out, end: text.length };
}

/**
 * Splits an EXEC command line into the argv socat hands to execvp: words
 * separated by spaces, quotes removed, one empty word for leading spaces
 * (recorded: `EXEC:  sh -i` runs execvp("", "" "sh" "-i")).
 */
export function splitExecCommand(command: string): string[] | null {
  const words: string[] = [];
  let i = 0;
  for (;;) {
    const word = lexToken(command, i, [' ']);
    if (!word.ok) return null;
    words.push(word.value);
    i = word.end;
    if (i >= command.length) break;
    while (command.charAt(i) === ' ') i += 1;
    if (i >= command.length) break;
  }
  return words;
}
