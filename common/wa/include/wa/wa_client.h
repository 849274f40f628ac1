/*  wa_client - one session's WhatsApp Web multi-device client protocol

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Everything a linked device does above the transport (wa-protocol.md
    §5–7): QR and pairing-code login, login, post-login setup (prekeys,
    active mode, presence), keepalive, stream errors, device discovery,
    sending and receiving end-to-end encrypted text (1:1 and groups),
    receipts and retries. It owns the session's Signal store and an IQ
    waiter table; it never touches a socket or a clock of its own.

    The owner (session-worker's engine, or a test) supplies:
      - the transport: it opens a WebSocket + Noise connection with
        wa_client_noise_key() and the ClientPayload from
        wa_client_payload(), then calls wa_client_connected(); it passes
        every decoded stanza to wa_client_handle() and sends the stanzas
        the client gives to ops.send; when the connection drops it calls
        wa_client_disconnected();
      - one timer: ops.timer(delay) arms (or with delay < 0 disarms) a
        single one-shot wake-up; when it fires the owner calls
        wa_client_wake();
      - persistence: ops.creds says the account credentials changed
        (save wa_client_creds()), ops.signal reports every Signal record
        change (wa_sigstore's journal); on start the owner puts both back
        with wa_client_load_creds() and wa_client_load_signal();
      - what happens on ops.status (see wa_client_state_t: show a QR,
        reconnect now, reconnect later, stop, clear credentials).

    Nothing lost (issue 5 item 8): a received message is reported with
    ops.event before its delivery receipt is sent. If ops.event returns
    true the owner takes responsibility to call wa_client_receipt_commit()
    with the event's token once the message is safely stored; only then
    does the receipt go out, so a crash before that makes the server
    deliver the message again. The Signal changes for a message are
    reported (ops.signal) before its event: an owner that persists them
    must store the event no later than those changes, so that a crash
    never leaves a ratchet that moved past a message nobody stored.

    Callbacks run synchronously inside the client's functions. They may
    call any wa_client function except wa_client_destroy (defer that to
    the owner's loop). After a closing state (RESTART, RETRY, QR_EXPIRED,
    LOGGED_OUT, CONFLICT) the client ignores stanzas until the owner
    calls wa_client_connected() on a new connection.

    JIDs in events are wire text ("15551234567@s.whatsapp.net",
    "…@g.us", device JIDs "user:12@server"); WAHA "@c.us" forms are the
    owner's business (wa_jid_to_api), except me_id in status reports.
*/
#ifndef WA_CLIENT_H_INCLUDED
#define WA_CLIENT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "wa_iq.h"
#include "wa_message.h"
#include "wa_node.h"
#include "wa_payload.h"
#include "wa_sigstore.h"

typedef struct _wa_client_t wa_client_t;

//  Room for a message id (with NUL).
#define WA_CLIENT_ID_MAX 64
//  Room for a pair code as shown ("ABCD-EFGH", with NUL).
#define WA_CLIENT_CODE_MAX 10

//  ---------------------------------------------------------------------
//  Status reports

typedef enum {
    WA_CLIENT_QR = 1,           //  show `qr` (repeats on every rotation)
    WA_CLIENT_PAIR_CODE,        //  the server took pair code `code`
    WA_CLIENT_PAIR_CODE_FAILED, //  the pair code request failed (reason)
    WA_CLIENT_PAIRED,           //  linked: credentials changed; the server
                                //  restarts the stream next (RESTART)
    WA_CLIENT_WORKING,          //  logged in: me fields set
    //  Closing states: the owner closes the connection.
    WA_CLIENT_RESTART,    //  reconnect at once (stream error 515)
    WA_CLIENT_RETRY,      //  reconnect after a backoff (reason)
    WA_CLIENT_QR_EXPIRED, //  every QR shown, none scanned: stop
    WA_CLIENT_LOGGED_OUT, //  device removed / logged out: clear the
                          //  stored credentials, stop
    WA_CLIENT_CONFLICT,   //  replaced by another connection: stop
    WA_CLIENT_OUTDATED    //  the server refuses our version (failure
                          //  405): stop, a retry would meet the same
} wa_client_state_t;

