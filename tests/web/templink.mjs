// templink.mjs - open a temporary QR link (/temp-qr/{token}) in headless
// Chromium (Debian's /usr/bin/chromium through playwright-core), as the
// person it was sent to would:
//   node templink.mjs   (settings in the environment, see test_templink.py)
// URL: the link; SIM_CONTROL: wa-sim's control URL; PHONE: the account that
// scans; BAD_URL, GONE_URL: an unknown and a revoked link; ARTIFACTS: where
// the screenshots go; CHROMIUM: the browser. Prints one JSON line of
// findings; exits non-zero on the first step that does not happen.
//
// Copyright (c) 2026 the Wharf authors. Apache-2.0.
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.join(process.cwd(), 'package.json'));
const { chromium } = require('playwright-core');

const env = process.env;
const out = { screenshots: [], requests: [] };
const step = (what) => console.error(`step: ${what}`);

async function ctl(method, p, body) {
    const r = await fetch(env.SIM_CONTROL + p, {
        method, headers: { 'Content-Type': 'application/json' },
        body: body ? JSON.stringify(body) : undefined });
    return { status: r.status, body: await r.text() };
}

let page = null;
const browser = await chromium.launch({
    executablePath: env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
try {
    page = await browser.newPage({ viewport: { width: 600, height: 800 } });
    page.on('pageerror', (e) => { out.pageErrors = (out.pageErrors || []).concat(String(e)); });
    // Every request the page makes: only this server (no CDN)
    page.on('request', (r) => out.requests.push(r.url()));
    const shot = async (name) => {
        const file = path.join(env.ARTIFACTS, name + '.png');
        await page.screenshot({ path: file, fullPage: true });
        out.screenshots.push(file);
    };

    step('open the link');
    const resp = await page.goto(env.URL);
    out.status = resp.status();
    await page.waitForFunction(() => {
        const i = document.getElementById('qr-image');
        return !i.hidden && i.naturalWidth > 0 && (i.getAttribute('data-value') || '').length > 20;
    }, null, { timeout: 30000 });
    out.qrImage = await page.evaluate(() => {
        const i = document.getElementById('qr-image');
        return { width: i.naturalWidth, src: i.src.slice(0, 22) };
    });
    const first = await page.getAttribute('#qr-image', 'data-value');
    out.stateText = await page.textContent('#state');
    await shot('templink-qr');

    step('rotation');
    await page.waitForFunction((v) => {
        const t = document.getElementById('qr-image').getAttribute('data-value') || '';
        return t.length > 20 && t !== v;
    }, first, { timeout: 30000 });
    out.qrRotated = true;

    step('scan');
    let scanned = null;
    for (let i = 0; i < 5 && !scanned; i++) {
        const qr = await page.getAttribute('#qr-image', 'data-value');
        const r = await ctl('POST', `/accounts/${env.PHONE}/scan`, { qr });
        if (r.status === 200) scanned = r;
        else await page.waitForTimeout(1000);
    }
    if (!scanned) throw new Error('wa-sim did not accept the QR shown');
    await page.waitForSelector('#state.connected[data-status="WORKING"]', { timeout: 30000 });
    out.connected = await page.textContent('#state');
    out.qrHidden = await page.evaluate(() => document.getElementById('qr-image').hidden);
    await shot('templink-connected');
    out.storage = await page.evaluate(() => ({
        local: localStorage.length, session: sessionStorage.length, cookie: document.cookie }));

    step('bad and revoked links');
    let r = await page.goto(env.BAD_URL);
    out.bad = { status: r.status(), text: await page.textContent('#message') };
    r = await page.goto(env.GONE_URL);
    out.gone = { status: r.status(), text: await page.textContent('#message') };
    await shot('templink-gone');
    console.log(JSON.stringify(out));
} catch (e) {
    if (page) {
        console.error('page state line: ' + await page.textContent('#state').catch(() => '?'));
        await page.screenshot({ path: path.join(env.ARTIFACTS, 'templink-failure.png'),
                                fullPage: true }).catch(() => {});
    }
    throw e;
} finally {
    await browser.close();
}
