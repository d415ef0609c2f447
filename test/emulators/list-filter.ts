/**
 * The subset of the AIP-160 filter grammar SCC's list methods accept:
 *
 *   restriction  := ['-' | 'NOT'] field op value | '(' expression ')'
 *   op           := '=' | ':' | '>' | '>=' | '<' | '<='
 *   value        := "string" | 'string' | number | bareword (true, false, ACTIVE...)
 *   expression   := disjunction { 'AND' disjunction }
 *   disjunction  := unary { 'OR' unary }
 *
 * OR binds tighter than AND, as SCC documents (unlike most languages):
 * `a AND b OR c` is `a AND (b OR c)`. Keywords are upper case; juxtaposition
 * without AND is rejected rather than guessed at.
 *
 * Which fields exist, which operators they take and how they are read from a
 * record is the caller's business (FieldResolver), so other list APIs can
 * reuse the parser.
 */
import { invalidArgument } from './grpc-harness.js';

export type FilterOp = '=' | ':' | '>' | '>=' | '<' | '<=';

export type FilterLiteral = { type: 'string'; text: string } | { type: 'number'; value: number; text: string } | { type: 'bare'; text: string };

export interface FieldAccessor<R> {
  /** Operators the field accepts; anything else is INVALID_ARGUMENT. */
  ops: readonly FilterOp[];
  /** Builds the predicate for one restriction; throws RpcError for a bad value. */
  compile(op: FilterOp, literal: FilterLiteral): (record: R) => boolean;
}

/** Returns the accessor, or a message saying why the field is not filterable. */
export type FieldResolver<R> = (field: string) => FieldAccessor<R> | string;

type Token =
  | { kind: 'lparen' | 'rparen' | 'minus' | 'eof'; pos: number }
  | { kind: 'op'; op: FilterOp; pos: number }
  | { kind: 'string'; text: string; pos: number }
  | { kind: 'number'; text: string; pos: number }
  | { kind: 'word'; text: string; pos: number };

function filterError(filter: string, pos: number, message: string): Error {
  return invalidArgument(`Invalid filter at position ${pos} of ${JSON.stringify(filter)}: ${message}`);
}

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const isValueContext = (): boolean => tokens[tokens.length - 1]?.kind === 'op';
  while (i < filter.length) {
    const c = filter[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === '(' || c === ')') {
      tokens.push({ kind: c === '(' ? 'lparen' : 'rparen', pos: start });
      i++;
    } else if (c === '"' || c === "'") {
      let text = '';
      i++;
      for (;;) {
        if (i >= filter.length) throw filterError(filter, start, 'unterminated string literal');
        const d = filter[i] as string;
        if (d === '\\') {
          if (i + 1 >= filter.length) throw filterError(filter, i, 'dangling escape');
          text += filter[i + 1];
          i += 2;
        } else if (d === c) {
          i++;
          break;
        } else {
          text += d;
          i++;
        }
      }
      tokens.push({ kind: 'string', text, pos: start });
    } else if (c === '>' || c === '<') {
      const op = (filter[i + 1] === '=' ? `${c}=` : c) as FilterOp;
      tokens.push({ kind: 'op', op, pos: start });
      i += op.length;
    } else if (c === '=' || c === ':') {
      tokens.push({ kind: 'op', op: c, pos: start });
      i++;
    } else if (c === '!') {
      throw filterError(filter, start, 'operator "!=" is not supported; negate the restriction with "-" or NOT');
    } else if (/[0-9]/.test(c) || (c === '-' && isValueContext() && /[0-9]/.test(filter[i + 1] ?? ''))) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(filter.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'number', text: m[0], pos: start });
      i += m[0].length;
    } else if (c === '-') {
      tokens.push({ kind: 'minus', pos: start });
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      // Mark keys may contain '-' and digits: security_marks.marks.triage-2
      const m = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(filter.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'word', text: m[0], pos: start });
      i += m[0].length;
    } else {
      throw filterError(filter, start, `unexpected character ${JSON.stringify(c)}`);
    }
  }
  tokens.push({ kind: 'eof', pos: filter.length });
  return tokens;
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT']);

