/*  wa_client_int - what wa_client's capability modules share with it

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Internal to common/wa; nothing outside the library includes it.

    wa_client.c is one session's core: connection life, login and
    pairing, credentials and prekeys, keepalive, the IQ tracker, and a
    router (wa_router) for incoming stanzas. Everything else is a
    capability module, src/wa_<name>.c, that defines

        const wa_client_cap_t wa_<name>_cap = {.name = "<name>",
                                               .routes = s_routes, ...};

    with the stanzas it handles (a wa_router_route_t table) and, when it
    keeps state, hooks for the client's life. It is listed once in
    WA_CLIENT_CAPS below; that line both declares it and puts it in the
    client's table. Handlers get the client as their argument and use
    the functions here to send, ask (IQs), report events and reach the
    Signal store.

    Who owns what in wa_client_t is marked per section; a module touches
    the fields of its own section and reads the core's.
*/
#ifndef WA_CLIENT_INT_H_INCLUDED
#define WA_CLIENT_INT_H_INCLUDED

#include <czmq.h>

#include "wa/wa_client.h"
#include "wa/wa_kinds.h"
#include "wa/wa_pair.h"
#include "wa/wa_recv.h"
#include "wa/wa_router.h"
#include "wa/wa_send.h"
#include "wa/wa_signal.h"
#include "wa/wa_usync.h"

//  Prekey ids are 24 bits.
#define WA_CLIENT_PREKEY_ID_MAX 0xFFFFFF

//  Where the connection is.
typedef enum {
    WA_CLIENT_CONN_OFFLINE = 0, //  no connection
    WA_CLIENT_CONN_UNPAIRED,    //  registration connection: QR / pair code
    WA_CLIENT_CONN_LOGIN,       //  login sent, waiting for <success>
    WA_CLIENT_CONN_ONLINE,      //  logged in
    WA_CLIENT_CONN_CLOSED       //  closing state reported, owner closes
} wa_client_conn_t;

//  A capability module. Every member but name may be NULL.
typedef struct {
    const char *name;                  //  for logs ("inbox")
    const wa_router_route_t *routes;   //  stanzas it handles (NULL-tag
                                       //  ended); arg is the wa_client_t
    void (*start)(wa_client_t *self);  //  wa_client_new: make its state
    void (*stop)(wa_client_t *self);   //  wa_client_destroy: free it (after
                                       //  drop and forget)
    void (*drop)(wa_client_t *self);   //  the connection is gone (after
                                       //  the IQ waiters were cancelled)
    void (*forget)(wa_client_t *self); //  the account is gone (logout,
                                       //  destroy): drop what it knew
    //  Its next wake-up (now: the current time), or -1 for none.
    int64_t (*deadline)(wa_client_t *self, int64_t now);
    //  The wake-up fired (after the core's own timers).
    void (*wake)(wa_client_t *self, int64_t now);
    //  Every incoming stanza before it is routed, replies to our IQs
    //  too (before their waiters run): look, never answer.
    void (*see)(wa_client_t *self, const wa_node_t *node);
} wa_client_cap_t;

//  The capability modules, in the order their routes are added and their
//  hooks run: one line each.
// clang-format off
#define WA_CLIENT_CAPS(cap)                                                    \
    cap(lidmap)     /*  LID <-> phone number map (before inbox)   */         \
    cap(inbox)      /*  incoming messages and receipts            */         \
    cap(outbox)     /*  outgoing messages, server acks, resends   */         \
    cap(groupcache) /*  group metadata, sender keys, w:gp2        */         \
    cap(devices)    /*  device list notifications                 */         \
    cap(call)       /*  call stanzas: offers, rejects, events     */         \
    cap(contacts)   /*  picture change notifications              */         \
    cap(kinds)      /*  message kinds: codecs, no stanza routes   */         \
    cap(presence)   /*  presence and chat state, both ways        */         \
    cap(tctoken)    /*  privacy tokens of 1:1 chats               */         \
    cap(devident)   /*  device identity checks (no routes)        */         \
    cap(syncd)      /*  app-state sync: keys, patches, uploads    */         \
    cap(mediamsg)   /*  media_conn for media uploads              */
// clang-format on

#define WA_CLIENT_CAP_DECLARE(name)                                            \
    extern const wa_client_cap_t wa_##name##_cap;
WA_CLIENT_CAPS(WA_CLIENT_CAP_DECLARE)
#undef WA_CLIENT_CAP_DECLARE

