import type { z } from 'zod';
import { ValidationError, type FieldError } from '../errors.ts';

type Location = 'body' | 'query' | 'params';

/**
 * Parses request input with a zod schema and returns the typed result; on failure throws a
 * ValidationError listing every bad field, so a client can fix them all in one round trip.
 */
export function parseInput<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  location: Location,
): z.output<Schema> {
  const result = schema.safeParse(input ?? (location === 'body' ? undefined : {}));
  if (result.success) return result.data;
  const errors = result.error.issues.flatMap((issue) => toFieldErrors(issue, location));
  throw new ValidationError(
    location === 'body' ? 'The request body is not valid.' : 'The request has invalid parameters.',
    errors,
  );
}

function toFieldErrors(issue: z.core.$ZodIssue, location: Location): FieldError[] {
  const path = issue.path.map(String);
  // An unknown field is reported at the field itself, not at the object holding it.
  const paths = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...path, key]) : [path];
  const detail = issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message;
  return paths.map((segments) =>
    location === 'body'
      ? { pointer: segments.map((segment) => `/${escapePointer(segment)}`).join(''), detail } // RFC 6901: '' is the whole body
      : { parameter: segments.join('.') || '(all)', detail },
  );
}

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}
