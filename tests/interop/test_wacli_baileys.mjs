// test_wacli_baileys.mjs - our Signal layer against an independent one:
// wa_client (the wacli tool) and an unmodified Baileys client, both linked
// through wa-sim, exchange end-to-end encrypted texts both ways (1:1 with
// delivery and read receipts, a reply, and a group Baileys creates with
// sender keys in both directions).
//
// Copyright (c) 2026 the Wharf authors. Apache-2.0.
//
// ctest interop_wacli_baileys (tests/interop/CMakeLists.txt). Exits 0 on
// success, 77 (skip) when npm was unreachable, 1 on failure.
// WASIM_TEST_DEBUG=1 prints the Baileys, wacli and wa-sim logs.

import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

import { BaileysPeer, messageText, simControl } from './baileys_peer.mjs'
import {
    check, loadPeer, requireBin, sanitizerReport, sleep, startSim, stopSim
} from './common.mjs'

const cliBin = requireBin('wacli')
const debug = !!process.env.WASIM_TEST_DEBUG
const B = await loadPeer('baileys')
const pino = (await loadPeer('pino')).default
async function waitFor(pred, what, ms = 30000) {
    const end = Date.now() + ms
    while (Date.now() < end) {
        const hit = pred()
        if (hit) return hit
        await sleep(50)
    }
    throw new Error(`timed out waiting for ${what}`)
}

// ---------------------------------------------------------------------
// wa-sim

const sim = await startSim([], { debug })
const info = sim.info

const ctl = simControl(info.control_url)

B.WA_CERT_DETAILS.PUBLIC_KEY.set(Buffer.from(info.root_key, 'hex'))

// ---------------------------------------------------------------------
// wacli: JSON events out, commands in

class Cli {
    constructor(name, dir) {
        this.name = name
        this.events = []
        this.err = ''
        this.proc = spawn(cliBin, ['--url', info.ws_url, '--root-key', info.root_key,
            '--creds', join(dir, `${name}.json`), '--name', name, '--push-name', name],
        { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, APP_LOG_LEVEL: 'debug' } })
        createInterface({ input: this.proc.stdout }).on('line', line => {
            if (debug) process.stderr.write(`[${name}] ${line}\n`)
            this.events.push(JSON.parse(line))
        })
        this.proc.stderr.on('data', d => {
            this.err += d.toString()
            if (debug) process.stderr.write(d)
        })
        this.exited = new Promise(r => this.proc.on('exit', c => r(c)))
    }

    cmd(line) {
        this.proc.stdin.write(line + '\n')
    }

    find(pred) {
        return this.events.find(pred)
    }

    wait(pred, what, ms) {
        return waitFor(() => this.find(pred), `${this.name}: ${what}`, ms)
    }

    async send(chat, text) {
        const n = this.events.length
        this.cmd(`send ${chat} ${text}`)
        const q = await waitFor(() => this.events.slice(n).find(e => e.event === 'queued'),
            `${this.name}: queued`)
        return q.id
    }

    async stop() {
        if (this.proc.exitCode === null) {
            this.cmd('quit')
        }
        const code = await Promise.race([this.exited, sleep(20000).then(() => 'hung')])
        if (code === 'hung') this.proc.kill('SIGKILL')
        const report = sanitizerReport(`${this.name}:`, this.err)
        if (report) throw report
    }
}

const text = messageText

// ---------------------------------------------------------------------
// The scenario

const alicePhone = '15550200001' // Baileys
const bobPhone = '15550200002'   // wacli
const aliceJid = `${alicePhone}@s.whatsapp.net`
const bobJid = `${bobPhone}@s.whatsapp.net`
const dir = mkdtempSync(join(tmpdir(), 'wacli-baileys-'))
let failed = null
const alice = new BaileysPeer(B, pino,
    { name: 'alice', phone: alicePhone, wsUrl: info.ws_url, ctl, debug })
