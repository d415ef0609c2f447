/**
 * terraform/README.md stays in step with the module: its inputs and outputs
 * tables list exactly the module's variables and outputs (with the right
 * "required" column), it names every permission the code uses, and it has the
 * sections the platform team relies on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GATHERERS } from '../../lib/gather/registry.js';
import { REQUIRED_PERMISSIONS } from '../../lib/permissions.js';
import { loadModule, terraformDir, type TfModule } from './support.js';

const readme = readFileSync(join(terraformDir, 'README.md'), 'utf8');
let mod: TfModule;

beforeAll(async () => {
  mod = await loadModule(terraformDir);
});

/** The body of a `## Heading` section. */
function section(heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start === -1) throw new Error(`README has no section "## ${heading}"`);
  const rest = readme.slice(start + heading.length + 5);
  const end = rest.search(/\n## /);
  return end === -1 ? rest : rest.slice(0, end);
}

/** Rows of the first markdown table in text, as cells (header and separator skipped). */
function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .slice(2)
    .map((l) =>
      l
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
}

describe('terraform/README.md', () => {
  it.each([
    'What gets created',
    'Deploying to one organization',
    'Deploying to many organizations',
    'Inputs',
    'Outputs',
    'Permissions the deployer needs',
    'Upgrading',
    'Tearing down',
    'Dead letters: inspecting and replaying',
  ])('has a "%s" section', (heading) => {
    expect(section(heading).trim().length).toBeGreaterThan(50);
  });

  it('the inputs table lists exactly the module variables, with the right Required column', () => {
    const rows = tableRows(section('Inputs'));
    expect(rows.map((r) => r[0]).sort()).toEqual([...mod.variables.keys()].sort());
    for (const row of rows) {
      const body = mod.variables.get(row[0]!);
      expect({ name: row[0], required: row[4] }).toEqual({ name: row[0], required: body && 'default' in body ? 'no' : 'yes' });
    }
  });

  it('the inputs table gives each default as the module has it', () => {
    const mismatched = tableRows(section('Inputs'))
      .map((row) => ({ name: row[0]!, readme: row[3]!, body: mod.variables.get(row[0]!) }))
      .filter(({ body }) => body && 'default' in body)
      .map(({ name, readme, body }) => ({ name, readme, module: `\`${JSON.stringify(body!['default'])}\`` }))
      .filter(({ readme, module }) => readme !== module);
    expect(mismatched).toEqual([]);
  });

  it('the outputs table lists exactly the module outputs', () => {
    expect(tableRows(section('Outputs')).map((r) => r[0]).sort()).toEqual([...mod.outputs.keys()].sort());
  });

  it('names every permission the code uses', () => {
    const text = section('Permissions of the function');
    expect(REQUIRED_PERMISSIONS.map((p) => p.permission).filter((p) => !text.includes(`\`${p}\``))).toEqual([]);
  });

  it('says how to inspect and replay dead letters with the real resource names', () => {
    const text = section('Dead letters: inspecting and replaying');
    expect(text).toContain('gcloud pubsub subscriptions pull');
    expect(text).toContain('gcloud pubsub topics publish');
    expect(text).toContain('$PREFIX-dead-letter');
    expect(mod.resources.get('google_pubsub_subscription.dead_letter')?.body['name']).toBe('${var.name_prefix}-dead-letter');
    expect(mod.resources.get('google_pubsub_topic.notifications')?.body['name']).toBe('${var.name_prefix}-notifications');
  });

  it('disabled_gatherers names every gatherer, in its description, its validation and the inputs table', () => {
    const body = mod.variables.get('disabled_gatherers')!;
    const row = tableRows(section('Inputs')).find((r) => r[0] === 'disabled_gatherers')!;
    const validation = JSON.stringify(body['validation']);
    const missing = GATHERERS.map((g) => g.section as string).filter((name) => !String(body['description']).includes(name) || !validation.includes(`\\"${name}\\"`) || !row[1]!.includes(name));
    expect(missing).toEqual([]);
  });

  it('never counts the custom roles wrong ("the two custom roles" while the module has more)', () => {
    const roles = [...mod.resources.values()].filter((r) => r.type === 'google_organization_iam_custom_role').length;
    expect(roles).toBeGreaterThan(2);
    const texts = [readme, ...mod.files.map((f) => f.text)];
    expect(texts.filter((t) => /\b(exactly )?the two custom roles\b/i.test(t))).toEqual([]);
  });
});