//  Opaque state of the capability modules (defined in their files).
typedef struct _wa_outbox_job_t wa_outbox_job_t;
typedef struct _wa_outbox_sent_t wa_outbox_sent_t;
typedef struct _wa_inbox_held_t wa_inbox_held_t;
typedef struct _wa_syncd_state_t wa_syncd_state_t;
typedef struct _wa_mediamsg_state_t wa_mediamsg_state_t;
typedef struct _wa_lidmap_t wa_lidmap_t;

struct _wa_client_t {
    //  Core
    wa_client_config_t cfg; //  config (strings owned)
    wa_client_ops_t ops;    //  owner callbacks
    void *arg;              //  their argument
    wa_signal_t *signal;    //  libsignal context
    wa_sigstore_t *store;   //  Signal state
    wa_payload_t *payload;  //  ClientPayload settings
    wa_iq_t *iq;            //  IQ waiters
    wa_usync_t *usync;      //  device lists
    wa_router_t *router;    //  incoming stanza routes

    //  Credentials (core)
    bool have_creds;         //  keys exist
    uint8_t noise_priv[32];  //  Noise static key
    uint8_t noise_pub[32];   //  its public half
    uint8_t adv_secret[32];  //  ADV secret (QR / derived by pair code)
    uint32_t skey_id;        //  signed prekey id
    uint32_t next_prekey_id; //  next one-time prekey id to create
    bool paired;             //  linked to an account
    char *me_jid;            //  our device JID (PN)
    char *me_lid;            //  our device JID (LID) or NULL
    char *push_name;         //  our push name or NULL
    char *platform_name;     //  the primary's platform
    char *business_name;     //  business name or NULL
    uint8_t *account;        //  ADV signed device identity (4 fields)
    size_t account_len;      //  its length
    uint32_t key_index;      //  its key index

    //  Derived from me_jid / me_lid (core)
    char *me_pn_user;  //  "<phone>@s.whatsapp.net"
    char *me_lid_user; //  "<lid>@lid" or NULL
    char *me_api;      //  "<phone>@c.us"
    char *me_lid_api;  //  "<lid>@lid" or NULL
    int me_device;     //  our device id

    //  Connection (core)
    wa_client_conn_t conn; //  where we are
    bool restart_pending;  //  paired on this connection: 515 next
    bool online_reported;  //  WORKING reported on this connection

    //  QR (core)
    char **refs;         //  refs of the last pair-device
    size_t nrefs;        //  their number
    size_t ref_at;       //  ref shown
    char *qr;            //  QR string shown, or NULL
    int64_t qr_deadline; //  rotation time, -1 none

    //  Pair code (core)
    bool pc_wanted; //  a code was requested
    bool pc_sent;   //  companion_hello sent on this connection
    char pc_code[WA_PAIR_CODE_LEN + 1]; //  the code
    char *pc_phone;                     //  phone digits
    uint8_t pc_priv[32];                //  pairing ephemeral key
    uint8_t pc_pub[32];                 //  its public half
    uint8_t *pc_ref;                    //  server ref
    size_t pc_ref_len;                  //  its length
    int64_t pc_deadline;                //  give up time, -1 none

    //  Keepalive (core)
    int64_t ka_due;   //  next ping, -1 none
    bool ka_inflight; //  a ping is waiting for its reply
    int ka_misses;    //  consecutive timeouts

    //  Prekeys (core)
    bool uploading; //  a prekey upload is in flight

    //  Sending (wa_outbox)
    wa_outbox_job_t *jobs;  //  send jobs
    wa_outbox_sent_t *sent; //  recent sends (ring)
    size_t sent_at;         //  next ring slot

    //  Receiving (wa_inbox)
    zhashx_t *seen;             //  key -> "held" / "done"
    char **seen_ring;           //  keys in arrival order
    size_t seen_at;             //  next ring slot
    wa_inbox_held_t *held;      //  receipts held, newest first
    wa_inbox_held_t *held_tail; //  the oldest held receipt
    size_t nheld;               //  their number
    uint64_t next_token;        //  token counter
    zhashx_t *retries;          //  "<sender>|<id>" -> retry receipts sent
    zhashx_t *retry_ts;         //  "<sender>|<id>" -> first copy's `t`

    //  Groups (wa_groupcache)
    zhashx_t *groups; //  group JID -> wa_group_t
    zhashx_t *skdm;   //  group JID -> set of device JIDs that have our
                      //  sender key

