/*  sim_tctoken - privacy tokens and the 463 rule (see sim_tctoken.h)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_tctoken.h"
#include "wa/wa_jid.h"

//  Most <token> entries taken from one IQ.
#define S_TOKENS_MAX 100
#define S_TOKEN_LEN SIM_TCTOKEN_LEN

static int64_t
s_now_s(void)
{
    return cm_now_ms() / 1000;
}

//  token(issuer -> holder) of bucket `week`.
static void
s_mint(sim_account_t *issuer, sim_account_t *holder, int64_t week,
       uint8_t out[S_TOKEN_LEN])
{
    char *data = cm_sprintf("tctoken|%s|%" PRId64, holder->lid, week);
    int rc = wa_hmac_sha256(issuer->identity_priv, SIM_KEY_LEN, data,
                            strlen(data), out);
    assert(rc == 0);
    free(data);
}

void
sim_tctoken_mint(sim_account_t *issuer, sim_account_t *holder, int64_t t,
                 uint8_t out[SIM_TCTOKEN_LEN])
{
    s_mint(issuer, holder, t / SIM_TCTOKEN_BUCKET, out);
}

const uint8_t *
sim_tctoken_salt(sim_account_t *acc, size_t *len_p)
{
    if (acc->nct_salt_len == 0) {
        cm_random(acc->nct_salt, sizeof acc->nct_salt);
        acc->nct_salt_len = sizeof acc->nct_salt;
    }
    if (len_p) {
        *len_p = acc->nct_salt_len;
    }
    return acc->nct_salt;
}

int
sim_tctoken_set_salt(sim_account_t *acc, const uint8_t *salt, size_t len)
{
    if (!salt) {
        wa_crypto_wipe(acc->nct_salt, sizeof acc->nct_salt);
        acc->nct_salt_len = 0;
        return 0;
    }
    if (len == 0 || len > sizeof acc->nct_salt) {
        return -1;
    }
    memcpy(acc->nct_salt, salt, len);
    acc->nct_salt_len = len;
    return 0;
}

//  A cstoken: HMAC-SHA256(sender's NCT salt, recipient's LID).
static bool
s_cstoken_ok(sim_account_t *sender, sim_account_t *to, const wa_node_t *msg)
{
    const wa_node_t *cs = wa_node_child(msg, "cstoken");
    size_t len = 0;
    const uint8_t *bytes = cs ? wa_node_bytes(cs, &len) : NULL;
    if (!bytes || len != 32 || sender->nct_salt_len == 0) {
        return false;
    }
    char *lid = cm_sprintf("%s@lid", to->lid);
    uint8_t want[32];
    int rc = wa_hmac_sha256(sender->nct_salt, sender->nct_salt_len, lid,
                            strlen(lid), want);
    free(lid);
    return rc == 0 && memcmp(want, bytes, 32) == 0;
}

//  The server rules the account is held to (sim_fault).
static const sim_fault_rules_t *
s_rules(sim_hub_t *hub, sim_account_t *acc)
{
    return sim_fault_rules(sim_hub_faults(hub), acc->phone);
}

bool
sim_tctoken_allows(sim_hub_t *hub, sim_account_t *sender, sim_account_t *to,
                   const wa_node_t *msg)
{
    if (!s_rules(hub, to)->tctoken || sender == to) {
        return true;
    }
    const wa_node_t *tc = wa_node_child(msg, "tctoken");
    size_t len = 0;
    const uint8_t *bytes = tc ? wa_node_bytes(tc, &len) : NULL;
    if (!bytes || len != S_TOKEN_LEN) {
        return s_cstoken_ok(sender, to, msg);
    }
    int64_t week = s_now_s() / SIM_TCTOKEN_BUCKET;
    for (int64_t w = week; w > week - SIM_TCTOKEN_BUCKETS; w--) {
        uint8_t want[S_TOKEN_LEN];
        s_mint(to, sender, w, want);
        if (memcmp(want, bytes, S_TOKEN_LEN) == 0) {
            return true;
        }
    }
    return false;
}

//  <token jid t type="trusted_contact">token(issuer -> holder)</token>
static wa_node_t *
s_token_node(sim_account_t *issuer, sim_account_t *holder, const char *jid)
{
    int64_t now = s_now_s();
    uint8_t token[S_TOKEN_LEN];
    s_mint(issuer, holder, now / SIM_TCTOKEN_BUCKET, token);
    wa_node_t *node = wa_node_new("token");
    wa_node_set_attr(node, "jid", jid);
    wa_node_set_attr_int(node, "t", now);
    wa_node_set_attr(node, "type", "trusted_contact");
    wa_node_set_bytes(node, token, sizeof token);
    return node;
}

void
sim_tctoken_issue(sim_hub_t *hub, sim_account_t *issuer, sim_account_t *holder)
{
    char *from = sim_hub_user_jid(issuer, !s_rules(hub, issuer)->lid_hidden);
    char *holder_jid = sim_hub_user_jid(holder, false);
    wa_node_t *note = sim_hub_notification(hub, "privacy_token", from, NULL);
    wa_node_t *tokens = wa_node_add(note, "tokens");
    wa_node_t *token = s_token_node(issuer, holder, holder_jid);
    wa_node_append(tokens, &token);
    zlistx_t *devs = sim_account_devices_copy(holder);
    for (sim_device_t *d = (sim_device_t *)zlistx_first(devs); d;
         d = (sim_device_t *)zlistx_next(devs)) {
        if (d->id != 0 && d->linked) {
            sim_hub_deliver(hub, d, note, "notification");
        }
    }
    zlistx_destroy(&devs);
    wa_node_destroy(&note);
    free(from);
    free(holder_jid);
    cm_log_debug("privacy token issued", "issuer=%s holder=%s", issuer->phone,
                 holder->phone);
}

//  The answer to a token IQ from `acc`: issue its token to every named
//  contact, and hand it theirs (unless withheld). Returns the <tokens>
//  child of the result, or NULL on a malformed IQ.
static wa_node_t *
s_tokens(sim_hub_t *hub, sim_account_t *acc, const wa_node_t *iq)
{
    const wa_node_t *tokens = wa_node_child(iq, "tokens");
    if (!wa_node_attr_eq(iq, "type", "set") || !tokens) {
        return NULL;
    }
    wa_node_t *out = wa_node_new("tokens");
    size_t n = 0;
    for (const wa_node_t *t = wa_node_child_next(tokens, "token", NULL); t;
         t = wa_node_child_next(tokens, "token", t)) {
        const char *jid = wa_node_attr(t, "jid");
        if (++n > S_TOKENS_MAX || !jid ||
            !wa_node_attr_eq(t, "type", "trusted_contact")) {
            continue;
        }
        sim_account_t *other = sim_hub_account_of(hub, jid, NULL);
        if (!other || other == acc) {
            continue;
        }
        sim_tctoken_issue(hub, acc, other);
        if (!s_rules(hub, other)->tctoken_withheld) {
            wa_node_t *tok = s_token_node(other, acc, jid);
            wa_node_append(out, &tok);
        }
    }
    return out;
}

static void
s_privacy_tokens(sim_hub_t *hub, void *state, sim_conn_t *conn,
                 const wa_node_t *iq)
{
    wa_node_t *out = s_tokens(hub, sim_conn_device(conn)->account, iq);
    if (!out) {
        sim_hub_iq_error(conn, iq, 400, "bad-request");
        return;
    }
    sim_hub_iq_result(conn, iq, &out);
}

static const sim_iq_route_t s_iqs[] = {
    {"privacy", "tokens", 0, s_privacy_tokens}, {NULL, NULL, 0, NULL}};
static const char *const s_notifications[] = {"privacy_token", NULL};

const sim_cap_t sim_tctoken_cap = {
    .name = "tctoken",
    .iqs = s_iqs,
    .notifications = s_notifications,
};

void
sim_tctoken_test(bool verbose)
{
    printf(" * sim_tctoken: ");
    sim_hub_t *hub = sim_hub_new_test();
    sim_model_t *model = sim_hub_model(hub);
    sim_account_t *a = sim_model_account_add(model, "15550000081", "A");
    sim_account_t *b = sim_model_account_add(model, "15550000082", "B");
    wa_node_t *msg = wa_node_new("message");

    //  Rule off: anything goes; on: only b's token for a
    assert(sim_tctoken_allows(hub, a, b, msg));
    sim_fault_t *faults = sim_hub_faults(hub);
    const char *why = NULL;
    json_t *rule = json_pack("{s:s, s:b}", "phone", b->phone, "tctoken", 1);
    assert(sim_fault_update(faults, rule, &why) == 0);
    json_decref(rule);
    assert(!sim_tctoken_allows(hub, a, b, msg));
    assert(sim_tctoken_allows(hub, b, b, msg));
    int64_t week = s_now_s() / SIM_TCTOKEN_BUCKET;
    uint8_t tok[S_TOKEN_LEN];
    s_mint(b, a, week, tok);
    wa_node_t *tc = wa_node_add(msg, "tctoken");
    wa_node_set_bytes(tc, tok, sizeof tok);
    assert(sim_tctoken_allows(hub, a, b, msg));
    //  Three buckets back still valid, four not; a's own token, another
    //  account's or a short one not
    s_mint(b, a, week - 3, tok);
    wa_node_set_bytes(tc, tok, sizeof tok);
    assert(sim_tctoken_allows(hub, a, b, msg));
    s_mint(b, a, week - 4, tok);
    wa_node_set_bytes(tc, tok, sizeof tok);
    assert(!sim_tctoken_allows(hub, a, b, msg));
    s_mint(a, b, week, tok);
    wa_node_set_bytes(tc, tok, sizeof tok);
    assert(!sim_tctoken_allows(hub, a, b, msg));
    wa_node_set_bytes(tc, tok, 31);
    assert(!sim_tctoken_allows(hub, a, b, msg));
    wa_node_t *gone = wa_node_take_child(msg, 0);
    wa_node_destroy(&gone);

    //  A cstoken: HMAC of b's LID under a's NCT salt, only once a has one
    char *b_lid = cm_sprintf("%s@lid", b->lid);
    uint8_t cs[32];
    wa_node_t *csn = wa_node_add(msg, "cstoken");
    wa_node_set_bytes(csn, tok, 32);
    assert(!sim_tctoken_allows(hub, a, b, msg));
    size_t salt_len = 0;
    const uint8_t *salt = sim_tctoken_salt(a, &salt_len);
    assert(salt && salt_len == 32 && sim_tctoken_salt(a, NULL) == salt);
    assert(wa_hmac_sha256(salt, salt_len, b_lid, strlen(b_lid), cs) == 0);
    wa_node_set_bytes(csn, cs, sizeof cs);
    assert(sim_tctoken_allows(hub, a, b, msg));
    //  Another salt (the phone's app state), or none: refused
    assert(sim_tctoken_set_salt(a, (const uint8_t *)"other", 5) == 0);
    assert(!sim_tctoken_allows(hub, a, b, msg));
    assert(sim_tctoken_set_salt(a, NULL, 0) == 0 && a->nct_salt_len == 0);
    assert(!sim_tctoken_allows(hub, a, b, msg));
    assert(sim_tctoken_set_salt(a, tok, 33) == -1);
    free(b_lid);
    gone = wa_node_take_child(msg, 0);
    wa_node_destroy(&gone);
    //  History's token: minted for the bucket of its time
    int64_t old_t = (week - 2) * SIM_TCTOKEN_BUCKET + 5;
    sim_tctoken_mint(b, a, old_t, tok);
    tc = wa_node_add(msg, "tctoken");
    wa_node_set_bytes(tc, tok, sizeof tok);
    assert(sim_tctoken_allows(hub, a, b, msg));

    //  a issues its token to b (by LID): the answer carries b's for a,
    //  unless b withholds it; unknown contacts and bad IQs
    wa_node_t *iq = wa_node_new_from_text(
        "<iq type=\"set\" xmlns=\"privacy\"><tokens><token jid=\"x\" "
        "type=\"trusted_contact\"/></tokens></iq>",
        NULL);
    assert(iq);
    wa_node_t *tokens = wa_node_child(iq, "tokens");
    wa_node_t *t = wa_node_child(tokens, "token");
    char *blid = sim_hub_user_jid(b, true);
    wa_node_set_attr(t, "jid", blid);
    wa_node_t *out = s_tokens(hub, a, iq);
    assert(out && wa_node_child_count(out) == 1);
    const wa_node_t *got = wa_node_child(out, "token");
    assert(wa_node_attr_eq(got, "jid", blid));
    assert(wa_node_attr_eq(got, "type", "trusted_contact"));
    size_t len = 0;
    const uint8_t *bytes = wa_node_bytes(got, &len);
    s_mint(b, a, week, tok);
    assert(len == S_TOKEN_LEN && memcmp(bytes, tok, len) == 0);
    wa_node_destroy(&out);
    rule = json_pack("{s:s, s:b}", "phone", b->phone, "tctoken_withheld", 1);
    assert(sim_fault_update(faults, rule, &why) == 0);
    json_decref(rule);
    out = s_tokens(hub, a, iq);
    assert(out && wa_node_child_count(out) == 0);
    wa_node_destroy(&out);
    wa_node_set_attr(t, "jid", "19990000000@s.whatsapp.net");
    out = s_tokens(hub, a, iq);
    assert(out && wa_node_child_count(out) == 0);
    wa_node_destroy(&out);
    wa_node_set_attr(iq, "type", "get");
    assert(!s_tokens(hub, a, iq));
    wa_node_destroy(&iq);
    free(blid);
    wa_node_destroy(&msg);
    sim_hub_destroy(&hub);
    printf("OK\n");
}
