import { Router, type Response } from 'express';
import type { Db } from '../db/create-db.ts';
import { getDataVersion } from '../db/data-version.ts';
import { answerIfUnchanged } from '../auth/conditional-read.ts';
import { readerFor } from '../auth/read-routing.ts';
import { parseInput } from '../validation.ts';
import { assertFiltersAllowed } from '../incidents/incident-filters.ts';
import { exportIncidentsQuerySchema } from './export.schemas.ts';
import { EXPORT_FORMATS, exportWriter } from './export-writers.ts';
import { chooseFormat } from '../http/response-format.ts';

/** Incidents (JSON, GeoJSON) or lines (CSV) read per query: one batch and its text is what an export holds in memory. */
export const EXPORT_BATCH_SIZE = 250;
/** A client that reads nothing for this long is cut off: on the embedded database it holds the only connection. */
export const EXPORT_STALL_TIMEOUT_MS = 30_000;

export interface ExportRouteOptions {
  batchSize?: number;
  stallTimeoutMs?: number;
}

/** Mounted on /v1/incidents before the incident routes, so that /export is not taken for an id. */
export function exportRoutes(db: Db, options: ExportRouteOptions = {}): Router {
  const { batchSize = EXPORT_BATCH_SIZE, stallTimeoutMs = EXPORT_STALL_TIMEOUT_MS } = options;
  const router = Router();

  /**
   * Every incident matching the filters, in the caller's view, as one file. The batches are read
   * in one REPEATABLE READ, READ ONLY transaction, so the file is one consistent snapshot: a
   * write during a long export neither shows up half-way nor moves a row into a batch already
   * read. Inside it only `trx` is used: the embedded database's pool has one connection, so a
   * second checkout would wait for ever. Each batch is written before the next is read, waiting
   * for the client whenever the socket's buffer is full, so memory stays flat for any size.
   */
  router.get('/export', async (req, res) => {
    const { format: requested, sort, ...filters } = parseInput(exportIncidentsQuerySchema, req.query, 'query');
    assertFiltersAllowed(filters, req.actor);
    const writer = exportWriter(chooseFormat(req, requested, EXPORT_FORMATS), req.actor, batchSize);
    const reader = readerFor(db, req, { anyRole: true });
    const version = await answerIfUnchanged(reader, req, res);
    if (!version) return;

    try {
      await reader
        .transaction()
        .setIsolationLevel('repeatable read')
        .setAccessMode('read only')
        .execute(async (trx) => {
          const snapshot = await getDataVersion(trx);
          // A write between answerIfUnchanged and the snapshot: that ETag names data this file does not hold.
          if (snapshot.dataVersion !== version.dataVersion) res.removeHeader('ETag');
          res
            .attachment(`dateline-incidents-${snapshot.dataVersion}.${writer.extension}`)
            .type(writer.contentType)
            .set('X-Data-Version', String(snapshot.dataVersion));
          if (req.method === 'HEAD') return;

          const exportedAt = new Date().toISOString();
          await send(res, writer.head(), stallTimeoutMs);
          for await (const chunk of writer.body(trx, filters, sort)) await send(res, chunk, stallTimeoutMs);
          await send(res, writer.tail({ ...snapshot, exportedAt }), stallTimeoutMs);
        });
    } catch (error) {
      if (!(error instanceof ClientGone)) throw error;
      req.log.warn({ reason: error.message }, 'export stopped early');
      return;
    }
    res.end();
  });

  return router;
}

class ClientGone extends Error {}

/**
 * Writes a chunk; when the socket's buffer is full, waits for 'drain'. Throws ClientGone when
 * the client disconnects, or reads nothing for `stallTimeoutMs` (then the response is cut off).
 */
async function send(res: Response, chunk: string, stallTimeoutMs: number): Promise<void> {
  if (res.destroyed) throw new ClientGone('the client closed the connection');
  if (!chunk || res.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const settle = (error?: Error) => {
      clearTimeout(timer);
      res.off('drain', onDrain);
      res.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => settle();
    const onClose = () => settle(new ClientGone('the client closed the connection'));
    const timer = setTimeout(() => {
      settle(new ClientGone(`the client read nothing for ${stallTimeoutMs} ms`));
      res.destroy();
    }, stallTimeoutMs);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}
