// test_wasim_baileys.mjs - fidelity test: two unmodified Baileys clients
// pair through wa-sim's control API (QR), log in, and exchange end-to-end
// encrypted text messages both ways with delivery and read receipts.
//
// Copyright (c) 2026 the Wharf authors. Apache-2.0.
//
// ctest interop_wasim_baileys (tests/interop/CMakeLists.txt). By hand:
// copy this file and common.mjs next to a node_modules holding
// baileys@7.0.0-rc13 and run `WHARF_BIN_DIR=build/bin node
// test_wasim_baileys.mjs`. Loopback only. Exits 0 on success, 77 (skip)
// when npm was unreachable, 1 on failure. WASIM_TEST_DEBUG=1 prints the
// Baileys and wa-sim logs.

import { BaileysPeer, simControl } from './baileys_peer.mjs'
import { check, deadline, loadPeer, sleep, startSim, stopSim } from './common.mjs'

// ctest runs this from the npm directory of the build tree (see
// CMakeLists.txt); loadPeer skips (77) when npm was unreachable.
const debug = !!process.env.WASIM_TEST_DEBUG
const B = await loadPeer('baileys')
const pino = (await loadPeer('pino')).default

// ---------------------------------------------------------------------
// wa-sim process and control API

const sim = await startSim(['--qr-first-ms', '60000', '--qr-next-ms', '20000'],
    { debug, ms: 20000 })
const info = sim.info
check(info.ws_url.startsWith('ws://127.0.0.1:'), 'wa-sim listens on loopback')

const ctl = simControl(info.control_url)

// Baileys pins WhatsApp's root key in a mutable Buffer shared with its
// noise handler (guide §12.2): point it at wa-sim's root before any
// socket exists.
B.WA_CERT_DETAILS.PUBLIC_KEY.set(Buffer.from(info.root_key, 'hex'))

// ---------------------------------------------------------------------
// The scenario

const alicePhone = '15550100001'
const bobPhone = '15550100002'
let failed = null
const carolPhone = '15550100003'
const peer = (name, phone, mode) =>
    new BaileysPeer(B, pino, { name, phone, mode, wsUrl: info.ws_url, ctl, debug })
