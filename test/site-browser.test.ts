import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { seedSampleData } from '../src/sample-data/seed.ts';
import { startTestApp, type TestApp } from './support/test-app.ts';

/**
 * The public site in a real browser: Debian's Chromium driven by playwright-core (nothing here
 * downloads a browser). Without /usr/bin/chromium the file is skipped with a printed reason;
 * with REQUIRE_BROWSER=1 (set by .ci/run) a missing browser fails instead.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const required = process.env.REQUIRE_BROWSER === '1';
const SCREENSHOTS = new URL('../test-results/screenshots/', import.meta.url);
const require = createRequire(import.meta.url);
/** Evaluated in the page (this project's TypeScript has no DOM types): the computed fill of an SVG element. */
const FILL = (element: unknown) =>
  (globalThis as unknown as { getComputedStyle: (target: unknown) => { fill: string } }).getComputedStyle(element).fill;

if (!available) {
  console.warn(
    `site-browser.test.ts: skipped, no browser at ${CHROMIUM} (install Debian's chromium: apt-get install -y chromium).${required ? ' REQUIRE_BROWSER=1: failing.' : ''}`,
  );
}

describe.runIf(!available && required)('a browser is required (REQUIRE_BROWSER=1)', () => {
  it('finds Chromium', () => {
    expect.fail(`REQUIRE_BROWSER=1 but there is no browser at ${CHROMIUM}`);
  });
});

describe.skipIf(!available)('the public site in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];
  const foreignRequests: string[] = [];
  const requests: string[] = [];
  let axeSource: string;

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    app = await startTestApp();
    await seedSampleData(app.db);
    await mkdir(SCREENSHOTS, { recursive: true });
    axeSource = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.url });
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(`${page.url()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => consoleErrors.push(`${page.url()}: ${error.message}`));
    page.on('request', (request) => {
      requests.push(request.url());
      if (new URL(request.url()).origin !== app.url) foreignRequests.push(request.url());
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function visit(path: string, screenshot: string) {
    const response = await page.goto(`${app.url}${path}`);
    expect(response?.status(), path).toBe(200);
    await page.screenshot({ path: new URL(`${screenshot}.png`, SCREENSHOTS).pathname, fullPage: true });
  }

  /** axe-core from node_modules, evaluated through the DevTools protocol (the page's CSP allows no inline script). */
  async function seriousViolations() {
    await page.evaluate(axeSource);
    type Result = { id: string; impact: string; nodes: { target: string[] }[] };
    const results = await page.evaluate<{ violations: Result[]; passes: Result[] }>('axe.run()');
    expect(results.passes.length, 'axe ran its rules').toBeGreaterThan(10);
    return results.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map(
        (violation) =>
          `${violation.id}: ${violation.nodes
            .map((node) => node.target.join(' '))
            .slice(0, 3)
            .join(', ')}`,
      );
  }

  it('shows the seed incidents on the home page and in explore', async () => {
    await visit('/', 'home');
    expect(await page.getByText('Journalist and activist Naji Jerf shot dead in Gaziantep').count()).toBe(1);
    expect(await page.locator('.incident-summary').count()).toBe(4);
    expect(await seriousViolations()).toEqual([]);
    await visit('/explore', 'explore');
    expect(await page.locator('#results .incident-summary').count()).toBe(4);
    expect(await seriousViolations()).toEqual([]);
  });

  it('narrows the list by a filter, which lands in the URL', async () => {
    await page.goto(`${app.url}/explore`);
    await Promise.all([page.waitForURL(/attackType=attempted_killing/), page.selectOption('#f-attackType', 'attempted_killing')]);
    expect(new URL(page.url()).search).toBe('?attackType=attempted_killing'); // empty fields stay out of the URL
    expect(await page.locator('#results .incident-summary').count()).toBe(1);
    expect(await page.locator('#results').textContent()).toContain('Bayazid');
    await page.screenshot({ path: new URL('explore-filtered.png', SCREENSHOTS).pathname, fullPage: true });
  });

  async function search(words: string) {
    await page.goto(`${app.url}/explore`);
    await page.fill('#f-q', words);
    await Promise.all([page.waitForURL(/q=/), page.press('#f-q', 'Enter')]);
    return (await page.locator('#results').textContent()) ?? '';
  }

  it('finds the Gaziantep killing of Naji Jerf by name', async () => {
    expect(await search('Naji Jerf')).toContain('Gaziantep');
  });

  it('finds it typed as "Naji Jarf"', async () => {
    expect(await search('Naji Jarf')).toContain('Journalist and activist Naji Jerf shot dead in Gaziantep');
    await page.screenshot({ path: new URL('search-jarf.png', SCREENSHOTS).pathname, fullPage: true });
  });

  it('lays the Arabic pages out right to left', async () => {
    for (const [path, name] of [
      ['/?lang=ar', 'home-ar'],
      ['/explore?lang=ar', 'explore-ar'],
      ['/statistics?lang=ar', 'statistics-ar'],
      ['/methodology?lang=ar', 'methodology-ar'],
    ] as const) {
      await visit(path, name);
      expect(
        await page.evaluate('[document.documentElement.lang, document.documentElement.dir, getComputedStyle(document.body).direction]'),
      ).toEqual(['ar', 'rtl', 'rtl']);
      expect(await seriousViolations(), path).toEqual([]);
    }
  });

  it('shades Turkey on the map of the sample data', async () => {
    await visit('/statistics', 'statistics');
    const turkey = page.locator('path[data-country="TR"]');
    expect(await turkey.count()).toBe(1);
    expect(await turkey.evaluate(FILL)).not.toBe('rgb(255, 255, 255)');
    expect(await page.locator('path[data-country="FR"]').evaluate(FILL)).toBe('rgb(255, 255, 255)');
    expect(await seriousViolations()).toEqual([]);
  });

  it('shows the debunked incident with its banner, and copies a citation', async () => {
    await page.goto(`${app.url}/explore?verificationStatus=debunked`);
    await Promise.all([page.waitForURL(/\/incidents\//), page.locator('#results a').first().click()]);
    await page.screenshot({ path: new URL('incident-debunked.png', SCREENSHOTS).pathname, fullPage: true });
    expect(await page.locator('.banner-debunked').isVisible()).toBe(true);
    expect(await page.locator('.banner-debunked').textContent()).toContain('left out of every count');
    expect(await seriousViolations()).toEqual([]);
    await page.click('button.copy-citation');
    await page.waitForFunction("document.querySelector('.copy-status')?.textContent === 'Citation copied'");
  });

  it('passes axe on the methodology page and an incident page', async () => {
    await visit('/methodology', 'methodology');
    expect(await seriousViolations()).toEqual([]);
    await page.goto(`${app.url}/explore?q=Naji+Jerf`);
    await Promise.all([page.waitForURL(/\/incidents\//), page.locator('#results a').first().click()]);
    await page.screenshot({ path: new URL('incident.png', SCREENSHOTS).pathname, fullPage: true });
    expect(await seriousViolations()).toEqual([]);
  });

  it('logged no console error and sent no request to another origin', () => {
    expect(requests.length).toBeGreaterThan(10);
    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });
});
