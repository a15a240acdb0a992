import { Router } from 'express';
import { requireRole } from '../auth/actor.ts';
import type { Db } from '../db/create-db.ts';
import { parseInput } from '../validation.ts';
import { etagFor, expectedVersion } from '../http/versioning.ts';
import { cacheControl } from '../http/cache-control.ts';
import { incidentIdParamsSchema } from '../incidents/incident.schemas.ts';
import { listDuplicatesQuerySchema, mergeIncidentQuerySchema, mergeIncidentSchema } from './duplicate.schemas.ts';
import { findDuplicates } from './duplicate.service.ts';
import { mergeIncident } from './merge.service.ts';

/** Mounted under /v1/incidents next to the incident routes. */
export function duplicateRoutes(db: Db): Router {
  const router = Router();

  router.get('/:id/duplicates', async (req, res) => {
    const { id } = parseInput(incidentIdParamsSchema, req.params, 'params');
    const query = parseInput(listDuplicatesQuerySchema, req.query, 'query');
    const data = await findDuplicates(db, req.actor, id, query);
    res.vary('Authorization');
    res.set('Cache-Control', cacheControl(req, req.actor.kind === 'public'));
    res.json({ data });
  });

  router.post('/:id/merge', async (req, res) => {
    const context = { actor: requireRole(req.actor, 'reviewer'), requestId: String(req.id) };
    const { id } = parseInput(incidentIdParamsSchema, req.params, 'params');
    const { dryRun } = parseInput(mergeIncidentQuerySchema, req.query, 'query');
    const input = parseInput(mergeIncidentSchema, req.body, 'body');
    const survivor = await mergeIncident(db, context, id, input, expectedVersion(req, input.version), { dryRun });
    // A dry run's version was never committed: no ETag for it.
    if (dryRun) res.set('Cache-Control', 'no-store').json(survivor);
    else res.set('ETag', etagFor(survivor.version)).set('Content-Location', `${req.baseUrl}/${survivor.id}`).json(survivor);
  });

  return router;
}
