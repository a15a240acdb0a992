import { Router, type Request, type Response } from 'express';
import type { DataVersion } from '../db/data-version.ts';
import { requireRole, type Actor } from '../auth/actor.ts';
import { listAuditForEntity } from '../audit/audit.queries.ts';
import type { WriteContext } from '../audit/audit.queries.ts';
import type { Db } from '../db/create-db.ts';
import { ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError } from '../errors.ts';
import { parseInput, refuseQuery } from '../validation.ts';
import { etagFor, expectedVersion } from '../http/versioning.ts';
import { cacheControl } from '../http/cache-control.ts';
import { viewFor, type IncidentView } from './incident-shapes.ts';
import { findIncidentDocument } from './incident-documents.ts';
import { sendJsonWithItems } from '../http/json-with-items.ts';
import { incidentHooks } from './incident-hooks.ts';
import { writeSealedFrom } from './access.queries.ts';
import { encodeCursor, readCursor } from './page-cursor.ts';
import { findIncidentOwner, findMergeSurvivor, findVisibleIncidentOrganisation } from './incident.queries.ts';
import { assertFiltersAllowed, type IncidentFilters } from './incident-filters.ts';
import {
  countIncidents,
  listIncidentDocumentPage,
  listIncidentIdPage,
  type IncidentSort,
  type PageCursor,
} from './incident-list.queries.ts';
import { answerIfUnchanged } from '../auth/conditional-read.ts';
import { readerFor } from '../auth/read-routing.ts';
import { chooseFormat, TABLE_FORMATS, tableFormatSchema } from '../http/response-format.ts';
import {
  createIncidentSchema,
  deleteIncidentSchema,
  incidentIdParamsSchema,
  listIncidentsQuerySchema,
  type ListIncidentsQuery,
  updateIncidentSchema,
  verificationChangeSchema,
  versionOnlySchema,
} from './incident.schemas.ts';
import { changeVerification, createIncident, deleteIncident, setVisibility, updateIncident } from './incident.service.ts';
import { listVerificationChanges } from './verification.queries.ts';

/** The role check comes first, so a caller without the right role learns that before any validation detail. */
function writeContext(req: Request, role: 'editor' | 'reviewer'): WriteContext {
  return { actor: requireRole(req.actor, role), requestId: String(req.id) };
}

/** The list's parameters: filters, sort and paging, and the representation (JSON or CSV). */
export const listIncidentsRequestSchema = listIncidentsQuerySchema.extend(tableFormatSchema.shape);

/** One page of the list, for its CSV form. */
export interface IncidentPage {
  /** The page's incidents, in order. */
  ids: string[];
  nextCursor: string | null;
  total?: number | undefined;
  meta: DataVersion;
}

/** The list as CSV (src/exports/incident-page-csv.ts), passed in by src/app.ts: writers build on incidents, not the reverse. */
export type SendIncidentPageCsv = (db: Db, req: Request, res: Response, page: IncidentPage) => Promise<void>;

