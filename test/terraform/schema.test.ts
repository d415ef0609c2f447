/**
 * Every resource and data source type, every argument and nested block, and
 * every attribute read through a reference exists in the provider schemas
 * pinned in terraform/schema/ (generated from the published provider schema by
 * scripts/generate-provider-schema.mjs). Stands in for `terraform validate`,
 * which cannot run on our machines.
 */
import { checkAttributePath, checkBody } from './schema-check.js';
import {
  bodies,
  isBody,
  loadModule,
  loadProviderSchemas,
  moduleDirs,
  providerOf,
  referencesIn,
  resourceSchema,
  type BlockSchema,
  type TfModule,
} from './support.js';

const schemas = loadProviderSchemas();
let modules: TfModule[] = [];

beforeAll(async () => {
  modules = await Promise.all(moduleDirs().map(loadModule));
});

const REGENERATE = 'add it to terraform/ and rerun scripts/generate-provider-schema.mjs (see its header)';

describe('provider schemas', () => {
  it('are committed for google and archive, with a pinned version each', () => {
    expect(schemas.get('google')?.address).toBe('registry.terraform.io/hashicorp/google');
    expect(schemas.get('google')?.version).toMatch(/^[67]\.\d+\.\d+$/);
    expect(schemas.get('archive')?.address).toBe('registry.terraform.io/hashicorp/archive');
    expect(schemas.get('archive')?.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('the version constraints of the module and examples start at the schema versions', () => {
    for (const mod of modules) {
      const required = mod.terraformBlocks.flatMap((t) => bodies(t['required_providers']));
      expect(required.length).toBe(1);
      for (const [local, schema] of schemas) {
        const entry = required[0]?.[local];
        expect(isBody(entry) ? entry['source'] : undefined).toBe(schema.address.replace('registry.terraform.io/', ''));
        expect(isBody(entry) ? entry['version'] : undefined).toContain(`>= ${schema.version}`);
      }
    }
  });
});

describe('every resource and data source fits the provider schema', () => {
  it('uses only types present in the pinned schemas', () => {
    const missing: string[] = [];
    let checked = 0;
    for (const mod of modules) {
      for (const r of mod.resources.values()) {
        checked++;
        if (!resourceSchema(schemas, 'resource', r.type)) missing.push(`${r.file}: resource ${r.type} (${REGENERATE})`);
      }
      for (const d of mod.dataSources.values()) {
        checked++;
        if (!resourceSchema(schemas, 'data', d.type)) missing.push(`${d.file}: data ${d.type} (${REGENERATE})`);
      }
    }
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThan(10);
  });

  it('the committed schemas hold only the types terraform/ uses (trimmed, nothing stale)', () => {
    const used = new Set(modules.flatMap((m) => [...m.resources.values()].map((r) => `resource ${r.type}`).concat([...m.dataSources.values()].map((d) => `data ${d.type}`))));
    const committed = [...schemas.values()].flatMap((p) => [
      ...Object.keys(p.resource_schemas).map((t) => `resource ${t}`),
      ...Object.keys(p.data_source_schemas).map((t) => `data ${t}`),
    ]);
    // A stale entry: rerun scripts/generate-provider-schema.mjs, or delete the entry by hand.
    expect(committed.filter((t) => !used.has(t))).toEqual([]);
    expect(committed.length).toBe(used.size);
  });

  it('sets only arguments and blocks the schema has, and every required one', () => {
    const errors: string[] = [];
    for (const mod of modules) {
      for (const r of mod.resources.values()) {
        const schema = resourceSchema(schemas, 'resource', r.type);
        if (schema) errors.push(...checkBody(r.body, schema, `${r.file}: ${r.type}.${r.name}`));
      }
      for (const d of mod.dataSources.values()) {
        const schema = resourceSchema(schemas, 'data', d.type);
        if (schema) errors.push(...checkBody(d.body, schema, `${d.file}: data.${d.type}.${d.name}`));
      }
    }
    expect(errors).toEqual([]);
  });

  it('configures providers with arguments the provider has', () => {
    const errors: string[] = [];
    let checked = 0;
    for (const mod of modules) {
      for (const [name, body] of mod.providers) {
        checked++;
        const schema = schemas.get(name)?.provider?.block;
        if (!schema) {
          errors.push(`${mod.dir}: provider "${name}" has no committed provider schema`);
          continue;
        }
        errors.push(...checkBody(body, { ...schema, attributes: { ...schema.attributes, alias: { optional: true } } }, `provider.${name}`));
      }
    }
    expect(errors).toEqual([]);
    expect(checked).toBeGreaterThan(0);
  });

  it('reads only attributes that exist on the referenced resources and data sources', async () => {
    const errors: string[] = [];
    let checked = 0;
    for (const mod of modules) {
      for (const f of mod.files) {
        for (const ref of await referencesIn(f.json, f.path)) {
          const parts = ref.split('.');
          const isData = parts[0] === 'data';
          const [type, name, ...rest] = isData ? parts.slice(1) : parts;
          if (type === undefined || name === undefined || !type.includes('_') || !schemas.has(providerOf(type))) continue;
          const schema: BlockSchema | undefined = resourceSchema(schemas, isData ? 'data' : 'resource', type);
          if (!schema) continue; // reported by the type check above
          checked++;
          const problem = checkAttributePath(rest, schema);
          if (problem) errors.push(`${f.path}: ${ref}: ${problem}`);
        }
      }
    }
    expect(errors).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });
});

describe('the schema check itself', () => {
  const schema: BlockSchema = {
    attributes: { name: { required: true }, labels: { optional: true }, url: { computed: true } },
    block_types: {
      push_config: {
        nesting_mode: 'list',
        min_items: 1,
        max_items: 1,
        block: { attributes: { push_endpoint: { required: true } }, block_types: {} },
      },
    },
  };

  it('accepts a body that fits', () => {
    expect(checkBody({ name: 'x', count: 1, push_config: [{ push_endpoint: 'https://e' }] }, schema, 't')).toEqual([]);
  });

  it.each([
    ['an unknown argument', { name: 'x', nmae: 'y', push_config: [{ push_endpoint: 'e' }] }, /unknown argument or block "nmae"/],
    ['an unknown nested argument', { name: 'x', push_config: [{ push_endpoint: 'e', audience: 'a' }] }, /push_config\[0\]: unknown argument or block "audience"/],
    ['a computed-only attribute', { name: 'x', url: 'u', push_config: [{ push_endpoint: 'e' }] }, /"url" is computed-only/],
    ['a missing required argument', { push_config: [{ push_endpoint: 'e' }] }, /required argument "name" missing/],
    ['a missing required block', { name: 'x' }, /required block "push_config" missing/],
    ['a single block given twice', { name: 'x', push_config: [{ push_endpoint: 'a' }, { push_endpoint: 'b' }] }, /at most 1 block/],
    ['a bad lifecycle', { name: 'x', push_config: [{ push_endpoint: 'e' }], lifecycle: [{ prevent_destory: true }] }, /lifecycle: unknown argument prevent_destory/],
  ])('rejects %s', (_name, body, message) => {
    expect(checkBody(body, schema, 't').join('\n')).toMatch(message);
  });

  it('rejects a reference to an attribute the resource lacks', () => {
    expect(checkAttributePath(['push_config', '0', 'push_endpoint'], schema)).toBeNull();
    expect(checkAttributePath(['push_config', '0', 'uri'], schema)).toMatch(/"uri"/);
  });
});
