import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import { requireRole, type Role } from '../auth/actor.ts';
import type { WriteContext } from '../audit/audit.queries.ts';
import type { Db } from '../db/create-db.ts';
import { ValidationError } from '../errors.ts';
import { fileError } from './csv-records.ts';
import { sendProblem } from '../http/problem-handler.ts';
import { parseInput, refuseQuery } from '../validation.ts';
import type { ImportHooks } from './import-hooks.ts';
import {
  idempotencyKeySchema,
  importIdParamsSchema,
  importJsonBodySchema,
  importQuerySchema,
  listImportsQuerySchema,
  type ImportQuery,
} from './import.schemas.ts';
import { getImportReport, listImports, previewImport, publishImport, runImport, type ImportRequest } from './import.service.ts';

/**
 * POST /v1/imports takes the file as the body: `text/csv` for native and cpj, or JSON
 * `{ "csv": "...", "mapping": {...} }` (needed for mapped); for format=json the body is the JSON
 * export itself, kept as bytes (fingerprinted as sent) and read by the json format, so that a file
 * that is not one gets the format's message rather than a JSON parser's. Bodies are parsed here,
 * after the role check and with their own limit (IMPORT_BODY_LIMIT), not by the app's JSON parser.
 */
export interface ImportRouteOptions {
  bodyLimit: string;
  hooks?: ImportHooks | undefined;
}

const CSV_TYPES = ['text/csv', 'application/csv', 'text/plain'];
const JSON_FILE_TYPES = ['application/json', '+json', ...CSV_TYPES];
const headersSchema = z.object({ 'idempotency-key': idempotencyKeySchema });

const needsRole =
  (...roles: Role[]): RequestHandler =>
  (req, _res, next) => {
    requireRole(req.actor, ...roles);
    next();
  };

function writeContext(req: Request, role: Role): WriteContext {
  return { actor: requireRole(req.actor, role), requestId: String(req.id) };
}

/** The file's bytes (fingerprinted as sent) and, for JSON bodies, the mapping. */
function readBody(req: Request, query: ImportQuery): Pick<ImportRequest, 'bytes' | 'mapping'> | undefined {
  if (query.format === 'json') {
    if (!Buffer.isBuffer(req.body)) return undefined;
    if (req.body.length === 0)
      throw new ValidationError('The request body is not valid.', [
        { pointer: '', detail: 'the file is empty; send the JSON export as the body' },
      ]);
    return { bytes: req.body };
  }
  if (Buffer.isBuffer(req.body)) {
    if (query.format === 'mapped') {
      throw new ValidationError('The request body is not valid.', [
        { pointer: '', detail: 'format=mapped needs a JSON body { "csv": "...", "mapping": {...} }' },
      ]);
    }
    if (req.body.length === 0) throw new ValidationError('The request body is not valid.', [{ pointer: '', detail: 'the CSV is empty' }]);
    return { bytes: req.body };
  }
  if (!req.is('application/json')) return undefined;
  rejectJsonExport(req.body, query);
  const body = parseInput(importJsonBodySchema, req.body, 'body');
  if ((query.format === 'mapped') !== Boolean(body.mapping)) {
    const detail = query.format === 'mapped' ? 'format=mapped needs a mapping' : 'a mapping is only read with format=mapped';
    throw new ValidationError('The request body is not valid.', [{ pointer: '/mapping', detail }]);
  }
  return { bytes: Buffer.from(body.csv, 'utf8'), mapping: body.mapping };
}

/** A JSON export sent with a CSV format: say which format reads it, not which fields { csv } lacks. */
function rejectJsonExport(body: unknown, query: ImportQuery) {
  const isExport = Array.isArray(body) || (typeof body === 'object' && body !== null && 'data' in body && !('csv' in body));
  if (!isExport) return;
  throw fileError(
    `this is JSON, not CSV: format=${query.format} reads a CSV file. For Dateline's JSON export (GET /v1/incidents/export?format=json) use format=json`,
  );
}

