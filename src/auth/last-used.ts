import type { Logger } from '../logger.ts';
import type { DbOrTransaction } from '../db/in-transaction.ts';
import { touchApiKeys } from './api-key.queries.ts';

/** How stale a key's last-used time may be: a write at most this often per key and process. */
export const LAST_USED_PRECISION_MS = 60_000;

/**
 * Records when each key was last used without a database write per request: the first request
 * of a key in each minute writes its time, the others only read an in-memory map. So lastUsedAt
 * is exact to the minute (each API process writes on its own, which changes nothing to that).
 * The write is awaited, rarely, so a test or a listing right after a request sees it; a failed
 * write is logged and never fails the request that triggered it.
 */
export function lastUsedRecorder(db: DbOrTransaction) {
  const writtenAt = new Map<string, number>();
  return async (keyId: string, logger: Logger, now = Date.now()) => {
    if (now - (writtenAt.get(keyId) ?? -Infinity) < LAST_USED_PRECISION_MS) return;
    writtenAt.set(keyId, now); // before the write, so concurrent requests do not all write
    await touchApiKeys(db, [keyId], new Date(now)).catch((error: unknown) => {
      writtenAt.delete(keyId);
      logger.warn({ err: error, keyId }, 'could not record when an API key was last used');
    });
  };
}