typedef struct {
    wa_client_state_t state; //  what happened
    const char *qr;          //  QR: the QR string
    const char *code;        //  PAIR_CODE: "ABCD-EFGH"
    const char *reason;      //  closing states, PAIR_CODE_FAILED: text
    int error;               //  stream error / failure code, or 0
    const char *me_id;       //  PAIRED/WORKING: "<phone>@c.us"
    const char *me_lid;      //  "<lid>@lid", or NULL when unknown
    const char *me_jid;      //  our device JID (wire)
    const char *push_name;   //  our push name, or NULL
} wa_client_status_t;

//  True for the states after which the owner closes the connection.
bool wa_client_state_closing(wa_client_state_t state);

//  Name of a state ("QR", "WORKING", ...).
const char *wa_client_state_name(wa_client_state_t state);

//  ---------------------------------------------------------------------
//  Events

typedef enum {
    WA_CLIENT_EVENT_MESSAGE = 1, //  a message arrived (or our own from
                                 //  another device)
    WA_CLIENT_EVENT_ACK = 2,     //  delivery / read / played receipt
    WA_CLIENT_EVENT_SENT = 3,    //  result of a send: server ack or error
    WA_CLIENT_EVENT_GROUP = 4,   //  a group changed (w:gp2 notification)
    WA_CLIENT_EVENT_CALL = 5,    //  a call offer, accept, reject, end
    WA_CLIENT_EVENT_PICTURE = 6, //  a profile picture changed
    //  (values of other capabilities leave room for the messages ones)
    WA_CLIENT_EVENT_PRESENCE = 20, //  a contact's presence or chat state
    WA_CLIENT_EVENT_WAITING = 21,  //  a message we could not decrypt: the
                                   //  sender was asked to send it again
    WA_CLIENT_EVENT_APPSTATE = 30, //  an app-state mutation was applied
                                   //  (wa_syncd.h)
    WA_CLIENT_EVENT_APPSTATE_PUSHED = 31, //  result of
                                          //  wa_client_appstate_push
    WA_CLIENT_EVENT_APPSTATE_BLOB = 32    //  app state needs an external
                                          //  blob downloaded (wa_syncd.h)
} wa_client_event_type_t;

//  Ack levels, as WAHA numbers them.
#define WA_CLIENT_ACK_ERROR (-1)
#define WA_CLIENT_ACK_SERVER 1
#define WA_CLIENT_ACK_DEVICE 2
#define WA_CLIENT_ACK_READ 3
#define WA_CLIENT_ACK_PLAYED 4

typedef struct {
    const char *id;              //  message id
    const char *chat;            //  chat JID (user or group), no device
    const char *sender;          //  sending device JID
    const char *participant;     //  groups: sender user JID; else NULL
    const char *to;              //  the other end: our JID, or for our own
                                 //  messages the chat
    bool from_me;                //  sent by our account (another device)
    bool is_group;               //  chat is a group
    int64_t timestamp;           //  seconds
    const char *push_name;       //  sender's push name, or NULL
    const char *sender_alt;      //  sender's other user JID (phone number
                                 //  for a LID sender and vice versa), or
                                 //  NULL when the server did not say
    const char *type;            //  wa_message_type ("chat", "image", ...)
    const char *body;            //  text or caption, or NULL
    bool has_media;              //  media kinds
    const char *reply_to;        //  quoted message id, or NULL
    const wa_message_t *message; //  the decoded message (borrowed)
    const uint8_t *raw;          //  serialised Message bytes (borrowed)
    size_t raw_len;              //  their length
    uint64_t token;              //  for wa_client_receipt_commit
} wa_client_message_t;

typedef struct {
    const char *id;          //  message id (one of ours, or, when
                             //  from_me, one we read on another device)
    const char *chat;        //  chat JID
    const char *participant; //  who read it (device JID) in groups, or
                             //  the device of a 1:1 contact
    bool from_me;            //  receipt came from our own device
    int ack;                 //  WA_CLIENT_ACK_DEVICE/READ/PLAYED
    int64_t timestamp;       //  seconds (0 when absent)
} wa_client_ack_t;

typedef struct {
    const char *id;     //  message id returned by the send call
    const char *chat;   //  destination chat
    bool ok;            //  true: the server took it (ack SERVER)
    int error;          //  !ok: server error code, or 0 for local
    const char *reason; //  !ok: text
    int64_t timestamp;  //  ok: server time (seconds)
} wa_client_sent_t;

