/**
 * Checks an HCL-JSON body against a provider block schema: every argument and
 * nested block exists and is settable, required ones are present, single
 * blocks appear once. Also checks attribute paths of references.
 */
import { bodies, isBody, META_ARGUMENTS, type BlockSchema, type Body, type Json } from './support.js';

const LIFECYCLE_ARGUMENTS = new Set([
  'create_before_destroy',
  'prevent_destroy',
  'ignore_changes',
  'replace_triggered_by',
  'precondition',
  'postcondition',
]);

function checkLifecycle(value: Json, path: string, errors: string[]): void {
  for (const lifecycle of bodies(value)) {
    for (const [key, v] of Object.entries(lifecycle)) {
      if (!LIFECYCLE_ARGUMENTS.has(key)) errors.push(`${path}.lifecycle: unknown argument ${key}`);
      if (key === 'precondition' || key === 'postcondition') {
        for (const condition of bodies(v)) {
          const keys = Object.keys(condition).sort().join(',');
          if (keys !== 'condition,error_message') errors.push(`${path}.lifecycle.${key}: needs exactly condition and error_message, has ${keys}`);
        }
      }
    }
  }
}

/**
 * @param topLevel true for a resource/data body (meta-arguments allowed).
 * @returns human-readable errors; [] when the body fits the schema.
 */
export function checkBody(body: Body, schema: BlockSchema, path: string, topLevel = true): string[] {
  const errors: string[] = [];
  const seenBlocks = new Map<string, number>();
  for (const [key, value] of Object.entries(body)) {
    if (topLevel && META_ARGUMENTS.has(key)) {
      if (key === 'lifecycle') checkLifecycle(value, path, errors);
      continue;
    }
    if (key === 'dynamic') {
      for (const [label, dyns] of Object.entries(isBody(value) ? value : {})) {
        const nested = schema.block_types[label];
        if (!nested) {
          errors.push(`${path}: dynamic "${label}" is not a block of this type`);
          continue;
        }
        for (const dyn of bodies(dyns)) {
          for (const content of bodies(dyn['content'])) errors.push(...checkBody(content, nested.block, `${path}.${label}`, false));
        }
        seenBlocks.set(label, Number.POSITIVE_INFINITY);
      }
      continue;
    }
    const nested = schema.block_types[key];
    if (nested) {
      const blocks = bodies(value);
      if (blocks.length === 0 || (Array.isArray(value) && blocks.length !== value.length)) {
        errors.push(`${path}.${key} is a block; write it as ${key} { ... }, not as an attribute`);
        continue;
      }
      seenBlocks.set(key, blocks.length);
      if (nested.max_items !== undefined && blocks.length > nested.max_items) {
        errors.push(`${path}.${key}: at most ${nested.max_items} block(s), found ${blocks.length}`);
      }
      blocks.forEach((b, i) => errors.push(...checkBody(b, nested.block, `${path}.${key}[${i}]`, false)));
      continue;
    }
    const attribute = schema.attributes[key];
    if (!attribute) {
      errors.push(`${path}: unknown argument or block "${key}"`);
      continue;
    }
    if (!attribute.required && !attribute.optional) errors.push(`${path}: "${key}" is computed-only and cannot be set`);
  }
  for (const [name, attribute] of Object.entries(schema.attributes)) {
    if (attribute.required && !(name in body)) errors.push(`${path}: required argument "${name}" missing`);
  }
  for (const [name, block] of Object.entries(schema.block_types)) {
    if (block.min_items > 0 && (seenBlocks.get(name) ?? 0) < block.min_items) {
      errors.push(`${path}: required block "${name}" missing`);
    }
  }
  return errors;
}

/**
 * Checks the attribute path of a reference after TYPE.NAME (e.g.
 * ["service_config", "0", "uri"]). Index segments (digits or quoted keys)
 * are skipped; a path into a plain attribute stops there (its value may be a
 * map or object the schema does not describe).
 */
export function checkAttributePath(segments: string[], schema: BlockSchema): string | null {
  let block = schema;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (/^\d+$/.test(seg) || seg.startsWith('"') || seg === '*') continue;
    if (seg in block.attributes) return null;
    const nested = block.block_types[seg];
    if (!nested) return `no attribute or block "${seg}"`;
    block = nested.block;
  }
  return null;
}
