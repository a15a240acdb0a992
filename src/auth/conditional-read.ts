import type { Request, Response } from 'express';
import type { Db } from '../db/create-db.ts';
import { getDataVersion, type DataVersion } from '../db/data-version.ts';
import { answeredNotModified } from '../http/conditional.ts';
import { viewerKey } from './actor.ts';
import { noteDataVersionServed } from './read-routing.ts';

/**
 * The conditional GET of every data-derived read: the current data version, and who is asking,
 * make the ETag (src/http/conditional.ts). Returns the data version to embed in the body, or
 * undefined when a 304 was sent. Anonymous answers may be cached by shared caches; keyed ones
 * are private.
 */
export async function answerIfUnchanged(db: Db, req: Request, res: Response): Promise<DataVersion | undefined> {
  const version = await getDataVersion(db);
  noteDataVersionServed(db, req, version.dataVersion); // read replicas: no reader sees the version go back
  const shared = req.actor.kind === 'public';
  return answeredNotModified(req, res, { dataVersion: version.dataVersion, viewer: viewerKey(req.actor), shared }) ? undefined : version;
}
