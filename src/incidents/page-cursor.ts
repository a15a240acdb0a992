import type { IncidentSort, PageCursor } from './incident-list.queries.ts';

/**
 * The opaque `nextCursor` of a list page (the API's and the site's explore page): the sort, the
 * last row's sort key and its id, as base64url JSON.
 */
export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([cursor.sort, cursor.key, cursor.id])).toString('base64url');
}

/**
 * The cursor, if it is one this sort wrote: undefined for another sort or anything that does
 * not parse, including a key that is not a relevance score or a timestamp/date (it is cast in
 * SQL, so a made-up one must not get that far). The caller decides what that means: the API
 * refuses it, the site starts again from the first page.
 */
export function readCursor(cursor: string, sort: IncidentSort): PageCursor | undefined {
  try {
    const [cursorSort, key, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const keyFits = sort === 'relevance' ? /^-?\d+(\.\d+)?(e-?\d+)?$/.test(String(key)) : /^[\d:.TZ -]{4,40}$/.test(String(key));
    if (
      cursorSort === sort &&
      (typeof key === 'string' || typeof key === 'number') &&
      keyFits &&
      typeof id === 'string' &&
      /^[0-9a-f-]{36}$/.test(id)
    ) {
      return { sort, key, id };
    }
  } catch {
    // not base64url JSON: not a cursor
  }
  return undefined;
}
