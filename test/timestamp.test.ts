import { describe, expect, it } from '@jest/globals';
import { canonicalTimestamp, toMillis } from '../lib/timestamp.js';

describe('timestamps', () => {
  it.each([
    ['2026-11-27T02:41:17Z', '2026-11-27T02:41:17.000000000Z'],
    ['2026-11-27T02:41:17.5Z', '2026-11-27T02:41:17.500000000Z'],
    ['2026-11-27T02:41:17.532941Z', '2026-11-27T02:41:17.532941000Z'],
    ['2026-11-27T02:41:17.532941123Z', '2026-11-27T02:41:17.532941123Z'],
    ['2026-11-27T03:41:17.5+01:00', '2026-11-27T02:41:17.500000000Z'],
    ['2026-11-27t02:41:17z', '2026-11-27T02:41:17.000000000Z'],
  ])('%s → %s', (input, expected) => {
    expect(canonicalTimestamp(input)).toBe(expected);
  });

  it.each(['', 'yesterday', '2026-11-27', '2026-13-45T99:99:99Z', '2026-11-27T02:41:17.1234567891Z'])('rejects %j', (input) => {
    expect(canonicalTimestamp(input)).toBeNull();
  });

  it('converts to epoch milliseconds', () => {
    expect(toMillis('1970-01-01T00:00:01.250Z')).toBe(1250);
  });
});
