/**
 * Shared helpers of the terraform/ checks: locate the project, parse .tf files
 * with a real HCL parser (@cdktf/hcl2json, HashiCorp's hcl2 compiled to WASM),
 * extract references, read the committed provider schemas.
 *
 * hcl2json's JSON shape: blocks are arrays of bodies (`resource.TYPE.NAME[0]`,
 * `variable.NAME[0]`, `locals[i]`), expressions are strings wrapped in
 * "${...}", literals stay literal.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getReferencesInExpression, parse } from '@cdktf/hcl2json';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Body = { [key: string]: Json };

/** The directory holding package.json, found by walking up from this (compiled) file. */
export function findProjectRoot(start: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
}

export const projectRoot = findProjectRoot();
export const terraformDir = join(projectRoot, 'terraform');

export function isBody(value: Json | undefined): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Bodies of a block-typed value (`[ {...}, ... ]`); [] for anything else. */
export function bodies(value: Json | undefined): Body[] {
  return Array.isArray(value) ? value.filter(isBody) : [];
}

export function firstBody(value: Json | undefined): Body {
  const [body] = bodies(value);
  if (body === undefined) throw new Error(`expected a block, got ${JSON.stringify(value)}`);
  return body;
}

/** Labeled blocks (`variable "x" {}`, `resource "t" "n" {}` one level down) as [label, body] pairs. */
export function labeled(value: Json | undefined): Array<[string, Body]> {
  if (!isBody(value)) return [];
  return Object.entries(value).flatMap(([label, blocks]) => bodies(blocks).map((b): [string, Body] => [label, b]));
}

export interface TfFile {
  /** Path relative to the project root. */
  path: string;
  text: string;
  json: Body;
}

/** .tf files directly in dir (a Terraform module is one directory, not a tree). */
export function tfFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.tf') && statSync(join(dir, f)).isFile())
    .sort()
    .map((f) => join(dir, f));
}

/** Every .tf file under terraform/, examples included. */
export function allTfFiles(dir: string = terraformDir): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (entry === '.terraform') continue;
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...allTfFiles(p));
    else if (entry.endsWith('.tf')) out.push(p);
  }
  return out;
}

/** Directories that are Terraform modules: terraform/ itself and each examples/NAME. */
export function moduleDirs(): string[] {
  const examples = join(terraformDir, 'examples');
  const dirs = [terraformDir];
  if (existsSync(examples)) {
    for (const name of readdirSync(examples).sort()) {
      const p = join(examples, name);
      if (statSync(p).isDirectory() && tfFilesIn(p).length > 0) dirs.push(p);
    }
  }
  return dirs;
}

export async function parseTf(path: string): Promise<TfFile> {
  const text = readFileSync(path, 'utf8');
  const rel = relative(projectRoot, path);
  const json = (await parse(rel, text)) as Body;
  return { path: rel, text, json };
}

/** A module directory: its files, and its top-level blocks merged across files. */
export interface TfModule {
  dir: string;
  files: TfFile[];
  variables: Map<string, Body>;
  outputs: Map<string, Body>;
  locals: Map<string, Json>;
  /** "TYPE.NAME" → body */
  resources: Map<string, { type: string; name: string; body: Body; file: string }>;
  /** "TYPE.NAME" (without data.) → body */
  dataSources: Map<string, { type: string; name: string; body: Body; file: string }>;
  modules: Map<string, Body>;
  providers: Array<[string, Body]>;
  terraformBlocks: Body[];
}

export async function loadModule(dir: string): Promise<TfModule> {
  const files = await Promise.all(tfFilesIn(dir).map(parseTf));
  const mod: TfModule = {
    dir,
    files,
    variables: new Map(),
    outputs: new Map(),
    locals: new Map(),
    resources: new Map(),
    dataSources: new Map(),
    modules: new Map(),
    providers: [],
    terraformBlocks: [],
  };
  const addUnique = <T>(map: Map<string, T>, key: string, value: T, what: string, file: string) => {
    if (map.has(key)) throw new Error(`${file}: duplicate ${what} ${key}`);
    map.set(key, value);
  };
  for (const f of files) {
    const j = f.json;
    for (const [name, body] of labeled(j['variable'])) addUnique(mod.variables, name, body, 'variable', f.path);
    for (const [name, body] of labeled(j['output'])) addUnique(mod.outputs, name, body, 'output', f.path);
    for (const [name, body] of labeled(j['module'])) addUnique(mod.modules, name, body, 'module', f.path);
    for (const block of bodies(j['locals'])) {
      for (const [name, value] of Object.entries(block)) addUnique(mod.locals, name, value, 'local', f.path);
    }
    for (const [type, byName] of Object.entries(isBody(j['resource']) ? j['resource'] : {})) {
      for (const [name, body] of labeled(byName)) {
        addUnique(mod.resources, `${type}.${name}`, { type, name, body, file: f.path }, 'resource', f.path);
      }
    }
    for (const [type, byName] of Object.entries(isBody(j['data']) ? j['data'] : {})) {
      for (const [name, body] of labeled(byName)) {
        addUnique(mod.dataSources, `${type}.${name}`, { type, name, body, file: f.path }, 'data source', f.path);
      }
    }
    mod.providers.push(...labeled(j['provider']));
    mod.terraformBlocks.push(...bodies(j['terraform']));
  }
  return mod;
}