export function importRoutes(db: Db, options: ImportRouteOptions): Router {
  const router = Router();
  // format=json: the body is the file, read as bytes whatever its type says (a CSV sent as json gets the json format's message).
  const jsonFileBody = express.raw({
    type: (req) => (req as Request).query?.format === 'json' && Boolean((req as Request).is(JSON_FILE_TYPES)),
    limit: options.bodyLimit,
  });
  const csvBody = express.raw({ type: CSV_TYPES, limit: options.bodyLimit });
  // strict: false as in app.ts: a body such as `3` is valid JSON of the wrong shape, for the schema to name.
  const jsonBody = express.json({ limit: options.bodyLimit, strict: false });

  router.post('/', needsRole('editor'), jsonFileBody, csvBody, jsonBody, async (req, res) => {
    const context = writeContext(req, 'editor');
    const query = parseInput(importQuerySchema, req.query, 'query');
    const { 'idempotency-key': idempotencyKey } = parseInput(headersSchema, { 'idempotency-key': req.get('idempotency-key') }, 'query');
    const body = readBody(req, query);
    if (!body && !Number(req.get('content-length')) && !req.get('transfer-encoding')) {
      throw new ValidationError('The request body is not valid.', [{ pointer: '', detail: 'send the CSV file as the request body' }]);
    }
    if (!body) {
      sendProblem(res, {
        status: 415,
        slug: 'unsupported-media-type',
        title: 'Send the file as text/csv or JSON',
        detail:
          query.format === 'json'
            ? 'Send the JSON export as the body with Content-Type: application/json.'
            : 'Send the CSV as the body with Content-Type: text/csv, or JSON { "csv": "...", "mapping": {...} } with Content-Type: application/json.',
      });
      return;
    }
    const request: ImportRequest = {
      organisationId: context.actor.organisationId,
      format: query.format,
      fileName: query.fileName,
      onError: query.onError,
      onDuplicate: query.onDuplicate,
      visibility: query.visibility,
      idempotencyKey,
      ...body,
    };
    const outcome = query.dryRun
      ? await previewImport(db, context.actor, request, { hooks: options.hooks })
      : await runImport(db, context, request, { hooks: options.hooks });
    switch (outcome.kind) {
      case 'imported':
        res.status(201).location(`${req.baseUrl}/${outcome.report.id}`).json(outcome.report);
        return;
      case 'replayed':
        res.status(200).set('Idempotent-Replayed', 'true').location(`${req.baseUrl}/${outcome.report.id}`).json(outcome.report);
        return;
      case 'dry_run':
        res.status(200).json(outcome.report);
        return;
      case 'rejected': {
        const { counts } = outcome.report;
        sendProblem(res, {
          status: 422,
          slug: 'import-rejected',
          title: 'Some rows cannot be imported',
          detail: `${counts.rejected} of ${counts.rows} rows cannot be imported, so nothing was imported. Fix them, or send onError=skip to import the other ${counts.valid}.`,
          report: outcome.report,
        });
      }
    }
  });

  router.get('/', needsRole('editor', 'reviewer'), async (req, res) => {
    const { limit, cursor } = parseInput(listImportsQuerySchema, req.query, 'query');
    const actor = requireRole(req.actor, 'editor', 'reviewer');
    res.set('Cache-Control', 'private, no-cache').json(await listImports(db, actor.organisationId, { limit, cursor }));
  });

  router.get('/:id', needsRole('editor', 'reviewer'), async (req, res) => {
    const { id } = parseInput(importIdParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    const actor = requireRole(req.actor, 'editor', 'reviewer');
    res.set('Cache-Control', 'private, no-cache').json(await getImportReport(db, actor.organisationId, id));
  });

  router.post('/:id/publish', needsRole('reviewer'), async (req, res) => {
    const context = writeContext(req, 'reviewer');
    const { id } = parseInput(importIdParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    res.json(await publishImport(db, context, id));
  });

  const tooLarge: ErrorRequestHandler = (error, _req, res, next) => {
    if (error?.type !== 'entity.too.large') return next(error);
    sendProblem(res, {
      status: 413,
      slug: 'payload-too-large',
      title: 'The file is too large',
      detail: `Imports over the API take up to ${options.bodyLimit} (IMPORT_BODY_LIMIT). Split the file, or use npm run import on the server.`,
    });
  };
  router.use(tooLarge);
  return router;
}