//  Presence (wa_presence): <presence> and <chatstate> from the server.
typedef struct {
    const char *chat;        //  user JID, or the group JID of a chat
                             //  state in a group
    const char *participant; //  whose presence (user JID; the chat
                             //  itself in 1:1)
    const char *state;       //  "available", "unavailable", "composing",
                             //  "recording" or "paused"
    int64_t last_seen;       //  unavailable: last seen (seconds), 0 when
                             //  unknown or hidden
} wa_client_presence_t;

//  A message that could not be decrypted (the first retry receipt for
//  it went out; a later delivery that decrypts is a MESSAGE event).
typedef struct {
    const char *id;          //  message id
    const char *chat;        //  chat JID (user or group), no device
    const char *sender;      //  sending device JID
    const char *participant; //  groups: sender user JID; else NULL
    bool from_me;            //  sent by another device of our account
    bool is_group;           //  chat is a group
    int64_t timestamp;       //  seconds
    const char *push_name;   //  sender's push name, or NULL
} wa_client_waiting_t;

//  A w:gp2 notification: who changed what in a group. Its children say
//  what (add, remove, promote, demote, subject, description, announcement,
//  not_announcement, locked, unlocked, create, …; wa-protocol.md §10.1).
typedef struct {
    const char *id;        //  notification id
    const char *group;     //  group JID
    const char *actor;     //  who made the change (user JID), or NULL
    int64_t timestamp;     //  seconds (0 when absent)
    const wa_node_t *node; //  the notification (borrowed)
} wa_client_group_t;

//  One app-state mutation, verified and applied (wa_syncd.h).
typedef struct {
    const char *collection; //  "regular_low", ...
    const json_t *action;   //  {index: [..], op: "set"|"remove",
                            //  timestamp (ms), version, value: {..}}
                            //  (borrowed)
    bool from_me;           //  our own upload (after the server took it)
    bool initial;           //  part of the first sync of the collection
} wa_client_appstate_t;

//  An external blob app state needs (a snapshot, or a patch's
//  mutations): the owner downloads it (media type "md-app-state") and
//  hands the plaintext to wa_client_appstate_blob(id), or NULL when the
//  download failed; app state waits for it. Fields borrowed.
typedef struct {
    const char *id;         //  to name in wa_client_appstate_blob
    const char *collection; //  "regular_low", ...
    const uint8_t *media_key;
    size_t media_key_len;
    const char *direct_path;
    const uint8_t *file_sha256; //  or NULL
    size_t file_sha256_len;
    const uint8_t *file_enc_sha256; //  or NULL
    size_t file_enc_sha256_len;
    uint64_t size; //  plaintext bytes, 0 unknown
} wa_client_appstate_blob_t;

//  The outcome of wa_client_appstate_push.
typedef struct {
    const char *id;     //  the push id
    bool ok;            //  the server took the patch
    int error;          //  !ok: server error code, or 0 for local
    const char *reason; //  !ok: text
} wa_client_pushed_t;
//  What a <call> stanza said (wa_call).
typedef enum {
    WA_CLIENT_CALL_OFFER = 1, //  someone calls us
    WA_CLIENT_CALL_ACCEPT,    //  answered (on another of our devices)
    WA_CLIENT_CALL_REJECT,    //  rejected (by us, or another device)
    WA_CLIENT_CALL_TERMINATE  //  ended (the caller hung up, or missed)
} wa_client_call_kind_t;

typedef struct {
    wa_client_call_kind_t kind; //  what happened
    const char *call_id;        //  the call's id (call-id)
    const char *from;           //  the caller's user JID (call-creator)
    const char *group;          //  group JID of a group call, or NULL
    bool is_video;              //  video call (offer: <video/>)
    bool is_group;              //  group call
    bool offline;               //  delivered from the offline queue
    int64_t timestamp;          //  seconds
    const char *reason;         //  terminate / reject reason, or NULL
} wa_client_call_t;

typedef struct {
    const char *jid; //  whose picture (user or group JID)
    const char *id;  //  the new picture id, NULL when removed
} wa_client_picture_t;

