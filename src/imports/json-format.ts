import { z } from 'zod';
import { isStorableText, UNSTORABLE_TEXT_DETAIL } from '../storable-text.ts';
import {
  createIncidentSchema,
  incidentSchema,
  publicIncidentSchema,
  researchIncidentSchema,
  WITHHELD_NAME,
} from '../incidents/incident.schemas.ts';
import { verificationStatuses, visibilities } from '../incidents/taxonomies.ts';
import { fileError } from './csv-records.ts';
import { shorten, type CellError } from './import-format.ts';

/**
 * Dateline's own JSON export (GET /v1/incidents/export?format=json), read back: the lossless way
 * to move incidents between instances. Each item of `data` is an incident as the export shows it
 * to the caller. What describes the stored record rather than the incident (id, organisation,
 * version, createdAt, updatedAt, publishedAt, the items' ids) is not read: the import makes new
 * records, and neither is a field the output shapes have but the input does not (derived, such as
 * location.countryName: found by comparing the schemas, so a new one needs no change here).
 * Everything else goes, unchanged, through createIncidentSchema (so a field the incident schema
 * gains is imported without a change here), except:
 * - `date` as exported ({precision, start, end}) becomes the input form ({precision, value} or
 *   {precision: "range", from, to});
 * - a victim as another organisation sees a protected one ({"name": "name withheld",
 *   "protected": true, role, outcome}) becomes a protected victim with no name;
 * - a source without `public` (the public and research views list only public sources) is public;
 * - `verificationStatus`, `visibility` and `verificationHistory` (the owner's export) are the
 *   item's state, which import-state.ts records (as imported history; the status and visibility
 *   only with a reviewer's authority). README.md, "json", has the rules.
 */
export interface ImportedChange {
  from: string;
  to: string;
  note: string;
  changedAt: string;
  changedBy: string | null;
}

export interface ImportedState {
  verificationStatus: string;
  visibility: 'draft' | 'published';
  history: ImportedChange[];
}

export interface JsonItemConversion {
  incident: Record<string, unknown>;
  /** Derived fields found and not read ("location.countryName"). */
  ignored?: string[];
  state?: ImportedState | undefined;
  errors: CellError[];
}

export const ITEM = '(item)';

/** Keys of an exported incident that describe the stored record: not read (listed as ignored). */
export const RECORD_KEYS = ['id', 'organisation', 'version', 'createdAt', 'updatedAt', 'publishedAt'] as const;
/** Keys read as the item's state, not as incident fields. */
const STATE_KEYS = ['verificationStatus', 'visibility', 'verificationHistory'] as const;

const EXPORT_SHAPE = '{"data": [incident, …], "meta": {…}} as GET /v1/incidents/export?format=json writes it (or an array of incidents)';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (!keys.length) return 'an empty object';
    return `an object with ${keys.length === 1 ? 'the key' : 'the keys'} ${keys
      .slice(0, 8)
      .map((key) => `"${shorten(key, 40)}"`)
      .join(', ')}${keys.length > 8 ? '…' : ''}`;
  }
  return value === null ? 'null' : `a ${typeof value}`;
}

/** The incidents of a JSON file, or one clear message of what the file is instead. */
export function readJsonItems(text: string): unknown[] {
  const start = text.trimStart();
  if (!start) throw fileError(`the file is empty; expected a Dateline JSON export: ${EXPORT_SHAPE}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    if (!/^[[{]/.test(start)) {
      const firstLine = start.split(/\r?\n/, 1)[0] ?? '';
      const csv = /[,;\t]/.test(firstLine)
        ? `it looks like CSV (first line "${shorten(firstLine, 80)}")`
        : `it starts with "${shorten(firstLine, 40)}"`;
      throw fileError(
        `this is not JSON: ${csv}. format=json reads Dateline's JSON export (GET /v1/incidents/export?format=json); import a CSV file with format=native, cpj or mapped`,
      );
    }
    throw fileError(`the JSON cannot be read: ${(error as Error).message}`);
  }
  if (Array.isArray(json)) return json;
  if (isObject(json) && Array.isArray(json.data)) return json.data;
  if (isObject(json) && json.type === 'FeatureCollection') {
    throw fileError(
      `this is a GeoJSON export, which leaves out incidents without coordinates; format=json reads the JSON export: ${EXPORT_SHAPE}`,
    );
  }
  if (isObject(json) && typeof json.csv === 'string') {
    throw fileError(
      'this is a CSV wrapped in JSON ({"csv": …}); send it with format=native, cpj or mapped. format=json reads Dateline\'s JSON export',
    );
  }
  const found = isObject(json) && 'data' in json ? `an object whose "data" is ${describe(json.data)}` : describe(json);
  throw fileError(`this is not a Dateline JSON export: expected ${EXPORT_SHAPE}; found ${found}`);
}