const alice = peer('alice', alicePhone)
const bob = peer('bob', bobPhone)
const carol = peer('carol', carolPhone, 'code')
try {
    for (const [phone, name] of [[alicePhone, 'Alice'], [bobPhone, 'Bob'], [carolPhone, 'Carol']]) {
        const res = await ctl('POST', '/accounts', { phone, push_name: name })
        check(res.status === 201, `create account ${phone}: ${JSON.stringify(res)}`)
    }

    // Pair (QR → pair-success → pair-device-sign → 515 → login → success)
    await Promise.race([Promise.all([alice.start(), bob.start(), carol.start()]),
        deadline(60000, 'all clients open')])
    check(alice.sock.user.id.startsWith(`${alicePhone}:`), `alice paired as ${alice.sock.user.id}`)
    check(alice.sock.user.lid?.endsWith('@lid'), 'alice got her LID from <success>')
    check(bob.sock.user.id.startsWith(`${bobPhone}:`), `bob paired as ${bob.sock.user.id}`)
    check(carol.sock.user.id.startsWith(`${carolPhone}:`), `carol paired by code as ${carol.sock.user.id}`)
    const devices = await ctl('GET', `/accounts/${alicePhone}/devices`)
    check(devices.body.devices.some(d => d.id > 0 && d.linked && d.prekeys > 0),
        `alice's companion is linked with uploaded prekeys: ${JSON.stringify(devices.body)}`)

    // Push names and presence, so receipts are "delivered"
    for (const c of [alice, bob, carol]) {
        await c.online(c.name)
    }

    const aliceJid = `${alicePhone}@s.whatsapp.net`
    const bobJid = `${bobPhone}@s.whatsapp.net`

    // Alice → Bob
    const sent1 = await alice.sock.sendMessage(bobJid, { text: 'hello bob, from alice' })
    const got1 = await bob.waitFor(
        () => bob.received.find(m => m.key.id === sent1.key.id && m.message), 'message 1')
    const text1 = got1.message.conversation || got1.message.extendedTextMessage?.text
    check(text1 === 'hello bob, from alice', `bob decrypted message 1: ${JSON.stringify(got1.message)}`)
    check(got1.key.remoteJid.startsWith(alicePhone) || got1.key.remoteJidAlt?.startsWith(alicePhone),
        `message 1 is from alice: ${JSON.stringify(got1.key)}`)
    await alice.waitFor(() => alice.updates.find(u => u.key.id === sent1.key.id
        && u.update.status >= B.proto.WebMessageInfo.Status.DELIVERY_ACK), 'delivery receipt 1')
    await bob.sock.readMessages([got1.key])
    await alice.waitFor(() => alice.updates.find(u => u.key.id === sent1.key.id
        && u.update.status === B.proto.WebMessageInfo.Status.READ), 'read receipt 1')

    // Bob → Alice
    const sent2 = await bob.sock.sendMessage(aliceJid, { text: 'hi alice, bob here' })
    const got2 = await alice.waitFor(
        () => alice.received.find(m => m.key.id === sent2.key.id && m.message), 'message 2')
    const text2 = got2.message.conversation || got2.message.extendedTextMessage?.text
    check(text2 === 'hi alice, bob here', `alice decrypted message 2: ${JSON.stringify(got2.message)}`)
    await bob.waitFor(() => bob.updates.find(u => u.key.id === sent2.key.id
        && u.update.status >= B.proto.WebMessageInfo.Status.DELIVERY_ACK), 'delivery receipt 2')
    await alice.sock.readMessages([got2.key])
    await bob.waitFor(() => bob.updates.find(u => u.key.id === sent2.key.id
        && u.update.status === B.proto.WebMessageInfo.Status.READ), 'read receipt 2')

    // A second message each way rides the established sessions (msg,
    // not pkmsg).
    const sent3 = await alice.sock.sendMessage(bobJid, { text: 'again' })
    await bob.waitFor(() => bob.received.find(m => m.key.id === sent3.key.id && m.message), 'message 3')

    // Bob's simulated phone writes to Alice (control API); her companion
    // decrypts it, and Bob's companion gets the device-sent copy.
    const fromPhone = await ctl('POST', `/accounts/${bobPhone}/send`, { to: aliceJid, text: 'sent from bob\'s phone' })
    check(fromPhone.status === 200 && fromPhone.body.copies === 2, `phone send: ${JSON.stringify(fromPhone)}`)
    const got6 = await alice.waitFor(
        () => alice.received.find(m => m.key.id === fromPhone.body.id && m.message), 'message from the phone')
    check((got6.message.conversation || got6.message.extendedTextMessage?.text) === 'sent from bob\'s phone',
        `alice decrypted the phone's message: ${JSON.stringify(got6.message)}`)
    await alice.sock.readMessages([got6.key])

    // App state: Alice's phone shared its app-state key after linking;
    // she pins the chat with Bob (a patch stored by wa-sim) and, after
    // forgetting her local state, reads it back from the server.
    await alice.waitFor(() => alice.creds.myAppStateKeyId, 'app-state key from the phone')
    await alice.sock.chatModify({ pin: true }, bobJid)
    const appState = await ctl('GET', `/accounts/${alicePhone}/app-state`)
    check(appState.body.collections.regular_low === 1, `pin stored: ${JSON.stringify(appState.body)}`)
    const chatUpdates = []
    alice.sock.ev.on('chats.update', u => chatUpdates.push(...u))
    await alice.keys.set({ 'app-state-sync-version': { regular_low: null } })
    await alice.sock.resyncAppState(['regular_low'], false)
    await alice.waitFor(() => chatUpdates.find(c => c.id === bobJid && c.pinned), 'pin read back')

    // A group: Alice creates it with Bob and Carol and writes; the sender
    // key travels pairwise (pkmsg/msg) and the text as one skmsg.
    const group = await alice.sock.groupCreate('sim team', [bobJid, `${carolPhone}@s.whatsapp.net`])
    check(group.id.endsWith('@g.us') && group.participants.length === 3, `group created: ${JSON.stringify(group)}`)
    const meta = await bob.sock.groupMetadata(group.id)
    check(meta.subject === 'sim team', `bob sees the group: ${JSON.stringify(meta)}`)
    const sent4 = await alice.sock.sendMessage(group.id, { text: 'hello group' })
    for (const c of [bob, carol]) {
        const m = await c.waitFor(() => c.received.find(x => x.key.id === sent4.key.id && x.message), `group message at ${c.name}`)
        const text = m.message.conversation || m.message.extendedTextMessage?.text
        check(text === 'hello group', `${c.name} decrypted the group message: ${JSON.stringify(m.message)}`)
        check(m.key.remoteJid === group.id && m.key.participant?.startsWith(alicePhone),
            `${c.name} sees alice in the group: ${JSON.stringify(m.key)}`)
    }
    const sent5 = await carol.sock.sendMessage(group.id, { text: 'carol answers' })
    await alice.waitFor(() => alice.received.find(x => x.key.id === sent5.key.id && x.message), 'group reply at alice')

    // Presence and chat state: Bob subscribes to Alice and sees her type.
    await bob.sock.presenceSubscribe(aliceJid)
    await bob.waitFor(() => bob.presences.find(p => p.id.startsWith(alicePhone)), 'alice presence')
    await alice.sock.sendPresenceUpdate('composing', bobJid)
    await bob.waitFor(() => bob.presences.find(p => p.id.startsWith(alicePhone)
        && Object.values(p.presences).some(x => x.lastKnownPresence === 'composing')), 'alice typing')

    // The phone unlinks Carol's companion: Baileys is logged out (401).
    const carolDevice = +carol.sock.user.id.split(':')[1].split('@')[0]
    carol.stopping = true
    const unlink = await ctl('DELETE', `/accounts/${carolPhone}/devices/${carolDevice}`)
    check(unlink.status === 200, `unlink carol: ${JSON.stringify(unlink)}`)
    await carol.waitFor(() => carol.closeCode !== undefined, 'carol logged out')
    check(carol.closeCode === B.DisconnectReason.loggedOut, `carol closed with ${carol.closeCode}`)

    // Bob logs out himself: remove-companion-device.
    bob.stopping = true
    await bob.sock.logout()
    const bobDevices = await (async () => {
        for (let i = 0; i < 100; i++) {
            const r = await ctl('GET', `/accounts/${bobPhone}/devices`)
            if (r.body.devices.length === 1) return r.body.devices
            await sleep(50)
        }
        return null
    })()
    check(bobDevices && bobDevices[0].id === 0, 'bob logged out: only the phone is left')

    // The stanza log holds metadata only: never a plaintext.
    const log = await ctl('GET', '/stanzas?limit=5000')
    const dump = JSON.stringify(log.body)
    check(!dump.includes('hello bob') && !dump.includes('hi alice') && !dump.includes('hello group'),
        'no plaintext in the stanza log')
    check(log.body.stanzas.some(s => s.tag === 'message' && s.dir === 'in'), 'messages logged')
} catch (err) {
    failed = err
} finally {
    await alice.stop()
    await bob.stop()
    await carol.stop()
    await sleep(300)
    const simFailure = await stopSim(sim)
    failed = failed || simFailure
}
if (failed) {
    console.error(`FAIL: ${failed.stack || failed}`)
    if (!debug) console.error(`wa-sim log tail:\n${sim.err.slice(-4000)}`)
    process.exit(1)
}
console.log('wasim_baileys: OK (pair by QR and by code, login, text both ways with delivery and read receipts, group, app state, presence, unlink, logout)')
process.exit(0)
