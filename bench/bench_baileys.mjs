// bench_baileys.mjs - K idle Baileys clients in one node process, linked
// to wa-sim accounts; prints the process's RSS before and after.
//
// Copyright (c) 2026 the Wharf authors. Apache-2.0.
//
// Run by bench/bench_baileys.py, which starts wa-sim, copies this file
// next to a node_modules holding baileys@7.0.0-rc13 (tests/interop's
// npm_setup.sh installs it) and runs it with --expose-gc:
//
//   node --expose-gc bench_baileys.mjs INFO_JSON FIRST_PHONE K SETTLE_S
//
// INFO_JSON is wa-sim's startup line. The phones FIRST_PHONE ..
// FIRST_PHONE+K-1 must not exist yet: they are created here. Each client
// has in-memory auth state, is linked by QR (the phone scans through
// wa-sim's control API), reconnects after the 515 restart, and then
// stays idle. Prints one JSON line {clients, rss0_kib, rss_kib, heap...}
// and then waits for SIGTERM (so the driver can read /proc too).
// Loopback only.

const [infoJson, firstPhone, kArg, settleArg] = process.argv.slice(2)
const info = JSON.parse(infoJson)
const K = parseInt(kArg, 10)
const settleMs = parseFloat(settleArg || '20') * 1000

const B = await import('baileys')
const pino = (await import('pino')).default
const makeWASocket = B.default?.default || B.default || B.makeWASocket
B.WA_CERT_DETAILS.PUBLIC_KEY.set(Buffer.from(info.root_key, 'hex'))

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

function mem () {
    global.gc?.()
    const m = process.memoryUsage()
    return { rss: Math.round(m.rss / 1024), heap: Math.round(m.heapUsed / 1024),
        external: Math.round((m.external + m.arrayBuffers) / 1024) }
}

async function ctl (method, route, body) {
    const res = await fetch(info.control_url + route, {
        method,
        headers: body ? { 'content-type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : null }
}

function memoryKeys () {
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

const logger = pino({ level: 'silent' })

// One client: resolves when its connection is open after linking.
function client (phone) {
    const creds = B.initAuthCreds()
    const keys = memoryKeys()
    let opens = 0
    return new Promise((resolve, reject) => {
        const connect = () => {
            const sock = makeWASocket({
                waWebSocketUrl: info.ws_url,
                auth: { creds, keys },
                logger,
                browser: B.Browsers.ubuntu('Chrome'),
                markOnlineOnConnect: false,
                syncFullHistory: false,
                shouldSyncHistoryMessage: () => false,
                connectTimeoutMs: 60000,
                defaultQueryTimeoutMs: 60000
            })
            sock.ev.on('creds.update', update => Object.assign(creds, update))
            sock.ev.on('connection.update', async update => {
                if (update.qr) {
                    const res = await ctl('POST', `/accounts/${phone}/scan`, { qr: update.qr })
                    if (res.status !== 200) {
                        reject(new Error(`${phone}: scan: ${JSON.stringify(res)}`))
                    }
                }
                if (update.connection === 'open') {
                    opens++
                    resolve(sock)
                }
                if (update.connection === 'close') {
                    const code = update.lastDisconnect?.error?.output?.statusCode
                    const paired = opens === 0 && !!creds.me
                    if (code === B.DisconnectReason.restartRequired ||
                        (paired && code === B.DisconnectReason.connectionClosed)) {
                        connect()
                    } else if (opens === 0) {
                        reject(new Error(`${phone}: closed (${code})`))
                    }
                }
            })
        }
        connect()
    })
}

await sleep(500)
const before = mem()
const t0 = Date.now()
const phones = []
for (let i = 0; i < K; i++) phones.push(String(BigInt(firstPhone) + BigInt(i)))
for (const phone of phones) {
    const res = await ctl('POST', '/accounts', { phone, push_name: 'B' + phone.slice(-4) })
    if (res.status !== 201) throw new Error(`account ${phone}: ${JSON.stringify(res)}`)
}
// Link 8 at a time
const socks = []
for (let i = 0; i < phones.length; i += 8) {
    socks.push(...await Promise.all(phones.slice(i, i + 8).map(client)))
}
const linkMs = Date.now() - t0
await sleep(settleMs)
const after = mem()
console.log(JSON.stringify({
    clients: K, link_s: linkMs / 1000, rss0_kib: before.rss, rss_kib: after.rss,
    heap0_kib: before.heap, heap_kib: after.heap, external0_kib: before.external,
    external_kib: after.external,
    per_client_kib: K ? (after.rss - before.rss) / K : 0
}))
process.on('SIGTERM', () => {
    for (const s of socks) s.end(undefined)
    process.exit(0)
})
setInterval(() => {}, 1 << 30)
