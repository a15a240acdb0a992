import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { viewerKey } from '../auth/actor.ts';
import type { Db } from '../db/create-db.ts';
import { getDataVersion, type DataVersion } from '../db/data-version.ts';

/**
 * Conditional GET for data-derived responses (lists, statistics, exports). The ETag is the data
 * version plus who is asking and what they asked, so a 304 never crosses between roles. When
 * the client's ETag still matches, we answer 304 before running the query.
 * Returns the data version to embed in the body, or undefined when a 304 was sent.
 */
export async function answerIfUnchanged(db: Db, req: Request, res: Response): Promise<DataVersion | undefined> {
  const version = await getDataVersion(db);
  const digest = createHash('sha256').update(`${viewerKey(req.actor)}|${req.originalUrl}|${req.get('accept') ?? ''}`).digest('base64url').slice(0, 16);
  const etag = `W/"${version.dataVersion}-${digest}"`;
  res.set('ETag', etag);
  res.vary('Authorization');
  res.vary('Accept');
  res.set('Cache-Control', req.actor.kind === 'public' ? 'public, max-age=60' : 'private, no-cache');
  const ifNoneMatch = req.get('if-none-match');
  if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim() === etag)) {
    res.status(304).end();
    return undefined;
  }
  return version;
}
