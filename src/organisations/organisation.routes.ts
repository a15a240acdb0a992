import { Router } from 'express';
import { requireRole } from '../auth/actor.ts';
import { appendAudit } from '../audit/audit.queries.ts';
import type { Db } from '../db/create-db.ts';
import { ConflictError } from '../errors.ts';
import { parseInput } from '../http/validate.ts';
import { findOrganisationByName, insertOrganisation, listOrganisations, toOrganisation } from './organisation.queries.ts';
import { createOrganisationSchema } from './organisation.schemas.ts';

/** Organisations are managed by the instance operator (admin keys). */
export function organisationRoutes(db: Db): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    requireRole(req.actor, 'admin');
    res.json({ data: (await listOrganisations(db)).map(toOrganisation) });
  });

  router.post('/', async (req, res) => {
    const actor = requireRole(req.actor, 'admin');
    const { name } = parseInput(createOrganisationSchema, req.body, 'body');
    const organisation = await db.transaction().execute(async (trx) => {
      if (await findOrganisationByName(trx, name)) throw new ConflictError(`An organisation named "${name}" already exists.`);
      const created = toOrganisation(await insertOrganisation(trx, name));
      await appendAudit(trx, { actor, requestId: String(req.id) }, {
        action: 'organisation.create', entityType: 'organisation', entityId: created.id, organisationId: created.id, before: null, after: created,
      });
      return created;
    });
    res.status(201).json(organisation);
  });

  return router;
}