const day = /^\d{4}-\d{2}-\d{2}$/;
const lastDayOfMonth = (start: string) =>
  new Date(Date.UTC(Number(start.slice(0, 4)), Number(start.slice(5, 7)), 0)).toISOString().slice(0, 10);

/** {precision, start, end} as exported, back to the form POST /v1/incidents takes. */
function inputDate(date: unknown, errors: CellError[]): unknown {
  if (!isObject(date) || !('start' in date || 'end' in date)) return date; // the input form already, or wrong: the schema says
  const { precision, start, end, ...rest } = date;
  const fail = (reason: string) => {
    errors.push({ column: 'date', value: shorten(JSON.stringify(date)), reason });
    return undefined;
  };
  if (Object.keys(rest).length)
    return fail(
      `unknown field ${Object.keys(rest)
        .map((key) => `"${key}"`)
        .join(', ')}`,
    );
  if (typeof start !== 'string' || typeof end !== 'string' || !day.test(start) || !day.test(end))
    return fail('start and end must be days (YYYY-MM-DD)');
  switch (precision) {
    case 'day':
      return start === end ? { precision, value: start } : fail('a day has the same start and end');
    case 'month':
      return start.endsWith('-01') && end === lastDayOfMonth(start)
        ? { precision, value: start.slice(0, 7) }
        : fail('a month runs from its first to its last day');
    case 'year':
      return start.endsWith('-01-01') && end === `${start.slice(0, 4)}-12-31`
        ? { precision, value: start.slice(0, 4) }
        : fail('a year runs from 01-01 to 12-31');
    case 'range':
      return { precision, from: start, to: end };
    default:
      return fail('precision must be day, month, year or range');
  }
}

const withoutId = (item: unknown) => {
  if (!isObject(item)) return item;
  const { id: _id, ...rest } = item;
  return rest;
};

function victim(item: unknown) {
  if (!isObject(item)) return item;
  // Another organisation's export shows a protected victim as this, without an id.
  if (item.name === WITHHELD_NAME && item.protected === true && !('id' in item)) {
    return { name: null, protected: true, role: item.role ?? null, outcome: item.outcome ?? null };
  }
  return withoutId(item);
}

function source(item: unknown) {
  if (!isObject(item)) return item;
  // The public and research views list only public sources, and leave `public` out.
  return 'public' in item ? withoutId(item) : { ...(withoutId(item) as object), public: true };
}

const list = (value: unknown, each: (item: unknown) => unknown) => (Array.isArray(value) ? value.map(each) : value);

/** Object keys a schema allows, by dotted path ('' the root, '*' any list item). */
type KeysByPath = Map<string, Set<string>>;

function collectKeys(schema: z.core.$ZodType, path: string, into: KeysByPath) {
  const def = schema._zod.def as z.core.$ZodTypeDef & Record<string, any>;
  const at = (key: string) => (path ? `${path}.${key}` : key);
  switch (def.type) {
    case 'object': {
      const keys = into.get(path) ?? new Set<string>();
      into.set(path, keys);
      for (const [key, child] of Object.entries(def.shape as Record<string, z.core.$ZodType>)) {
        keys.add(key);
        collectKeys(child, at(key), into);
      }
      return;
    }
    case 'array':
      return collectKeys(def.element, at('*'), into);
    case 'union':
      for (const option of def.options as z.core.$ZodType[]) collectKeys(option, path, into);
      return;
    case 'pipe':
      return collectKeys(def.in, path, into);
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return collectKeys(def.innerType, path, into);
    default:
  }
}

