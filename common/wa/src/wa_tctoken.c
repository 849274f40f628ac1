/*  wa_tctoken - privacy tokens (trusted-contact tokens) of 1:1 chats

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A capability module of wa_client (see wa_client_int.h).
    docs/protocol-fidelity.md rule 9; wa-protocol.md §7.4. Some accounts
    take DMs only when they carry a token the account issued to the
    sender; without it the server acks the message with error 463.

    Tokens come in
        <notification type="privacy_token" from=ISSUER>
          <tokens><token jid=US t type="trusted_contact">TOKEN</token>
          </tokens></notification>
    and in the answer to issuing our own token to a contact
        <iq xmlns="privacy" type="set" to="s.whatsapp.net"><tokens>
          <token jid=CONTACT t=NOW type="trusted_contact"/></tokens></iq>
        -> <iq type="result"><tokens><token jid=CONTACT t ...>TOKEN
           </token></tokens></iq>
    (whatsmeow reads the contact's token from that answer), and in
    history sync: Conversation tcToken 21, tcTokenTimestamp 22 (t),
    tcTokenSenderTimestamp 28 (when we last issued ours), learnt through
    wa_client_learn_tctoken by the session-worker (whatsmeow
    storeHistoricalMessageSecrets, Baileys 7 storeTcTokensFromHistorySync).
    They are kept in the Signal store (kind "tctoken", so they persist
    with the session, sealed at rest) under the contact's LID when
    known, else its number; a newer token is never replaced by an older
    one. A token is used for its 7-day bucket and the three after it
    (WhatsApp Web's tctoken_duration x tctoken_num_buckets; Baileys 7
    and whatsmeow use the same).

    wa_outbox attaches <tctoken> to every DM (wa_tctoken_attach), or
    <cstoken> = HMAC-SHA256(NCT salt, recipient LID "user@lid") when
    there is no token but a salt and the contact's LID (whatsmeow
    generateCsToken, Baileys 7 cs-token-utils). The salt (kind
    "nct_salt", key "salt") comes from history sync (HistorySync nctSalt
    19, a backfill: a stored salt is kept) and app state (["nct_salt_sync"]
    in regular_high, SyncActionValue nctSaltSyncAction 80 {salt 1}: set
    stores, remove clears; wa_syncd), through wa_client_set_nct_salt.
    On a 463 it issues our token
    (wa_tctoken_request), stores the answer's token and sends the same
    stanza once more with it; a second 463 fails the send (never a
    loop). After a DM is accepted it issues our token to the contact
    once per bucket (wa_tctoken_sent), as WhatsApp Web does, so the
    contact can answer.

    Record (kind "tctoken", key = user JID text):
        [0]     1 (version)
        [1..8]  t of the token, big-endian seconds (0: none)
        [9..16] when we last issued ours to the contact (0: never)
        [17..]  the token (at most WA_TCTOKEN_MAX bytes)
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "cm/cm.h"
#include "wa/wa_crypto.h"
#include "wa/wa_jid.h"
#include "wa/wa_sigstore.h"
#include "wa_client_int.h"

#define S_KIND "tctoken"
#define S_SALT_KIND "nct_salt"
#define S_HEAD 17
//  Tokens taken from one stanza at most (hostile input).
#define S_TOKENS_MAX 64

//  A stored record, decoded.
typedef struct {
    int64_t t;                     //  token time, 0 none
    int64_t sent;                  //  our issuance time, 0 never
    size_t len;                    //  token length
    uint8_t token[WA_TCTOKEN_MAX]; //  token
} s_rec_t;

static void
s_put64(uint8_t *p, int64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

static int64_t
s_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }
    return (int64_t)v;
}

//  The user JID tokens of `jid` are kept under: its LID when known.
//  Caller owns return value; NULL when jid is not a user.
static char *
s_key(wa_client_t *self, const char *jid)
{
    char *user = wa_client_user_of(jid);
    if (!user) {
        return NULL;
    }
    const char *lid = wa_client_lid_for(self, user);
    if (lid) {
        free(user);
        return cm_strdup(lid);
    }
    return user;
}

static bool
s_load(wa_client_t *self, const char *key, s_rec_t *rec)
{
    memset(rec, 0, sizeof *rec);
    size_t len = 0;
    const uint8_t *data =
        key ? wa_sigstore_get(self->store, S_KIND, key, &len) : NULL;
    if (!data || len < S_HEAD || data[0] != 1 ||
        len - S_HEAD > WA_TCTOKEN_MAX) {
        return false;
    }
    rec->t = s_get64(data + 1);
    rec->sent = s_get64(data + 9);
    rec->len = len - S_HEAD;
    memcpy(rec->token, data + S_HEAD, rec->len);
    return true;
}

static void
s_save(wa_client_t *self, const char *key, const s_rec_t *rec)
{
    uint8_t buf[S_HEAD + WA_TCTOKEN_MAX];
    buf[0] = 1;
    s_put64(buf + 1, rec->t);
    s_put64(buf + 9, rec->sent);
    memcpy(buf + S_HEAD, rec->token, rec->len);
    if (wa_sigstore_put(self->store, S_KIND, key, buf, S_HEAD + rec->len) !=
        0) {
        cm_log_warn("could not store privacy token", "session=%s",
                    wa_client_name(self));
    }
}

//  The record of a contact: under its LID, else under its number (a
//  token stored before the LID was known).
static bool
s_find(wa_client_t *self, const char *jid, s_rec_t *rec)
{
    char *key = s_key(self, jid);
    bool found = s_load(self, key, rec);
    if (!found) {
        char *user = wa_client_user_of(jid);
        const char *pn = user ? wa_client_pn_for(self, user) : NULL;
        found = s_load(self, pn ? pn : user, rec);
        free(user);
    }
    free(key);
    return found;
}

bool
wa_tctoken_expired(int64_t t, int64_t now)
{
    int64_t bucket = now / WA_TCTOKEN_BUCKET_S;
    return t <= 0 ||
           t < (bucket - (WA_TCTOKEN_BUCKETS - 1)) * WA_TCTOKEN_BUCKET_S;
}

int
wa_tctoken_store(wa_client_t *self, const char *issuer, int64_t t,
                 const uint8_t *token, size_t len)
{
    char *key = s_key(self, issuer);
    if (!key || !token || len == 0 || len > WA_TCTOKEN_MAX || t <= 0) {
        free(key);
        return -1;
    }
    s_rec_t rec;
    s_find(self, issuer, &rec);
    if (rec.t > t) {
        free(key);
        return 0; //  ours is newer
    }
    rec.t = t;
    rec.len = len;
    memcpy(rec.token, token, len);
    s_save(self, key, &rec);
    cm_log_debug("privacy token stored", "session=%s contact=%s",
                 wa_client_name(self), key);
    free(key);
    return 1;
}

int
wa_client_learn_tctoken(wa_client_t *self, const char *jid,
                        const uint8_t *token, size_t len, int64_t t,
                        int64_t sent)
{
    int rc = wa_tctoken_store(self, jid, t, token, len);
    if (rc < 0 || sent <= 0) {
        return rc;
    }
    //  When we last issued ours (Conversation tcTokenSenderTimestamp):
    //  no new issuance in that bucket (wa_tctoken_sent)
    s_rec_t rec;
    char *key = s_key(self, jid);
    if (key && s_find(self, jid, &rec) && sent > rec.sent) {
        rec.sent = sent;
        s_save(self, key, &rec);
    }
    free(key);
    return rc;
}

int
wa_client_set_nct_salt(wa_client_t *self, const uint8_t *salt, size_t len,
                       bool backfill)
{
    assert(self);
    if (!salt || len == 0) {
        if (wa_sigstore_get(self->store, S_SALT_KIND, "salt", NULL)) {
            wa_sigstore_remove(self->store, S_SALT_KIND, "salt");
        }
        cm_log_info("NCT salt cleared", "session=%s", wa_client_name(self));
        return 1;
    }
    if (len > WA_NCT_SALT_MAX) {
        return -1;
    }
    if (backfill && wa_sigstore_get(self->store, S_SALT_KIND, "salt", NULL)) {
        return 0;
    }
    if (wa_sigstore_put(self->store, S_SALT_KIND, "salt", salt, len) != 0) {
        cm_log_warn("could not store the NCT salt", "session=%s",
                    wa_client_name(self));
        return -1;
    }
    cm_log_info("NCT salt stored", "session=%s source=%s", wa_client_name(self),
                backfill ? "history" : "app-state");
    return 1;
}

//  Store the tokens of a <tokens> element; those without jid belong to
//  `fallback`. Returns the number stored.
static int
s_store_tokens(wa_client_t *self, const wa_node_t *tokens, const char *owner_of,
               const char *fallback)
{
    int stored = 0;
    size_t n = 0;
    for (const wa_node_t *t = tokens ? wa_node_child_next(tokens, "token", NULL)
                                     : NULL;
         t && n++ < S_TOKENS_MAX; t = wa_node_child_next(tokens, "token", t)) {
        size_t len = 0;
        const uint8_t *bytes = wa_node_bytes(t, &len);
        int64_t ts = 0;
        if (!wa_node_attr_eq(t, "type", "trusted_contact") || !bytes ||
            wa_node_attr_int(t, "t", &ts) != 0) {
            continue;
        }
        //  In notifications the token's jid is us and the issuer is the
        //  sender (owner_of); in IQ answers it is the contact
        const char *issuer =
            owner_of ? owner_of : wa_node_attr_or(t, "jid", fallback);
        if (wa_tctoken_store(self, issuer, ts, bytes, len) > 0) {
            stored++;
        }
    }
    return stored;
}

//  <notification type="privacy_token">: a contact issued its token to
//  us (the core acks the notification).
static int
s_on_privacy_token(void *arg, const wa_node_t *node)
{
    wa_client_t *self = (wa_client_t *)arg;
    const char *from = wa_node_attr(node, "from");
    const wa_node_t *tokens = wa_node_child(node, "tokens");
    //  Only tokens for us: their jid is our number or LID
    const wa_node_t *t = tokens ? wa_node_child(tokens, "token") : NULL;
    const char *jid = t ? wa_node_attr(t, "jid") : NULL;
    char *to = jid ? wa_client_user_of(jid) : NULL;
    bool ours = to && (cm_streq(to, self->me_pn_user) ||
                       cm_streq(to, self->me_lid_user));
    free(to);
    if (!from || !ours) {
        cm_log_info("privacy token notification ignored", "session=%s",
                    wa_client_name(self));
        return 0;
    }
    s_store_tokens(self, tokens, from, NULL);
    return 0;
}

int
wa_tctoken_attach(wa_client_t *self, const char *chat, wa_node_t *m)
{
    s_rec_t rec;
    if (s_find(self, chat, &rec) && rec.len > 0 &&
        !wa_tctoken_expired(rec.t, wa_client_wall_s())) {
        wa_node_set_bytes(wa_node_add(m, "tctoken"), rec.token, rec.len);
        return 1;
    }
    //  No token: a cstoken from the NCT salt, for a contact whose LID
    //  is known (whatsmeow, Baileys 7 cs-token)
    size_t salt_len = 0;
    const uint8_t *salt =
        wa_sigstore_get(self->store, S_SALT_KIND, "salt", &salt_len);
    char *user = wa_client_user_of(chat);
    const char *lid = user ? wa_client_lid_for(self, user) : NULL;
    wa_jid_t *j = user ? wa_jid_new_from(user) : NULL;
    if (j && wa_jid_is_lid(j)) {
        lid = user;
    }
    wa_jid_destroy(&j);
    int rc = 0;
    uint8_t mac[32];
    if (salt && salt_len > 0 && lid &&
        wa_hmac_sha256(salt, salt_len, lid, strlen(lid), mac) == 0) {
        wa_node_set_bytes(wa_node_add(m, "cstoken"), mac, sizeof mac);
        rc = 2;
    }
    free(user);
    return rc;
}

void
wa_tctoken_detach(wa_node_t *m)
{
    for (size_t i = wa_node_child_count(m); i > 0; i--) {
        wa_node_t *c = wa_node_child_at(m, i - 1);
        if (wa_node_is(c, "tctoken") || wa_node_is(c, "cstoken")) {
            wa_node_t *gone = wa_node_take_child(m, i - 1);
            wa_node_destroy(&gone);
        }
    }
}

wa_node_t *
wa_tctoken_issue_iq(wa_client_t *self, const char *chat)
{
    char *key = s_key(self, chat);
    if (!key) {
        return NULL;
    }
    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "xmlns", "privacy");
    wa_node_set_attr(iq, "type", "set");
    wa_node_set_attr(iq, "to", "s.whatsapp.net");
    wa_node_t *token = wa_node_add(wa_node_add(iq, "tokens"), "token");
    wa_node_set_attr(token, "jid", key);
    wa_node_set_attr_int(token, "t", wa_client_wall_s());
    wa_node_set_attr(token, "type", "trusted_contact");
    //  Remember when we issued ours
    s_rec_t rec;
    s_find(self, chat, &rec);
    rec.sent = wa_client_wall_s();
    s_save(self, key, &rec);
    free(key);
    return iq;
}

int
wa_tctoken_on_issued(wa_client_t *self, const char *chat,
                     const wa_node_t *reply)
{
    if (!reply || !wa_node_attr_eq(reply, "type", "result")) {
        return 0;
    }
    char *key = s_key(self, chat);
    int n = s_store_tokens(self, wa_node_child(reply, "tokens"), NULL, key);
    free(key);
    return n;
}

//  A fire-and-forget issuance waiting for its answer.
typedef struct {
    wa_client_t *client; //  owner (outlives its IQ waiters)
    char *chat;          //  the contact
} s_issue_t;

static void
s_on_issue_reply(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    s_issue_t *issue = (s_issue_t *)arg;
    if (outcome == WA_IQ_RESULT) {
        wa_tctoken_on_issued(issue->client, issue->chat, reply);
    }
    free(issue->chat);
    free(issue);
}

void
wa_tctoken_sent(wa_client_t *self, const char *chat)
{
    s_rec_t rec;
    s_find(self, chat, &rec);
    int64_t now = wa_client_wall_s();
    if (rec.sent > 0 &&
        rec.sent / WA_TCTOKEN_BUCKET_S >= now / WA_TCTOKEN_BUCKET_S) {
        return; //  issued in this bucket already
    }
    wa_node_t *iq = wa_tctoken_issue_iq(self, chat);
    if (!iq) {
        return;
    }
    s_issue_t *issue = cm_alloc(sizeof *issue);
    issue->client = self;
    issue->chat = cm_strdup(chat);
    if (wa_client_request(self, &iq, s_on_issue_reply, issue) != 0) {
        wa_node_destroy(&iq);
        free(issue->chat);
        free(issue);
    }
}

static const wa_router_route_t s_routes[] = {
    {"notification", "type", "privacy_token", s_on_privacy_token},
    {NULL, NULL, NULL, NULL}};

const wa_client_cap_t wa_tctoken_cap = {.name = "tctoken", .routes = s_routes};

//  ---------------------------------------------------------------------
//  Self test

void
wa_tctoken_test(bool verbose)
{
    printf(" * wa_tctoken: ");
    (void)verbose;
    //  Buckets: a token lives in its week and the three after
    int64_t w = WA_TCTOKEN_BUCKET_S;
    assert(!wa_tctoken_expired(10 * w, 10 * w + 5));
    assert(!wa_tctoken_expired(7 * w, 10 * w + 5));
    assert(wa_tctoken_expired(7 * w - 1, 10 * w + 5));
    assert(wa_tctoken_expired(0, 10 * w));

    wa_client_kit_t *kit = wa_client_kit_new("15550000001");
    wa_client_t *c = kit->client;
    int64_t now = wa_client_wall_s();
    char *text = NULL;

    //  A notification from Bob (by LID, number known from sender_pn)
    //  with a token for us: stored under his LID, used for his number
    text = cm_sprintf(
        "<notification type=\"privacy_token\" id=\"n1\" "
        "from=\"900000000000002@lid\" sender_pn=\"15550000002@s.whatsapp."
        "net\" t=\"%" PRId64 "\"><tokens><token jid=\"15550000001@s."
        "whatsapp.net\" t=\"%" PRId64 "\" type=\"trusted_contact\">"
        "TOKEN-1</token></tokens></notification>",
        now, now);
    assert(wa_client_kit_handle(kit, text) == 0);
    free(text);
    wa_node_t *ack = wa_client_kit_take(kit, "ack");
    assert(ack && wa_node_attr_eq(ack, "class", "notification"));
    wa_node_destroy(&ack);
    assert(wa_sigstore_get(c->store, S_KIND, "900000000000002@lid", NULL));
    wa_node_t *m = wa_node_new("message");
    assert(wa_tctoken_attach(c, "15550000002@s.whatsapp.net", m) == 1);
    size_t len = 0;
    const uint8_t *b = wa_node_bytes(wa_node_child(m, "tctoken"), &len);
    assert(b && len == 7 && memcmp(b, "TOKEN-1", 7) == 0);
    wa_tctoken_detach(m);
    assert(wa_node_child_count(m) == 0);
    //  An older token does not replace it; a newer one does
    assert(wa_tctoken_store(c, "15550000002@c.us", now - 10,
                            (const uint8_t *)"OLD", 3) == 0);
    assert(wa_tctoken_store(c, "900000000000002@lid", now + 1,
                            (const uint8_t *)"NEW", 3) == 1);
    assert(wa_tctoken_attach(c, "900000000000002@lid", m) == 1);
    b = wa_node_bytes(wa_node_child(m, "tctoken"), &len);
    assert(len == 3 && memcmp(b, "NEW", 3) == 0);
    wa_tctoken_detach(m);
    //  Tokens for someone else, of another type, without t: ignored
    assert(wa_client_kit_handle(
               kit, "<notification type=\"privacy_token\" id=\"n2\" "
                    "from=\"15550000003@s.whatsapp.net\"><tokens><token "
                    "jid=\"15550000009@s.whatsapp.net\" t=\"5\" "
                    "type=\"trusted_contact\">X</token></tokens>"
                    "</notification>") == 0);
    assert(wa_client_kit_handle(
               kit, "<notification type=\"privacy_token\" id=\"n3\" "
                    "from=\"15550000003@s.whatsapp.net\"><tokens><token "
                    "jid=\"15550000001@s.whatsapp.net\" type=\"trusted_"
                    "contact\">X</token><token jid=\"15550000001@s.whatsapp."
                    "net\" t=\"5\" type=\"other\">X</token></tokens>"
                    "</notification>") == 0);
    assert(wa_tctoken_attach(c, "15550000003@s.whatsapp.net", m) == 0);
    //  An expired token is not attached
    assert(wa_tctoken_store(c, "15550000004@s.whatsapp.net", 1000,
                            (const uint8_t *)"EXP", 3) == 1);
    assert(wa_tctoken_attach(c, "15550000004@s.whatsapp.net", m) == 0);
    assert(wa_tctoken_store(c, "x@g.us", now, (const uint8_t *)"G", 1) == -1);
    uint8_t big[WA_TCTOKEN_MAX + 1] = {0};
    assert(wa_tctoken_store(c, "15550000004@c.us", now, big, sizeof big) == -1);

    //  No token, but an NCT salt and the LID: a cstoken, HMAC of the LID
    assert(wa_sigstore_put(c->store, S_SALT_KIND, "salt",
                           (const uint8_t *)"SALT", 4) == 0);
    assert(wa_tctoken_attach(c, "15550000003@s.whatsapp.net", m) == 0);
    assert(wa_client_learn_lid(c, "15550000003@s.whatsapp.net",
                               "900000000000003@lid") == 1);
    assert(wa_tctoken_attach(c, "15550000003@s.whatsapp.net", m) == 2);
    uint8_t want[32];
    const char *lid = "900000000000003@lid";
    assert(wa_hmac_sha256("SALT", 4, lid, strlen(lid), want) == 0);
    b = wa_node_bytes(wa_node_child(m, "cstoken"), &len);
    assert(len == 32 && memcmp(b, want, 32) == 0);
    wa_node_destroy(&m);

    //  Issuing ours: the IQ names the contact's LID; the answer's token
    //  (jid or not) is stored for the contact
    wa_node_t *iq = wa_tctoken_issue_iq(c, "15550000003@c.us");
    assert(iq && wa_node_attr_eq(iq, "xmlns", "privacy") &&
           wa_node_attr_eq(iq, "type", "set"));
    const wa_node_t *t = wa_node_find(iq, "tokens/token");
    assert(t && wa_node_attr_eq(t, "jid", "900000000000003@lid") &&
           wa_node_attr_eq(t, "type", "trusted_contact") &&
           wa_node_attr(t, "t"));
    wa_node_destroy(&iq);
    text = cm_sprintf("<iq type=\"result\"><tokens><token t=\"%" PRId64
                      "\" type=\"trusted_contact\">FROM-IQ</token></tokens>"
                      "</iq>",
                      now);
    wa_node_t *reply = wa_node_new_from_text(text, NULL);
    free(text);
    assert(wa_tctoken_on_issued(c, "15550000003@c.us", reply) == 1);
    wa_node_destroy(&reply);
    m = wa_node_new("message");
    assert(wa_tctoken_attach(c, "15550000003@c.us", m) == 1);
    wa_node_destroy(&m);
    //  The first accepted DM of a bucket issues ours once
    zlistx_purge(kit->out);
    wa_tctoken_sent(c, "15550000002@s.whatsapp.net");
    iq = wa_client_kit_take(kit, "iq");
    assert(iq && wa_node_find(iq, "tokens/token"));
    wa_node_destroy(&iq);
    wa_tctoken_sent(c, "15550000002@s.whatsapp.net");
    assert(!wa_client_kit_take(kit, "iq"));
    //  ... and the record keeps the token
    m = wa_node_new("message");
    assert(wa_tctoken_attach(c, "15550000002@s.whatsapp.net", m) == 1);
    wa_node_destroy(&m);

    //  History sync: a token with its time and our last issuance; the
    //  issuance of this bucket is not repeated, an older token is not
    //  taken, junk is refused
    assert(wa_client_learn_tctoken(c, "15550000005@s.whatsapp.net",
                                   (const uint8_t *)"HIST", 4, now - 60,
                                   now - 30) == 1);
    m = wa_node_new("message");
    assert(wa_tctoken_attach(c, "15550000005@s.whatsapp.net", m) == 1);
    b = wa_node_bytes(wa_node_child(m, "tctoken"), &len);
    assert(len == 4 && memcmp(b, "HIST", 4) == 0);
    wa_node_destroy(&m);
    zlistx_purge(kit->out);
    wa_tctoken_sent(c, "15550000005@s.whatsapp.net");
    assert(!wa_client_kit_take(kit, "iq"));
    assert(wa_client_learn_tctoken(c, "15550000005@s.whatsapp.net",
                                   (const uint8_t *)"OLDER", 5, now - 90,
                                   0) == 0);
    assert(wa_client_learn_tctoken(c, "15550000005@s.whatsapp.net",
                                   (const uint8_t *)"X", 1, 0, 0) == -1);
    assert(wa_client_learn_tctoken(c, "x@g.us", (const uint8_t *)"X", 1, now,
                                   0) == -1);
    //  The salt: history only fills a gap, app state replaces and clears
    assert(wa_client_set_nct_salt(c, (const uint8_t *)"HSALT", 5, true) == 0);
    assert(wa_client_set_nct_salt(c, (const uint8_t *)"ASALT", 5, false) == 1);
    assert(wa_client_set_nct_salt(c, big, WA_NCT_SALT_MAX + 1, false) == -1);
    m = wa_node_new("message");
    assert(wa_tctoken_attach(c, "900000000000007@lid", m) == 2);
    lid = "900000000000007@lid";
    assert(wa_hmac_sha256("ASALT", 5, lid, strlen(lid), want) == 0);
    b = wa_node_bytes(wa_node_child(m, "cstoken"), &len);
    assert(len == 32 && memcmp(b, want, 32) == 0);
    wa_node_destroy(&m);
    assert(wa_client_set_nct_salt(c, NULL, 0, false) == 1);
    m = wa_node_new("message");
    assert(wa_tctoken_attach(c, "900000000000007@lid", m) == 0);
    wa_node_destroy(&m);
    assert(wa_client_set_nct_salt(c, (const uint8_t *)"HSALT", 5, true) == 1);
    wa_client_kit_destroy(&kit);
    printf("OK\n");
}
