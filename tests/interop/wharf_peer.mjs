// wharf_peer.mjs - a Baileys client linked through wa-sim, driven over
// stdin/stdout JSON lines by test_wharf_baileys.py
//
// Copyright (c) 2026 the Wharf authors. Apache-2.0.
//
// Run from the npm directory of the build tree (so `import 'baileys'`
// resolves): node wharf_peer.mjs WS_URL CONTROL_URL ROOT_KEY_HEX
// Exits 77 when npm was unreachable (loadPeer), 1 on a fatal error.
//
// Commands (one JSON object a line on stdin), answered in order:
//   {"cmd":"pair","phone":P,"push_name":N}  -> {"event":"open","id","lid"}
//   {"cmd":"send","to":JID,"text":T}        -> {"event":"sent","id"}
//   {"cmd":"read","id":ID}                  -> {"event":"read","id"}
//   {"cmd":"sock","method":M,"args":[...]}  -> {"event":"result","value"}
//       calls sock[M](...args) and answers what it resolves to
//   {"cmd":"fn","name":F,"args":[...]}      -> {"event":"result","value"}
//       calls the Baileys module's export F(...args), e.g.
//       downloadMediaMessage, jidNormalizedUser
//   {"cmd":"message","id":ID}               -> {"event":"result","value"}
//       the stored WebMessageInfo with that key id (sent or received)
//   {"cmd":"keys","type":T,"ids":[...]}     -> {"event":"result","value"}
//       what Baileys' key store holds, e.g. type app-state-sync-version
//       with collection names: {version, hash, indexValueMap} of each
//   {"cmd":"quit"}                          -> exits 0
// In args, {"$b64":S} is a Buffer and {"$msg":ID} the stored
// WebMessageInfo with key id ID (a received or sent message); in
// answers and events, Buffers and byte arrays are {"$b64":S} and
// Longs and bigints are numbers.
// A failed command answers {"event":"error","cmd","error"}.
// Events, as they happen:
//   {"event":"ready"}                     peers loaded, commands welcome
//   {"event":"node","id","from","enc":[types]}   a <message> stanza arrived
//   {"event":"message","id","from","alt","participant","text"}
//   {"event":"update","id","status"}      messages.update (status number)
//   {"event":"ev","name","data"}          every Baileys event (messages.upsert,
//       messages.reaction, presence.update, chats.update, groups.update,
//       group-participants.update, call, labels.*, contacts.*, ...), but
//       creds.update and connection.update
// WASIM_TEST_DEBUG=1 logs Baileys to stderr.

import { createInterface } from 'node:readline'

import { fail, loadPeer } from './common.mjs'
import { BaileysPeer, messageText, simControl } from './baileys_peer.mjs'

const [wsUrl, controlUrl, rootKey] = process.argv.slice(2)
if (!wsUrl || !controlUrl || !rootKey) {
    fail('usage: node wharf_peer.mjs WS_URL CONTROL_URL ROOT_KEY_HEX')
}
for (const url of [wsUrl, controlUrl]) {
    if (!/^(ws|http):\/\/127\.0\.0\.1:/.test(url)) fail(`not a loopback URL: ${url}`)
}
const B = await loadPeer('baileys')
const pino = (await loadPeer('pino')).default
const debug = !!process.env.WASIM_TEST_DEBUG

// Before any socket exists: trust wa-sim's root instead of WhatsApp's.
B.WA_CERT_DETAILS.PUBLIC_KEY.set(Buffer.from(rootKey, 'hex'))

// stdout carries only our JSON lines: what Baileys' Signal library prints
// with console.log ("Closing session: ...") goes to stderr.
const emit = obj => process.stdout.write(JSON.stringify(obj, toWire) + '\n')

// JSON.stringify replacer: bytes as {"$b64"}, Longs and bigints as numbers.
function toWire (key, v) {
    if (v === null || v === undefined) return v
    if (typeof v === 'bigint') return Number(v)
    if (v instanceof Uint8Array) return { $b64: Buffer.from(v).toString('base64') }
    if (v.type === 'Buffer' && Array.isArray(v.data)) {
        return { $b64: Buffer.from(v.data).toString('base64') }
    }
    if (typeof v === 'object' && typeof v.low === 'number' &&
        typeof v.high === 'number' && typeof v.unsigned === 'boolean') {
        return v.unsigned ? (v.high >>> 0) * 4294967296 + (v.low >>> 0)
                          : v.high * 4294967296 + (v.low >>> 0)
    }
    return v
}