let derivedKeys: KeysByPath | undefined;
/** Keys the exported shapes have and the create schema does not (location.countryName…), by path. */
function derived(): KeysByPath {
  if (derivedKeys) return derivedKeys;
  const output: KeysByPath = new Map();
  for (const schema of [incidentSchema, researchIncidentSchema, publicIncidentSchema]) collectKeys(schema, '', output);
  const input: KeysByPath = new Map();
  collectKeys(createIncidentSchema, '', input);
  derivedKeys = new Map();
  for (const [path, keys] of output) {
    if (!path) continue; // the top level is RECORD_KEYS and STATE_KEYS
    const accepted = input.get(path) ?? new Set();
    const only = [...keys].filter((key) => !accepted.has(key) && key !== 'id');
    if (only.length) derivedKeys.set(path, new Set(only));
  }
  return derivedKeys;
}

/** The value without the derived keys (noted in `found`); anything else, known or not, stays for the schema. */
function withoutDerived(value: unknown, path: string, found: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((item) => withoutDerived(item, path ? `${path}.*` : '*', found));
  if (!isObject(value)) return value;
  const drop = derived().get(path);
  const kept: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (drop?.has(key)) {
      found.add(`${path}.${key}`.replaceAll('.*', ''));
      continue;
    }
    kept[key] = withoutDerived(child, path ? `${path}.${key}` : key, found);
  }
  return kept;
}

const storable = z.string().refine(isStorableText, UNSTORABLE_TEXT_DETAIL);
const status = z.enum(verificationStatuses.codes as [string, ...string[]]);
const changeSchema = z.strictObject({
  id: z.string().optional(), // GET /history shows it; an id of the other instance means nothing here
  from: status,
  to: status,
  note: storable.pipe(z.string().trim().min(1, 'must not be empty').max(5000)),
  changedAt: z.iso.datetime({ offset: true }),
  changedBy: storable
    .pipe(z.string().trim().max(300))
    .nullish()
    .transform((name) => name || null),
  imported: z.boolean().optional(), // an entry that was imported there stays imported here
});
const stateSchema = z.object({
  verificationStatus: status.default('unverified'),
  visibility: z.enum(visibilities.codes as ['draft', 'published']).default('draft'),
  verificationHistory: z.array(changeSchema).max(1000).default([]),
});

/** One item of the file as a candidate create-incident body, plus its state. */
export function convertJsonItem(item: unknown): JsonItemConversion {
  const errors: CellError[] = [];
  if (!isObject(item))
    return { incident: {}, errors: [{ column: ITEM, reason: `expected an incident (an object); found ${describe(item)}` }] };
  const incident: Record<string, unknown> = {};
  const stateInput: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) {
    if ((RECORD_KEYS as readonly string[]).includes(key)) continue;
    if ((STATE_KEYS as readonly string[]).includes(key)) stateInput[key] = value;
    else incident[key] = value;
  }
  if ('date' in incident) incident.date = inputDate(incident.date, errors);
  if ('victims' in incident) incident.victims = list(incident.victims, victim);
  if ('perpetratorClaims' in incident) incident.perpetratorClaims = list(incident.perpetratorClaims, withoutId);
  if ('sources' in incident) incident.sources = list(incident.sources, source);
  const found = new Set<string>();
  const read = withoutDerived(incident, '', found) as Record<string, unknown>;
  for (const key of Object.keys(incident)) delete incident[key];
  Object.assign(incident, read);
  const ignored = [...found];

  const state = stateSchema.safeParse(stateInput);
  if (!state.success) {
    for (const issue of state.error.issues) errors.push({ column: issue.path.join('.') || ITEM, reason: issue.message });
    return { incident, ignored, errors };
  }
  const { verificationStatus, visibility, verificationHistory } = state.data;
  return {
    incident,
    ignored,
    errors,
    state: {
      verificationStatus,
      visibility,
      history: verificationHistory.map((change) => ({
        from: change.from,
        to: change.to,
        note: change.note,
        changedAt: new Date(change.changedAt).toISOString(),
        changedBy: change.changedBy,
      })),
    },
  };
}

/** Record keys found in the items, then the derived fields found: what the report lists as not read. */
export function ignoredKeys(items: readonly unknown[], derivedFound: Iterable<string> = []): string[] {
  const found = new Set<string>();
  for (const item of items) if (isObject(item)) for (const key of RECORD_KEYS) if (key in item) found.add(key);
  return [...RECORD_KEYS.filter((key) => found.has(key)), ...[...new Set(derivedFound)].sort()];
}
