// baileys_peer.mjs - an unmodified Baileys client linked through wa-sim,
// shared by the interop tests (tests/interop/*.mjs)
//
// Copyright (c) 2026 the Wharf authors. Apache-2.0.
//
//     const ctl = simControl(info.control_url)
//     B.WA_CERT_DETAILS.PUBLIC_KEY.set(Buffer.from(info.root_key, 'hex'))
//     const alice = new BaileysPeer(B, pino, { name: 'alice', phone, wsUrl: info.ws_url, ctl })
//     await alice.start()            // pairs (QR or code), resolves when open
//     alice.received, alice.updates  // messages.upsert (not fromMe), messages.update
//
// Auth state lives in memory. Loopback only: wa-sim's URLs.

// A function (method, route, body) -> {status, body} for wa-sim's
// control API at url.
export function simControl (url) {
    return async (method, route, body) => {
        const res = await fetch(url + route, {
            method,
            headers: body ? { 'content-type': 'application/json' } : {},
            body: body ? JSON.stringify(body) : undefined
        })
        const text = await res.text()
        return { status: res.status, body: text ? JSON.parse(text) : null }
    }
}

// A Baileys SignalKeyStore in memory (B is the imported baileys module).
export function memoryKeys (B) {
    const data = {}
    return {
        get: async (type, ids) => {
            const out = {}
            for (const id of ids) {
                let value = data[type]?.[id]
                if (value && type === 'app-state-sync-key') {
                    value = B.proto.Message.AppStateSyncKeyData.fromObject(value)
                }
                if (value !== undefined) out[id] = value
            }
            return out
        },
        set: async update => {
            for (const type of Object.keys(update)) {
                data[type] = data[type] || {}
                for (const [id, value] of Object.entries(update[type])) {
                    if (value === null || value === undefined) delete data[type][id]
                    else data[type][id] = value
                }
            }
        }
    }
}

// Text of a received Baileys message, or undefined.
export const messageText = m =>
    m.message?.conversation || m.message?.extendedTextMessage?.text

const sleep = ms => new Promise(r => setTimeout(r, ms))

export class BaileysPeer {
    // B: the baileys module; pino: pino's default export. opts: name,
    // phone (the wa-sim account), wsUrl, ctl (simControl), mode 'qr' (the
    // phone scans the QR) or 'code' (the phone types the pairing code),
    // debug (log to stderr), onEvent (called with every messages.upsert
    // message not from us, every messages.update entry and every incoming
    // <message> node: ('message' | 'update' | 'node', value)), onAny
    // (called with (name, data) for every Baileys event).
    // Every message seen or sent is kept in this.messages by key id: it
    // answers Baileys' getMessage (retries, poll votes).
    constructor (B, pino, opts) {
        this.B = B
        this.name = opts.name
        this.phone = opts.phone
        this.mode = opts.mode || 'qr'
        this.wsUrl = opts.wsUrl
        this.ctl = opts.ctl
        this.onEvent = opts.onEvent || (() => {})
        this.onAny = opts.onAny || (() => {})
        this.messages = new Map()
        this.creds = B.initAuthCreds()
        this.keys = memoryKeys(B)
        this.received = []
        this.updates = []
        this.presences = []
        this.opens = 0
        this.logger = pino({ level: opts.debug ? 'debug' : 'silent' }, pino.destination(2))
            .child({ client: opts.name })
    }

    // Connect; on the 515 restart after pairing make a new socket with
    // the same credentials, as an application does. Resolves when open.
    start () {
        return new Promise((resolve, reject) => {
            this.onOpen = resolve
            this.onFail = reject
            this.connect()
        })
    }

    connect () {
        const B = this.B
        const makeWASocket = B.default?.default || B.default || B.makeWASocket
        this.closeCode = undefined
        const sock = makeWASocket({
            waWebSocketUrl: this.wsUrl,
            auth: { creds: this.creds, keys: this.keys },
            logger: this.logger,
            browser: B.Browsers.ubuntu('Chrome'),
            markOnlineOnConnect: true,
            syncFullHistory: false,
            shouldSyncHistoryMessage: () => false,
            connectTimeoutMs: 20000,
            defaultQueryTimeoutMs: 20000,
            getMessage: async key => this.messages.get(key.id)?.message || undefined
        })
        this.sock = sock
        sock.ev.on('creds.update', update => Object.assign(this.creds, update))
        sock.ev.on('connection.update', update => this.onConnection(sock, update))
        sock.ev.on('messages.upsert', ({ messages }) => {
            for (const m of messages) {
                if (m.message) this.messages.set(m.key.id, m)
                if (m.key.fromMe) continue
                this.received.push(m)
                this.onEvent('message', m)
            }
        })
        sock.ev.on('messages.update', updates => {
            this.updates.push(...updates)
            for (const u of updates) this.onEvent('update', u)
        })
        sock.ev.on('presence.update', p => this.presences.push(p))
        sock.ev.process(events => {
            for (const [name, data] of Object.entries(events)) this.onAny(name, data)
        })
        // Raw stanzas, before Baileys decrypts them
        sock.ws.on('frame', frame => {
            if (frame?.tag === 'message') this.onEvent('node', frame)
        })
    }

    async onConnection (sock, update) {
        const B = this.B
        if (update.qr && this.mode === 'qr') {
            // The phone scans the QR the companion shows.
            const res = await this.ctl('POST', `/accounts/${this.phone}/scan`, { qr: update.qr })
            if (res.status !== 200) {
                this.onFail(new Error(`${this.name}: scan failed: ${JSON.stringify(res)}`))
            }
        }
        if (update.qr && this.mode === 'code' && !this.code) {
            // Link with phone number: the phone types the code.
            this.code = await sock.requestPairingCode(this.phone)
            let res
            for (let i = 0; i < 100; i++) {
                res = await this.ctl('POST', `/accounts/${this.phone}/pair-code`, { code: this.code })
                if (res.status !== 404) break
                await sleep(50)
            }
            if (res.status !== 200) {
                this.onFail(new Error(`${this.name}: pair-code failed: ${JSON.stringify(res)}`))
            }
        }
        if (update.connection === 'open') {
            this.opens++
            this.onOpen()
        }
        if (update.connection === 'close') {
            const code = update.lastDisconnect?.error?.output?.statusCode
            this.closeCode = code
            if (this.stopping) return
            // After pairing, the server's 515 and its closing of the
            // socket can reach Baileys in either order on a busy machine
            // (428 instead of 515), and a starved reconnect can end in a
            // reset (408, seen in CI at load 15). An application
            // reconnects on any close but "logged out", and so does this
            // one until the first successful login.
            const paired = this.opens === 0 && !!this.creds.me
            if (code === B.DisconnectReason.restartRequired ||
                (paired && code !== B.DisconnectReason.loggedOut)) {
                this.connect()
            } else {
                this.onFail(new Error(`${this.name}: connection closed (${code}): ${update.lastDisconnect?.error}`))
            }
        }
    }

    // Baileys sends presence, and so "delivered" rather than "inactive"
    // receipts, only when it knows its push name: give it one (the
    // phone's app state would) and go online.
    async online (pushName) {
        this.sock.ev.emit('creds.update', { me: { ...this.creds.me, name: pushName } })
        await this.sock.sendPresenceUpdate('available')
    }

    async waitFor (pred, what, ms = 20000) {
        const end = Date.now() + ms
        while (Date.now() < end) {
            const hit = pred()
            if (hit) return hit
            await sleep(50)
        }
        throw new Error(`${this.name}: timed out waiting for ${what}`)
    }

    stop () {
        this.stopping = true
        this.sock?.end(undefined)
    }
}