// The reverse, for command arguments.
function fromWire (v) {
    if (Array.isArray(v)) return v.map(fromWire)
    if (v === null || typeof v !== 'object') return v
    if (typeof v.$b64 === 'string') return Buffer.from(v.$b64, 'base64')
    if (typeof v.$msg === 'string') {
        const m = peer?.messages.get(v.$msg)
        if (!m) throw new Error(`no stored message ${v.$msg}`)
        return m
    }
    const out = {}
    for (const [k, x] of Object.entries(v)) out[k] = fromWire(x)
    return out
}

const QUIET = new Set(['creds.update', 'connection.update'])
function onAny (name, data) {
    if (!QUIET.has(name)) emit({ event: 'ev', name, data })
}
for (const k of ['log', 'info', 'warn', 'debug']) console[k] = console.error

function onEvent (kind, v) {
    if (kind === 'node') {
        const enc = Array.isArray(v.content)
            ? v.content.filter(c => c.tag === 'enc').map(c => c.attrs.type)
            : []
        emit({ event: 'node', id: v.attrs.id, from: v.attrs.from, enc })
    } else if (kind === 'message') {
        if (!v.message) return // undecryptable or a stub
        emit({
            event: 'message',
            id: v.key.id,
            from: v.key.remoteJid,
            alt: v.key.remoteJidAlt,
            participant: v.key.participant,
            text: messageText(v)
        })
    } else if (kind === 'update' && v.update?.status !== undefined) {
        emit({ event: 'update', id: v.key.id, status: v.update.status })
    }
}

let peer = null

async function run (c) {
    switch (c.cmd) {
    case 'pair': {
        peer = new BaileysPeer(B, pino, {
            name: 'baileys',
            phone: c.phone,
            mode: c.mode || 'qr',
            wsUrl,
            ctl: simControl(controlUrl),
            debug,
            onEvent,
            onAny
        })
        await peer.start()
        await peer.online(c.push_name || 'Baileys')
        return { event: 'open', id: peer.sock.user.id, lid: peer.sock.user.lid }
    }
    case 'send': {
        const m = await peer.sock.sendMessage(c.to, { text: c.text })
        peer.messages.set(m.key.id, m)
        return { event: 'sent', id: m.key.id }
    }
    case 'read': {
        const m = peer.received.find(x => x.key.id === c.id)
        if (!m) throw new Error(`no received message ${c.id}`)
        await peer.sock.readMessages([m.key])
        return { event: 'read', id: c.id }
    }
    case 'sock': {
        if (!peer) throw new Error('not paired')
        const f = peer.sock[c.method]
        if (typeof f !== 'function') throw new Error(`sock.${c.method} is not a function`)
        const value = await f.apply(peer.sock, fromWire(c.args || []))
        if (c.method === 'sendMessage' && value?.key?.id) peer.messages.set(value.key.id, value)
        return { event: 'result', value: value === undefined ? null : value }
    }
    case 'fn': {
        const f = B[c.name]
        if (typeof f !== 'function') throw new Error(`baileys.${c.name} is not a function`)
        const value = await f(...fromWire(c.args || []))
        return { event: 'result', value: value === undefined ? null : value }
    }
    case 'message': {
        const m = peer?.messages.get(c.id)
        if (!m) throw new Error(`no stored message ${c.id}`)
        return { event: 'result', value: m }
    }
    case 'keys': {
        if (!peer) throw new Error('not paired')
        const value = await peer.sock.authState.keys.get(c.type, c.ids || [])
        return { event: 'result', value }
    }
    case 'quit':
        peer?.stop()
        setTimeout(() => process.exit(0), 300)
        return null
    default:
        throw new Error(`unknown command ${c.cmd}`)
    }
}

// Commands run one after another, in the order they arrive.
let queue = Promise.resolve()
createInterface({ input: process.stdin }).on('line', line => {
    queue = queue.then(async () => {
        let c = {}
        try {
            c = JSON.parse(line)
            const out = await run(c)
            if (out) emit(out)
        } catch (err) {
            emit({ event: 'error', cmd: c.cmd, error: String(err?.stack || err) })
        }
    })
}).on('close', () => {
    // The driver went away: do not outlive it.
    queue.then(() => {
        peer?.stop()
        setTimeout(() => process.exit(0), 300)
    })
})
process.on('unhandledRejection', err => {
    emit({ event: 'error', cmd: null, error: String(err?.stack || err) })
})
emit({ event: 'ready' })