let bob = null
try {
    for (const [phone, name] of [[alicePhone, 'Alice'], [bobPhone, 'Bob']]) {
        const res = await ctl('POST', '/accounts', { phone, push_name: name })
        check(res.status === 201, `create ${phone}: ${JSON.stringify(res)}`)
    }
    bob = new Cli('bob', dir)
    const qr = await bob.wait(e => e.event === 'status' && e.state === 'QR', 'QR')
    const scan = await ctl('POST', `/accounts/${bobPhone}/scan`, { qr: qr.qr })
    check(scan.status === 200, `scan bob: ${JSON.stringify(scan)}`)
    await bob.wait(e => e.event === 'status' && e.state === 'WORKING', 'WORKING')
    await alice.start()
    await alice.online('Alice')

    // Baileys -> wa_client
    const sent1 = await alice.sock.sendMessage(bobJid, { text: 'hello bob, from baileys' })
    const got1 = await bob.wait(e => e.event === 'message' && e.id === sent1.key.id, 'message from baileys')
    check(got1.body === 'hello bob, from baileys' && got1.chat === aliceJid && !got1.from_me,
        `wacli read baileys' message: ${JSON.stringify(got1)}`)
    await waitFor(() => alice.updates.find(u => u.key.id === sent1.key.id
        && u.update.status >= B.proto.WebMessageInfo.Status.DELIVERY_ACK), 'delivery receipt at baileys')
    bob.cmd(`seen ${aliceJid} ${sent1.key.id}`)
    await waitFor(() => alice.updates.find(u => u.key.id === sent1.key.id
        && u.update.status >= B.proto.WebMessageInfo.Status.READ), 'read receipt at baileys')

    // wa_client -> Baileys, then a reply each way
    const id2 = await bob.send(aliceJid, 'hello alice, from wacli')
    const got2 = await waitFor(() => alice.received.find(m => m.key.id === id2 && m.message),
        'message from wacli')
    check(text(got2) === 'hello alice, from wacli', `baileys read wacli's message: ${JSON.stringify(got2.message)}`)
    await bob.wait(e => e.event === 'sent' && e.id === id2 && e.ok, 'server ack')
    await bob.wait(e => e.event === 'ack' && e.id === id2 && e.ack >= 2, 'delivery receipt from baileys')
    await alice.sock.readMessages([got2.key])
    await bob.wait(e => e.event === 'ack' && e.id === id2 && e.ack === 3, 'read receipt from baileys')
    const sent3 = await alice.sock.sendMessage(bobJid, { text: 'a reply' }, { quoted: got2 })
    const got3 = await bob.wait(e => e.event === 'message' && e.id === sent3.key.id, 'reply from baileys')
    check(got3.body === 'a reply' && got3.reply_to === id2, `quoted reply: ${JSON.stringify(got3)}`)
    const id4 = await bob.send(aliceJid, 'second from wacli')
    const got4 = await waitFor(() => alice.received.find(m => m.key.id === id4 && m.message), 'second message')
    check(text(got4) === 'second from wacli', 'second message text')

    // A group Baileys creates; sender keys both ways
    const group = await alice.sock.groupCreate('interop', [bobJid])
    check(group.id.endsWith('@g.us'), `group: ${JSON.stringify(group)}`)
    const sent5 = await alice.sock.sendMessage(group.id, { text: 'hello group from baileys' })
    const got5 = await bob.wait(e => e.event === 'message' && e.id === sent5.key.id, 'group message at wacli')
    check(got5.body === 'hello group from baileys' && got5.chat === group.id && got5.is_group
        && got5.participant === aliceJid, `group message: ${JSON.stringify(got5)}`)
    const id6 = await bob.send(group.id, 'hello group from wacli')
    const got6 = await waitFor(() => alice.received.find(m => m.key.id === id6 && m.message),
        'group message at baileys')
    check(text(got6) === 'hello group from wacli' && got6.key.remoteJid === group.id,
        `baileys read the group message: ${JSON.stringify(got6.key)}`)
    await bob.wait(e => e.event === 'sent' && e.id === id6 && e.ok, 'group server ack')
    const id7 = await bob.send(group.id, 'again from wacli')
    const got7 = await waitFor(() => alice.received.find(m => m.key.id === id7 && m.message),
        'second group message at baileys')
    check(text(got7) === 'again from wacli', 'second group message text')
} catch (err) {
    failed = err
} finally {
    alice.stop()
    try {
        await bob?.stop()
    } catch (err) {
        failed = failed || err
    }
    await sleep(300)
    const simFailure = await stopSim(sim)
    failed = failed || simFailure
    rmSync(dir, { recursive: true, force: true })
}
if (failed) {
    console.error(`FAIL: ${failed.stack || failed}`)
    if (!debug && bob) console.error(`--- wacli log (tail) ---\n${bob.err.slice(-4000)}`)
    process.exit(1)
}
console.log('wacli_baileys: OK (1:1 both ways with delivery and read receipts, replies, group with sender keys both ways)')
process.exit(0)
