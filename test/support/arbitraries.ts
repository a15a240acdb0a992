import fc from 'fast-check';
import type { z } from 'zod';
import { isStorableText } from '../../src/storable-text.ts';
import { parseInput } from '../../src/validation.ts';

/**
 * fast-check arbitraries derived from our zod 4 schemas, for the property-based fuzz tests.
 *
 * Why our own builder: zod-fast-check (0.10.1, the only such library on npm) supports zod 3
 * only (peer zod ^3.18, fast-check < 4), and no zod 4 equivalent exists. We walk the
 * schemas themselves (`_zod.def`) rather than z.toJSONSchema(), because the JSON Schema of our
 * query parameters is a bare string: comma lists, date bounds and bbox are string -> transform
 * -> pipe(array | tuple), and only the schema still knows the array inside. Refinements cannot
 * be generated from, so every schema with a custom check is filtered through its own
 * safeParse; the few formats where that filter would reject nearly everything (calendar days
 * between 1900 and today) get calendar-aware generators, chosen by their regex.
 *
 * `validInput` generates values the schema accepts; `invalidInput` mutates them (wrong types,
 * unknown fields, missing required fields, oversized strings and arrays, out-of-range numbers).
 * A mutation can happen to leave the value valid (removing an optional field), so tests ask
 * `isAcceptedInput`, the routes' own validation, for the verdict instead of assuming one.
 */

type Schema = z.core.$ZodType;
type Def = Record<string, any> & { type: string };
export type Overrides = ReadonlyMap<Schema, fc.Arbitrary<unknown>>;

interface Options {
  /** Query-string mode: every leaf becomes a string, lists are comma-joined. */
  query?: boolean;
  /** Hand-made arbitraries for schemas the walker cannot derive. */
  overrides?: Overrides;
}

const def = (schema: Schema) => schema._zod.def as unknown as Def;
const checksOf = (schema: Schema) => ((def(schema).checks ?? []) as Schema[]).map((check) => def(check));
const accepts = (schema: Schema) => (value: unknown) => (schema as z.ZodType).safeParse(value).success;
const hasCustomCheck = (schema: Schema) => checksOf(schema).some((check) => check.check === 'custom');

/** Whether the API accepts this input, decided exactly as a route decides it (src/validation.ts). */
export function isAcceptedInput(schema: z.ZodType, input: unknown, location: 'body' | 'query' = 'body'): boolean {
  try {
    parseInput(schema, input, location);
    return true;
  } catch {
    return false;
  }
}

/** Kept small: the fuzz tests send thousands of requests, and long strings are probed separately. */
const MAX_GENERATED = 24;

/** Any text, from printable ASCII to full Unicode (combining marks, RTL, emoji, astral planes). */
export const anyText = (constraints: { minLength?: number; maxLength?: number } = {}) =>
  fc.oneof(
    fc.string({ ...constraints, unit: 'grapheme-ascii' }),
    fc.string({ ...constraints, unit: 'grapheme' }),
    fc.string({ ...constraints, unit: 'binary' }),
  );

const isoDay = (date: Date) => date.toISOString().slice(0, 10);
const pastDay = fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date(), noInvalidDate: true });

/** Calendar-aware generators for the date formats, keyed by the regex that checks them. */
const DATE_PATTERNS: Record<string, fc.Arbitrary<string>> = {
  '^\\d{4}-\\d{2}-\\d{2}$': pastDay.map(isoDay),
  '^\\d{4}-(0[1-9]|1[0-2])$': pastDay.map((date) => isoDay(date).slice(0, 7)),
  '^\\d{4}$': pastDay.map((date) => isoDay(date).slice(0, 4)),
  '^\\d{4}(-\\d{2}(-\\d{2})?)?$': fc.tuple(pastDay, fc.constantFrom(4, 7, 10)).map(([date, length]) => isoDay(date).slice(0, length)),
};

