/*  sw_wa - the WhatsApp engine: one wa_client per session over wa_conn
    (WebSocket + Noise), all driven by the worker's sw_loop

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Per session:
    - start: STARTING; load the device credentials (device.get), the
      Signal records (signal.load) and the LID <-> phone number map
      (lid.list), so a restart or a failover logs in with no new scan;
      then connect to WA_URL trusting WA_ROOT_KEY with the login (or,
      unpaired, the registration) ClientPayload;
    - SCAN_QR_CODE with the QR as a PNG data URI on every rotation (the
      store turns it into a session.status event); WORKING with `me`;
      a QR never scanned: FAILED "QR code was not scanned in time"; the
      phone unlinked the device: creds cleared, FAILED "logged out";
      replaced by another connection: FAILED, not reconnected; any other
      drop: STARTING (FAILED with the reason when the connection could
      not be made at all) and a reconnect after a backoff with jitter;
    - persistence: credentials (device.put), Signal changes (coalesced
      in sw_wajournal, signal.put) and new LID pairs (lid.put) go
      through the session's ordered write queue, so a message's event is
      stored no later than the ratchet that decrypted it; a stanza leaves only once the changes made
      before it are stored (it waits in an outbox meanwhile), so no
      ciphertext is out while the ratchet step that made it could be
      lost, and a worker taking the session over never reuses a
      message key;
    - nothing lost: a received message's delivery receipt goes out only
      once its events are stored; event ids derive from the message id
      (sw_wamsg_event_id), so a message delivered again after a crash is
      stored once and reaches webhooks once;
    - events: message (from others), message.any (all, ours included),
      message.ack (SERVER, DEVICE, READ, PLAYED) in WAHA shapes.

    Gateway commands go through one table (sw_wasess.h): a row per bus
    type says whether the session must be WORKING, how long the command
    may wait for WhatsApp, and its handler. The rows and handlers live
    in one module per capability: sw_wasession (session.qr,
    session.pair_code, session.me), sw_wamessage (message.send_text,
    message.send_seen, and the message events), sw_wagroup (group.create,
    group.get, group.list, group.participants). Each header lists what
    its commands take and answer.

    Environment (read once here; all optional): WA_QR_FIRST_MS (60000)
    and WA_QR_NEXT_MS (20000), the life of the first and later QR codes;
    WA_SEND_TIMEOUT_MS (25000), how long a send waits for the server.
*/
#ifndef SW_WA_H_INCLUDED
#define SW_WA_H_INCLUDED

#include "sw_config.h"
#include "sw_engine.h"
#include "sw_wasess.h"

//  Store read timeout at start (device.get, signal.load, lid.list), ms.
#define SW_WA_LOAD_TIMEOUT_MS 10000
//  LID pairs loaded at start at most, and written per lid.put.
#define SW_WA_LID_LOAD_MAX 200000
#define SW_WA_LID_BATCH 1000
//  Delay that batches Signal changes into one signal.put, ms (none while
//  a stanza waits for them).
#define SW_WA_FLUSH_MS 5
//  Most stanzas waiting for their credential and Signal changes to be
//  stored; a send beyond that fails.
#define SW_WA_OUTBOX_MAX 10000
//  Longest wait for the server to confirm a logout, ms.
#define SW_WA_LOGOUT_TIMEOUT_MS 5000
//  Diagnostic TCP connect after a failed connection, ms.
#define SW_WA_DIAG_TIMEOUT_MS 5000
//  How long WA_URL's resolved address is reused for diagnostics, ms.
#define SW_WA_DNS_CACHE_MS 60000
//  PNG pixels per QR module in session.status events.
#define SW_WA_QR_SCALE 6

//  New engine for `config` (borrowed; must outlive the engine). NULL
//  when the WebSocket loop cannot start. Caller owns return value.
sw_engine_t *sw_wa_new(const sw_config_t *config);

//  The engine state of a running session as its capability modules see
//  it (borrowed), or NULL when the session's engine is stopped.
sw_wasess_t *sw_wa_sess(sw_session_t *session);

void sw_wa_test(bool verbose);

#endif