    //  App state (wa_syncd)
    wa_syncd_state_t *syncd; //  keys wanted, fetches, uploads
    //  Media (wa_mediamsg)
    wa_mediamsg_state_t *media; //  media_conn cache and its waiters

    //  LID <-> phone number map (wa_lidmap)
    wa_lidmap_t *lidmap; //  the account's pairs (ours not included)

    //  Device identities (wa_devident)
    zhashx_t *idents;    //  sender device -> digest of the identity it
                         //  last proved (both signatures held)
    size_t ident_checks; //  signature checks made (for tests)
    zhashx_t *vouch;     //  user -> pkmsgs waiting while its device list
                         //  and its primary's bundle are fetched
    bool vouch_replay;   //  wa_inbox is reading a held pkmsg again

    int64_t armed;   //  armed wake-up deadline, -1 none
    bool destroying; //  no upcalls while tearing down
};

//  ---------------------------------------------------------------------
//  What the core gives the capability modules (wa_client.c)

//  Session name for logs ("" when none).
const char *wa_client_name(wa_client_t *self);

//  The owner's monotonic clock (ms).
int64_t wa_client_now(wa_client_t *self);

//  Wall clock in seconds.
int64_t wa_client_wall_s(void);

//  True on a live connection (not offline, not closing).
bool wa_client_live(wa_client_t *self);

//  Send a stanza (taken). Dropped when there is no live connection.
//  Returns the owner's send result, or -1.
int wa_client_send_node(wa_client_t *self, wa_node_t **node_p);

//  Send an IQ (taken) with a fresh id and a waiter, due in the configured
//  IQ timeout. Returns 0, or -1 when there is no live connection (no
//  waiter registered, fn not called).
int wa_client_request(wa_client_t *self, wa_node_t **iq_p, wa_iq_fn *fn,
                      void *arg);

//  Recompute and arm the owner's wake-up (after work outside
//  wa_client_handle / wa_client_wake, e.g. in an IQ callback).
void wa_client_rearm(wa_client_t *self);

//  Report an event to the owner (not while destroying). Returns the
//  owner's answer (messages: defer the receipt).
bool wa_client_emit(wa_client_t *self, const wa_client_event_t *ev);

//  Tell the owner the credentials changed.
void wa_client_creds_changed(wa_client_t *self);

//  User JID text (no device) of any JID text, or NULL. Caller owns
//  return value.
char *wa_client_user_of(const char *text);

//  Our Signal address name in the chat's address space (LID or PN);
//  "" when unknown.
void wa_client_own_address(wa_client_t *self, bool lid,
                           char name[WA_SEND_NAME_MAX]);

//  ---------------------------------------------------------------------
//  What capability modules offer the core's public functions

//  wa_inbox: see wa_client_receipt_commit, wa_client_send_seen.
int wa_inbox_commit(wa_client_t *self, uint64_t token);
//  Handle a <message> stanza again, as if it had just arrived (held
//  pkmsgs, wa_devident).
void wa_inbox_replay(wa_client_t *self, const wa_node_t *node);
int wa_inbox_send_seen(wa_client_t *self, const char *chat,
                       const char *participant, const char *const *ids,
                       size_t count, bool played);

//  wa_outbox: see wa_client_send_message, wa_client_send_text.
int wa_outbox_send_message(wa_client_t *self, const char *chat,
                           const uint8_t *msg, size_t len,
                           char id[WA_CLIENT_ID_MAX]);
//  A peer message (protocol message) to our own phone only: device 0 of
//  our account, category="peer", not wrapped as a DeviceSentMessage
//  (app-state key requests).
int wa_outbox_send_peer(wa_client_t *self, const uint8_t *msg, size_t len,
                        char id[WA_CLIENT_ID_MAX]);

//  As wa_outbox_send_message with the id `want` (NULL: a new one).
int wa_outbox_send_message_as(wa_client_t *self, const char *chat,
                              const uint8_t *msg, size_t len, const char *want,
                              char id[WA_CLIENT_ID_MAX]);
//  A post to channel `chat` (a …@newsletter JID) with the handle of its
//  unencrypted media upload (media_id; NULL: none).
int wa_outbox_send_post(wa_client_t *self, const char *chat, const uint8_t *msg,
                        size_t len, const char *media_id,
                        char id[WA_CLIENT_ID_MAX]);