function stringArbitrary(schema: Schema): fc.Arbitrary<string> {
  const checks = checksOf(schema);
  const format = def(schema).format ?? checks.find((check) => check.check === 'string_format')?.format;
  const minLength = Math.max(0, ...checks.filter((check) => check.check === 'min_length').map((check) => check.minimum as number));
  const maxLength = Math.min(...checks.filter((check) => check.check === 'max_length').map((check) => check.maximum as number));
  const pattern = checks.find((check) => check.format === 'regex')?.pattern as RegExp | undefined;
  let base: fc.Arbitrary<string>;
  if (format === 'uuid') base = fc.uuid();
  else if (format === 'url') base = fc.webUrl({ validSchemes: ['http', 'https'] });
  else if (format === 'datetime')
    base = fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((date) => date.toISOString());
  else if (pattern) base = DATE_PATTERNS[pattern.source] ?? fc.stringMatching(pattern);
  else {
    const upper = Math.min(maxLength, Math.max(minLength, MAX_GENERATED));
    // The longest accepted string is a classic off-by-one; generate it now and then.
    base = fc.oneof(
      { weight: 9, arbitrary: anyText({ minLength, maxLength: upper }) },
      { weight: 1, arbitrary: fc.constant('x'.repeat(Number.isFinite(maxLength) ? maxLength : minLength)) },
    );
  }
  return base.filter((value) => isStorableText(value) && accepts(schema)(value));
}

function numberArbitrary(schema: Schema, query: boolean): fc.Arbitrary<unknown> {
  const checks = checksOf(schema);
  const bound = (kind: string, fallback: number) => checks.find((check) => check.check === kind)?.value ?? fallback;
  const min = bound('greater_than', -1e6);
  const max = bound('less_than', 1e6);
  const integer = checks.some((check) => check.check === 'number_format') || def(schema).format === 'safeint';
  const value: fc.Arbitrary<number> = integer
    ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) })
    : fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  const sent: fc.Arbitrary<unknown> = query ? value.map(String) : value;
  return sent.filter(accepts(schema));
}

/** A query parameter is a string: lists and tuples travel comma-joined, numbers as text. */
function toQueryText(value: unknown): string {
  return Array.isArray(value) ? value.map(String).join(',') : String(value);
}

/** string.transform(...).pipe(X): the value a client sends is X, written as text. */
const isParsedText = (schema: Schema) => {
  const inner = def(schema);
  return inner.type === 'transform' || (inner.type === 'pipe' && def(inner.out).type === 'transform');
};

export function validInput(schema: Schema, options: Options = {}): fc.Arbitrary<unknown> {
  const override = options.overrides?.get(schema);
  if (override) return override;
  const { query = false } = options;
  const node = def(schema);
  const recurse = (inner: Schema) => validInput(inner, options);
  const filtered = (arbitrary: fc.Arbitrary<unknown>) => (hasCustomCheck(schema) ? arbitrary.filter(accepts(schema)) : arbitrary);

  switch (node.type) {
    case 'object': {
      const shape = node.shape as Record<string, Schema>;
      const requiredKeys = Object.keys(shape).filter((key) => shape[key]!._zod.optin !== 'optional');
      const fields = Object.fromEntries(Object.entries(shape).map(([key, inner]) => [key, recurse(inner)]));
      return filtered(fc.record(fields, { requiredKeys }));
    }
    case 'optional':
      return fc.option(recurse(node.innerType), { nil: undefined, freq: 4 });
    case 'nullable':
      return query ? recurse(node.innerType) : fc.option(recurse(node.innerType), { nil: null, freq: 4 });
    case 'default':
    case 'prefault':
      return recurse(node.innerType);
    case 'enum':
      return fc.constantFrom(...Object.values(node.entries as Record<string, string>));
    case 'literal':
      return fc.constantFrom(...(node.values as unknown[]));
    case 'boolean':
      return query ? fc.constantFrom('true', 'false') : fc.boolean();
    case 'string':
      return stringArbitrary(schema);
    case 'number':
      return numberArbitrary(schema, query);
    case 'array': {
      const checks = checksOf(schema);
      const minLength = checks.find((check) => check.check === 'min_length')?.minimum ?? 0;
      const maxLength = Math.min(checks.find((check) => check.check === 'max_length')?.maximum ?? 4, Math.max(minLength, 4));
      const array = fc.array(validInput(node.element, { ...options, query: false }), { minLength, maxLength });
      return filtered(array);
    }
    case 'tuple':
      return filtered(fc.tuple(...(node.items as Schema[]).map((item) => validInput(item, { ...options, query: false }))));
    case 'record':
      return filtered(fc.dictionary(recurse(node.keyType) as fc.Arbitrary<string>, recurse(node.valueType), { maxKeys: 3 }));
    case 'union':
      return fc.oneof(...(node.options as Schema[]).map(recurse));
    case 'pipe':
      if (isParsedText(node.in)) {
        const structured = validInput(node.out, { ...options, query: false });
        return structured.map(toQueryText).filter(accepts(schema));
      }
      return recurse(node.in).filter(accepts(schema)); // the transform may refuse what the input schema allowed
    default:
      throw new Error(`validInput: no generator for zod type "${node.type}"; pass an override`);
  }
}

