import * as taxonomies from '../../incidents/taxonomies.ts';
import { dataTable } from '../components.ts';
import { html } from '../html.ts';
import { page, type PageContext } from '../layout.ts';

/**
 * Every taxonomy with every code and its definition, read from taxonomies.ts: the same source as
 * the OpenAPI document and the README, so the three never disagree. Then how counting works.
 */
export const METHODOLOGY_TAXONOMIES = [
  'attackTypes',
  'verificationStatuses',
  'deathTypes',
  'motives',
  'judicialOutcomes',
  'victimRoles',
  'genders',
  'victimOutcomes',
  'localities',
  'employments',
  'actorTypes',
  'attributions',
  'sourceKinds',
  'coordinatePrecisions',
] as const satisfies readonly (keyof typeof taxonomies)[];

/**
 * A code's definition in the reader's language: English is taxonomies.ts itself; another
 * language translates it in its catalog (definition.<taxonomy>.<code>), and shows the English
 * where a translation is missing.
 */
function definitionIn(m: PageContext['m'], name: string, code: string, english: string) {
  const key = `definition.${name}.${code}`;
  return m.locale !== 'en' && m.has(key) ? html`${m.t(key)}` : html`<span lang="en" dir="ltr">${english}</span>`;
}

export function methodologyPage(context: PageContext): string {
  const { m } = context;
  const definitionsInOtherLanguage =
    m.locale !== 'en' && METHODOLOGY_TAXONOMIES.some((name) => taxonomies[name].codes.some((code) => !m.has(`definition.${name}.${code}`)));
  const body = html`
<h1>${m.t('method.title')}</h1>
<p class="lead">${m.t('method.lead')}</p>
<section aria-labelledby="counting">
  <h2 id="counting">${m.t('method.counting')}</h2>
  <ul class="prose-list">
    <li>${m.t('method.published')}</li>
    <li>${m.t('method.debunked')}</li>
    <li>${m.t('method.datePrecision')}</li>
    <li>${m.t('method.protected')}</li>
    <li>${m.t('method.multiple')}</li>
    <li>${m.t('method.historical')}</li>
  </ul>
</section>
<nav aria-labelledby="taxonomies-heading" class="toc">
  <h2 id="taxonomies-heading">${m.t('method.definition')}</h2>
  ${definitionsInOtherLanguage ? html`<p class="hint">${m.t('method.definitionLanguage')}</p>` : ''}
  <ul>${METHODOLOGY_TAXONOMIES.map((name) => html`<li><a href="#${name}">${m.t(`taxonomy.${name}`)}</a></li>`)}</ul>
</nav>
${METHODOLOGY_TAXONOMIES.map((name) => {
  const taxonomy = taxonomies[name];
  const definitions = taxonomy.definitions as Record<string, string>;
  return html`<section aria-labelledby="${name}" class="taxonomy">
    <h3 id="${name}">${m.t(`taxonomy.${name}`)}</h3>
    ${dataTable(
      m.t(`taxonomy.${name}`),
      [
        { header: m.t('method.label'), cell: (code: string) => m.label(name, code) },
        { header: m.t('method.code'), cell: (code: string) => html`<code>${code}</code>` },
        { header: m.t('method.definition'), cell: (code: string) => definitionIn(m, name, code, definitions[code] ?? '') },
      ],
      [...taxonomy.codes] as string[],
    )}
  </section>`;
})}`;
  return page(context, { title: m.t('method.title'), section: 'methodology', body });
}
