import { describe, expect, it } from '@jest/globals';
import { DEFAULT_CATEGORY } from '../lib/config.js';
import { alreadyTriaged, decideFilter } from '../lib/filter.js';
import { parseNotification } from '../lib/finding/parse.js';
import type { SocatFinding } from '../lib/finding/types.js';
import { notificationFixture } from './support/fixtures.js';

function finding(patch: Partial<SocatFinding> = {}): SocatFinding {
  return { ...parseNotification(notificationFixture('socat-v2')), ...patch };
}

describe('decideFilter', () => {
  const categories = [DEFAULT_CATEGORY];

  it.each([
    ['an ACTIVE socat finding', {}, true, null],
    ['another category', { category: 'Execution: Added Binary Executed' }, false, /not a triaged category/],
    ['an UPPER_SNAKE variant not configured', { category: 'SOCAT_REVERSE_SHELL' }, false, /not a triaged category/],
    ['an INACTIVE finding', { state: 'INACTIVE' }, false, /INACTIVE, not ACTIVE/],
    ['our own mark already at this eventTime', { securityMarks: { socat_triage_event_time: '2026-11-27T02:41:17.532941Z' } }, false, /loop guard/],
    ['the same instant rendered differently', { securityMarks: { SOCAT_TRIAGE_EVENT_TIME: '2026-11-27T02:41:17.532941000Z' } }, false, /loop guard/],
    ['a mark from an older detection', { securityMarks: { socat_triage_event_time: '2026-11-26T01:00:00Z' } }, true, null],
    ['an unparseable mark', { securityMarks: { socat_triage_event_time: 'yesterday' } }, true, null],
  ] as const)('%s', (_name, patch, triage, reason) => {
    const d = decideFilter(finding(patch as Partial<SocatFinding>), categories);
    expect(d.triage).toBe(triage);
    if (!d.triage && reason) expect(d.reason).toMatch(reason);
  });

  it('honours a configured category list', () => {
    expect(decideFilter(finding({ category: 'SOCAT_REVERSE_SHELL' }), ['SOCAT_REVERSE_SHELL', DEFAULT_CATEGORY]).triage).toBe(true);
  });

  it('never triages a finding of our own source, whatever the categories (the responder writes there)', () => {
    const own = 'organizations/123456789012/sources/4242424242424242424';
    const ours = finding({ name: `${own}/locations/global/findings/0123456789abcdef0123456789abcdef`, category: 'Socat Reverse Shell Triage' });
    const d = decideFilter(ours, [DEFAULT_CATEGORY, 'Socat Reverse Shell Triage'], { ownSource: own });
    expect(d).toEqual({ triage: false, reason: expect.stringContaining('our own source') });
    // Even an enrichment finding that claims CTD's category: the source decides, not the category.
    expect(decideFilter({ ...ours, category: DEFAULT_CATEGORY }, [DEFAULT_CATEGORY], { ownSource: own }).triage).toBe(false);
    expect(decideFilter(finding(), [DEFAULT_CATEGORY], { ownSource: own }).triage).toBe(true);
    // A source whose id only starts with ours is another source.
    expect(decideFilter(finding({ name: `${own}1/findings/x` }), [DEFAULT_CATEGORY], { ownSource: own }).triage).toBe(true);
  });

  it('does not treat a missing eventTime as already triaged', () => {
    expect(alreadyTriaged(finding({ eventTime: null, securityMarks: { socat_triage_event_time: '2026-11-27T02:41:17Z' } }))).toBe(false);
  });
});