// ---------------------------------------------------------------- invalid inputs

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = Array<string | number>;

/** Values of every JSON type, the usual suspects for "wrong type". */
export const wrongValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.constantFrom(-1, 0, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2),
  anyText({ maxLength: 8 }),
  fc.constantFrom('', ' ', 'null', 'true', '0', '[]', '{}', 'nul\u0000byte', 'lone \ud800 surrogate'),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
);

/** Names nobody declared, including ones that look like prototypes or server-owned fields. */
const unknownKey = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'id',
    'organisationId',
    'verificationStatus',
    'visibility',
    'createdAt',
    'a/b~c',
    '',
  ),
  fc.string({ minLength: 1, maxLength: 10 }),
);

function pathsOf(value: unknown, path: Path = []): Path[] {
  const paths: Path[] = [path];
  if (Array.isArray(value)) value.forEach((item, index) => paths.push(...pathsOf(item, [...path, index])));
  else if (value && typeof value === 'object')
    for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...path, key]));
  return paths;
}

function getAt(value: unknown, path: Path): unknown {
  return path.reduce<unknown>((current, segment) => (current as Record<string | number, unknown>)?.[segment], value);
}

/** A copy with fn applied to the node at path; fn returns the new node (undefined removes a key). */
function updateAt(value: unknown, path: Path, fn: (node: unknown) => unknown): unknown {
  if (path.length === 0) return fn(value);
  const [head, ...rest] = path as [string | number, ...Path];
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>;
  const next = updateAt(copy[head], rest, fn);
  if (next === undefined && !Array.isArray(copy)) delete copy[head];
  else copy[head] = next;
  return copy;
}

type Mutation = (node: unknown) => fc.Arbitrary<unknown>;

const MUTATIONS: Mutation[] = [
  () => wrongValue,
  () => fc.constant(undefined), // remove the field
  (node) => (typeof node === 'string' ? fc.constantFrom(`${node}${'x'.repeat(20_001)}`, '', '   ') : wrongValue),
  (node) => (typeof node === 'number' ? fc.constantFrom(node + 1e9, -node - 1e9, node + 0.5) : wrongValue),
  // Right shape, impossible day: only a calendar check catches these.
  (node) =>
    typeof node === 'string' && /^\d{4}-\d{2}/.test(node)
      ? fc.constantFrom('2023-02-29', '2015-13-01', '0000-00-00', '2015-00', '9999-12-31')
      : wrongValue,
  (node) => (Array.isArray(node) ? fc.constant(Array.from({ length: 1000 }, () => node[0] ?? 'x')) : wrongValue),
  (node) =>
    node && typeof node === 'object' && !Array.isArray(node)
      ? fc.tuple(unknownKey, wrongValue).map(([key, extra]) => Object.defineProperty({ ...node }, key, { value: extra, enumerable: true }))
      : wrongValue,
];

/** A valid value with one part broken; also whole bodies of the wrong type. */
export function invalidInput(schema: Schema, options: Options = {}): fc.Arbitrary<unknown> {
  const mutated = validInput(schema, options).chain((value) => {
    const paths = pathsOf(value);
    return fc
      .tuple(fc.constantFrom(...paths), fc.constantFrom(...MUTATIONS))
      .chain(([path, mutation]) => mutation(getAt(value, path)).map((replacement) => updateAt(value, path, () => replacement)));
  });
  return fc.oneof({ weight: 9, arbitrary: mutated }, { weight: 1, arbitrary: wrongValue });
}

/**
 * Query strings for a query schema: valid parameter sets, and broken ones (bad values, unknown
 * names, repeated parameters, which Express hands over as arrays).
 */
export function queryInput(schema: Schema, options: Omit<Options, 'query'> = {}) {
  const valid = validInput(schema, { ...options, query: true }) as fc.Arbitrary<Record<string, string | undefined>>;
  const broken = valid.chain((params) =>
    fc.oneof(
      fc
        .tuple(fc.constantFrom(...Object.keys(def(schema).shape)), anyText({ maxLength: 12 }))
        .map(([name, value]) => ({ ...params, [name]: value })),
      fc.tuple(unknownKey.filter(Boolean), anyText({ maxLength: 5 })).map(([name, value]) => ({ ...params, [name]: value })),
      fc.constantFrom(...Object.keys(def(schema).shape)).map((name) => ({ ...params, [name]: ['1', '2'] })),
    ),
  );
  return fc.oneof(valid, broken).map((params) => {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      for (const item of [value].flat()) if (item !== undefined) search.append(name, item);
    }
    return { params: Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined)), search: search.toString() };
  });
}
