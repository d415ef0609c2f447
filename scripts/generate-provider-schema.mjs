#!/usr/bin/env node
/**
 * Regenerates terraform/schema/*-provider-schema.json: a trimmed copy of the
 * Terraform provider schemas, holding only the resource and data source types
 * that terraform/ uses. test/terraform checks every .tf file against them
 * (no terraform binary can be installed on our machines).
 *
 * Source of truth: the prebuilt CDKTF provider packages. Each
 * lib/<type>/index.js embeds (in its source map) the generated TypeScript,
 * which carries, for every attribute of every block, a line
 *   // <snake_name> - computed: <bool>, optional: <bool>, required: <bool>
 * followed, for nested blocks, by `new <Class>(this, "<snake_name>", ...)`.
 *
 * These packages are far too heavy for the project (~300 MB): install them in
 * a scratch directory OUTSIDE the project, never in /work/main:
 *
 *   mkdir -p /tmp/schema-gen && cd /tmp/schema-gen && npm init -y
 *   npm install --ignore-scripts @cdktf/provider-google@16.12.1 @cdktf/provider-archive@11.0.1 @cdktf/provider-time@11.0.1
 *   cd /work/main && node scripts/generate-provider-schema.mjs \
 *     --google /tmp/schema-gen/node_modules/@cdktf/provider-google \
 *     --archive /tmp/schema-gen/node_modules/@cdktf/provider-archive \
 *     --time /tmp/schema-gen/node_modules/@cdktf/provider-time
 *
 * (`npm pack` of the three and extracting package/package.json and
 * package/lib/<type>/index.js serves as well, without the 300 MB install.)
 *
 * @cdktf/provider-google 16.12.1 is hashicorp/google 6.50.0;
 * @cdktf/provider-archive 11.0.1 is hashicorp/archive 2.7.1;
 * @cdktf/provider-time 11.0.1 is hashicorp/time 0.13.1 (see each
 * package.json's cdktf.provider). Rerun after adding a resource or data source
 * type to terraform/, or after moving to another provider version (then also
 * move the constraint in terraform/versions.tf).
 *
 * Output format mirrors `terraform providers schema -json` (trimmed): per type,
 * block.attributes.<name> = {required?, optional?, computed?} (true flags only) and
 * block.block_types.<name> = {nesting_mode, min_items, max_items, block}.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(projectRoot, 'package.json'));
const { parse } = require('@cdktf/hcl2json');

/** Providers this module may use: local name prefix → package option and output file. */
const PROVIDERS = {
  google: {
    address: 'registry.terraform.io/hashicorp/google',
    option: '--google',
    defaultPath: '/tmp/schema-gen/node_modules/@cdktf/provider-google',
    output: 'terraform/schema/google-provider-schema.json',
  },
  archive: {
    address: 'registry.terraform.io/hashicorp/archive',
    option: '--archive',
    defaultPath: '/tmp/schema-gen/node_modules/@cdktf/provider-archive',
    output: 'terraform/schema/archive-provider-schema.json',
  },
  time: {
    address: 'registry.terraform.io/hashicorp/time',
    option: '--time',
    defaultPath: '/tmp/schema-gen/node_modules/@cdktf/provider-time',
    output: 'terraform/schema/time-provider-schema.json',
  },
};

function argValue(name) {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

function listTfFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    if (entry === '.terraform') continue;
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...listTfFiles(p));
    else if (entry.endsWith('.tf')) out.push(p);
  }
  return out.sort();
}

/** Every resource type, data source type and provider configured anywhere under terraform/. */
async function usedTypes() {
  const resources = new Set();
  const dataSources = new Set();
  const providers = new Set();
  for (const file of listTfFiles(join(projectRoot, 'terraform'))) {
    const json = await parse(relative(projectRoot, file), readFileSync(file, 'utf8'));
    for (const type of Object.keys(json.resource ?? {})) resources.add(type);
    for (const type of Object.keys(json.data ?? {})) dataSources.add(type);
    for (const name of Object.keys(json.provider ?? {})) providers.add(name);
  }
  return { resources: [...resources].sort(), dataSources: [...dataSources].sort(), providers };
}