typedef struct {
    wa_client_event_type_t type; //  which member is set
    union {
        wa_client_message_t message;
        wa_client_ack_t ack;
        wa_client_sent_t sent;
        wa_client_presence_t presence;
        wa_client_waiting_t waiting;
        wa_client_group_t group;
        wa_client_appstate_t appstate;
        wa_client_pushed_t pushed;
        wa_client_appstate_blob_t blob;
        wa_client_call_t call;
        wa_client_picture_t picture;
    } u;
} wa_client_event_t;

//  ---------------------------------------------------------------------
//  Owner interface

typedef struct {
    //  Send one stanza (borrowed). Return 0, or -1 when it cannot be sent
    //  (the client then expects wa_client_disconnected soon). send, timer
    //  and now must not call wa_client functions.
    int (*send)(void *arg, const wa_node_t *node);
    //  Arm the single wake-up to fire after delay_ms (>= 0) replacing an
    //  armed one; delay_ms < 0 disarms it.
    void (*timer)(void *arg, int64_t delay_ms);
    //  Monotonic clock in ms. NULL: cm_mono_ms.
    int64_t (*now)(void *arg);
    //  State changes (see wa_client_state_t). Required.
    void (*status)(void *arg, const wa_client_status_t *status);
    //  Credentials changed: store wa_client_creds(). May be NULL.
    void (*creds)(void *arg);
    //  A Signal record changed (data NULL: deleted). May be NULL.
    void (*signal)(void *arg, const char *kind, const char *key,
                   const uint8_t *data, size_t len);
    //  An event. For messages, return true to send the delivery receipt
    //  later with wa_client_receipt_commit(token); false sends it now.
    //  May be NULL.
    bool (*event)(void *arg, const wa_client_event_t *event);
    //  A new LID <-> phone number pair (user JIDs "123@lid",
    //  "1555@s.whatsapp.net"), replacing any older pair of either side:
    //  store it (wa_client_load_lid puts it back). May be NULL.
    void (*lid)(void *arg, const char *lid, const char *pn);
} wa_client_ops_t;

typedef struct {
    const char *name;             //  session name for logs ("")
    int qr_first_ms;              //  life of the first QR (60000)
    int qr_next_ms;               //  life of later QRs (20000)
    int pair_code_timeout_ms;     //  wait for the phone to enter the code
                                  //  (180000)
    int iq_timeout_ms;            //  IQ reply deadline (60000)
    int send_timeout_ms;          //  a send's deadline to the server ack
                                  //  (60000)
    int keepalive_ms;             //  keepalive interval (25000; +-20% jitter)
    int keepalive_timeout_ms;     //  keepalive reply deadline (10000)
    int keepalive_misses;         //  missed keepalives before RETRY (2)
    int prekey_batch;             //  prekeys per upload (30)
    int prekey_min;               //  upload when the server has fewer (5)
    int max_retries;              //  retry receipts per message (5)
    const char *platform;         //  companion platform id in the QR and
                                  //  pair code ("1" = Chrome)
    const char *platform_display; //  pair code display
                                  //  ("Chrome (Linux)")
} wa_client_config_t;

//  Fill *cfg with the defaults above.
void wa_client_config_default(wa_client_config_t *cfg);

//  New client with no credentials (cfg NULL: defaults; strings copied).
//  ops->send, ops->timer and ops->status are required. Caller owns
//  return value.
wa_client_t *wa_client_new(const wa_client_config_t *cfg,
                           const wa_client_ops_t *ops, void *arg);

//  Destroy: pending IQs and sends are dropped without events. Not from
//  inside a callback. NULL-safe; sets *self_p to NULL.
void wa_client_destroy(wa_client_t **self_p);

//  ---------------------------------------------------------------------
//  Credentials and Signal state

//  Load credentials saved from wa_client_creds (before connecting).
//  Returns 0, or -1 when malformed (the client is left without
//  credentials).
int wa_client_load_creds(wa_client_t *self, const json_t *creds);

//  The credentials as JSON: Noise key, identity, registration id,
//  signed prekey, ADV secret and signed identity, own JIDs, push name,
//  prekey counters. Creates new credentials (a new device) first when
//  there are none. Caller owns return value.
json_t *wa_client_creds(wa_client_t *self);

