/**
 * Lexing helpers that follow socat's address tokenizer (nestlex): quotes,
 * brackets and backslash escapes hide separators. Every function is a single
 * left-to-right pass, so attacker-sized input costs linear time.
 */

function closerOf(c: string): string | null {
  switch (c) {
    case '(': return ')';
    case '[': return ']';
    case '{': return '}';
    default: return null;
  }
}

/**
 * Splits `text` at every `sep` that is outside quotes, brackets and escapes.
 * Null when a quote or bracket is left open: socat rejects such an address,
 * and guessing where the author meant it to end would invent a value.
 */
export function splitTopLevel(text: string, sep: string): string[] | null {
  const parts: string[] = [];
  const open: string[] = [];
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === '\\') {
      i++;
      continue;
    }
    if (quote !== null) {
      if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      continue;
    }
    const closer = closerOf(c);
    if (closer !== null) {
      open.push(closer);
      continue;
    }
    if (open.length > 0) {
      // A stray closer of another kind is literal text, as in socat.
      if (c === open[open.length - 1]) open.pop();
      continue;
    }
    if (text.startsWith(sep, i)) {
      parts.push(text.slice(start, i));
      i += sep.length - 1;
      start = i + 1;
    }
  }
  if (quote !== null || open.length > 0) return null;
  parts.push(text.slice(start));
  return parts;
}

/**
 * Removes one pair of quotes only when it encloses the whole value; inner
 * quotes are part of the command the analyst needs to see (`bash -c 'id'`).
 */
export function stripSurroundingQuotes(value: string): string {
  const q = value.charAt(0);
  if (value.length < 2 || (q !== '"' && q !== "'")) return value;
  for (let i = 1; i < value.length; i++) {
    const c = value.charAt(i);
    if (c === '\\') {
      i++;
    } else if (c === q) {
      return i === value.length - 1 ? value.slice(1, -1) : value;
    }
  }
  return value;
}