export function incidentRoutes(db: Db, { sendPageCsv }: { sendPageCsv: SendIncidentPageCsv }): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const query = parseInput(listIncidentsRequestSchema, req.query, 'query');
    if (query.sort === 'relevance' && !query.q) {
      throw new ValidationError('The request has invalid parameters.', [
        { parameter: 'sort', detail: 'sort=relevance needs a search (q)' },
      ]);
    }
    const filters = withoutPaging(query);
    assertFiltersAllowed(filters, req.actor);
    const after = decodeCursor(query.cursor, query.sort);
    const reader = readerFor(db, req); // a replica for anonymous callers and researchers (src/auth/read-routing.ts)
    const version = await answerIfUnchanged(reader, req, res);
    if (!version) return;
    const csv = chooseFormat(req, query.format, TABLE_FORMATS) === 'csv';
    const page = { filters, sort: query.sort, limit: query.limit, after };
    const total = () => (query.includeTotal ? countIncidents(reader, req.actor, filters) : undefined);
    if (csv) {
      // PostgreSQL builds the CSV lines from the ids: the incident trees are not loaded.
      const [{ rows, next }, count] = await Promise.all([listIncidentIdPage(reader, req.actor, page), total()]);
      const ids = rows.map((row) => row.id);
      return sendPageCsv(reader, req, res, { ids, nextCursor: next ? encodeCursor(next) : null, total: count, meta: version });
    }
    const [{ documents, next }, count] = await Promise.all([listIncidentDocumentPage(reader, req.actor, page), total()]);
    sendJsonWithItems(
      res,
      documents.map((document) => document.json),
      { nextCursor: next ? encodeCursor(next) : null, ...(count === undefined ? {} : { total: count }), meta: version },
    );
  });

  router.post('/', async (req, res) => {
    const context = writeContext(req, 'editor');
    refuseQuery(req.query);
    const input = parseInput(createIncidentSchema, req.body, 'body');
    const incident = await createIncident(db, context, input);
    // Likely duplicates flagged on create (incident-hooks.ts): in this response only, not part of the incident.
    const extras = (await incidentHooks.createdAnswer?.(db, req.actor, incident.id)) ?? {};
    res
      .status(201)
      .location(`${req.baseUrl}/${incident.id}`)
      .set('ETag', etagFor(incident.version))
      .json({ ...incident, ...extras });
  });

  router.get('/:id', async (req, res) => {
    const { id } = parseInput(incidentIdParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    const reader = readerFor(db, req);
    const document = await findIncidentDocument(reader, req.actor, id);
    res.vary('Authorization');
    if (!document) {
      // A merged incident lives on in its survivor, for those who may see the survivor.
      const survivor = await findMergeSurvivor(reader, req.actor, id);
      if (!survivor) throw new NotFoundError('Incident not found.');
      res.set('Cache-Control', 'private, no-cache');
      return res.redirect(308, `${req.baseUrl}/${survivor}`);
    }
    // The version is for editing: only the owning organisation gets it as an ETag.
    if (document.view === 'full') res.set('ETag', etagFor(document.tree!.version));
    res.set('Cache-Control', cacheControl(req, req.actor.kind === 'public'));
    res.type('json').send(document.json);
  });

  router.patch('/:id', async (req, res) => {
    const context = writeContext(req, 'editor');
    const { id } = parseInput(incidentIdParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    const input = parseInput(updateIncidentSchema, req.body, 'body');
    if (!Object.keys(input).some((key) => key !== 'version')) {
      throw new ValidationError('The request body is not valid.', [{ pointer: '', detail: 'send at least one field to change' }]);
    }
    const incident = await updateIncident(db, context, id, input, expectedVersion(req, input.version));
    res.set('ETag', etagFor(incident.version)).json(incident);
  });

  router.delete('/:id', async (req, res) => {
    const context = writeContext(req, 'editor');
    const { id } = parseInput(incidentIdParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    const input = parseInput(deleteIncidentSchema, req.body, 'body');
    await deleteIncident(db, context, id, input.reason, expectedVersion(req, input.version));
    res.status(204).end();
  });

  router.post('/:id/verification', async (req, res) => {
    const context = writeContext(req, 'reviewer');
    const { id } = parseInput(incidentIdParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    const input = parseInput(verificationChangeSchema, req.body, 'body');
    const incident = await changeVerification(db, context, id, input, expectedVersion(req, input.version));
    res.set('ETag', etagFor(incident.version)).json(incident);
  });

  for (const [path, visibility] of [
    ['publish', 'published'],
    ['unpublish', 'draft'],
  ] as const) {
    router.post(`/:id/${path}`, async (req, res) => {
      const context = writeContext(req, 'reviewer');
      const { id } = parseInput(incidentIdParamsSchema, req.params, 'params');
      refuseQuery(req.query);
      const input = parseInput(versionOnlySchema, req.body, 'body');
      const incident = await setVisibility(db, context, id, visibility, expectedVersion(req, input.version));
      res.set('ETag', etagFor(incident.version)).json(incident);
    });
  }

  router.get('/:id/history', async (req, res) => {
    const { id } = parseInput(incidentIdParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    const reader = readerFor(db, req);
    const organisationId = await findVisibleIncidentOrganisation(reader, id, req.actor);
    if (!organisationId) throw new NotFoundError('Incident not found.');
    const view = viewFor(req.actor, organisationId, await writeSealedFrom(reader, req.actor, id));
    requireView(req.actor, view, ['full', 'research'], 'verification history');
    const changes = await listVerificationChanges(reader, id);
    // Reviewers' notes and key names are internal, like internal notes: researchers see the changes only.
    res.json({ data: view === 'full' ? changes : changes.map(({ note: _note, changedBy: _by, ...change }) => change) });
  });

  router.get('/:id/audit', async (req, res) => {
    const { id } = parseInput(incidentIdParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    // A deleted incident's trail stays readable by its organisation: it holds the reason.
    const owner = await findIncidentOwner(db, id);
    const view = owner && viewFor(req.actor, owner.organisationId);
    if (!owner || (view !== 'full' && !(await findVisibleIncidentOrganisation(db, id, req.actor)))) {
      throw new NotFoundError('Incident not found.');
    }
    requireView(req.actor, view!, ['full'], 'audit trail');
    // The trail holds whole incidents before and after each change, restricted victims included.
    if (await writeSealedFrom(db, req.actor, id)) {
      throw new ForbiddenError(
        'The audit trail of an incident restricted to access groups your key is not in (the incident or a victim in it) is not shown to you.',
      );
    }
    res.json({ data: await listAuditForEntity(db, 'incident', id) });
  });

  return router;
}

/** History and audit are for the owning organisation (and, for history, researchers). */
function requireView(actor: Actor, view: IncidentView, allowed: IncidentView[], what: string) {
  if (allowed.includes(view)) return;
  if (actor.kind === 'public') throw new UnauthenticatedError(`The ${what} needs an API key.`);
  throw new ForbiddenError(`The ${what} of another organisation's incident is not shown to your role.`);
}

function withoutPaging(query: ListIncidentsQuery & { format?: unknown }): IncidentFilters {
  const { sort: _sort, limit: _limit, cursor: _cursor, includeTotal: _includeTotal, format: _format, ...filters } = query;
  return filters;
}

/** A cursor given must be one this sort wrote; none is the first page. */
function decodeCursor(cursor: string | undefined, sort: IncidentSort): PageCursor | undefined {
  if (cursor === undefined) return undefined;
  const read = readCursor(cursor, sort);
  if (read) return read;
  throw new ValidationError('The request has invalid parameters.', [
    { parameter: 'cursor', detail: 'use the nextCursor value from the previous page, with the same sort' },
  ]);
}
