import type { Request } from 'express';

/**
 * How long a shared cache in front of the API (nginx, a CDN: docs/nginx.conf) may keep a public
 * answer. Browsers revalidate every time (max-age=0: a 304 costs one data-version lookup); a
 * shared cache serves its copy for `freshSeconds`, then revalidates with the data-version ETag,
 * serving the old copy meanwhile for at most `staleSeconds`. So a public answer is at most
 * fresh + one revalidation old after a write. Set by src/app.ts from the configuration.
 */
export interface SharedCachePolicy {
  freshSeconds: number;
  staleSeconds: number;
}

const SETTING = 'shared cache policy';

export function setSharedCachePolicy(app: { set: (name: string, value: unknown) => unknown }, policy: SharedCachePolicy): void {
  app.set(SETTING, policy);
}

/**
 * Cache-Control for a read. Anything a key asked for is private (its answer depends on who asks)
 * and is never `public`; anonymous answers may be kept by shared caches.
 */
export function cacheControl(req: Request, shared: boolean): string {
  if (!shared) return 'private, no-cache';
  const policy = req.app.get(SETTING) as SharedCachePolicy | undefined;
  const { freshSeconds, staleSeconds } = policy ?? { freshSeconds: 5, staleSeconds: 30 };
  return `public, max-age=0, s-maxage=${freshSeconds}, stale-while-revalidate=${staleSeconds}`;
}