/** Compiles `filter` into a predicate; an empty filter matches everything. */
export function compileFilter<R>(filter: string, resolve: FieldResolver<R>): (record: R) => boolean {
  if (filter.trim() === '') return () => true;
  const tokens = tokenize(filter);
  let p = 0;
  const peek = (): Token => tokens[p] as Token;
  const next = (): Token => tokens[p++] as Token;
  const isWord = (t: Token, w: string): boolean => t.kind === 'word' && t.text === w;

  function expression(): (r: R) => boolean {
    const parts = [disjunction()];
    while (isWord(peek(), 'AND')) {
      next();
      parts.push(disjunction());
    }
    return parts.length === 1 ? (parts[0] as (r: R) => boolean) : (r) => parts.every((f) => f(r));
  }

  function disjunction(): (r: R) => boolean {
    const parts = [unary()];
    while (isWord(peek(), 'OR')) {
      next();
      parts.push(unary());
    }
    return parts.length === 1 ? (parts[0] as (r: R) => boolean) : (r) => parts.some((f) => f(r));
  }

  function unary(): (r: R) => boolean {
    const t = peek();
    if (t.kind === 'minus' || isWord(t, 'NOT')) {
      next();
      const inner = unary();
      return (r) => !inner(r);
    }
    if (t.kind === 'lparen') {
      next();
      const inner = expression();
      const close = next();
      if (close.kind !== 'rparen') throw filterError(filter, close.pos, 'expected ")"');
      return inner;
    }
    return restriction();
  }

  function restriction(): (r: R) => boolean {
    const fieldTok = next();
    if (fieldTok.kind !== 'word' || KEYWORDS.has(fieldTok.text)) {
      throw filterError(filter, fieldTok.pos, fieldTok.kind === 'eof' ? 'unexpected end of filter, expected a field name' : 'expected a field name');
    }
    const opTok = next();
    if (opTok.kind !== 'op') {
      throw filterError(filter, opTok.pos, `expected an operator (=, :, >, >=, <, <=) after ${JSON.stringify(fieldTok.text)}; terms must be joined with AND or OR`);
    }
    const valueTok = next();
    let literal: FilterLiteral;
    if (valueTok.kind === 'string') literal = { type: 'string', text: valueTok.text };
    else if (valueTok.kind === 'number') literal = { type: 'number', value: Number(valueTok.text), text: valueTok.text };
    else if (valueTok.kind === 'word' && !KEYWORDS.has(valueTok.text)) literal = { type: 'bare', text: valueTok.text };
    else throw filterError(filter, valueTok.pos, `expected a value after ${JSON.stringify(`${fieldTok.text} ${opTok.op}`)}`);
    const accessor = resolve(fieldTok.text);
    if (typeof accessor === 'string') throw filterError(filter, fieldTok.pos, accessor);
    if (!accessor.ops.includes(opTok.op)) {
      throw filterError(filter, opTok.pos, `operator "${opTok.op}" is not supported for field ${fieldTok.text} (supported: ${accessor.ops.join(' ')})`);
    }
    return accessor.compile(opTok.op, literal);
  }

  const predicate = expression();
  const rest = peek();
  if (rest.kind !== 'eof') {
    throw filterError(filter, rest.pos, rest.kind === 'rparen' ? 'unbalanced ")"' : 'expected AND, OR or the end of the filter');
  }
  return predicate;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** A time literal: epoch milliseconds (number) or an RFC3339 string. Null when neither. */
export function literalTimeMillis(literal: FilterLiteral): number | null {
  if (literal.type === 'number') return Number.isFinite(literal.value) ? literal.value : null;
  if (!RFC3339.test(literal.text)) return null;
  const ms = Date.parse(literal.text);
  return Number.isNaN(ms) ? null : ms;
}
