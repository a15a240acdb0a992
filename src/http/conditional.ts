import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { cacheControl } from './cache-control.ts';

/**
 * Conditional GET for data-derived responses (lists, statistics, exports, site pages). The ETag
 * is the data version plus who is asking (`viewer`, a key that differs between roles and
 * organisations) and what they asked, so a 304 never crosses between roles. Sets ETag, Vary
 * and Cache-Control, and answers 304 when the client's ETag still matches: returns true then,
 * and the caller sends nothing more. src/auth/conditional-read.ts supplies the version and viewer.
 */
export function answeredNotModified(
  req: Request,
  res: Response,
  { dataVersion, viewer, shared }: { dataVersion: number; viewer: string; shared: boolean },
): boolean {
  const digest = createHash('sha256')
    .update(`${viewer}|${req.originalUrl}|${req.get('accept') ?? ''}`)
    .digest('base64url')
    .slice(0, 16);
  const etag = `W/"${dataVersion}-${digest}"`;
  res.set('ETag', etag);
  res.vary('Authorization');
  res.vary('Accept');
  res.set('Cache-Control', cacheControl(req, shared));
  const ifNoneMatch = req.get('if-none-match');
  if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim() === etag)) {
    res.status(304).end();
    return true;
  }
  return false;
}
