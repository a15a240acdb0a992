import { Router, type Request } from 'express';
import type { AuditContext } from '../audit/actor.ts';
import type { Db } from '../db/create-db.ts';
import { parseInput, refuseQuery } from '../validation.ts';
import { listOrganisations, toOrganisation } from './organisation.queries.ts';
import { createOrganisationSchema } from './organisation.schemas.ts';
import { createOrganisation } from './organisation.service.ts';
import { organisationIdParamsSchema, setDraftSharingSchema } from './draft-sharing.schemas.ts';
import { getDraftSharing, setDraftSharing } from './draft-sharing.service.ts';

export interface OrganisationRouteOptions {
  /**
   * Checks that the caller is an admin and names them for the audit trail (throws otherwise).
   * Given by the app: keys belong to organisations, so this folder knows no keys or roles.
   */
  asAdmin: (req: Request) => AuditContext;
}

/** Organisations are managed by the instance operator (admin keys). */
export function organisationRoutes(db: Db, { asAdmin }: OrganisationRouteOptions): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    asAdmin(req);
    refuseQuery(req.query);
    res.json({ data: (await listOrganisations(db)).map(toOrganisation) });
  });

  router.post('/', async (req, res) => {
    const context = asAdmin(req);
    refuseQuery(req.query);
    const { name } = parseInput(createOrganisationSchema, req.body, 'body');
    res.status(201).json(await createOrganisation(db, context, name));
  });

  // Whom the organisation shares its drafts with: its own admin only (draft-sharing.service.ts).
  router.get('/:id/sharing', async (req, res) => {
    const context = asAdmin(req);
    const { id } = parseInput(organisationIdParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    res.json(await getDraftSharing(db, context, id));
  });

  router.put('/:id/sharing', async (req, res) => {
    const context = asAdmin(req);
    const { id } = parseInput(organisationIdParamsSchema, req.params, 'params');
    refuseQuery(req.query);
    const input = parseInput(setDraftSharingSchema, req.body, 'body');
    res.json(await setDraftSharing(db, context, id, input));
  });

  return router;
}