function providerOf(type) {
  const local = type.split('_')[0];
  if (!(local in PROVIDERS)) throw new Error(`${type}: provider "${local}" has no schema source in this script`);
  return local;
}

/** The generated TypeScript embedded in the compiled file's inline source map. */
function embeddedTypeScript(indexJs) {
  const js = readFileSync(indexJs, 'utf8');
  const m = js.match(/sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/);
  if (!m) throw new Error(`${indexJs}: no inline source map`);
  const map = JSON.parse(Buffer.from(m[1], 'base64').toString('utf8'));
  const ts = map.sourcesContent?.[0];
  if (typeof ts !== 'string') throw new Error(`${indexJs}: source map carries no sourcesContent`);
  return ts;
}

/** class name → its body text, for every exported class of the generated file. */
function classBodies(ts) {
  const bodies = new Map();
  const re = /^export class (\w+) extends cdktf\.(\w+)/gm;
  const starts = [...ts.matchAll(re)];
  starts.forEach((m, i) => {
    const end = i + 1 < starts.length ? starts[i + 1].index : ts.length;
    bodies.set(m[1], { base: m[2], body: ts.slice(m.index, end) });
  });
  return bodies;
}

const FLAGS = /^\s*\/\/ (\w+) - computed: (true|false), optional: (true|false), required: (true|false)\s*$/;

/** Builds the Terraform-style block schema of one generated class, recursing into nested blocks. */
function blockSchema(className, bodies, path) {
  const entry = bodies.get(className);
  if (!entry) throw new Error(`${path}: class ${className} not found`);
  const lines = entry.body.split('\n');
  const attributes = {};
  const blockTypes = {};
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i].match(FLAGS);
    if (!m) continue;
    const [, name, computed, optional, required] = m;
    const flags = flagsOf(computed, optional, required);
    const next = lines[i + 1] ?? '';
    const nested = next.match(new RegExp(`= new (\\w+)\\(this, "${name}"(?:, (true|false))?\\)`));
    const isNestedClass = nested && !next.includes('cdktf.') && /(OutputReference|List)$/.test(nested[1]);
    const settable = flags.required === true || flags.optional === true;
    if (isNestedClass && settable) {
      const cls = nested[1];
      const single = cls.endsWith('OutputReference');
      const elementClass = single ? cls : cls.replace(/List$/, 'OutputReference');
      blockTypes[name] = {
        nesting_mode: single ? 'list' : nested[2] === 'true' ? 'set' : 'list',
        min_items: flags.required === true ? 1 : 0,
        ...(single ? { max_items: 1 } : {}),
        block: blockSchema(elementClass, bodies, `${path}.${name}`),
      };
    } else {
      // Computed-only nested objects (e.g. creation_record) are readable attributes, not settable blocks.
      attributes[name] = flags;
    }
  }
  return { attributes: sortKeys(attributes), block_types: sortKeys(blockTypes) };
}

/** Terraform's attribute flags, keeping only the true ones (as `terraform providers schema -json` omits false). */
function flagsOf(computed, optional, required) {
  const flags = {};
  if (required === 'true') flags.required = true;
  if (optional === 'true') flags.optional = true;
  if (computed === 'true') flags.computed = true;
  return flags;
}

function sortKeys(obj) {
  return Object.fromEntries(Object.entries(obj).sort(([a], [b]) => a.localeCompare(b)));
}

/** The keys cdktf synthesizes for the top-level block: every settable argument and block. */
function synthesizedKeys(ts, rootClass) {
  const body = classBodies(ts).get(rootClass).body;
  const m = body.match(/protected synthesizeAttributes\(\)[^\n]*\n\s*return \{([\s\S]*?)\n\s*\};/);
  if (!m) throw new Error(`${rootClass}: synthesizeAttributes not found`);
  return [...m[1].matchAll(/^\s*(\w+):/gm)].map((x) => x[1]);
}

