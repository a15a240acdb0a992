import type { DataVersion } from '../db/data-version.ts';
import { assetUrl } from './assets.ts';
import { html, type Html } from './html.ts';
import { allMessages, type Messages } from './i18n.ts';
import { siteHref } from './site-query.ts';

/**
 * The page shell: landmarks (banner, navigation, main, contentinfo), a skip link, the language
 * switch, and lang/dir from the catalog. No inline script or style: the CSP is default-src 'self'.
 */
export type Section = 'home' | 'explore' | 'statistics' | 'methodology' | 'incident' | 'error';

export interface PageContext {
  m: Messages;
  /** The current path and its parameters (without lang), for the language switch. */
  path: string;
  params: URLSearchParams;
  version: DataVersion;
}

/**
 * Set to true when GET /v1/incidents/feed.atom exists: list pages then announce the feed of
 * their filters with <link rel="alternate" type="application/atom+xml">.
 */
export const ATOM_FEED_AVAILABLE = true;

export function page(context: PageContext, options: { title: string; section: Section; body: Html; feedParams?: URLSearchParams }): string {
  const { m, path, params, version } = context;
  const nav: [Section, string, string][] = [
    ['home', '/', m.t('nav.home')],
    ['explore', '/explore', m.t('nav.explore')],
    ['statistics', '/statistics', m.t('nav.statistics')],
    ['methodology', '/methodology', m.t('nav.methodology')],
  ];
  const feed =
    ATOM_FEED_AVAILABLE && options.feedParams
      ? html`<link rel="alternate" type="application/atom+xml" href="${`/v1/incidents/feed.atom${options.feedParams.size ? `?${options.feedParams}` : ''}`}">`
      : '';
  const document = html`<!doctype html>
<html lang="${m.locale}" dir="${m.dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · ${m.t('site.name')}</title>
<link rel="icon" href="${assetUrl('favicon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${assetUrl('site.css')}">
<script src="${assetUrl('site.js')}" defer></script>
${allMessages()
  .filter((other) => other.locale !== m.locale)
  .map((other) => html`<link rel="alternate" hreflang="${other.locale}" href="${siteHref(path, other.locale, params)}">`)}
${feed}
</head>
<body>
<a class="skip-link" href="#main">${m.t('skip')}</a>
<header class="site-header">
  <div class="wrap header-row">
    <p class="site-name"><a href="${siteHref('/', m.locale)}">${m.t('site.name')}</a> <span class="tagline">${m.t('site.tagline')}</span></p>
    <nav class="languages" aria-label="${m.t('lang.label')}">
      <ul>${allMessages().map((other) =>
        other.locale === m.locale
          ? html`<li><span aria-current="true" lang="${other.locale}">${other.languageName}</span></li>`
          : html`<li><a href="${siteHref(path, other.locale, params)}" hreflang="${other.locale}" lang="${other.locale}">${other.languageName}</a></li>`,
      )}</ul>
    </nav>
  </div>
  <nav class="wrap main-nav" aria-label="${m.t('nav.label')}">
    <ul>
      ${nav.map(([section, href, label]) => html`<li><a href="${siteHref(href, m.locale)}"${section === options.section ? html` aria-current="page"` : ''}>${label}</a></li>`)}
      <li><a href="/docs" lang="en">${m.t('nav.api')}</a></li>
    </ul>
  </nav>
</header>
<main id="main" class="wrap" tabindex="-1">
${options.body}
</main>
<footer class="site-footer">
  <div class="wrap">
    <p>${m.t('footer.text', { version: m.number(version.dataVersion), date: m.stamp(version.dataAsOf) })}</p>
    <p>${m.t('footer.licence')} <a href="/docs">/docs</a> · <a href="/openapi.json">/openapi.json</a></p>
  </div>
</footer>
</body>
</html>`;
  return document.value;
}
