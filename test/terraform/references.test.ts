/**
 * Names resolve, in the module and in each example: every variable referenced
 * is declared and every declared variable is used; locals likewise; every
 * resource, data source and module reference points at something declared;
 * every output refers to something that exists; module calls pass exactly
 * variables the module declares. Variables are typed, described, and numbers
 * carry their unit in their name.
 */
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { loadModule, moduleDirs, referencesIn, terraformDir, type Body, type TfModule } from './support.js';

let modules: TfModule[] = [];

beforeAll(async () => {
  modules = await Promise.all(moduleDirs().map(loadModule));
});

const BUILTIN_ROOTS = new Set(['path', 'terraform', 'each', 'count', 'self']);
const MODULE_META = new Set(['source', 'version', 'for_each', 'count', 'depends_on', 'providers']);

/** References of a module except those inside variable blocks (a validation's self-reference is not a use). */
async function moduleReferences(mod: TfModule): Promise<Array<{ file: string; ref: string }>> {
  const out: Array<{ file: string; ref: string }> = [];
  for (const f of mod.files) {
    const { variable: _variables, ...rest } = f.json;
    for (const ref of await referencesIn(rest, f.path)) out.push({ file: f.path, ref });
  }
  return out;
}

/** Why ref does not resolve in mod, or null. */
async function unresolved(mod: TfModule, ref: string): Promise<string | null> {
  const [root, a, b] = ref.split('.');
  if (root === undefined || a === undefined) return `bare name ${ref}`;
  if (BUILTIN_ROOTS.has(root)) return null;
  switch (root) {
    case 'var':
      return mod.variables.has(a) ? null : `variable ${a} is not declared`;
    case 'local':
      return mod.locals.has(a) ? null : `local ${a} is not declared`;
    case 'data':
      return mod.dataSources.has(`${a}.${b}`) ? null : `data source ${a}.${b} is not declared`;
    case 'module': {
      const call = mod.modules.get(a);
      if (!call) return `module ${a} is not declared`;
      const output = ref.split('.').slice(2).find((s) => !/^\d+$/.test(s) && !s.startsWith('"'));
      if (output === undefined) return null;
      const child = await loadModule(resolve(mod.dir, String(call['source'])));
      return child.outputs.has(output) ? null : `module ${a} has no output ${output}`;
    }
    default:
      if (root.includes('_')) return mod.resources.has(`${root}.${a}`) ? null : `resource ${root}.${a} is not declared`;
      return `unknown reference root "${root}"`;
  }
}

