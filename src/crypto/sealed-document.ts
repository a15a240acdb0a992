import { reseal, seal, unseal } from './sealed-value.ts';

/**
 * Sealed parts of a JSON document (an audit record's before/after): a part is replaced by
 * `{ "$sealed": "<sealed JSON>" }`, or an object keeps its other keys and gains `$sealed` for the
 * keys taken out. Opening puts back exactly the keys and values that were there, so a document
 * reads as it was written (the audit chain hashes that plaintext). Documents are bound to their
 * table and column only, not to one row: the audit chain notices a document moved between rows.
 */
export const SEALED_KEY = '$sealed';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Takes `keys` out of `object` into one sealed value; keys it lacks stay lacking. */
export function sealKeys(object: Record<string, Json>, keys: readonly string[], place: string): Record<string, Json> {
  const taken: Record<string, Json> = {};
  const rest: Record<string, Json> = {};
  for (const [key, value] of Object.entries(object)) (keys.includes(key) ? taken : rest)[key] = value;
  if (Object.keys(taken).length === 0) return object;
  return { ...rest, [SEALED_KEY]: seal(JSON.stringify(taken), place) };
}

export const sealWhole = (value: Json, place: string) => ({ [SEALED_KEY]: seal(JSON.stringify(value), place) });

/** The document with every sealed part opened; anything else as it is. */
export function openDocument(document: unknown, place: string): unknown {
  if (Array.isArray(document)) return document.map((item) => openDocument(item, place));
  if (!document || typeof document !== 'object') return document;
  const { [SEALED_KEY]: sealed, ...rest } = document as Record<string, unknown>;
  const opened = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, openDocument(value, place)]));
  if (typeof sealed !== 'string') return opened;
  const taken = JSON.parse(unseal(sealed, place)) as unknown;
  // A value sealed whole ({ $sealed } alone) is that value; otherwise the keys taken out go back.
  return Object.keys(rest).length === 0 ? taken : { ...opened, ...(taken as object) };
}

/** The document with every sealed part re-sealed under the active data key (a rotation). */
export function resealDocument(document: unknown, place: string): unknown {
  if (Array.isArray(document)) return document.map((item) => resealDocument(item, place));
  if (!document || typeof document !== 'object') return document;
  return Object.fromEntries(
    Object.entries(document).map(([key, value]) => [
      key,
      key === SEALED_KEY && typeof value === 'string' ? reseal(value, place) : resealDocument(value, place),
    ]),
  );
}
