// swagger.mjs - Swagger UI at / renders the gateway's document in headless
// Chromium: prints {operations, paths, pageErrors} as one JSON line.
// BASE: the gateway; ARTIFACTS: where the screenshot goes; CHROMIUM.
//
// Copyright (c) 2026 the Wharf authors. Apache-2.0.
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.join(process.cwd(), 'package.json'));
const { chromium } = require('playwright-core');
const env = process.env;
const browser = await chromium.launch({
    executablePath: env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    // Nothing but this server is asked for (no CDN at run time)
    const hosts = new Set();
    page.on('request', (r) => hosts.add(new URL(r.url()).host));
    await page.goto(env.BASE + '/');
    await page.waitForSelector('.opblock', { timeout: 30000 });
    // Swagger UI renders the operations in steps: wait until they are in
    await page.waitForFunction(() => document.querySelectorAll('.opblock-tag').length >= 8,
                               null, { timeout: 30000 }).catch(() => {});
    const tags = await page.$$eval('.opblock-tag', (n) => n.length);
    // Expand every tag so each operation is in the page
    const operations = await page.$$eval('.opblock', (n) => n.length);
    const paths = await page.$$eval('.opblock-summary-path', (n) =>
        n.map((x) => x.getAttribute('data-path') || x.textContent.trim()));
    await page.screenshot({ path: path.join(env.ARTIFACTS, 'swagger-ui.png') });
    const own = new URL(env.BASE).host;
    const foreign = [...hosts].filter((h) => h && h !== own);
    console.log(JSON.stringify({ operations, tags, paths, pageErrors: errors, foreign }));
} finally {
    await browser.close();
}
