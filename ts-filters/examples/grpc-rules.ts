// grpc-inspect's rule language: a rule names a field path of the request message type and one
// condition. Rules are compiled against the .proto when the config loads (a wrong field, type or
// value rejects the config, naming it), into tests run on each decoded message.

import type * as Protobuf from 'protobufjs';

import { ConfigError } from 'envoy-ts';

/** A scalar a rule compares with: strings, numbers, booleans, or enum values by name or number. */
export type RuleValue = string | number | boolean;

/** Refuse a message when the value at `field` meets the rule's one condition. */
export interface DenyRule {
  /** Field names from the message type, joined by dots (`items.sku`); a map field is followed by a key. */
  readonly field: string;
  readonly equals?: RuleValue;
  readonly in?: readonly RuleValue[];
  /** A regular expression (string fields). */
  readonly matches?: string;
  /** Numeric fields: refused when the value is greater. */
  readonly above?: number;
  /** Numeric fields: refused when the value is smaller. */
  readonly below?: number;
  /** The grpc-message of the refusal (default: says which rule refused it). */
  readonly message?: string;
}

export type Protobufjs = typeof Protobuf;
type Condition = 'equals' | 'in' | 'matches' | 'above' | 'below';

const CONDITIONS: readonly Condition[] = ['equals', 'in', 'matches', 'above', 'below'];

/** One step of a rule's field path: a field, an element of a repeated field, or a map entry. */
interface PathStep {
  readonly field: string;
  readonly repeated: boolean;
  readonly mapKey: string | undefined;
}

