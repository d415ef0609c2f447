import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GATHERERS } from '../lib/gather/registry.js';
import { REQUIRED_PERMISSIONS } from '../lib/permissions.js';
import { SIGNALS } from '../lib/decide/verdict-settings.js';
import { STORED_REPORT_BUDGET_CHARS, STORED_REPORT_KEY } from '../lib/scc/stored-report.js';
import { projectRoot } from './support/fixtures.js';

const readme = readFileSync(join(projectRoot(), 'README.md'), 'utf8');

/** The catalog row the README must carry for a gatherer, exactly. */
function catalogRow(g: (typeof GATHERERS)[number]): string {
  const needs = g.needs.length ? g.needs.map((n) => `\`${n}\``).join(', ') : '—';
  return `| \`${g.section}\` | ${g.description} | ${g.api} | ${g.permissions.map((p) => `\`${p}\``).join(', ')} | ${needs} | ${g.enabledByDefault ? 'on' : 'off'} |`;
}

describe('README stays in step with the code', () => {
  it.each(GATHERERS.map((g) => ({ section: g.section, g })))('the gatherer catalog lists $section exactly', ({ g }) => {
    expect(readme).toContain(catalogRow(g));
  });

  it('the source properties table lists the structured report, and its budget as the code has it', () => {
    expect(readme).toMatch(new RegExp(`^\\| \`${STORED_REPORT_KEY}\` \\|`, 'm'));
    expect(readme).toContain(`${STORED_REPORT_BUDGET_CHARS / 1024} KiB of JSON text`);
  });

  it.each(REQUIRED_PERMISSIONS.map((p) => [p.permission]))('the IAM table lists %s', (permission) => {
    expect(readme).toMatch(new RegExp(`^\\| \`${permission.replace(/\./g, '\\.')}\` \\|`, 'm'));
  });
});

describe('README documents the verdict model as the code has it', () => {
  it.each(SIGNALS.map((s) => ({ id: s.id, s })))('lists $id with its default weight', ({ s }) => {
    expect(readme).toContain(`| \`${s.id}\` | ${s.defaultWeight > 0 ? '+' : ''}${s.defaultWeight} | ${s.description} | ${s.rationale} |`);
  });
});