/** Every string anywhere inside a value, with the path that leads to it. */
export function strings(value: Json | undefined, path = ''): Array<{ path: string; value: string }> {
  if (typeof value === 'string') return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${path}[${i}]`));
  if (isBody(value)) return Object.entries(value).flatMap(([k, v]) => strings(v, path ? `${path}.${k}` : k));
  return [];
}

/**
 * References (`var.x`, `google_x.y.attr`, `data.t.n.a`, `module.m.o`, ...) in an HCL-JSON value.
 *
 * hcl2json hands templates back with their literal parts unescaped
 * (`metric.type="x/${local.y}"`); quoted again as-is they would not parse.
 * getReferencesInExpression parses a value holding a newline as a heredoc,
 * where literal quotes need no escaping, so every template gets one.
 */
export async function referencesIn(value: Json | undefined, file = 'main.tf'): Promise<string[]> {
  const out: string[] = [];
  for (const s of strings(value)) {
    if (!s.value.includes('${') && !s.value.includes('%{')) continue;
    const asHeredoc = `${s.value.startsWith('"') ? ' ' : ''}${s.value}\n`;
    for (const ref of await getReferencesInExpression(file, asHeredoc)) out.push(ref.value);
  }
  return out;
}

/** A literal list of strings (no interpolation), or null. */
export function literalStrings(value: Json | undefined): string[] | null {
  if (!Array.isArray(value)) return null;
  const out: string[] = [];
  for (const v of value) {
    if (typeof v !== 'string' || v.includes('${')) return null;
    out.push(v);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Provider schemas (terraform/schema/*.json, generated by scripts/generate-provider-schema.mjs)
// ---------------------------------------------------------------------------

export interface AttributeSchema {
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
}

export interface BlockSchema {
  attributes: Record<string, AttributeSchema>;
  block_types: Record<string, { nesting_mode: string; min_items: number; max_items?: number; block: BlockSchema }>;
}

export interface ProviderSchema {
  address: string;
  version: string;
  provider?: { block: BlockSchema };
  resource_schemas: Record<string, { block: BlockSchema }>;
  data_source_schemas: Record<string, { block: BlockSchema }>;
}

export const schemaFiles = {
  google: join(terraformDir, 'schema', 'google-provider-schema.json'),
  archive: join(terraformDir, 'schema', 'archive-provider-schema.json'),
  time: join(terraformDir, 'schema', 'time-provider-schema.json'),
} as const;

export function loadProviderSchemas(): Map<string, ProviderSchema> {
  const out = new Map<string, ProviderSchema>();
  for (const [local, file] of Object.entries(schemaFiles)) {
    const json = JSON.parse(readFileSync(file, 'utf8')) as {
      provider_schemas: Record<string, Omit<ProviderSchema, 'address'>>;
    };
    const entries = Object.entries(json.provider_schemas);
    if (entries.length !== 1) throw new Error(`${file}: expected exactly one provider`);
    const [address, schema] = entries[0]!;
    out.set(local, { address, ...schema });
  }
  return out;
}

/** The provider local name of a resource or data source type: google_x → google. */
export function providerOf(type: string): string {
  return type.split('_')[0] ?? type;
}

export function resourceSchema(
  schemas: Map<string, ProviderSchema>,
  kind: 'resource' | 'data',
  type: string,
): BlockSchema | undefined {
  const provider = schemas.get(providerOf(type));
  const table = kind === 'resource' ? provider?.resource_schemas : provider?.data_source_schemas;
  return table?.[type]?.block;
}

/** Meta-arguments Terraform itself accepts in resource and data blocks. */
export const META_ARGUMENTS = new Set(['count', 'for_each', 'depends_on', 'provider', 'lifecycle']);
