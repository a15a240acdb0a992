import type { Request } from 'express';
import { ValidationError } from '../errors.ts';

/**
 * The version a write is based on, from `If-Match: "3"` (the ETag we send on reads) or from a
 * `version` field in the body. Both may be sent if they agree.
 */
export function expectedVersion(req: Request, bodyVersion: number | undefined): number | undefined {
  const header = req.get('if-match');
  if (header === undefined) return bodyVersion;
  const match = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(header);
  if (!match) {
    throw new ValidationError('The If-Match header is not valid.', [
      { parameter: 'If-Match', detail: 'send the ETag you received, e.g. "3"' },
    ]);
  }
  const version = Number(match[1]);
  if (bodyVersion !== undefined && bodyVersion !== version) {
    throw new ValidationError('If-Match and the body version disagree.', [
      { pointer: '/version', detail: `the If-Match header says ${version}` },
    ]);
  }
  return version;
}

export function etagFor(version: number): string {
  return `"${version}"`;
}
