// dashboard.mjs - drive /dashboard in headless Chromium (Debian's
// /usr/bin/chromium through playwright-core), as a person would:
//   node dashboard.mjs   (settings in the environment, see test_dashboard.py)
// BASE, API_KEY: the gateway; SIM_CONTROL: wa-sim's control URL; PHONE: the
// account that scans; PEER: an account that writes to it; ARTIFACTS: where
// the screenshots go; CHROMIUM: the browser. Prints one JSON line of
// findings; exits non-zero on the first step that does not happen.
//
// Copyright (c) 2026 the Wharf authors. Apache-2.0.
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.join(process.cwd(), 'package.json'));
const { chromium } = require('playwright-core');

const env = process.env;
const out = { screenshots: [] };
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
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('dialog', (d) => d.accept());
    page.on('pageerror', (e) => { out.pageErrors = (out.pageErrors || []).concat(String(e)); });
    const shot = async (name) => {
        const file = path.join(env.ARTIFACTS, name + '.png');
        await page.screenshot({ path: file, fullPage: true });
        out.screenshots.push(file);
    };

    step('key');
    await page.goto(env.BASE + '/dashboard');
    await page.waitForSelector('#key-input', { state: 'visible' });
    await page.fill('#key-input', 'wrong-key');
    await page.click('#key-form button');
    await page.waitForFunction(() => document.getElementById('key-error').textContent.length > 0);
    out.wrongKey = await page.textContent('#key-error');
    await page.fill('#key-input', env.API_KEY);
    await page.click('#key-form button');
    await page.waitForSelector('#app', { state: 'visible' });
    out.storage = await page.evaluate(() => ({
        session: sessionStorage.getItem('wharf.apiKey'),
        local: localStorage.length, cookie: document.cookie }));
    await page.waitForSelector('#ws-state.open', { timeout: 15000 });

    step('create');
    await page.fill('#create-name', 'dash');
    await page.click('#create-form button');
    await page.waitForSelector('tr[data-session="dash"] [data-status="SCAN_QR_CODE"]', { timeout: 30000 });
    await page.waitForFunction(() => document.getElementById('qr-value').textContent.length > 20,
                               null, { timeout: 30000 });
    const first = await page.textContent('#qr-value');
    await page.waitForFunction(() => document.getElementById('qr-image').naturalWidth > 0,
                               null, { timeout: 30000 });
    out.qrImage = await page.evaluate(() => {
        const i = document.getElementById('qr-image');
        return { complete: i.complete, width: i.naturalWidth, src: i.src.slice(0, 5) };
    });
    await shot('dashboard-qr');

    step('rotation');
    await page.waitForFunction((v) => {
        const t = document.getElementById('qr-value').textContent;
        return t.length > 20 && t !== v;
    }, first, { timeout: 30000 });
    out.qrRotated = true;

    step('scan');
    let scanned = null;
    for (let i = 0; i < 5 && !scanned; i++) {
        const qr = await page.textContent('#qr-value');
        const r = await ctl('POST', `/accounts/${env.PHONE}/scan`, { qr });
        if (r.status === 200) scanned = r;
        else await page.waitForTimeout(1000);
    }
    if (!scanned) throw new Error('wa-sim did not accept the QR shown');
    await page.waitForSelector('tr[data-session="dash"] [data-status="WORKING"]', { timeout: 30000 });
    await page.waitForSelector('#events li[data-event="session.status"][data-session="dash"]', { timeout: 15000 });
    out.working = true;

    step('incoming message');
    const text = 'hello from the phone ' + Date.now();
    const sent = await ctl('POST', `/accounts/${env.PEER}/send`, { to: env.PHONE, text });
    if (sent.status !== 200) throw new Error('wa-sim send: ' + sent.status + ' ' + sent.body);
    await page.waitForFunction((t) => [...document.querySelectorAll('#events li[data-event="message"]')]
        .some((li) => li.textContent.includes(t)), text, { timeout: 30000 });
    out.incoming = text;

    step('send form');
    await page.selectOption('#send-session', 'dash');
    await page.fill('#send-chat', env.PEER + '@c.us');
    await page.fill('#send-text', 'hello from the dashboard');
    await page.click('#send-form button');
    await page.waitForFunction(() => /^(Sent|Failed)/.test(document.getElementById('send-result').textContent),
                               null, { timeout: 30000 });
    out.sendResult = await page.textContent('#send-result');
    await shot('dashboard-working');

    step('keys');
    // A session key for 'dash' that may not send, made in the page
    const asKey = async (key, method, p, body) => {
        const r = await fetch(env.BASE + p, {
            method, headers: { 'X-Api-Key': key, 'Content-Type': 'application/json' },
            body: body ? JSON.stringify(body) : undefined });
        return r.status;
    };
    await page.selectOption('#keys-scope', 'dash');
    await page.uncheck('#keys-act-send');
    await page.click('#keys-form button');
    await page.waitForFunction(() => document.getElementById('keys-new-value').textContent.length > 20,
                               null, { timeout: 15000 });
    const made = await page.textContent('#keys-new-value');
    await page.waitForSelector('#keys tr[data-scope="dash"][data-active="true"]', { timeout: 15000 });
    const row = await page.$('#keys tr[data-scope="dash"]');
    const keyId = await row.getAttribute('data-key');
    out.keys = {
        made: made.slice(0, 6), length: made.length,
        row: await row.textContent(),
        read: await asKey(made, 'GET', '/api/sessions/dash'),
        send: await asKey(made, 'POST', '/api/sendText',
                          { session: 'dash', chatId: env.PEER + '@c.us', text: 'x' }),
        other: await asKey(made, 'GET', '/api/sessions'),
    };
    await shot('dashboard-keys');
    // Deactivated, it is refused; active again, it works
    await page.click(`#keys tr[data-key="${keyId}"] button[data-action="deactivate"]`);
    await page.waitForSelector(`#keys tr[data-key="${keyId}"][data-active="false"]`, { timeout: 15000 });
    out.keys.inactive = await asKey(made, 'GET', '/api/sessions/dash');
    await page.click(`#keys tr[data-key="${keyId}"] button[data-action="activate"]`);
    await page.waitForSelector(`#keys tr[data-key="${keyId}"][data-active="true"]`, { timeout: 15000 });
    out.keys.active = await asKey(made, 'GET', '/api/sessions/dash');
    // Revoked: the row goes and the key is refused
    await page.click(`#keys tr[data-key="${keyId}"] button[data-action="revoke"]`);
    await page.waitForSelector(`#keys tr[data-key="${keyId}"]`, { state: 'detached', timeout: 15000 });
    out.keys.revoked = await asKey(made, 'GET', '/api/sessions/dash');

    step('pairing code');
    await page.fill('#create-name', 'dash2');
    await page.click('#create-form button');
    await page.waitForSelector('tr[data-session="dash2"] [data-status="SCAN_QR_CODE"]', { timeout: 30000 });
    await page.fill('#pair-phone', env.PAIR_PHONE);
    await page.click('#pair-form button');
    await page.waitForFunction(() => document.getElementById('pair-code').textContent.length >= 8,
                               null, { timeout: 30000 });
    out.pairCode = await page.textContent('#pair-code');
    await shot('dashboard-pairing');

    step('stop, restart, logout, delete');
    await page.click('tr[data-session="dash2"] button[data-action="stop"]');
    await page.waitForSelector('tr[data-session="dash2"] [data-status="STOPPED"]', { timeout: 30000 });
    await page.click('tr[data-session="dash2"] button[data-action="start"]');
    await page.waitForSelector('tr[data-session="dash2"] [data-status="SCAN_QR_CODE"]', { timeout: 30000 });
    await page.click('tr[data-session="dash2"] button[data-action="restart"]');
    await page.waitForSelector('tr[data-session="dash2"] [data-status="SCAN_QR_CODE"]', { timeout: 30000 });
    await page.click('tr[data-session="dash2"] button[data-action="delete"]');
    await page.waitForSelector('tr[data-session="dash2"]', { state: 'detached', timeout: 30000 });
    out.deleted = true;
    await page.click('tr[data-session="dash"] button[data-action="logout"]');
    await page.waitForSelector('tr[data-session="dash"] [data-status="SCAN_QR_CODE"]', { timeout: 30000 });
    out.loggedOut = true;

    step('forget key');
    await page.click('#forget-key');
    await page.waitForSelector('#login', { state: 'visible' });
    out.afterForget = await page.evaluate(() => sessionStorage.getItem('wharf.apiKey'));
    console.log(JSON.stringify(out));
} catch (e) {
    // What the page said when a step did not happen
    if (page) {
        console.error('page error line: ' + await page.textContent('#error').catch(() => '?'));
        await page.screenshot({ path: path.join(env.ARTIFACTS, 'dashboard-failure.png'),
                                fullPage: true }).catch(() => {});
    }
    throw e;
} finally {
    await browser.close();
}
