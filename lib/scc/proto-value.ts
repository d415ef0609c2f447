/**
 * google.protobuf.Value ↔ plain JSON, at the SCC boundary. Source property
 * values are Values (finding.proto: `map<string, google.protobuf.Value>
 * source_properties`); the gRPC client sends and returns them as objects with
 * one of nullValue, numberValue, stringValue, boolValue, structValue,
 * listValue set (plus a `kind` helper naming which, on what it returns),
 * while notifications and `gcloud ... --format=json` carry the same value as
 * proto3 JSON, i.e. plain JSON (struct.proto: "The JSON representation for
 * `Value` is JSON value").
 *
 * Writing: struct.proto says number_value "Must not be NaN, Infinity or
 * -Infinity", so a non-finite number is written as null; strings must be
 * valid UTF-8 (every protobuf runtime rejects anything else in a proto3
 * string: golang/protobuf commit 8c86fc5e, "No other proto implementation
 * supports non-UTF-8 data in proto3 strings"), so a lone UTF-16 surrogate,
 * which has no UTF-8 form, becomes U+FFFD.
 *
 * Reading: what comes back is bounded (depth, nodes, characters) before it
 * is looked at, since a stored value can have been written by anyone with
 * write access to the source.
 */
import type { protos } from '@google-cloud/security-center';
import { wellFormed } from '../sanitize.js';

export type Json = null | string | number | boolean | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}
export type ProtoValue = protos.google.protobuf.IValue;

const VALUE_KINDS = ['nullValue', 'numberValue', 'stringValue', 'boolValue', 'structValue', 'listValue'] as const;

/** Plain JSON → google.protobuf.Value, as the client sends it. Object members set to undefined are left out, as JSON.stringify does. */
export function toProtoValue(v: Json | undefined): ProtoValue {
  if (v === null || v === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'string') return { stringValue: wellFormed(v) };
  if (typeof v === 'number') return Number.isFinite(v) ? { numberValue: v } : { nullValue: 'NULL_VALUE' };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toProtoValue) } };
  const fields: Record<string, ProtoValue> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) fields[wellFormed(k)] = toProtoValue(x);
  return { structValue: { fields } };
}

/** The plain-JSON size of a value: the length of JSON.stringify, which is what the property budget counts. */
export function jsonChars(v: Json): number {
  return JSON.stringify(v).length;
}

export interface ReadLimits {
  /** Objects and arrays nested deeper than this are refused. */
  maxDepth: number;
  /** Values (every scalar, object and array) in all. */
  maxNodes: number;
  /** Characters of strings and keys in all. */
  maxChars: number;
}

/** A stored value that cannot be read; the message names where and what. */
export class ValueReadError extends Error {
  override name = 'ValueReadError';
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True for a google.protobuf.Value in the client's object form, false for plain (proto3) JSON. */
export function isProtoValueForm(v: unknown): boolean {
  return isObj(v) && VALUE_KINDS.some((k) => Object.hasOwn(v, k));
}

/**
 * A stored Value in either form → plain JSON, within `limits`. The form is
 * decided once, at the top: a plain JSON object nested inside (pod labels,
 * say) may well have a key named "structValue" and is not a Value.
 */
export function readStoredValue(v: unknown, limits: ReadLimits, at: string): Json {
  const budget = { nodes: 0, chars: 0 };
  const count = (path: string, chars: number): void => {
    budget.nodes += 1;
    budget.chars += chars;
    if (budget.nodes > limits.maxNodes) throw new ValueReadError(`${at} has more than ${limits.maxNodes} values (at ${path})`);
    if (budget.chars > limits.maxChars) throw new ValueReadError(`${at} holds more than ${limits.maxChars} characters of text (at ${path})`);
  };
  const deeper = (path: string, depth: number): void => {
    if (depth > limits.maxDepth) throw new ValueReadError(`${at} is nested more than ${limits.maxDepth} levels deep (at ${path})`);
  };

  const plain = (x: unknown, path: string, depth: number): Json => {
    if (x === null) return (count(path, 0), null);
    if (typeof x === 'string') return (count(path, x.length), x);
    if (typeof x === 'boolean') return (count(path, 0), x);
    if (typeof x === 'number') {
      if (!Number.isFinite(x)) throw new ValueReadError(`${path} is not a finite number`);
      return (count(path, 0), x);
    }
    deeper(path, depth);
    if (Array.isArray(x)) {
      count(path, 0);
      return x.map((e, i) => plain(e, `${path}[${i}]`, depth + 1));
    }
    if (isObj(x)) {
      count(path, 0);
      const out: JsonObject = {};
      for (const [k, e] of Object.entries(x)) {
        count(path, k.length);
        out[k] = plain(e, `${path}.${k}`, depth + 1);
      }
      return out;
    }
    throw new ValueReadError(`${path} is a ${typeof x}, not a JSON value`);
  };

  const proto = (x: unknown, path: string, depth: number): Json => {
    if (!isObj(x)) throw new ValueReadError(`${path} is not a google.protobuf.Value`);
    // The client names the set member in `kind`; without it, exactly one member must be set.
    const set = VALUE_KINDS.filter((k) => x[k] !== undefined && x[k] !== null);
    const kind = typeof x.kind === 'string' && (VALUE_KINDS as readonly string[]).includes(x.kind) ? (x.kind as (typeof VALUE_KINDS)[number]) : set.length === 1 ? set[0]! : null;
    if (kind === null) throw new ValueReadError(`${path} is not a google.protobuf.Value: ${set.length === 0 ? 'no kind is set' : `it sets ${set.join(' and ')}`}`);
    const member = x[kind];
    switch (kind) {
      case 'nullValue':
        return (count(path, 0), null);
      case 'stringValue':
        if (typeof member !== 'string') throw new ValueReadError(`${path}.stringValue is not a string`);
        return (count(path, member.length), member);
      case 'boolValue':
        if (typeof member !== 'boolean') throw new ValueReadError(`${path}.boolValue is not a boolean`);
        return (count(path, 0), member);
      case 'numberValue':
        if (typeof member !== 'number' || !Number.isFinite(member)) throw new ValueReadError(`${path}.numberValue is not a finite number`);
        return (count(path, 0), member);
      case 'listValue': {
        deeper(path, depth);
        count(path, 0);
        const values = isObj(member) ? (member.values ?? []) : undefined;
        if (!Array.isArray(values)) throw new ValueReadError(`${path}.listValue has no values list`);
        return values.map((e, i) => proto(e, `${path}[${i}]`, depth + 1));
      }
      case 'structValue': {
        deeper(path, depth);
        count(path, 0);
        const fields = isObj(member) ? (member.fields ?? {}) : undefined;
        if (!isObj(fields)) throw new ValueReadError(`${path}.structValue has no fields map`);
        const out: JsonObject = {};
        for (const [k, e] of Object.entries(fields)) {
          count(path, k.length);
          out[k] = proto(e, `${path}.${k}`, depth + 1);
        }
        return out;
      }
    }
  };

  return isProtoValueForm(v) ? proto(v, at, 0) : plain(v, at, 0);
}