export interface CompiledRule {
  readonly path: readonly PathStep[];
  readonly test: (value: unknown) => boolean;
  readonly message: string;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function typeName(type: Protobuf.ReflectionObject): string {
  return type.fullName.replace(/^\./, '');
}

function compilePath(pb: Protobufjs, messageType: Protobuf.Type, fieldPath: string,
                     where: string): { path: PathStep[]; leaf: Protobuf.Field } {
  const names = fieldPath.split('.');
  const path: PathStep[] = [];
  let type = messageType;
  for (let i = 0; ; i++) {
    const name = names[i] as string;
    const field = Object.hasOwn(type.fields, name) ? type.fields[name] : undefined;
    if (field === undefined) throw new ConfigError(`${where}: ${typeName(type)} has no field '${name}'`);
    let mapKey: string | undefined;
    if (field instanceof pb.MapField) {
      if (field.keyType !== 'string') {
        throw new ConfigError(`${where}: '${name}' has ${field.keyType} keys; only maps with string keys can be followed`);
      }
      mapKey = names[++i];
      if (mapKey === undefined) throw new ConfigError(`${where}: '${name}' is a map, name a key (${fieldPath}.<key>)`);
    }
    path.push({ field: name, repeated: field.repeated, mapKey });
    if (i === names.length - 1) return { path, leaf: field };
    if (!(field.resolvedType instanceof pb.Type)) {
      throw new ConfigError(`${where}: '${name}' is not a message, the path cannot go past it`);
    }
    type = field.resolvedType;
  }
}

const NUMERIC_TYPES = new Set(['double', 'float', 'int32', 'uint32', 'sint32', 'fixed32', 'sfixed32', 'int64',
  'uint64', 'sint64', 'fixed64', 'sfixed64']);

type LeafKind = 'string' | 'number' | 'bool' | 'enum';

function leafKind(pb: Protobufjs, leaf: Protobuf.Field, where: string): LeafKind {
  if (leaf.resolvedType instanceof pb.Enum) return 'enum';
  if (leaf.resolvedType instanceof pb.Type) {
    throw new ConfigError(`${where}: '${leaf.name}' is a message (${typeName(leaf.resolvedType)}), name one of its fields`);
  }
  if (leaf.type === 'string') return 'string';
  if (leaf.type === 'bool') return 'bool';
  if (NUMERIC_TYPES.has(leaf.type)) return 'number';
  throw new ConfigError(`${where}: rules on ${leaf.type} fields are not supported`);
}

/** A value of the rule as the decoded message holds it (enum values as numbers). */
function expected(kind: LeafKind, leaf: Protobuf.Field, value: RuleValue, where: string): string | number | boolean {
  if (kind === 'enum') {
    const values = (leaf.resolvedType as Protobuf.Enum).values;
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (typeof value === 'string' && Object.hasOwn(values, value)) return values[value] as number;
    throw new ConfigError(`${where}: ${typeName(leaf.resolvedType as Protobuf.Enum)} has no value ${JSON.stringify(value)}`);
  }
  const type = kind === 'bool' ? 'boolean' : kind;
  if (typeof value !== type) throw new ConfigError(`${where} must be a ${type}: field '${leaf.name}' is ${leaf.type}`);
  return value;
}

/** 64-bit integers decode as Long objects: compare them as numbers (exact up to 2^53). */
function scalar(value: unknown): unknown {
  return typeof value === 'object' && value !== null && 'toNumber' in value
    ? (value as { toNumber(): number }).toNumber() : value;
}

function compileTest(kind: LeafKind, leaf: Protobuf.Field, rule: DenyRule, condition: Condition,
                     where: string): (value: unknown) => boolean {
  const at = `${where}.${condition}`;
  switch (condition) {
    case 'equals':
    case 'in': {
      const listed = condition === 'in' ? rule.in as readonly RuleValue[] : [rule.equals as RuleValue];
      const values = new Set(listed.map((value, i) => expected(kind, leaf, value, condition === 'in' ? `${at}[${i}]` : at)));
      return (value) => values.has(scalar(value) as RuleValue);
    }
    case 'matches': {
      if (kind !== 'string') throw new ConfigError(`${at}: field '${leaf.name}' is ${leaf.type}, not string`);
      let pattern: RegExp;
      try {
        pattern = new RegExp(rule.matches as string, 'u');
      } catch (error) {
        throw new ConfigError(`${at}: ${messageOf(error)}`);
      }
      return (value) => typeof value === 'string' && pattern.test(value);
    }
    case 'above':
    case 'below': {
      if (kind !== 'number') throw new ConfigError(`${at}: field '${leaf.name}' is ${leaf.type}, not numeric`);
      const limit = rule[condition] as number;
      return condition === 'above'
        ? (value) => { const n = scalar(value); return typeof n === 'number' && n > limit; }
        : (value) => { const n = scalar(value); return typeof n === 'number' && n < limit; };
    }
  }
}

export function compileRule(pb: Protobufjs, type: Protobuf.Type, rule: DenyRule, where: string): CompiledRule {
  const conditions = CONDITIONS.filter((condition) => rule[condition] !== undefined);
  const [condition] = conditions;
  if (condition === undefined || conditions.length > 1) {
    throw new ConfigError(`${where} must have exactly one of ${CONDITIONS.join(', ')}`);
  }
  const { path, leaf } = compilePath(pb, type, rule.field, `${where}.field`);
  const test = compileTest(leafKind(pb, leaf, `${where}.field`), leaf, rule, condition, where);
  const operand = condition === 'matches' ? `/${rule.matches}/` : JSON.stringify(rule[condition]);
  return { path, test, message: rule.message ?? `denied: ${rule.field} ${condition} ${operand}` };
}

/** Whether a value at `path` (from step `index` on) of `node` passes `test`. */
export function anyValue(node: unknown, path: readonly PathStep[], index: number, test: (value: unknown) => boolean): boolean {
  const step = path[index];
  if (step === undefined) return test(node);
  // An absent message field decodes as null: nothing under it can match.
  if (typeof node !== 'object' || node === null) return false;
  let child = (node as Record<string, unknown>)[step.field];
  if (step.mapKey !== undefined) {
    if (typeof child !== 'object' || child === null || !Object.hasOwn(child, step.mapKey)) return false;
    child = (child as Record<string, unknown>)[step.mapKey];
  }
  if (step.repeated) return Array.isArray(child) && child.some((element) => anyValue(element, path, index + 1, test));
  return anyValue(child, path, index + 1, test);
}
