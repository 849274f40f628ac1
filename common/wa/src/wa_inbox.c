/*  wa_inbox - incoming messages and receipts

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A capability module of wa_client (see wa_client_int.h). It routes

        <message>                    decrypt (wa_recv), report a MESSAGE
                                     event, confirm it (wa-protocol.md
                                     §7.6-7.9)
        <receipt> (not type=retry)   report ACK events, ack it

    and sends our own read receipts (wa_client_send_seen).

    Nothing lost (issue 5 item 8): the confirmation of a message (its
    delivery receipt, or an ack for channels) is held until the owner
    commits the event's token (wa_client_receipt_commit), so a crash
    before the owner stored it makes the server deliver it again. Keys
    of recent messages ("<chat>|<sender>|<id>") remember whether their
    confirmation is held or sent, so a message delivered again is not
    reported twice. Messages we cannot decrypt get retry receipts, a few
    per message, then an ack; so does a message whose counter was used
    already (the sender reused a message key) when its id is not one we
    handled: dropping it as a duplicate would lose it.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "cm/cm.h"
#include "wa/wa_crypto.h"
#include "wa/wa_e2e.h"
#include "wa/wa_jid.h"
#include "wa/wa_keys.h"
#include "wa/wa_message.h"
#include "wa/wa_recv.h"
#include "wa/wa_send.h"
#include "wa/wa_sigstore.h"
#include "wa_client_int.h"

//  Received message keys remembered for de-duplication.
#define S_SEEN_MAX 512
//  Receipts held for the owner at most (a backlog of messages waiting
//  for the owner's store can run into thousands).
#define S_HELD_MAX 8192

//  A delivery receipt waiting for the owner's commit.
struct _wa_inbox_held_t {
    uint64_t token;        //  event token
    wa_node_t *receipt;    //  receipt or ack to send
    char *seen_key;        //  de-duplication key
    wa_inbox_held_t *next; //  older neighbour
    wa_inbox_held_t *prev; //  newer neighbour
};

//  Add a held receipt as the newest.
static void
s_held_push(wa_client_t *self, wa_inbox_held_t *h)
{
    h->prev = NULL;
    h->next = self->held;
    if (self->held) {
        self->held->prev = h;
    } else {
        self->held_tail = h;
    }
    self->held = h;
    self->nheld++;
}

//  Take a held receipt out of the list (the caller frees it).
static void
s_held_unlink(wa_client_t *self, wa_inbox_held_t *h)
{
    if (h->prev) {
        h->prev->next = h->next;
    } else {
        self->held = h->next;
    }
    if (h->next) {
        h->next->prev = h->prev;
    } else {
        self->held_tail = h->prev;
    }
    h->next = h->prev = NULL;
    self->nheld--;
}

//  De-duplication: 0 unknown, 1 held for the owner, 2 done.
static int
s_seen(wa_client_t *self, const char *key)
{
    return (int)(intptr_t)zhashx_lookup(self->seen, key);
}

static void
s_seen_set(wa_client_t *self, const char *key, int state)
{
    if (zhashx_lookup(self->seen, key)) {
        zhashx_update(self->seen, key, (void *)(intptr_t)state);
        return;
    }
    char *old = self->seen_ring[self->seen_at];
    if (old) {
        zhashx_delete(self->seen, old);
        free(old);
    }
    self->seen_ring[self->seen_at] = cm_strdup(key);
    self->seen_at = (self->seen_at + 1) % S_SEEN_MAX;
    zhashx_insert(self->seen, key, (void *)(intptr_t)state);
}

//  The answer that confirms a message: receipt, or an ack for channels.
static wa_node_t *
s_confirmation(const wa_node_t *node, const wa_recv_source_t *src)
{
    return src->is_newsletter ? wa_recv_ack(node, 0)
                              : wa_recv_receipt(node, src);
}

//  Tell the owner a message is waiting for the sender to send it again
//  (WAHA's message.waiting), once per message.
static void
s_report_waiting(wa_client_t *self, const wa_recv_source_t *src)
{
    wa_client_event_t ev = {.type = WA_CLIENT_EVENT_WAITING};
    wa_client_waiting_t *w = &ev.u.waiting;
    w->id = src->id;
    w->chat = src->chat;
    w->sender = src->sender;
    w->participant = src->is_group ? src->sender_user : NULL;
    w->from_me = src->from_me;
    w->is_group = src->is_group;
    w->timestamp = src->timestamp ? src->timestamp : wa_client_wall_s();
    w->push_name = src->push_name;
    wa_client_emit(self, &ev);
}

//  Send a retry receipt (or give up after max_retries).
static void
s_send_retry_receipt(wa_client_t *self, const wa_node_t *node,
                     const wa_recv_source_t *src)
{
    char *key = cm_sprintf("%s|%s", src->sender, src->id);
    int count = (int)(intptr_t)zhashx_lookup(self->retries, key) + 1;
    if (zhashx_size(self->retries) > 1024) {
        zhashx_purge(self->retries);
        zhashx_purge(self->retry_ts);
    }
    zhashx_update(self->retries, key, (void *)(intptr_t)count);
    //  The copy sent again after this receipt gets a new `t` from the
    //  server; the message keeps the first copy's, so its events keep
    //  their ids (a worker that stored them before it died is not sent
    //  them twice)
    if (src->timestamp > 0 && !zhashx_lookup(self->retry_ts, key)) {
        zhashx_insert(self->retry_ts, key, (void *)(intptr_t)src->timestamp);
    }
    free(key);
    if (count > self->cfg.max_retries) {
        cm_log_warn("could not decrypt message, giving up",
                    "session=%s id=%s sender=%s", wa_client_name(self), src->id,
                    src->sender);
        wa_node_t *ack = wa_recv_ack(node, 0);
        wa_client_send_node(self, &ack);
        return;
    }
    cm_log_info("could not decrypt message, asking for a retry",
                "session=%s id=%s sender=%s count=%d", wa_client_name(self),
                src->id, src->sender, count);
    if (count == 1) {
        s_report_waiting(self, src);
    }
    uint8_t priv[32];
    uint8_t pub[32];
    uint32_t reg_id = 0;
    if (wa_sigstore_identity(self->store, priv, pub, &reg_id) != 0) {
        return;
    }
    wa_crypto_wipe(priv, sizeof priv);
    wa_node_t *receipt = wa_recv_retry_receipt(node, count, reg_id);
    if (receipt && count > 1) {
        //  A fresh one-time prekey for the sender to start over with
        uint32_t id = self->next_prekey_id;
        self->next_prekey_id =
            id >= WA_CLIENT_PREKEY_ID_MAX ? 1 : self->next_prekey_id + 1;
        wa_client_creds_changed(self);
        wa_node_t *keys = NULL;
        if (wa_sigstore_generate_prekeys(self->store, id, 1) == 0) {
            keys = wa_keys_retry_keys(self->store, id, self->skey_id,
                                      self->account, self->account_len);
        }
        if (keys) {
            wa_node_append(receipt, &keys);
        }
    }
    wa_client_send_node(self, &receipt);
}

static int
s_on_message(void *arg, const wa_node_t *node)
{
    wa_client_t *self = (wa_client_t *)arg;
    wa_recv_source_t src;
    if (!self->paired ||
        wa_recv_source(&src, node, self->me_jid, self->me_lid) != 0) {
        cm_log_warn("could not parse message stanza", "session=%s id=%s",
                    wa_client_name(self), wa_node_attr_or(node, "id", ""));
        wa_node_t *ack = wa_recv_ack(node, WA_RECV_NACK_PARSE);
        wa_client_send_node(self, &ack);
        return 0;
    }
    wa_client_lid_source(self, &src); //  LID map (wa_lidmap)
    char *key = cm_sprintf("%s|%s|%s", src.chat, src.sender_user, src.id);
    int seen = s_seen(self, key);
    if (seen) {
        //  Held: the receipt goes out on commit. Done: confirm again.
        if (seen == 2) {
            wa_node_t *confirm = s_confirmation(node, &src);
            wa_client_send_node(self, &confirm);
        }
        free(key);
        wa_recv_source_clear(&src);
        return 0;
    }
    wa_recv_result_t res;
    //  Decrypt under the sender's LID address when known (wa_lidmap)
    char *sender = src.sender;
    char *lid_dev = wa_client_lid_device(self, sender);
    src.sender = lid_dev ? lid_dev : sender;
    int vouch = wa_devident_pkmsg_vouch(self, node, src.sender);
    if (vouch == WA_DEVIDENT_HELD) {
        //  Its account is being fetched: read again then, unconfirmed
        //  until (wa_devident)
        src.sender = sender;
        free(lid_dev);
        free(key);
        wa_recv_source_clear(&src);
        return 0;
    }
    if (vouch != WA_DEVIDENT_OK) {
        //  A companion the account did not vouch for: never read
        src.sender = sender;
        free(lid_dev);
        wa_node_t *nack = wa_recv_ack(node, 500);
        wa_client_send_node(self, &nack);
        free(key);
        wa_recv_source_clear(&src);
        return 0;
    }
    wa_recv_decrypt(self->store, node, &src, &res);
    src.sender = sender;
    free(lid_dev);
    switch (res.status) {
    case WA_RECV_OK: {
        if (src.from_me && wa_message_protocol_type(res.message) == 6) {
            //  APP_STATE_SYNC_KEY_SHARE from our phone: wa_syncd's
            wa_syncd_on_peer(self, res.plain, res.plain_len);
        }
        size_t sync_len = 0;
        const uint8_t *sync =
            src.from_me ? wa_message_lid_sync(res.message, &sync_len) : NULL;
        if (sync) {
            //  LID_MIGRATION_MAPPING_SYNC from our phone: wa_lidmap's
            wa_client_lid_sync(self, sync, sync_len);
        }
        wa_client_event_t ev = {.type = WA_CLIENT_EVENT_MESSAGE};
        wa_client_message_t *m = &ev.u.message;
        const char *chat = src.chat;
        const char *dest = wa_message_dsm_destination(res.message);
        char *dest_user = src.from_me && !src.is_group && dest
                              ? wa_client_user_of(dest)
                              : NULL;
        char *dest_pn = wa_client_lid_chat(self, dest_user); //  wa_lidmap
        if (dest_pn) {
            free(dest_user);
            dest_user = dest_pn;
        }
        if (dest_user) {
            chat = dest_user;
        }
        m->id = src.id;
        m->chat = chat;
        m->sender = src.sender;
        m->participant = src.is_group ? src.sender_user : NULL;
        m->to = src.from_me ? chat : (src.is_group ? chat : self->me_pn_user);
        m->from_me = src.from_me;
        m->is_group = src.is_group;
        m->timestamp = src.timestamp ? src.timestamp : wa_client_wall_s();
        char *retried = cm_sprintf("%s|%s", src.sender, src.id);
        intptr_t first_t = (intptr_t)zhashx_lookup(self->retry_ts, retried);
        if (first_t > 0) {
            m->timestamp = (int64_t)first_t;
            zhashx_delete(self->retry_ts, retried);
        }
        free(retried);
        m->push_name = src.push_name;
        m->sender_alt = src.sender_alt;
        m->type = wa_message_type(res.message);
        m->body = wa_message_body(res.message);
        m->has_media = wa_message_has_media(res.message);
        m->reply_to = wa_message_reply_id(res.message);
        m->message = res.message;
        m->raw = res.plain;
        m->raw_len = res.plain_len;
        //  Hold the confirmation first: the owner may commit from inside
        //  the callback
        wa_inbox_held_t *h = cm_alloc(sizeof *h);
        h->token = self->next_token++;
        h->receipt = s_confirmation(node, &src);
        h->seen_key = cm_strdup(key);
        s_held_push(self, h);
        m->token = h->token;
        s_seen_set(self, key, 1);
        bool defer = wa_client_emit(self, &ev);
        if (!defer) {
            wa_inbox_commit(self, m->token);
        }
        free(dest_user);
        break;
    }
    case WA_RECV_DUPLICATE:
        //  An old counter on a message id this client has not handled:
        //  not a delivery of one it read (those are in `seen`), so the
        //  sender used a message key twice (a sender that lost state).
        //  Dropping it would lose the message; a retry makes the sender
        //  encrypt it again with a fresh key (issue 12 item 1)
        cm_log_warn("message with an old counter, asking for a retry",
                    "session=%s id=%s sender=%s", wa_client_name(self), src.id,
                    src.sender);
        s_send_retry_receipt(self, node, &src);
        break;
    case WA_RECV_EMPTY: {
        wa_node_t *confirm = s_confirmation(node, &src);
        wa_client_send_node(self, &confirm);
        s_seen_set(self, key, 2);
        break;
    }
    case WA_RECV_RETRY:
        s_send_retry_receipt(self, node, &src);
        break;
    case WA_RECV_NACK: {
        cm_log_warn("could not use message stanza",
                    "session=%s id=%s "
                    "error=%d",
                    wa_client_name(self), src.id, res.error);
        wa_node_t *ack = wa_recv_ack(node, res.error);
        wa_client_send_node(self, &ack);
        break;
    }
    }
    //  Bound the held list: the oldest are dropped (the server will
    //  deliver them again)
    while (self->nheld > S_HELD_MAX) {
        wa_inbox_held_t *h = self->held_tail;
        s_held_unlink(self, h);
        zhashx_delete(self->seen, h->seen_key);
        wa_node_destroy(&h->receipt);
        free(h->seen_key);
        free(h);
    }
    wa_recv_result_clear(&res);
    wa_recv_source_clear(&src);
    free(key);
    return 0;
}

static int
s_ack_level(const char *type)
{
    if (!type || cm_streq(type, "inactive")) {
        return WA_CLIENT_ACK_DEVICE;
    }
    if (cm_streq(type, "read") || cm_streq(type, "read-self")) {
        return WA_CLIENT_ACK_READ;
    }
    if (cm_streq(type, "played") || cm_streq(type, "played-self")) {
        return WA_CLIENT_ACK_PLAYED;
    }
    return 0;
}

//  Receipts from others (retry requests go to wa_outbox).
void
wa_inbox_replay(wa_client_t *self, const wa_node_t *node)
{
    s_on_message(self, node);
}

static int
s_on_receipt(void *arg, const wa_node_t *node)
{
    wa_client_t *self = (wa_client_t *)arg;
    wa_recv_receipt_t r;
    if (wa_recv_receipt_parse(&r, node, self->me_jid, self->me_lid) == 0) {
        int level = s_ack_level(r.type);
        //  Our own devices only matter when they read something
        if (r.from_me && level == WA_CLIENT_ACK_DEVICE) {
            level = 0;
        }
        char *chat_pn = wa_client_lid_chat(self, r.chat); //  wa_lidmap
        for (size_t i = 0; level && i < r.count; i++) {
            wa_client_event_t ev = {.type = WA_CLIENT_EVENT_ACK};
            ev.u.ack.id = r.items[i].id;
            ev.u.ack.chat = chat_pn ? chat_pn : r.chat;
            //  A LID member's receipt by its number (wa_lidmap)
            char *pn_dev = wa_client_pn_device(self, r.items[i].sender);
            ev.u.ack.participant = pn_dev ? pn_dev : r.items[i].sender;
            ev.u.ack.from_me = r.from_me;
            ev.u.ack.ack = level;
            ev.u.ack.timestamp = r.items[i].timestamp;
            wa_client_emit(self, &ev);
            free(pn_dev);
        }
        free(chat_pn);
        wa_recv_receipt_clear(&r);
    } else {
        cm_log_warn("could not parse receipt", "session=%s",
                    wa_client_name(self));
    }
    wa_node_t *ack = wa_recv_ack(node, 0);
    wa_client_send_node(self, &ack);
    return 0;
}

int
wa_inbox_send_seen(wa_client_t *self, const char *chat, const char *participant,
                   const char *const *ids, size_t count, bool played)
{
    if (!wa_client_ready(self) || !chat || !ids || count == 0 || count > 1000) {
        return -1;
    }
    char *wire = wa_jid_normalize(chat);
    wa_jid_t *jid = wire ? wa_jid_new_from(wire) : NULL;
    bool group = jid && wa_jid_is_group(jid);
    bool ok = jid && !wa_jid_is_server(jid);
    wa_jid_destroy(&jid);
    for (size_t i = 0; ok && i < count; i++) {
        ok = ids[i] && *ids[i] && strlen(ids[i]) < WA_CLIENT_ID_MAX;
    }
    if (!ok) {
        free(wire);
        return -1;
    }
    wa_node_t *r = wa_node_new("receipt");
    wa_node_set_attr(r, "id", ids[0]);
    wa_node_set_attr(r, "to", wire);
    wa_node_set_attr(r, "type", played ? "played" : "read");
    wa_node_set_attr_int(r, "t", wa_client_wall_s());
    free(wire);
    if (group && participant) {
        //  The API form ("…@c.us") is no wire JID: normalise it first
        char *n = wa_jid_normalize(participant);
        char *p = n ? wa_client_user_of(n) : NULL;
        free(n);
        if (p) {
            wa_node_set_attr(r, "participant", p);
        }
        free(p);
    }
    if (count > 1) {
        wa_node_t *list = wa_node_add(r, "list");
        for (size_t i = 1; i < count; i++) {
            wa_node_set_attr(wa_node_add(list, "item"), "id", ids[i]);
        }
    }
    return wa_client_send_node(self, &r);
}

int
wa_inbox_commit(wa_client_t *self, uint64_t token)
{
    //  The owner commits in arrival order as a rule: the oldest first.
    for (wa_inbox_held_t *h = self->held_tail; h; h = h->prev) {
        if (h->token != token) {
            continue;
        }
        s_held_unlink(self, h);
        int rc = wa_client_send_node(self, &h->receipt);
        s_seen_set(self, h->seen_key, 2);
        free(h->seen_key);
        free(h);
        return rc;
    }
    return -1;
}

static const wa_router_route_t s_routes[] = {
    {"message", NULL, NULL, s_on_message},
    {"receipt", NULL, NULL, s_on_receipt},
    {NULL, NULL, NULL, NULL}};

static void
s_start(wa_client_t *self)
{
    self->seen = zhashx_new();
    self->seen_ring = cm_alloc(S_SEEN_MAX * sizeof(char *));
    self->retries = zhashx_new();
    self->retry_ts = zhashx_new();
    self->next_token = 1;
}

static void
s_forget(wa_client_t *self)
{
    zhashx_purge(self->retries);
    zhashx_purge(self->retry_ts);
}

static void
s_stop(wa_client_t *self)
{
    while (self->held) {
        wa_inbox_held_t *h = self->held;
        self->held = h->next;
        wa_node_destroy(&h->receipt);
        free(h->seen_key);
        free(h);
    }
    for (size_t i = 0; i < S_SEEN_MAX; i++) {
        free(self->seen_ring[i]);
    }
    free(self->seen_ring);
    zhashx_destroy(&self->seen);
    zhashx_destroy(&self->retries);
    zhashx_destroy(&self->retry_ts);
}

const wa_client_cap_t wa_inbox_cap = {.name = "inbox",
                                      .routes = s_routes,
                                      .start = s_start,
                                      .stop = s_stop,
                                      .forget = s_forget};

//  ---------------------------------------------------------------------
//  Self test

//  Take the stanza `tag` sent with attribute key=value.
static void
t_sent(wa_client_kit_t *kit, const char *tag, const char *key,
       const char *value)
{
    wa_node_t *node = wa_client_kit_take(kit, tag);
    assert(node);
    assert(wa_node_attr_eq(node, key, value));
    wa_node_destroy(&node);
}

void
wa_inbox_test(bool verbose)
{
    printf(" * wa_inbox: ");
    (void)verbose;
    wa_client_kit_t *kit = wa_client_kit_new("15550000001");
    wa_client_t *client = kit->client;

    //  Receipts from others: an ACK event per message id, then an ack
    assert(wa_client_kit_handle(
               kit, "<receipt id=\"m1\" from=\"15550000002@s.whatsapp.net\" "
                    "t=\"1700000001\" type=\"read\"><list><item id=\"m2\"/>"
                    "</list></receipt>") == 0);
    wa_client_kit_expect(kit, "ack m1 3");
    wa_client_kit_expect(kit, "ack m2 3");
    wa_node_t *ack = wa_client_kit_take(kit, "ack");
    assert(ack && wa_node_attr_eq(ack, "class", "receipt"));
    assert(wa_node_attr_eq(ack, "id", "m1"));
    assert(wa_node_attr_eq(ack, "type", "read"));
    wa_node_destroy(&ack);
    assert(wa_client_kit_handle(
               kit, "<receipt id=\"m3\" from=\"15550000002@s.whatsapp.net\" "
                    "t=\"1700000001\"/>") == 0);
    wa_client_kit_expect(kit, "ack m3 2");
    t_sent(kit, "ack", "id", "m3");
    //  Our own devices' delivery receipts are no news
    assert(wa_client_kit_handle(
               kit, "<receipt id=\"m4\" from=\"15550000001:2@s.whatsapp.net\" "
                    "t=\"1700000001\"/>") == 0);
    assert(zlistx_size(kit->events) == 0);
    t_sent(kit, "ack", "id", "m4");

    //  A channel message (plaintext) is reported, then confirmed with an
    //  ack; delivered again it is confirmed, not reported
    const char *post = "<message id=\"p1\" from=\"120363000000000009@"
                       "newsletter\" t=\"1700000002\" type=\"text\">"
                       "<plaintext>0x0a0568656c6c6f</plaintext></message>";
    assert(wa_client_kit_handle(kit, post) == 0);
    wa_client_kit_expect(kit, "message p1 hello");
    t_sent(kit, "ack", "class", "message");
    assert(client->nheld == 0);
    assert(wa_client_kit_handle(kit, post) == 0);
    assert(zlistx_size(kit->events) == 0);
    t_sent(kit, "ack", "id", "p1");
    assert(zlistx_size(kit->out) == 0);

    //  What cannot be decrypted asks for a retry, a few times, then acks
    const char *bad = "<message id=\"m5\" from=\"15550000002@s.whatsapp.net\" "
                      "t=\"1700000003\" type=\"text\"><enc v=\"2\" "
                      "type=\"msg\">0x0102030405</enc></message>";
    for (int i = 1; i <= client->cfg.max_retries; i++) {
        assert(wa_client_kit_handle(kit, bad) == 0);
        if (i == 1) {
            //  message.waiting, once
            wa_client_kit_expect(kit, "waiting m5 15550000002@s.whatsapp.net");
        }
        wa_node_t *retry = wa_client_kit_take(kit, "receipt");
        assert(retry && wa_node_attr_eq(retry, "type", "retry"));
        assert(wa_node_attr_eq(retry, "id", "m5"));
        wa_node_destroy(&retry);
        zlistx_purge(kit->out);
    }
    assert(wa_client_kit_handle(kit, bad) == 0);
    t_sent(kit, "ack", "id", "m5");
    assert(zlistx_size(kit->events) == 0);

    //  Nothing to read in it: nacked as unrecognized
    assert(wa_client_kit_handle(kit, "<message id=\"m6\" from=\"15550000002"
                                     "@s.whatsapp.net\" t=\"1\"/>") == 0);
    ack = wa_client_kit_take(kit, "ack");
    assert(ack && wa_node_attr_eq(ack, "id", "m6"));
    assert(wa_node_attr(ack, "error"));
    wa_node_destroy(&ack);

    //  Read receipts we send: one stanza for several ids
    const char *ids[] = {"r1", "r2"};
    assert(wa_client_send_seen(client, "15550000002@c.us", NULL, ids, 2,
                               false) == 0);
    wa_node_t *r = wa_client_kit_take(kit, "receipt");
    assert(r && wa_node_attr_eq(r, "id", "r1"));
    assert(wa_node_attr_eq(r, "to", "15550000002@s.whatsapp.net"));
    assert(wa_node_attr_eq(r, "type", "read"));
    assert(wa_node_attr_eq(wa_node_find(r, "list/item"), "id", "r2"));
    wa_node_destroy(&r);
    assert(wa_client_send_seen(client, "120363000000000001@g.us",
                               "15550000002:3@s.whatsapp.net", ids, 1,
                               true) == 0);
    r = wa_client_kit_take(kit, "receipt");
    assert(r && wa_node_attr_eq(r, "type", "played"));
    assert(wa_node_attr_eq(r, "participant", "15550000002@s.whatsapp.net"));
    wa_node_destroy(&r);
    //  The sender in API form, as sendSeen's message ids carry it
    assert(wa_client_send_seen(client, "120363000000000001@g.us",
                               "15550000002@c.us", ids, 1, false) == 0);
    r = wa_client_kit_take(kit, "receipt");
    assert(r &&
           wa_node_attr_eq(r, "participant", "15550000002@s.whatsapp.net"));
    wa_node_destroy(&r);
    assert(wa_client_send_seen(client, "15550000002@c.us", NULL, ids, 0,
                               false) == -1);
    assert(wa_client_send_seen(client, "not a jid", NULL, ids, 1, false) == -1);
    assert(wa_client_receipt_commit(client, 999) == -1);

    //  An old counter under a message id not handled before: the sender
    //  used a message key twice (it lost Signal state). The message is
    //  not dropped: a retry receipt asks for it again (issue 12 item 1)
    zlistx_purge(kit->out);
    zlistx_purge(kit->events);
    wa_bundle_t bundle;
    memset(&bundle, 0, sizeof bundle);
    uint8_t priv[32];
    assert(wa_sigstore_identity(client->store, priv, bundle.identity,
                                &bundle.registration_id) == 0);
    assert(wa_sigstore_generate_signed_prekey(client->store, 77, bundle.skey,
                                              bundle.skey_sig) == 0);
    bundle.skey_id = 77;
    assert(wa_sigstore_generate_prekeys(client->store, 700, 1) == 0);
    assert(wa_sigstore_prekey(client->store, 700, bundle.prekey) == 0);
    bundle.prekey_id = 700;
    bundle.has_prekey = true;
    wa_sigstore_t *alice = wa_sigstore_new(client->signal);
    assert(wa_sigstore_generate_identity(alice) == 0);
    assert(wa_e2e_process_bundle(alice, "15550000001", 1, &bundle) == 0);
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    assert(wa_message_build_text("once", NULL, NULL, NULL, &plain,
                                 &plain_len) == 0);
    wa_node_t *enc = wa_send_enc(alice, "15550000001:1@s.whatsapp.net", plain,
                                 plain_len, NULL);
    assert(enc);
    for (int i = 0; i < 2; i++) {
        wa_node_t *m = wa_node_new("message");
        wa_node_set_attr(m, "id", i ? "d2" : "d1");
        wa_node_set_attr(m, "from", "15550000002@s.whatsapp.net");
        wa_node_set_attr(m, "t", "1700000004");
        wa_node_set_attr(m, "type", "text");
        wa_node_t *copy = wa_node_dup(enc);
        wa_node_append(m, &copy);
        assert(wa_client_handle(client, m) == 0);
        wa_node_destroy(&m);
    }
    //  d1 is read and confirmed; d2 (the same key again) gets a retry
    wa_client_kit_expect(kit, "message d1 once");
    wa_client_kit_expect(kit, "waiting d2 15550000002@s.whatsapp.net");
    assert(zlistx_size(kit->events) == 0);
    wa_node_t *retry = NULL;
    for (wa_node_t *n = zlistx_first(kit->out); n; n = zlistx_next(kit->out)) {
        if (wa_node_attr_eq(n, "type", "retry")) {
            assert(!retry);
            retry = n;
        }
    }
    assert(retry && streq(wa_node_tag(retry), "receipt"));
    assert(wa_node_attr_eq(retry, "id", "d2"));
    //  The sender's new copy of d2 comes with a new `t` from the server:
    //  the message keeps the first copy's, so the events of a worker that
    //  read it before dying keep their ids
    wa_node_destroy(&enc);
    enc = wa_send_enc(alice, "15550000001:1@s.whatsapp.net", plain, plain_len,
                      NULL);
    assert(enc);
    wa_node_t *again = wa_node_new("message");
    wa_node_set_attr(again, "id", "d2");
    wa_node_set_attr(again, "from", "15550000002@s.whatsapp.net");
    wa_node_set_attr(again, "t", "1700000099");
    wa_node_set_attr(again, "type", "text");
    wa_node_t *copy = wa_node_dup(enc);
    wa_node_append(again, &copy);
    assert(wa_client_handle(client, again) == 0);
    wa_node_destroy(&again);
    wa_client_kit_expect(kit, "message d2 once");
    assert(kit->message_t == 1700000004);
    wa_node_destroy(&enc);
    free(plain);
    wa_sigstore_destroy(&alice);

    wa_client_kit_destroy(&kit);
    printf("OK\n");
}
