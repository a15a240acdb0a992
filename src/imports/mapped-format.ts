import type { CsvRecord } from './csv-records.ts';
import { countryCodeFor } from './country-names.ts';
import { coarsen, compileDatePattern } from './date-patterns.ts';
import { columnResolver, labelKey, rowErrors, type ImportFormat, type RowErrors } from './import-format.ts';
import { mappedColumns, type ImportMapping } from './mapping.schema.ts';

/**
 * Any tracker's CSV read through an ImportMapping (mapping.schema.ts). A cell that the mapping
 * cannot turn into a code (a value missing from its table) rejects the row with the column and
 * the value, so the person can add the value to the mapping and run the import again.
 */
type Cell = (column: string) => string;
type Choice = { column: string; values: Record<string, unknown> } | { value: unknown };

const NOT_FLAGGED = new Set(['', 'no', 'n', 'false', '0', 'non', 'nein']);
const NAME_AND_OUTLET = /^(.*?)\s*\(([^()]*)\)\s*$/;

const split = (value: string, separator: string | RegExp | undefined) =>
  value === ''
    ? []
    : separator
      ? value
          .split(separator)
          .map((item) => item.trim())
          .filter(Boolean)
      : [value];

/** A table keyed by labelKey, so "Media Worker" in the mapping matches "media worker" in a cell. */
const keyed = <T>(table: Record<string, T>) => new Map(Object.entries(table).map(([label, code]) => [labelKey(label), code] as const));

const NOT_MAPPED = "this value is not in the mapping's values; add it there";

function readChoice(
  errors: RowErrors,
  cell: Cell,
  choice: Choice | undefined,
  accepts: (value: string) => boolean,
  raw?: string,
  unknown = NOT_MAPPED,
) {
  if (!choice) return null;
  if ('value' in choice) return choice.value;
  const text = raw ?? cell(choice.column);
  if (text === '') return null;
  const table = keyed(choice.values);
  const mapped = table.get(labelKey(text));
  if (mapped !== undefined) return mapped;
  if (accepts(text)) return text;
  errors.add(choice.column, unknown, text);
  return undefined;
}

const anyCode = () => true; // the incident schema checks codes afterwards and names the column
const countryAccepts = (text: string) => countryCodeFor(text) !== undefined;

function readCountry(errors: RowErrors, cell: Cell, choice: Choice | undefined, raw?: string) {
  const value = readChoice(
    errors,
    cell,
    choice,
    countryAccepts,
    raw,
    "not a country name or ISO code this import knows; add it to the mapping's values",
  );
  return typeof value === 'string' ? (countryCodeFor(value) ?? value) : value;
}

function textLines(cell: Cell, spec: { columns: string[] } | undefined) {
  if (!spec) return null;
  const lines = spec.columns.filter((column) => cell(column)).map((column) => `${column}: ${cell(column)}`);
  return lines.length ? lines.join('\n') : null;
}