//  A status to status@broadcast for these recipients (user JIDs, 1..n;
//  ours are skipped) under the id `want` (NULL: a new one).
int wa_outbox_send_status(wa_client_t *self, const uint8_t *msg, size_t len,
                          const char *const *recipients, size_t n,
                          const char *want, char id[WA_CLIENT_ID_MAX]);
int wa_outbox_send_text(wa_client_t *self, const char *chat, const char *text,
                        const char *reply_id, const char *reply_participant,
                        char id[WA_CLIENT_ID_MAX]);

//  wa_groupcache: see wa_client_forget_group, wa_client_rotate_group_key.
void wa_groupcache_forget(wa_client_t *self, const char *group);
void wa_groupcache_rotate(wa_client_t *self, const char *group);
//  The set of devices that hold our sender key for group (made empty
//  when there is none).
zhashx_t *wa_groupcache_holders(wa_client_t *self, const char *group);

//  wa_syncd: a peer protocol message from our own account (the
//  serialised Message): app-state key share. Returns 0 or -1.
int wa_syncd_on_peer(wa_client_t *self, const uint8_t *msg, size_t len);
//  wa_lidmap: the session's LID <-> phone number map (see also
//  wa_client_learn_lid, wa_client_load_lid, wa_client_lid_of in
//  wa_client.h). Lookups take any JID text of a user (device, @c.us) and
//  answer user JIDs, borrowed until the map changes; our own account is
//  answered from me_jid / me_lid. NULL when unknown.
const char *wa_client_lid_for(wa_client_t *self, const char *pn);
const char *wa_client_pn_for(wa_client_t *self, const char *lid);
//  The LID device JID ("123:4@lid") of a PN device of someone else
//  whose LID is known, else NULL: Wharf encrypts and decrypts under the
//  LID address then. Caller owns return value.
char *wa_client_lid_device(wa_client_t *self, const char *device);
//  The phone number device JID ("1555:4@s.whatsapp.net") of a LID
//  device of someone else whose number is known, else NULL: what the
//  API shows. Caller owns return value.
char *wa_client_pn_device(wa_client_t *self, const char *device);
//  The phone number user JID of a LID chat (user JID) whose number is
//  known, else NULL: one chat per person. Caller owns return value.
char *wa_client_lid_chat(wa_client_t *self, const char *chat);
//  Rewrite a received stanza's source for the map (wa_inbox): a LID
//  chat, sender device and group participant to the phone number's
//  when known,
//  sender_alt from the map when the stanza had none. (wa_inbox decrypts
//  under wa_client_lid_device of the sender.)
void wa_client_lid_source(wa_client_t *self, wa_recv_source_t *src);
//  Learn every pair a stanza shows (attributes, <participant jid lid|
//  phone_number>, usync <user jid><lid val/>). The module's see hook
//  does it for every incoming stanza and IQ reply; for other sources
//  (history sync payloads turned into nodes, tests).
void wa_client_lid_learn_node(wa_client_t *self, const wa_node_t *node);
//  A LID migration mapping sync payload from our own phone (wa_inbox;
//  LIDMigrationMappingSyncPayload bytes): learn each pair (assigned
//  LID, as whatsmeow) with wa_client_learn_lid, so PN sessions move to
//  the LID. Returns the pairs read, or -1 when the payload is bad.
int wa_client_lid_sync(wa_client_t *self, const uint8_t *data, size_t len);

//  wa_tctoken: privacy tokens of 1:1 chats (see wa_tctoken.c). `chat`
//  is any JID text of the contact (PN or LID).
//  Longest token kept; seconds of a token bucket; buckets a token lives.
#define WA_TCTOKEN_MAX 256
//  Longest NCT salt kept (WhatsApp's is 32 bytes).
#define WA_NCT_SALT_MAX 64
#define WA_TCTOKEN_BUCKET_S 604800
#define WA_TCTOKEN_BUCKETS 4
//  True when a token of time t (seconds) is expired at `now`.
bool wa_tctoken_expired(int64_t t, int64_t now);
//  Keep a token `issuer` issued to us (unless ours is newer). Returns 1
//  stored, 0 kept the newer one, -1 invalid.
int wa_tctoken_store(wa_client_t *self, const char *issuer, int64_t t,
                     const uint8_t *token, size_t len);