describe.each(moduleDirs().map((d) => [d.replace(`${terraformDir}`, 'terraform')]))('%s', (label) => {
  const mod = (): TfModule => {
    const found = modules.find((m) => m.dir.replace(`${terraformDir}`, 'terraform') === label);
    if (!found) throw new Error(`module ${label} not loaded`);
    return found;
  };

  it('declares every variable it references and references every variable it declares', async () => {
    const refs = await moduleReferences(mod());
    const used = new Set(refs.filter((r) => r.ref.startsWith('var.')).map((r) => r.ref.split('.')[1]!));
    const declared = [...mod().variables.keys()];
    expect(declared.filter((v) => !used.has(v))).toEqual([]);
    expect([...used].filter((v) => !mod().variables.has(v))).toEqual([]);
    expect(declared.length).toBeGreaterThan(0);
  });

  it('lets a variable validation reference only its own variable', async () => {
    const errors: string[] = [];
    for (const [name, body] of mod().variables) {
      for (const ref of await referencesIn(body['validation'] ?? null)) {
        if (ref.startsWith('var.') && ref.split('.')[1] !== name) errors.push(`variable ${name}: validation reads ${ref}`);
      }
    }
    expect(errors).toEqual([]);
  });

  it('declares every local it references and uses every local it declares', async () => {
    const refs = await moduleReferences(mod());
    const used = new Set(refs.filter((r) => r.ref.startsWith('local.')).map((r) => r.ref.split('.')[1]!));
    expect([...mod().locals.keys()].filter((l) => !used.has(l))).toEqual([]);
    expect([...used].filter((l) => !mod().locals.has(l))).toEqual([]);
  });

  it('resolves every resource, data source, module and builtin reference', async () => {
    const errors: string[] = [];
    for (const { file, ref } of await moduleReferences(mod())) {
      const problem = await unresolved(mod(), ref);
      if (problem) errors.push(`${file}: ${ref}: ${problem}`);
    }
    expect(errors).toEqual([]);
  });

  it('uses each.* only in blocks that have for_each', async () => {
    const errors: string[] = [];
    const blocks: Array<[string, Body]> = [
      ...[...mod().resources.entries()].map(([k, r]): [string, Body] => [k, r.body]),
      ...[...mod().modules.entries()].map(([k, b]): [string, Body] => [`module.${k}`, b]),
    ];
    for (const [name, body] of blocks) {
      const usesEach = (await referencesIn(body)).some((r) => r.startsWith('each.'));
      if (usesEach && !('for_each' in body)) errors.push(name);
    }
    expect(errors).toEqual([]);
  });

  it('gives every output a description and a value that refers to something that exists', async () => {
    const errors: string[] = [];
    for (const [name, body] of mod().outputs) {
      if (typeof body['description'] !== 'string' || body['description'].trim() === '') errors.push(`output ${name}: no description`);
      const refs = await referencesIn(body['value'] ?? null);
      if (refs.length === 0) errors.push(`output ${name}: value refers to nothing`);
      for (const ref of refs) {
        const problem = await unresolved(mod(), ref);
        if (problem) errors.push(`output ${name}: ${ref}: ${problem}`);
      }
    }
    expect(errors).toEqual([]);
    expect(mod().outputs.size).toBeGreaterThan(0);
  });

  it('types and describes every variable', () => {
    const errors: string[] = [];
    for (const [name, body] of mod().variables) {
      if (typeof body['type'] !== 'string') errors.push(`${name}: no type`);
      if (typeof body['description'] !== 'string' || body['description'].trim().length < 10) errors.push(`${name}: no description`);
    }
    expect(errors).toEqual([]);
  });

  it('puts the unit in the name of every number variable', () => {
    const UNIT = /_(seconds|minutes|ms|mib|mb|gib|chars|count|attempts|per_instance|points)$/;
    const numbers = [...mod().variables].filter(([, body]) => body['type'] === '${number}').map(([name]) => name);
    expect(numbers.filter((n) => !UNIT.test(n))).toEqual([]);
  });

  it('passes a module call exactly variables the module declares, including every required one', async () => {
    const errors: string[] = [];
    for (const [name, call] of mod().modules) {
      const childDir = resolve(mod().dir, String(call['source']));
      if (!existsSync(childDir)) {
        errors.push(`module ${name}: source ${String(call['source'])} does not exist`);
        continue;
      }
      const child = await loadModule(childDir);
      const args = Object.keys(call).filter((k) => !MODULE_META.has(k));
      for (const a of args) if (!child.variables.has(a)) errors.push(`module ${name}: ${a} is not a variable of the module`);
      for (const [v, body] of child.variables) {
        if (!('default' in body) && !args.includes(v)) errors.push(`module ${name}: required variable ${v} not given`);
      }
    }
    expect(errors).toEqual([]);
  });
});

describe('the examples', () => {
  it('include one organization and several organizations, each calling the module', () => {
    const examples = modules.filter((m) => m.dir.includes(`${terraformDir}/examples/`));
    const names = examples.map((m) => m.dir.split('/').pop());
    expect(names).toEqual(expect.arrayContaining(['single_organization', 'multiple_organizations']));
    for (const ex of examples) {
      const calls = [...ex.modules.values()];
      expect(calls.map((c) => resolve(ex.dir, String(c['source'])))).toEqual([terraformDir]);
    }
    const multi = examples.find((m) => m.dir.endsWith('multiple_organizations'));
    expect([...(multi?.modules.values() ?? [])].every((c) => 'for_each' in c)).toBe(true);
  });

  it('the module has the standard files', () => {
    const root = modules.find((m) => m.dir === terraformDir);
    const files = root?.files.map((f) => f.path.split('/').pop());
    expect(files).toEqual(expect.arrayContaining(['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf']));
    for (const ex of modules.filter((m) => m !== root)) {
      expect(ex.files.map((f) => f.path.split('/').pop())).toEqual(
        expect.arrayContaining(['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf']),
      );
    }
  });
});
