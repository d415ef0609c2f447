/**
 * Text that came from the attacker's side (arguments, paths, names, log lines)
 * is shown to people in the SCC console and terminals. Control, bidi and
 * zero-width characters are removed so it cannot rewrite what the reader sees,
 * and length is capped with a visible marker so nothing is cut silently.
 * (Shell commands do not use this: lib/shell quotes exactly instead.)
 */
// C0 except \n and \t, DEL, C1, and every format character (\p{Cf}): bidi embeddings, overrides, isolates
// and marks, zero-width characters, BOM, soft hyphen, and the invisible tag characters U+E0000–E007F that
// can smuggle a whole hidden text; U+2065 is the one unassigned code point in the invisible-operator block.
const UNSAFE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u2065\p{Cf}]/gu;
// U+2028/U+2029 are line breaks to some viewers (and to JavaScript source).
const LINE_BREAKS = /[\t\n\r\v\f\u2028\u2029]/g;
// A lone surrogate has no UTF-8 encoding: protobuf would send invalid UTF-8, which SCC rejects.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** `text` with each lone surrogate replaced by U+FFFD: the one change that makes any string encodable as UTF-8 (protobuf strings must be). */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

// ANSI escape sequences: their visible parts would be left behind by stripping ESC alone.
const ANSI = /\u001B(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001B]{0,4096}(?:\u0007|\u001B\\)|[@-Z\\-_])/g;

/** The first `n` UTF-16 units of `text`, one fewer when the cut would split a surrogate pair (and leave half a character). */
function headUnits(text: string, n: number): string {
  const code = text.charCodeAt(n - 1);
  return text.slice(0, n > 0 && code >= 0xd800 && code <= 0xdbff ? n - 1 : n);
}

/** Caps text; the marker says how long the original was, so the reader knows what is missing. */
export function truncate(text: string, maxChars: number, originalLength = text.length): string {
  if (text.length <= maxChars && originalLength === text.length) return text;
  const marker = `…[truncated: ${originalLength} chars in all]`;
  if (text.length + marker.length <= maxChars) return text + marker;
  return headUnits(text, Math.max(0, maxChars - marker.length)) + marker;
}

// Cleaning is linear, but there is no point cleaning megabytes that will be cut.
function head(text: string, maxChars: number): string {
  const limit = maxChars * 4 + 4096;
  return text.length > limit ? text.slice(0, limit) : text;
}

/** One line: line breaks and tabs become spaces, other invisible characters go. */
export function cleanLine(text: string, maxChars: number): string {
  const h = head(text, maxChars);
  const cleaned = h.replace(ANSI, '').replace(LINE_BREAKS, ' ').replace(UNSAFE, '').replace(LONE_SURROGATE, '\uFFFD');
  return h.length === text.length ? truncate(cleaned, maxChars) : truncate(cleaned, maxChars, text.length);
}

/** Multi-line text keeps \n and \t. */
export function cleanText(text: string, maxChars: number): string {
  const h = head(text, maxChars);
  const cleaned = h.replace(ANSI, '').replace(/\r\n?|[\u2028\u2029]/g, '\n').replace(UNSAFE, '').replace(LONE_SURROGATE, '\uFFFD');
  return h.length === text.length ? truncate(cleaned, maxChars) : truncate(cleaned, maxChars, text.length);
}
