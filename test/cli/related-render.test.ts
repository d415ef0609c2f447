/**
 * "No related findings" is said only of a read that covered every page of the
 * query; otherwise the show view says the absence is unavailable. Both ways
 * into the view: the stored source properties and the report JSON.
 */
import { describe, expect, it } from '@jest/globals';
import { renderView } from '../../lib/cli/render.js';
import { viewFromProperties, viewFromReport } from '../../lib/cli/view.js';

const related = (complete: boolean | undefined) => ({
  windowMinutes: 30,
  sameContainer: [],
  otherPodsSameWorkload: [],
  countsByCategory: {},
  otherInClusterCount: 0,
  truncated: complete === false,
  ...(complete === undefined ? {} : { complete }),
});

const section = (text: string): string => {
  const start = text.indexOf('Related findings\n');
  expect(start).toBeGreaterThanOrEqual(0);
  return text.slice(start).split('\n').slice(1, 3).join('\n');
};

describe('related findings: none only from a complete read', () => {
  it.each([
    [true, /^ {2}none on this container or workload \(±30 min\)$/m],
    [false, /^ {2}unavailable: none found \(±30 min\), but not every page of the query was read \(see gaps\)$/m],
    [undefined, /^ {2}none found \(±30 min\); whether every page was read is not recorded$/m],
  ])('from the report, complete=%s', (complete, line) => {
    const view = viewFromReport({ status: 'triaged', finding: {}, relatedFindings: related(complete) });
    const text = section(renderView(view));
    expect(text).toMatch(line);
    if (complete !== true) expect(text).not.toMatch(/none on this container/);
  });

  it.each([
    [true, /none on this container or workload/],
    [false, /unavailable: none found/],
  ])('from the source properties, D7_Related_Complete=%s', (complete, line) => {
    const view = viewFromProperties({ D1_Related_Same_Container_Count: 0, D5_Related_Other_In_Cluster_Count: 0, D6_Related_Window_Minutes: 30, D7_Related_Complete: complete });
    expect(section(renderView(view))).toMatch(line);
  });
});
