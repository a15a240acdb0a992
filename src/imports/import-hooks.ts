import type { Transaction } from 'kysely';
import type { WriteContext } from '../audit/audit.queries.ts';
import type { Database } from '../db/database.ts';

/**
 * What the import calls for each incident it creates, inside the import's transaction. Duplicate
 * detection (src/duplicates/) plugs in here: set `flagDuplicates` in `importHooks` below, and both
 * POST /v1/imports and `npm run import` use it. Whatever it returns is listed with the created
 * row in the import report. A dry run creates nothing and calls no hook.
 */
export interface DuplicateCandidate {
  incidentId: string;
  score: number;
  [detail: string]: unknown;
}

export type FlagDuplicates = (
  trx: Transaction<Database>,
  incidentId: string,
  context: WriteContext,
) => Promise<readonly DuplicateCandidate[] | void>;

export interface ImportHooks {
  flagDuplicates?: FlagDuplicates | undefined;
}

export const importHooks: ImportHooks = {};
