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
    await page.screenshot({ path: path.join(env.ARTIFACTS, 'swagger-ui.png') });
    // Swagger UI renders only the tags near the viewport: scroll through
    // the page and collect every operation that comes into view.
    const seen = new Set();
    const tagNames = new Set();
    let y = 0;
    for (let i = 0; i < 2000; i++) {
        const part = await page.evaluate(() => ({
            ops: [...document.querySelectorAll('.opblock')].map((b) =>
                (b.querySelector('.opblock-summary-method')?.textContent || '') + ' ' +
                ((p) => p ? p.getAttribute('data-path') || p.textContent.replace(/\u200b/g, '').trim() : '')(
                    b.querySelector('.opblock-summary-path, .opblock-summary-path__deprecated'))),
            tags: [...document.querySelectorAll('.opblock-tag')].map((t) =>
                t.getAttribute('data-tag') || t.textContent.trim()),
            height: document.body.scrollHeight }));
        part.ops.forEach((o) => seen.add(o));
        part.tags.forEach((t) => tagNames.add(t));
        if (y >= part.height) break;
        y += 600;
        await page.evaluate((top) => window.scrollTo(0, top), y);
        await page.waitForTimeout(60);
    }
    const operations = seen.size;
    const tags = tagNames.size;
    const paths = [...new Set([...seen].map((o) => o.split(' ')[1]))];
    const own = new URL(env.BASE).host;
    const foreign = [...hosts].filter((h) => h && h !== own);
    console.log(JSON.stringify({ operations, tags, paths, ops: [...seen], pageErrors: errors, foreign }));
} finally {
    await browser.close();
}