function schemaFor(pkgDir, kind, type) {
  const local = providerOf(type);
  const dirName = kind === 'data' ? `data-${type.replace(/_/g, '-')}` : type.slice(local.length + 1).replace(/_/g, '-');
  const indexJs = join(pkgDir, 'lib', dirName, 'index.js');
  if (!existsSync(indexJs)) throw new Error(`${kind} ${type}: ${indexJs} does not exist — not in this provider version?`);
  const ts = embeddedTypeScript(indexJs);
  const typeDecl = ts.match(/public static readonly tfResourceType = "([^"]+)"/);
  if (!typeDecl || typeDecl[1] !== type) throw new Error(`${indexJs}: declares ${typeDecl?.[1]}, expected ${type}`);
  const base = kind === 'data' ? 'TerraformDataSource' : 'TerraformResource';
  const root = [...classBodies(ts).entries()].find(([, v]) => v.base === base);
  if (!root) throw new Error(`${indexJs}: no ${base} class`);
  const block = blockSchema(root[0], classBodies(ts), type);
  // Cross-check: everything cdktf would synthesize must be in the parsed schema.
  for (const key of synthesizedKeys(ts, root[0])) {
    if (!(key in block.attributes) && !(key in block.block_types)) {
      throw new Error(`${type}: synthesized key ${key} missing from the parsed schema`);
    }
  }
  return { block };
}

/**
 * The provider configuration block (provider "google" { ... }): top-level
 * arguments only. Its nested blocks (batching, external_credentials) are listed
 * with an empty schema; using one needs this script extended first.
 */
function providerSchema(pkgDir) {
  const indexJs = join(pkgDir, 'lib', 'provider', 'index.js');
  const ts = embeddedTypeScript(indexJs);
  const root = [...classBodies(ts).entries()].find(([, v]) => v.base === 'TerraformProvider');
  if (!root) throw new Error(`${indexJs}: no TerraformProvider class`);
  const lines = root[1].body.split('\n');
  const attributes = {};
  const blockTypes = {};
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i].match(FLAGS);
    if (!m) continue;
    const [, name, computed, optional, required] = m;
    const isBlock = /private _\w+\?: [A-Z]\w*\[\]/.test(lines[i + 1] ?? '');
    if (isBlock) {
      blockTypes[name] = { nesting_mode: 'list', min_items: 0, nested_schema_omitted: true, block: { attributes: {}, block_types: {} } };
    } else {
      attributes[name] = flagsOf(computed, optional, required);
    }
  }
  return { block: { attributes: sortKeys(attributes), block_types: sortKeys(blockTypes) } };
}

async function main() {
  const { resources, dataSources, providers } = await usedTypes();
  for (const [local, provider] of Object.entries(PROVIDERS)) {
    const pkgDir = resolve(argValue(provider.option) ?? provider.defaultPath);
    const mine = (types) => types.filter((t) => providerOf(t) === local);
    const outPath = join(projectRoot, provider.output);
    if (mine(resources).length + mine(dataSources).length === 0) {
      console.log(`${local}: no types used, ${provider.output} left as is`);
      continue;
    }
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    const schema = {
      format_version: '1.0',
      generated_by: 'scripts/generate-provider-schema.mjs (see its header to rerun)',
      generated_from: `${pkg.name}@${pkg.version}`,
      provider_schemas: {
        [provider.address]: {
          version: pkg.cdktf.provider.version,
          ...(providers.has(local) ? { provider: providerSchema(pkgDir) } : {}),
          resource_schemas: Object.fromEntries(mine(resources).map((t) => [t, schemaFor(pkgDir, 'resource', t)])),
          data_source_schemas: Object.fromEntries(mine(dataSources).map((t) => [t, schemaFor(pkgDir, 'data', t)])),
        },
      },
    };
    mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(outPath, `${JSON.stringify(schema, null, 2)}\n`);
    console.log(
      `${local} ${pkg.cdktf.provider.version} (${pkg.name}@${pkg.version}): ${mine(resources).length} resources, ${mine(dataSources).length} data sources → ${provider.output}`,
    );
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