//  Put back one stored Signal record (kind/key as in wa_sigstore).
//  Returns 0 or -1.
int wa_client_load_signal(wa_client_t *self, const char *kind, const char *key,
                          const uint8_t *data, size_t len);

//  Put back one stored LID <-> phone number pair (any JID text of each;
//  not reported to ops.lid). Returns 0, or -1 when invalid.
int wa_client_load_lid(wa_client_t *self, const char *lid, const char *pn);

//  Learn that a and b (a LID and a phone number, any JID text, either
//  order) are one account, e.g. from history sync; a new pair is
//  reported to ops.lid. Returns 1 new, 0 known, -1 invalid.
int wa_client_learn_lid(wa_client_t *self, const char *a, const char *b);

//  Privacy tokens and the NCT salt from history sync and app state
//  (wa_tctoken): the token `jid` (a contact's number or LID) issued to
//  us at `t` (unix s) and, when `sent` > 0, when we last issued ours to
//  it. A token older than the stored one is not taken. Returns 1
//  stored, 0 kept the newer, -1 refused (no user, no t, no token, over
//  256 bytes).
int wa_client_learn_tctoken(wa_client_t *self, const char *jid,
                            const uint8_t *token, size_t len, int64_t t,
                            int64_t sent);

//  The account's NCT salt (the key of cstokens, at most 64 bytes);
//  NULL/0 clears it. With `backfill` (history sync) a stored salt is
//  kept. Returns 1 stored or cleared, 0 kept, -1 refused.
int wa_client_set_nct_salt(wa_client_t *self, const uint8_t *salt, size_t len,
                           bool backfill);

//  The LID user JID ("123@lid") of a phone number, or the phone number
//  ("1555@s.whatsapp.net") of a LID (any JID text, "@c.us" too); NULL
//  when unknown. Our own account answers from the credentials. Caller
//  owns return value.
char *wa_client_lid_of(wa_client_t *self, const char *pn);
char *wa_client_pn_of(wa_client_t *self, const char *lid);

//  Pairs in the session's map (ours not counted).
size_t wa_client_lid_count(wa_client_t *self);

//  True when the device is linked to an account (login, not pairing).
bool wa_client_paired(wa_client_t *self);

//  The Noise static key pair for the handshake (created with new
//  credentials when there are none). Returns 0.
int wa_client_noise_key(wa_client_t *self, uint8_t priv[32], uint8_t pub[32]);

//  The ClientPayload for the next handshake: login when paired, else
//  registration. Caller owns return value; sets *len_p. NULL on failure.
uint8_t *wa_client_payload(wa_client_t *self, size_t *len_p);

//  The payload settings (user agent, version, device props; borrowed).
wa_payload_t *wa_client_payload_settings(wa_client_t *self);

//  Set our push name (sent with presence; saved in the credentials).
void wa_client_set_push_name(wa_client_t *self, const char *push_name);

//  The session's Signal store (borrowed).
wa_sigstore_t *wa_client_sigstore(wa_client_t *self);

//  ---------------------------------------------------------------------
//  Transport

//  The handshake of a new connection finished.
void wa_client_connected(wa_client_t *self);

//  The connection is gone (reason for logs). Pending requests fail and
//  sends not yet acknowledged report SENT errors. Receipts held for the
//  owner stay: wa_client_receipt_commit sends them on whatever
//  connection is live then (a message delivered again meanwhile is not
//  reported twice). Idempotent.
void wa_client_disconnected(wa_client_t *self, const char *reason);

//  Handle one received stanza (borrowed). Returns 0, or -1 when it was
//  malformed or unexpected (logged; nothing else to do).
int wa_client_handle(wa_client_t *self, const wa_node_t *node);

//  The armed wake-up fired.
void wa_client_wake(wa_client_t *self);

//  True when logged in on a live connection (sending possible).
bool wa_client_ready(wa_client_t *self);

//  The QR string currently shown, or NULL (borrowed).
const char *wa_client_qr(wa_client_t *self);

//  ---------------------------------------------------------------------
//  Actions

