/**
 * Text that came from the attacker's side (arguments, paths, names, log lines)
 * is shown to people in the SCC console and terminals. Control, bidi and
 * zero-width characters are removed so it cannot rewrite what the reader sees,
 * and length is capped with a visible marker so nothing is cut silently.
 * (Shell commands do not use this: lib/shell quotes exactly instead.)
 */
// C0 except \n and \t, DEL, C1, bidi embeddings/overrides/isolates, marks, zero-width and BOM.
const UNSAFE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/g;
const LINE_BREAKS = /[\t\n\r\v\f]/g;
// ANSI escape sequences: their visible parts would be left behind by stripping ESC alone.
const ANSI = /\u001B(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001B]{0,4096}(?:\u0007|\u001B\\)|[@-Z\\-_])/g;

/** Caps text; the marker says how long the original was, so the reader knows what is missing. */
export function truncate(text: string, maxChars: number, originalLength = text.length): string {
  if (text.length <= maxChars && originalLength === text.length) return text;
  const marker = `…[truncated: ${originalLength} chars in all]`;
  if (text.length + marker.length <= maxChars) return text + marker;
  return text.slice(0, Math.max(0, maxChars - marker.length)) + marker;
}

// Cleaning is linear, but there is no point cleaning megabytes that will be cut.
function head(text: string, maxChars: number): string {
  const limit = maxChars * 4 + 4096;
  return text.length > limit ? text.slice(0, limit) : text;
}

/** One line: line breaks and tabs become spaces, other invisible characters go. */
export function cleanLine(text: string, maxChars: number): string {
  const h = head(text, maxChars);
  const cleaned = h.replace(ANSI, '').replace(LINE_BREAKS, ' ').replace(UNSAFE, '');
  return h.length === text.length ? truncate(cleaned, maxChars) : truncate(cleaned, maxChars, text.length);
}

/** Multi-line text keeps \n and \t. */
export function cleanText(text: string, maxChars: number): string {
  const h = head(text, maxChars);
  const cleaned = h.replace(ANSI, '').replace(/\r\n?/g, '\n').replace(UNSAFE, '');
  return h.length === text.length ? truncate(cleaned, maxChars) : truncate(cleaned, maxChars, text.length);
}
