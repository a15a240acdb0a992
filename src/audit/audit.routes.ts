import { Router, type Request } from 'express';
import type { WriteContext } from './actor.ts';
import type { Db } from '../db/create-db.ts';
import { ValidationError } from '../errors.ts';
import { parseInput, refuseQuery } from '../validation.ts';
import { findAuditHead, listOrganisationAudit } from './audit-feed.queries.ts';
import { auditFeedQuerySchema } from './audit.schemas.ts';

export interface AuditRouteOptions {
  /**
   * Checks that the caller is an admin (401/403 otherwise) and names them. Given by the app:
   * the audit log takes actors as values and knows no keys (src/auth/ builds on it).
   */
  asAdmin: (req: Request) => WriteContext;
}

/**
 * The audit log for an organisation's admin: its own records, and the head of the hash chain
 * to store elsewhere. Admins only, since the records hold whole incidents before and after
 * each write, protected victims included.
 */
export function auditRoutes(db: Db, { asAdmin }: AuditRouteOptions): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const { actor } = asAdmin(req);
    const { limit, cursor, ...filters } = parseInput(auditFeedQuerySchema, req.query, 'query');
    const beforeId = cursor === undefined ? undefined : readAuditCursor(cursor);
    const { records, lastId } = await listOrganisationAudit(db, actor.organisationId, { filters, limit, beforeId });
    res.set('Cache-Control', 'no-store');
    res.json({ data: records, nextCursor: lastId === undefined ? null : encodeAuditCursor(lastId) });
  });

  router.get('/head', async (req, res) => {
    asAdmin(req);
    refuseQuery(req.query);
    res.set('Cache-Control', 'no-store');
    res.json(await findAuditHead(db));
  });

  return router;
}

/** The opaque nextCursor: the last record's id, as base64url JSON like the incident list's. */
function encodeAuditCursor(id: number): string {
  return Buffer.from(JSON.stringify(['audit', id])).toString('base64url');
}

function readAuditCursor(cursor: string): number {
  try {
    const [kind, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (kind === 'audit' && Number.isSafeInteger(id) && (id as number) > 0) return id as number;
  } catch {
    // not base64url JSON: not a cursor
  }
  throw new ValidationError('The request has invalid parameters.', [
    { parameter: 'cursor', detail: 'use the nextCursor value from the previous page' },
  ]);
}