//  Ask for a pairing code for `phone` (digits, international, '+' and
//  separators ignored) instead of scanning a QR. Writes the code as
//  shown ("ABCD-EFGH") into code; the request goes out now (or as soon
//  as an unpaired connection is up) and ops.status reports PAIR_CODE or
//  PAIR_CODE_FAILED. Returns 0, or -1 when already paired or phone is
//  invalid.
int wa_client_request_pair_code(wa_client_t *self, const char *phone,
                                char code[WA_CLIENT_CODE_MAX]);

//  Send a text to `chat` (wire or API JID), optionally quoting message
//  reply_id sent by reply_participant (NULL: the chat). Writes the new
//  message id into id; the outcome follows as a SENT event. Returns 0,
//  or -1 when not ready or chat is invalid.
int wa_client_send_text(wa_client_t *self, const char *chat, const char *text,
                        const char *reply_id, const char *reply_participant,
                        char id[WA_CLIENT_ID_MAX]);

//  Send a serialised Message as wa_client_send_text does.
int wa_client_send_message(wa_client_t *self, const char *chat,
                           const uint8_t *msg, size_t len,
                           char id[WA_CLIENT_ID_MAX]);

//  Post a serialised Message to a channel (`chat` a …@newsletter JID)
//  as wa_client_send_message does, with media_id: the handle the media
//  host gave its unencrypted media upload (NULL: none, e.g. a text).
//  Returns 0, or -1 when not ready or chat is no channel.
int wa_client_send_post(wa_client_t *self, const char *chat, const uint8_t *msg,
                        size_t len, const char *media_id,
                        char id[WA_CLIENT_ID_MAX]);

//  Send read receipts (played when `played`) for `count` message ids in
//  chat; in groups participant is the sender of the messages. Returns 0
//  or -1.
int wa_client_send_seen(wa_client_t *self, const char *chat,
                        const char *participant, const char *const *ids,
                        size_t count, bool played);

//  Tell our own phone a protocol message of ours was handled:
//  <receipt id type to="<our phone>@s.whatsapp.net"/> (no device), as
//  "hist_sync" once a history-sync notification was processed. Returns
//  0, or -1 when not linked, the arguments are bad or nothing could be
//  sent.
//  Ask our own phone to upload the blob of history-sync notification
//  `id` again (its download failed: expired or missing on the media
//  host): <receipt id type="server-error" to="<our phone>@s.whatsapp.net"
//  category="peer"><encrypt><enc_p/><enc_iv/></encrypt></receipt>, the
//  payload from wa_history_retry_seal with the blob's media key (as
//  whatsmeow's SendHistorySyncServerErrorReceipt). Returns 0 or -1.
int wa_client_send_history_retry(wa_client_t *self, const char *id,
                                 const uint8_t *media_key, size_t key_len);

int wa_client_send_protocol_receipt(wa_client_t *self, const char *id,
                                    const char *type);

//  The owner stored the message event with this token: send its
//  delivery receipt now if a connection is live (else the next delivery
//  of the message is confirmed at once). Returns 0, or -1 when the token
//  is unknown or nothing could be sent.
int wa_client_receipt_commit(wa_client_t *self, uint64_t token);

//  Send any IQ (taken; the client sets its id, and "to" when absent) and
//  call fn exactly once with the reply, a timeout or a cancellation
//  (connection lost, client destroyed: no further calls into the client
//  from fn then). For requests the client has no function for (groups,
//  profile, ...). Returns 0, or -1 when not logged in (fn not called).
int wa_client_iq(wa_client_t *self, wa_node_t **iq_p, wa_iq_fn *fn, void *arg);

//  Forget the cached metadata of group `group` (JID): the next send to
//  it fetches the participants again. For the owner after it changed
//  the group itself (w:gp2 notifications do the same on their own).
void wa_client_forget_group(wa_client_t *self, const char *group);

//  As wa_client_forget_group, and drop our sender key for the group (and
//  the record of who has it): the next send makes a new key and sends it
//  to every member device, so members who left cannot read what follows.
//  For the owner after it removed participants (a w:gp2 remove or leave
//  notification does the same on its own).
void wa_client_rotate_group_key(wa_client_t *self, const char *group);

//  Unlink this device: tell the server (when connected), then report
//  LOGGED_OUT. Returns 0, or -1 when not paired.
int wa_client_logout(wa_client_t *self);

//  Self test
void wa_client_test(bool verbose);

#endif
