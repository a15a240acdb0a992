import { createHash } from 'node:crypto';
import { Router, type Request } from 'express';
import { PUBLIC_ACTOR } from '../auth/actor.ts';
import { answerIfUnchanged } from '../auth/conditional-read.ts';
import { readerFor } from '../auth/read-routing.ts';
import type { Db } from '../db/create-db.ts';
import { assertFiltersAllowed } from '../incidents/incident-filters.ts';
import { shapeIncident } from '../incidents/incident-shapes.ts';
import type { PublicIncident } from '../incidents/incident.schemas.ts';
import { parseInput } from '../validation.ts';
import { atomFeed } from './atom.ts';
import { latestPublicIncidents, latestTombstones } from './feed.queries.ts';
import { feedQuerySchema } from './feed.schemas.ts';

/**
 * GET /v1/incidents/feed.atom: the public list as an Atom feed, for any public filter. Always
 * the public view (a key changes nothing: feed readers are anonymous), through the list's own
 * query and filter compiler. The ETag is the data version's (src/auth/conditional-read.ts), so
 * a feed reader polling an unchanged feed costs one small query and gets a 304.
 */
export function feedRoutes(db: Db, { publicUrl }: { publicUrl?: string | undefined }): Router {
  const router = Router();
  router.get('/feed.atom', async (req, res) => {
    const { limit, ...filters } = parseInput(feedQuerySchema, req.query, 'query');
    assertFiltersAllowed(filters, PUBLIC_ACTOR);
    const reader = readerFor(db, req);
    const version = await answerIfUnchanged(reader, req, res);
    if (!version) return;
    const [rows, tombstones] = await Promise.all([
      latestPublicIncidents(reader, filters, limit),
      latestTombstones(reader, filters.updatedSince, limit),
    ]);
    const incidents = rows.map((row) => shapeIncident(row, 'public') as PublicIncident);
    const times = [...incidents.map((incident) => Date.parse(incident.updatedAt)), ...tombstones.map((t) => t.withdrawnAt.getTime())];
    // An empty feed is as new as the latest public change anywhere (not the data version's time,
    // which moves with drafts too).
    if (!times.length)
      times.push(...(await latestPublicIncidents(reader, {} as typeof filters, 1)).map((row) => row.updated_at.getTime()), 0);
    const updated = new Date(Math.max(...times));
    const { origin, authority } = whereWeAre(req, publicUrl);
    // The caller's own query is not written back into the feed (its id is a digest of it): the
    // leak crawl (test/leak.test.ts) then needs no exception for echoed parameters.
    const query = new URL(req.originalUrl, 'http://x').search;
    const filtered = query.length > 1;
    res
      .type('application/atom+xml; charset=utf-8')
      .set('X-Data-Version', String(version.dataVersion))
      .send(
        atomFeed(
          { origin, authority, feedKey: filtered ? createHash('sha256').update(query).digest('base64url').slice(0, 22) : 'all', filtered },
          { title: `Dateline: incidents${filtered ? ' (filtered)' : ''}`, updated, incidents, tombstones, limit },
        ),
      );
  });
  return router;
}

/** PUBLIC_URL when set (links and tag URIs then never depend on the Host header); else the request's. */
function whereWeAre(req: Request, publicUrl: string | undefined) {
  const url = new URL(publicUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`);
  return { origin: url.origin, authority: url.hostname };
}
