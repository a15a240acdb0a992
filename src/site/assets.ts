import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { Router, type RequestHandler } from 'express';

/**
 * The site's only static files: one stylesheet, one small script and the icon (enhancements only; every
 * page works without it). They are read once at start-up and served from memory under a name
 * that carries their content hash, so browsers may keep them for a year.
 */
const ASSETS_DIR = new URL('./assets/', import.meta.url);

interface Asset {
  name: string;
  type: string;
  body: Buffer;
  hash: string;
}

function load(name: string, type: string): Asset {
  const body = readFileSync(new URL(name, ASSETS_DIR));
  return { name, type, body, hash: createHash('sha256').update(body).digest('base64url').slice(0, 12) };
}

const ASSETS = [
  load('site.css', 'text/css; charset=utf-8'),
  load('site.js', 'text/javascript; charset=utf-8'),
  load('favicon.svg', 'image/svg+xml'),
];
const SCRIPTS_AND_STYLES = ['site.css', 'site.js'];

/** The URL of an asset, e.g. /assets/site.css?v=<hash>. */
export function assetUrl(name: 'site.css' | 'site.js' | 'favicon.svg'): string {
  const asset = ASSETS.find((candidate) => candidate.name === name)!;
  return `/assets/${asset.name}?v=${asset.hash}`;
}

/** What the browser downloads in JS and CSS for any page, gzipped: reported by the tests. */
export function assetBytes(): { raw: number; gzipped: number } {
  const counted = ASSETS.filter((asset) => SCRIPTS_AND_STYLES.includes(asset.name));
  return {
    raw: counted.reduce((sum, asset) => sum + asset.body.length, 0),
    gzipped: counted.reduce((sum, asset) => sum + gzipSync(asset.body, { level: 9 }).length, 0),
  };
}

/**
 * Mounted by src/app.ts before the rate limiter, as a plain handler like the pages (site.routes.ts):
 * static files for readers, not API operations, so the API's route tables leave them out.
 */
export function siteAssetsHandler(): RequestHandler {
  const router = assetRoutes();
  return (req, res, next) => router(req, res, next);
}

function assetRoutes(): Router {
  const router = Router();
  for (const asset of ASSETS) {
    router.get(`/assets/${asset.name}`, (req, res) => {
      res.set('Cache-Control', 'public, max-age=31536000, immutable');
      res.set('ETag', `"${asset.hash}"`);
      if (req.get('if-none-match') === `"${asset.hash}"`) return res.status(304).end();
      res.type(asset.type).send(asset.body);
    });
  }
  return router;
}