//  Add <tctoken> (returns 1) or, without a token, <cstoken> (2) to a
//  DM stanza for chat; 0 when there is neither.
int wa_tctoken_attach(wa_client_t *self, const char *chat, wa_node_t *m);
//  Remove <tctoken> / <cstoken> children of a stanza.
void wa_tctoken_detach(wa_node_t *m);
//  The IQ that issues our token to chat (and asks for theirs); notes
//  the issuance. Caller owns return value; NULL when chat is no user.
wa_node_t *wa_tctoken_issue_iq(wa_client_t *self, const char *chat);
//  Store the tokens in the answer to that IQ. Returns the number.
int wa_tctoken_on_issued(wa_client_t *self, const char *chat,
                         const wa_node_t *reply);
//  A DM to chat was accepted: issue our token to the contact unless
//  done in this bucket (fire and forget).
void wa_tctoken_sent(wa_client_t *self, const char *chat);

//  wa_devident: device identity checks (see wa_devident.c).
//  Check an ADVSignedKeyIndexList against the account key; *valid_p
//  gets the signed key indexes (caller frees). Returns 0 or -1.
int wa_devident_check_list(const uint8_t *kil, size_t len,
                           const uint8_t account_key[32], uint32_t **valid_p,
                           size_t *nvalid);
//  True unless the account's signed key-index list leaves the device
//  (JID text, from the cached device list) out.
bool wa_devident_covered(wa_client_t *self, const char *device);
//  False when a message stanza from sender (device JID, under the
//  address it is decrypted with) carries a pkmsg whose <device-identity>
//  does not hold (logged).
bool wa_devident_pkmsg_ok(wa_client_t *self, const wa_node_t *node,
                          const char *sender);
//  What wa_inbox does with a message stanza from sender (as above):
//  read it (WA_DEVIDENT_OK), refuse it (WA_DEVIDENT_REFUSED, logged), or
//  nothing yet (WA_DEVIDENT_HELD): a companion's pkmsg whose account key
//  or signed key-index list is not known waits while they are fetched
//  (usync, the primary's bundle), then comes back through
//  wa_inbox_replay and is checked against them; an account key that
//  could not be fetched refuses it. While one of a user's stanzas is
//  held, every later one from that user is held behind it.
#define WA_DEVIDENT_OK 0
#define WA_DEVIDENT_REFUSED 1
#define WA_DEVIDENT_HELD 2
int wa_devident_pkmsg_vouch(wa_client_t *self, const wa_node_t *node,
                            const char *sender);

//  ---------------------------------------------------------------------
//  Test support for the capability modules' self tests

//  A test client: logged in as device 1 of `phone` on a connection that
//  records every stanza the client sends; clock and events are the
//  kit's.
typedef struct {
    wa_client_t *client; //  the client (logged in)
    zlistx_t *out;       //  stanzas sent (wa_node_t)
    zlistx_t *events;    //  events as text: "message <id> <body>",
                         //  "ack <id> <level>", "sent <id> ok|<error>",
                         //  "group <id> <group> <actor|-> <first tag>"
    zlistx_t *lids;      //  LID pairs reported: "<lid> <pn>"
    int64_t now;         //  the client's clock (ms)
    int64_t deadline;    //  armed wake-up, -1 none
    int64_t message_t;   //  timestamp of the last message event (s)
    bool blob_fails;     //  answer app-state blob events at once, failed
} wa_client_kit_t;

//  New kit. Caller owns return value.
wa_client_kit_t *wa_client_kit_new(const char *phone);
void wa_client_kit_destroy(wa_client_kit_t **self_p);
//  Hand the client a stanza written as text; returns wa_client_handle's
//  result.
int wa_client_kit_handle(wa_client_kit_t *self, const char *text);
//  The first recorded stanza with `tag`, detached (caller owns), or NULL.
wa_node_t *wa_client_kit_take(wa_client_kit_t *self, const char *tag);
//  The first recorded event, detached (caller owns), or NULL.
char *wa_client_kit_event(wa_client_kit_t *self);
//  Assert that the next recorded event is `text` (and take it).
void wa_client_kit_expect(wa_client_kit_t *self, const char *text);

//  wa_kinds: a link preview's fields into an extendedTextMessage
//  (matchedText, title, description, JPEG thumbnail, preview type, and
//  the uploaded high-quality thumbnail when hq_path is set).
struct Wa__E2e__ExtendedTextMessage;
void wa_kinds_set_preview(struct Wa__E2e__ExtendedTextMessage *ext,
                          const wa_kinds_preview_t *preview);

#endif
