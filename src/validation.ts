import { z } from 'zod';
import { ValidationError, type FieldError } from './errors.ts';
import { UNSTORABLE_TEXT_DETAIL, unstorableTextPaths } from './storable-text.ts';

type Location = 'body' | 'query' | 'params';

/**
 * Parses request input with a zod schema and returns the typed result; on failure throws a
 * ValidationError listing every bad field, so a client can fix them all in one round trip.
 * Text the database cannot store as sent (NUL, unpaired surrogates) is refused here for every
 * field at once, whatever its schema says.
 */
export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown, location: Location): z.output<Schema> {
  // No body at all reads as an empty one, so each missing field is named ("reason: a reason is
  // required"), not the body as a whole; a body of JSON null is still refused as not an object.
  const result = schema.safeParse(input === undefined ? {} : input);
  const unstorable = unstorableTextPaths(input).map((segments) => toFieldError(segments, UNSTORABLE_TEXT_DETAIL, location));
  if (result.success && unstorable.length === 0) return result.data;
  const errors = [...unstorable, ...(result.success ? [] : result.error.issues.flatMap((issue) => toFieldErrors(issue, location)))];
  throw new ValidationError(
    location === 'body' ? 'The request body is not valid.' : 'The request has invalid parameters.',
    uniqueErrors(errors),
  );
}

function toFieldErrors(issue: z.core.$ZodIssue, location: Location): FieldError[] {
  const path = issue.path.map(String);
  // An unknown field is reported at the field itself, not at the object holding it.
  const paths = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...path, key]) : [path];
  const unknown = location === 'body' ? 'unknown field' : 'unknown parameter';
  const detail = issue.code === 'unrecognized_keys' ? unknown : issue.message;
  return paths.map((segments) => toFieldError(segments, detail, location));
}

/**
 * A body error points into the body (RFC 6901: '' is the whole body). A parameter error names the
 * parameter as the client wrote it: `country`, not `country.0` for the first item of its list.
 */
function toFieldError(segments: string[], detail: string, location: Location): FieldError {
  return location === 'body'
    ? { pointer: segments.map((segment) => `/${escapePointer(segment)}`).join(''), detail }
    : { parameter: segments[0] ?? '(all)', detail };
}

const noParameters = z.strictObject({});

/**
 * For a route that reads no query parameters: refuses any, as the routes with a query schema
 * (all strict) refuse one they do not know, so a mistyped parameter is never silently ignored.
 */
export function refuseQuery(query: unknown): void {
  parseInput(noParameters, query, 'query');
}

/** A schema may report the same problem the text check found; list it once. */
function uniqueErrors(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((error) => {
    const key = JSON.stringify([error.pointer ?? error.parameter, error.detail]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}
