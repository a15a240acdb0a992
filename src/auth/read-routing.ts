import type { Request, RequestHandler } from 'express';
import type { Db } from '../db/create-db.ts';
import { replicaSetOf, type ReadChoice, type ReplicaSet } from '../db/replicas.ts';
import type { Actor } from './actor.ts';

/**
 * Which database a request reads from, decided here and nowhere else (README, "Read replicas").
 * A route asks `readerFor(db, req)` for the handle its reads use; without DATABASE_REPLICA_URLS
 * that is `db` itself. With replicas:
 *
 * - GET and HEAD by anonymous callers and researchers may be served by a replica. So may
 *   statistics and exports for every role (`{ anyRole: true }`): nobody edits from them.
 * - Editors', reviewers' and admins' other reads stay on the primary: what they read feeds an
 *   edit (an incident's version for If-Match), and a moment-old copy would only earn them a 409.
 * - A key that wrote, or was served by the primary, reads from a replica only once the replica
 *   has replayed the primary's position sampled after that request (src/db/replicas.ts);
 *   until then the primary serves it. No request waits for a replica.
 * - The client's ETag (If-None-Match) is a floor: it is never answered from a replica older than
 *   the version it already holds.
 *
 * The choice is made once per request, so every query of a request goes to the same server.
 */

const choices = new WeakMap<Request, ReadChoice>();

export interface ReaderOptions {
  /** Statistics and exports: any role's may be served by a replica. */
  anyRole?: boolean;
}

export function readerFor(db: Db, req: Request, { anyRole = false }: ReaderOptions = {}): Db {
  const replicas = replicaSetOf(db);
  if (!replicas) return db;
  let choice = choices.get(req);
  if (!choice) {
    choice = decide(replicas, req, anyRole);
    choices.set(req, choice);
    req.log?.debug({ readFrom: choice.server, why: choice.reason }, 'read routing');
  }
  return choice.db;
}

function decide(replicas: ReplicaSet, req: Request, anyRole: boolean): ReadChoice {
  if (req.method !== 'GET' && req.method !== 'HEAD') return replicas.primaryChoice('not a read');
  if (!mayReadReplica(req.actor, anyRole)) return replicas.primaryChoice('this role reads what it edits from the primary');
  return replicas.choose({
    clientVersion: highestVersionIn(req.get('if-none-match')),
    key: req.actor.kind === 'key' ? req.actor.keyId : undefined,
  });
}

function mayReadReplica(actor: Actor, anyRole: boolean): boolean {
  return anyRole || actor.kind === 'public' || actor.role === 'researcher';
}

/** The highest data version among the ETags of If-None-Match (`W/"<version>-<digest>"`, src/http/conditional.ts). */
export function highestVersionIn(ifNoneMatch: string | undefined): number | undefined {
  if (!ifNoneMatch) return undefined;
  const versions = [...ifNoneMatch.matchAll(/(?:^|,)\s*(?:W\/)?"(\d{1,15})-/g)].map((match) => Number(match[1]));
  return versions.length ? Math.max(...versions) : undefined;
}

/**
 * The data version an answer carries (its ETag), read from `db`: it raises the process's
 * high-water mark when the request was on the replica path, and what is known of the replica
 * that answered. Called by answerIfUnchanged, for every data-versioned read.
 */
export function noteDataVersionServed(db: Db, req: Request, dataVersion: number): void {
  const replicas = replicaSetOf(db);
  if (!replicas) return;
  // A route that read the primary without asking readerFor: still a version this reader has seen.
  const choice =
    choices.get(req) ?? (mayReadReplica(req.actor, false) ? replicas.fallbackChoice('the route reads the primary') : undefined);
  if (choice) replicas.served(choice, dataVersion, db);
}

/**
 * Marks the keys whose requests the primary served, so their next reads are not answered by a
 * replica that has not caught up with them (read-your-writes within this process). Mounted after
 * authentication; does nothing without replicas.
 */
export function rememberPrimaryReaders(db: Db): RequestHandler {
  const replicas = replicaSetOf(db);
  return (req, res, next) => {
    if (!replicas || req.actor.kind !== 'key') return next();
    const key = req.actor.keyId;
    const write = !['GET', 'HEAD', 'OPTIONS'].includes(req.method);
    if (write) replicas.writeStarted(key);
    res.once('close', () => {
      if (write) replicas.writeEnded(key);
      else if ((choices.get(req)?.servedBy ?? 'primary') === 'primary') replicas.primaryUsed(key);
    });
    next();
  };
}
