import { describe, expect, it } from '@jest/globals';
import { cleanLine, cleanText, truncate } from '../lib/sanitize.js';

describe('sanitize', () => {
  it('strips control, ANSI, bidi and zero-width characters from one line', () => {
    const hostile = 'a\u001b[31mred\u001b[0m\nb\rc\u0007d\u202eevil\u2066x\u200by\ufeffz\u0085';
    expect(cleanLine(hostile, 100)).toBe('ared b cdevilxyz');
  });

  it('keeps newlines and tabs in text, normalising CRLF', () => {
    expect(cleanText('one\r\ntwo\tthree\u0000\u202e', 100)).toBe('one\ntwo\tthree');
  });

  it('caps length with a marker that names the original length', () => {
    const out = truncate('x'.repeat(500), 100);
    expect(out.length).toBe(100);
    expect(out).toMatch(/…\[truncated: 500 chars in all\]$/);
  });

  it('caps a 1 MB line without cleaning all of it', () => {
    const out = cleanLine('\u001b'.repeat(10) + 'y'.repeat(1_000_000), 4096);
    expect(out.length).toBe(4096);
    expect(out).toContain('1000010 chars in all');
  });
});