export function mappedFormat(mapping: ImportMapping): ImportFormat {
  const dateFormats = mapping.date.formats.map(compileDatePattern);
  const victimFields = ['role', 'gender', 'outcome', 'locality', 'employment', 'nationality', 'outlet'] as const;

  function date(errors: RowErrors, cell: Cell) {
    const text = cell(mapping.date.column);
    if (!text) return errors.add(mapping.date.column, 'the date is missing');
    const parsed = dateFormats.map((format) => format.parse(text)).find(Boolean);
    if (!parsed) return errors.add(mapping.date.column, `not a date in the format ${mapping.date.formats.join(' or ')}`, text);
    const unknown = mapping.date.exactDateUnknown;
    return unknown && !NOT_FLAGGED.has(labelKey(cell(unknown.column))) ? coarsen(parsed, unknown.precision) : parsed;
  }

  function attackTypes(errors: RowErrors, cell: Cell) {
    const spec = mapping.attackTypes;
    if ('value' in spec) return spec.value;
    const table = keyed(spec.values);
    return [
      ...new Set(
        split(cell(spec.column), spec.separator).flatMap((item) => {
          const mapped = table.get(labelKey(item));
          if (mapped !== undefined) return mapped;
          if (/^[a-z_]+$/.test(item)) return [item];
          errors.add(spec.column, NOT_MAPPED, item);
          return [];
        }),
      ),
    ];
  }

  function victims(errors: RowErrors, cell: Cell) {
    const spec = mapping.victims;
    if (!spec) return [];
    const people = split(cell(spec.column), spec.separator).map((item) => {
      const match = spec.pattern === 'name (outlet)' ? NAME_AND_OUTLET.exec(item) : null;
      return match ? { name: match[1] || null, outlet: match[2]!.trim() || null } : { name: item, outlet: null };
    });
    // A victim field's cell holds one value for all victims, or one per victim in the same order.
    const perVictim = (column: string) => {
      const values = split(cell(column), spec.separator);
      if (values.length > 1 && values.length !== people.length) {
        errors.add(column, `has ${values.length} values for ${people.length} victims`, cell(column));
        return [];
      }
      return values;
    };
    return people.map((person, index) => {
      const victim: Record<string, unknown> = { name: person.name, outlet: person.outlet, outcome: null, protected: spec.protected };
      for (const field of victimFields) {
        const fieldSpec = spec[field];
        if (!fieldSpec) continue;
        const values = 'column' in fieldSpec ? perVictim(fieldSpec.column) : [];
        const raw = values.length > 1 ? values[index]! : (values[0] ?? '');
        if (field === 'outlet') victim.outlet = raw || victim.outlet;
        else if (field === 'nationality') victim.nationality = readCountry(errors, cell, fieldSpec as Choice, raw);
        else victim[field] = readChoice(errors, cell, fieldSpec as Choice, anyCode, raw);
      }
      return victim;
    });
  }

  function perpetratorClaims(cell: Cell) {
    const spec = mapping.perpetrators;
    if (!spec) return [];
    const types = keyed(spec.actorTypes);
    return split(cell(spec.column), spec.separator).map((actorName) => ({
      actorName,
      actorType: types.get(labelKey(actorName)) ?? spec.defaultActorType,
      attribution: spec.attribution,
      attributedBy: spec.attributedBy ?? null,
    }));
  }

  function sources(errors: RowErrors, cell: Cell) {
    const spec = mapping.sources;
    if (!spec) return [];
    const urls = spec.urlColumn ? split(cell(spec.urlColumn), spec.separator ?? /\s+/) : [];
    const titles = spec.titleColumn ? split(cell(spec.titleColumn), spec.separator) : [];
    if (urls.length && titles.length && urls.length !== titles.length) {
      errors.add(spec.titleColumn!, `has ${titles.length} titles for ${urls.length} links`, cell(spec.titleColumn!));
    }
    return Array.from({ length: Math.max(urls.length, titles.length) }, (_, index) => ({
      url: urls[index] ?? null,
      title: titles[index] ?? null,
      publisher: spec.publisher ?? null,
      kind: spec.kind,
      public: spec.public,
    }));
  }

  function convert(record: CsvRecord) {
    const errors = rowErrors();
    const cell: Cell = (column) => record.cell(column);
    const title =
      'column' in mapping.title
        ? cell(mapping.title.column)
        : mapping.title.template.replace(/\{([^{}]+)\}/g, (_, column: string) => cell(column)).trim();
    const incident = {
      title,
      description: textLines(cell, mapping.description),
      internalNotes: textLines(cell, mapping.internalNotes),
      date: date(errors, cell),
      location: {
        country: readCountry(errors, cell, mapping.country) ?? undefined,
        region: mapping.region ? cell(mapping.region.column) || null : null,
        city: mapping.city ? cell(mapping.city.column) || null : null,
        coordinates: coordinates(errors, cell, mapping.coordinates),
      },
      attackTypes: attackTypes(errors, cell),
      motive: readChoice(errors, cell, mapping.motive, anyCode),
      judicialOutcome: readChoice(errors, cell, mapping.judicialOutcome, anyCode),
      victims: victims(errors, cell),
      perpetratorClaims: perpetratorClaims(cell),
      sources: sources(errors, cell),
    };
    return { incident, errors: errors.errors };
  }

  const columns = new Set(mappedColumns(mapping));
  const column = (spec: { column: string } | object | undefined) => (spec && 'column' in spec ? spec.column : '(mapping)');
  return {
    requiredColumns: [...columns],
    readsColumn: (name) => columns.has(name),
    convert,
    columnOf: columnResolver(
      {
        title: 'column' in mapping.title ? mapping.title.column : '(title template)',
        date: mapping.date.column,
        'location.country': column(mapping.country),
        'location.region': column(mapping.region),
        'location.city': column(mapping.city),
        'location.coordinates': mapping.coordinates?.latitude ?? '(mapping)',
        attackTypes: column(mapping.attackTypes),
        motive: column(mapping.motive),
        judicialOutcome: column(mapping.judicialOutcome),
        victims: column(mapping.victims),
        ...Object.fromEntries(victimFields.map((field) => [`victims.*.${field}`, column(mapping.victims?.[field])])),
        perpetratorClaims: column(mapping.perpetrators),
        sources: mapping.sources?.urlColumn ?? mapping.sources?.titleColumn ?? '(mapping)',
      },
      '(row)',
    ),
  };
}

function coordinates(errors: RowErrors, cell: Cell, spec: ImportMapping['coordinates']) {
  if (!spec) return null;
  const [latitude, longitude] = [cell(spec.latitude), cell(spec.longitude)];
  if (!latitude && !longitude) return null;
  const [lat, lon] = [Number(latitude.replace(',', '.')), Number(longitude.replace(',', '.'))];
  if (!latitude || !longitude || Number.isNaN(lat) || Number.isNaN(lon)) {
    errors.add(spec.latitude, 'give both latitude and longitude as decimal numbers', `${latitude}, ${longitude}`);
    return undefined;
  }
  return { latitude: lat, longitude: lon, precision: spec.precision };
}
