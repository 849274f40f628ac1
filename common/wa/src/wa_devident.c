/*  wa_devident - device identity checks: whose devices we encrypt to,
    whose pkmsg we open

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A capability module of wa_client (see wa_client_int.h), without
    routes. docs/protocol-fidelity.md rule 10; wa-protocol.md §5.4, §7.2.
    The server tells a user's devices; only the account (its primary's
    identity key, the Signal identity of device 0) can vouch for them:

      - a device list comes with <key-index-list>: ADVSignedKeyIndexList
        {details = KeyIndexList {raw_id, timestamp, current_index,
        valid_indexes}, account_signature = XEdDSA by the account key
        over 06 02 || details}, and each companion <device> with its
        key-index. wa_outbox encrypts to a companion only when the
        account signed its key index (wa_devident_covered): a list whose
        signature fails leaves the primary only; a device outside the
        signed indexes (one the server added) is dropped. The account
        key is ours from the credentials (the account_signature_key of
        the identity we got at pairing), so our own other devices are
        checked from the first send; another user's is the identity of
        its device 0 in the Signal store (wa_outbox fetches the
        primary's bundle with the others before this check). A signed
        list whose account key is still unknown is not taken on trust:
        its companions are dropped and logged. Lists that came unsigned
        are taken as listed.
      - a pkmsg from a companion carries <device-identity>:
        ADVSignedDeviceIdentity {details, account_signature_key,
        account_signature, device_signature}. wa_inbox opens it only
        when both signatures hold over the identity key inside the pkmsg
        and the signing key is the account's (when known), and the
        identity's key index is one the account's signed key-index list
        holds (when that list is cached and checked)
        (wa_devident_pkmsg_ok); else the message is refused and logged.
        A companion's pkmsg whose account key (no session with its
        primary) or device list is not known yet is held, unconfirmed,
        while the user's device list and its primary's bundle are
        fetched, then read again and checked against them
        (wa_devident_pkmsg_vouch): never on its own signatures alone;
        an account key that cannot be fetched refuses it. Only pkmsgs
        with <device-identity> from a user met for the first time pay
        this (two IQs); the steady path (msg) never does. While a
        user's pkmsg is held, the user's later stanzas (any type) queue
        behind it, so they are read in the order they came.
    Verdicts are kept with the cached device list (wa_usync) so a send
    costs a lookup, not a signature check. A sender's pkmsgs carry the
    same device identity until it links anew, so the digest of what last
    proved itself (identity, identity key, account key) is kept per
    sender device: the same bytes again cost a SHA-256, not two XEdDSA
    checks (a pkmsg stream of a companion that has not heard back from
    us paid ~25 % of the worker's CPU for them).
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "cm/cm.h"
#include "wa/wa_adv.pb-c.h"
#include "wa/wa_crypto.h"
#include "wa/wa_e2e.h"
#include "wa/wa_iq.h"
#include "wa/wa_jid.h"
#include "wa/wa_keys.h"
#include "wa/wa_pair.h"
#include "wa/wa_sigstore.h"
#include "wa_client_int.h"

static const uint8_t s_prefix_list[2] = {0x06, 0x02};

//  Senders whose proven identity is kept; the cache starts over beyond.
#define S_IDENTS_MAX 4096

//  Our own account key: the account_signature_key of the signed device
//  identity we got at pairing (credentials). Returns 0 or -1.
static int
s_own_account_key(wa_client_t *self, uint8_t key[32])
{
    Wa__Adv__SignedDeviceIdentity *sdi =
        self->account ? wa__adv__signed_device_identity__unpack(
                            NULL, self->account_len, self->account)
                      : NULL;
    int rc = -1;
    if (sdi && sdi->has_account_signature_key &&
        sdi->account_signature_key.len == 32) {
        memcpy(key, sdi->account_signature_key.data, 32);
        rc = 0;
    }
    if (sdi) {
        wa__adv__signed_device_identity__free_unpacked(sdi, NULL);
    }
    return rc;
}

//  The account key of a user: ours from the credentials; another's is
//  its device 0's identity, from the Signal store, under the LID
//  address when known. Returns 0 or -1.
static int
s_account_key(wa_client_t *self, const char *jid, uint8_t key[32])
{
    char *user = wa_client_user_of(jid);
    if (user &&
        (cm_streq(user, self->me_pn_user) ||
         cm_streq(user, self->me_lid_user)) &&
        s_own_account_key(self, key) == 0) {
        free(user);
        return 0;
    }
    char *lid = user ? wa_client_lid_device(self, user) : NULL;
    char name[WA_SEND_NAME_MAX];
    int device = 0;
    int rc = -1;
    if (user && wa_send_address(lid ? lid : user, name, &device) == 0) {
        char *k = cm_sprintf("%s.0", name);
        size_t len = 0;
        const uint8_t *id = wa_sigstore_get(self->store, "identity", k, &len);
        if (id && len == 33) {
            memcpy(key, id + 1, 32);
            rc = 0;
        }
        free(k);
    }
    free(lid);
    free(user);
    return rc;
}

int
wa_devident_check_list(const uint8_t *kil, size_t len,
                       const uint8_t account_key[32], uint32_t **valid_p,
                       size_t *nvalid)
{
    *valid_p = NULL;
    *nvalid = 0;
    Wa__Adv__SignedKeyIndexList *signed_list =
        kil ? wa__adv__signed_key_index_list__unpack(NULL, len, kil) : NULL;
    if (!signed_list || !signed_list->has_details ||
        !signed_list->has_account_signature ||
        signed_list->account_signature.len != WA_XEDDSA_SIG_LEN) {
        if (signed_list) {
            wa__adv__signed_key_index_list__free_unpacked(signed_list, NULL);
        }
        return -1;
    }
    size_t n = 2 + signed_list->details.len;
    uint8_t *msg = cm_alloc(n);
    memcpy(msg, s_prefix_list, 2);
    memcpy(msg + 2, signed_list->details.data, signed_list->details.len);
    int rc = wa_xeddsa_verify(account_key, msg, n,
                              signed_list->account_signature.data,
                              WA_XEDDSA_SIG_LEN) == 0
                 ? 0
                 : -1;
    free(msg);
    Wa__Adv__KeyIndexList *list =
        rc == 0 ? wa__adv__key_index_list__unpack(
                      NULL, signed_list->details.len, signed_list->details.data)
                : NULL;
    if (rc == 0 && !list) {
        rc = -1;
    }
    if (list && list->n_valid_indexes > 0) {
        size_t count = list->n_valid_indexes < WA_USYNC_MAX_DEVICES
                           ? list->n_valid_indexes
                           : WA_USYNC_MAX_DEVICES;
        *valid_p = cm_alloc(count * sizeof(uint32_t));
        memcpy(*valid_p, list->valid_indexes, count * sizeof(uint32_t));
        *nvalid = count;
    }
    if (list) {
        wa__adv__key_index_list__free_unpacked(list, NULL);
    }
    wa__adv__signed_key_index_list__free_unpacked(signed_list, NULL);
    return rc;
}

//  The verdict on the list of the user of `device`, checking it now
//  when the account key is known.
static int
s_verdict(wa_client_t *self, const char *device, const uint32_t **valid,
          size_t *nvalid)
{
    int v = wa_usync_verdict(self->usync, device, valid, nvalid);
    if (v != WA_USYNC_UNCHECKED) {
        return v;
    }
    size_t len = 0;
    const uint8_t *kil = wa_usync_key_index_list(self->usync, device, &len);
    if (!kil) {
        wa_usync_set_verdict(self->usync, device, WA_USYNC_UNSIGNED, NULL, 0);
        return WA_USYNC_UNSIGNED;
    }
    uint8_t key[32];
    if (s_account_key(self, device, key) != 0) {
        return WA_USYNC_UNCHECKED; //  no session with the primary yet
    }
    uint32_t *list = NULL;
    size_t n = 0;
    if (wa_devident_check_list(kil, len, key, &list, &n) == 0) {
        wa_usync_set_verdict(self->usync, device, WA_USYNC_SIGNED, list, n);
    } else {
        char *user = wa_client_user_of(device);
        cm_log_warn("device list refused: the account did not sign it",
                    "session=%s user=%s", wa_client_name(self),
                    user ? user : "?");
        free(user);
        wa_usync_set_verdict(self->usync, device, WA_USYNC_FORGED, NULL, 0);
    }
    free(list);
    return wa_usync_verdict(self->usync, device, valid, nvalid);
}

bool
wa_devident_covered(wa_client_t *self, const char *device)
{
    wa_jid_t *jid = device ? wa_jid_new_from(device) : NULL;
    int id = jid ? wa_jid_device(jid) : -1;
    wa_jid_destroy(&jid);
    if (id == 0) {
        return true; //  the primary is the account
    }
    const uint32_t *valid = NULL;
    size_t n = 0;
    int v = s_verdict(self, device, &valid, &n);
    if (v == WA_USYNC_UNSIGNED) {
        return true;
    }
    if (v == WA_USYNC_UNCHECKED) {
        //  A signed list we cannot check (no session with the primary,
        //  whose identity is the account key): not taken on trust
        cm_log_warn("device dropped: the account key is unknown, its list "
                    "cannot be checked",
                    "session=%s device=%s", wa_client_name(self), device);
        return false;
    }
    bool covered = false;
    int64_t ki = wa_usync_key_index(self->usync, device);
    for (size_t i = 0; v == WA_USYNC_SIGNED && ki >= 0 && i < n; i++) {
        covered = covered || valid[i] == (uint32_t)ki;
    }
    if (!covered) {
        cm_log_warn("device dropped: the account did not sign it",
                    "session=%s device=%s key_index=%" PRId64,
                    wa_client_name(self), device, ki);
    }
    return covered;
}

//  The key index inside a (verified) ADVSignedDeviceIdentity is one the
//  account's signed key-index list holds, when that list is known and
//  checked (a device the account removed signs with a stale index).
static bool
s_index_signed(wa_client_t *self, const char *sender, const uint8_t *id,
               size_t id_len)
{
    const uint32_t *valid = NULL;
    size_t n = 0;
    if (s_verdict(self, sender, &valid, &n) != WA_USYNC_SIGNED) {
        return true; //  no list checked yet: the signatures decide
    }
    Wa__Adv__SignedDeviceIdentity *sdi =
        wa__adv__signed_device_identity__unpack(NULL, id_len, id);
    Wa__Adv__DeviceIdentity *di =
        sdi && sdi->has_details ? wa__adv__device_identity__unpack(
                                      NULL, sdi->details.len, sdi->details.data)
                                : NULL;
    bool ok = false;
    uint32_t ki = di && di->has_key_index ? di->key_index : 0;
    for (size_t i = 0; di && i < n; i++) {
        ok = ok || valid[i] == ki;
    }
    if (di) {
        wa__adv__device_identity__free_unpacked(di, NULL);
    }
    if (sdi) {
        wa__adv__signed_device_identity__free_unpacked(sdi, NULL);
    }
    return ok;
}

//  The digest of what a check of `id` against `pub` (and `account`,
//  when known) depends on.
static void
s_ident_digest(const uint8_t *id, size_t id_len, const uint8_t pub[32],
               const uint8_t *account, uint8_t out[WA_SHA256_LEN])
{
    size_t n = id_len + 32 + 1 + (account ? 32 : 0);
    uint8_t *buf = cm_alloc(n);
    memcpy(buf, pub, 32);
    buf[32] = account ? 1 : 0;
    if (account) {
        memcpy(buf + 33, account, 32);
    }
    memcpy(buf + n - id_len, id, id_len);
    wa_sha256(buf, n, out);
    free(buf);
}

//  Both signatures of `id` hold over `pub`, signed by `account` when
//  known: checked once per sender and identity, then looked up.
static bool
s_identity_ok(wa_client_t *self, const char *sender, const uint8_t *id,
              size_t id_len, const uint8_t pub[32], const uint8_t *account)
{
    uint8_t digest[WA_SHA256_LEN];
    s_ident_digest(id, id_len, pub, account, digest);
    const uint8_t *known = (const uint8_t *)zhashx_lookup(self->idents, sender);
    if (known && memcmp(known, digest, WA_SHA256_LEN) == 0) {
        return true;
    }
    self->ident_checks++;
    if (wa_pair_adv_verify_identity(id, id_len, pub, account) != WA_PAIR_OK) {
        return false;
    }
    if (!known && zhashx_size(self->idents) >= S_IDENTS_MAX) {
        zhashx_purge(self->idents);
    }
    uint8_t *copy = cm_alloc(WA_SHA256_LEN);
    memcpy(copy, digest, WA_SHA256_LEN);
    zhashx_update(self->idents, sender, copy);
    return true;
}

bool
wa_devident_pkmsg_ok(wa_client_t *self, const wa_node_t *node,
                     const char *sender)
{
    const wa_node_t *di = wa_node_child(node, "device-identity");
    wa_jid_t *jid = sender ? wa_jid_new_from(sender) : NULL;
    int device = jid ? wa_jid_device(jid) : 0;
    wa_jid_destroy(&jid);
    if (!di || device == 0) {
        return true; //  nothing to check: the primary, or no identity
    }
    const wa_node_t *enc = NULL;
    while ((enc = wa_node_child_next(node, "enc", enc))) {
        if (!wa_node_attr_eq(enc, "type", "pkmsg")) {
            continue;
        }
        size_t ct_len = 0;
        const uint8_t *ct = wa_node_bytes(enc, &ct_len);
        uint8_t pub[32];
        size_t id_len = 0;
        const uint8_t *id = wa_node_bytes(di, &id_len);
        uint8_t account[32];
        bool have_account = s_account_key(self, sender, account) == 0;
        const char *why = NULL;
        if (!ct || wa_e2e_pkmsg_identity(self->store, ct, ct_len, pub) != 0) {
            why = "unreadable pkmsg";
        } else if (!id || !s_identity_ok(self, sender, id, id_len, pub,
                                         have_account ? account : NULL)) {
            why = "signatures do not hold";
        } else if (!s_index_signed(self, sender, id, id_len)) {
            why = "key index not in the account's signed list";
        }
        if (why) {
            cm_log_warn("device identity refused",
                        "session=%s sender=%s "
                        "id=%s reason=\"%s\"",
                        wa_client_name(self), sender,
                        wa_node_attr_or(node, "id", ""), why);
            return false;
        }
    }
    return true;
}

//  ---------------------------------------------------------------------
//  A companion's pkmsg whose account we cannot vouch for yet: held while
//  the user's device list (with its signed key-index list) and its
//  primary's bundle (whose identity is the account key) are fetched,
//  then read again and checked against them.

//  Users with held pkmsgs, and pkmsgs held per user, at most (beyond:
//  refused, the sender retries).
#define S_VOUCH_USERS_MAX 256
#define S_VOUCH_NODES_MAX 64

typedef struct {
    zlistx_t *nodes; //  wa_node_t copies, oldest first
} s_waiting_t;

typedef struct {
    wa_client_t *client;
    char *user;
    int stage; //  0 device list, 1 primary's bundle
} s_fetch_t;

static void
s_node_free(void **item_p)
{
    wa_node_destroy((wa_node_t **)item_p);
}

static void
s_waiting_free(void **item_p)
{
    s_waiting_t *w = (s_waiting_t *)*item_p;
    if (w) {
        zlistx_destroy(&w->nodes);
        free(w);
    }
    *item_p = NULL;
}

static void s_on_fetch(void *arg, const wa_node_t *reply,
                       wa_iq_outcome_t outcome);

//  Ask for what is missing to vouch for `user`'s companions from stage
//  on. Returns 0 when a request is out, 1 when nothing is missing, -1
//  when it could not be sent.
static int
s_fetch_next(wa_client_t *self, const char *user, int stage)
{
    wa_node_t *iq = NULL;
    if (stage == 0 && !wa_usync_devices(self->usync, user, NULL)) {
        char sid[WA_IQ_ID_MAX];
        wa_iq_next_id(self->iq, sid);
        const char *users[] = {user};
        iq = wa_usync_query(users, 1, sid);
    } else {
        stage = 1;
        uint8_t key[32];
        if (s_account_key(self, user, key) == 0) {
            return 1;
        }
        //  The primary under the address s_account_key reads
        char *lid = wa_client_lid_device(self, user);
        const char *primary[] = {lid ? lid : user};
        iq = wa_keys_fetch(primary, 1);
        free(lid);
    }
    if (!iq) {
        return -1;
    }
    s_fetch_t *f = cm_alloc(sizeof *f);
    f->client = self;
    f->user = cm_strdup(user);
    f->stage = stage;
    if (wa_client_request(self, &iq, s_on_fetch, f) != 0) {
        free(f->user);
        free(f);
        return -1;
    }
    return 0;
}

//  Read `user`'s held pkmsgs again, now checked against what came.
static void
s_replay(wa_client_t *self, const char *user)
{
    s_waiting_t *w = (s_waiting_t *)zhashx_lookup(self->vouch, user);
    if (!w) {
        return;
    }
    zlistx_t *nodes = w->nodes;
    w->nodes = NULL;
    zhashx_delete(self->vouch, user);
    for (wa_node_t *n = (wa_node_t *)zlistx_first(nodes); n;
         n = (wa_node_t *)zlistx_next(nodes)) {
        self->vouch_replay = true;
        wa_inbox_replay(self, n);
        self->vouch_replay = false;
    }
    zlistx_destroy(&nodes);
}

static void
s_on_bundle(void *arg, const char *jid, const wa_bundle_t *bundle)
{
    wa_client_t *self = (wa_client_t *)arg;
    char name[WA_SEND_NAME_MAX];
    int device = 0;
    if (!bundle || wa_send_address(jid, name, &device) != 0 ||
        wa_e2e_process_bundle(self->store, name, device, bundle) != 0) {
        cm_log_warn("could not start session", "session=%s device=%s",
                    wa_client_name(self), jid);
    }
}

static void
s_on_fetch(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    s_fetch_t *f = (s_fetch_t *)arg;
    wa_client_t *self = f->client;
    if (outcome == WA_IQ_CANCELLED || !zhashx_lookup(self->vouch, f->user)) {
        //  The connection or the account is gone: the held pkmsgs were
        //  dropped unconfirmed (the server delivers them again)
        free(f->user);
        free(f);
        return;
    }
    if (outcome == WA_IQ_RESULT && f->stage == 0 &&
        wa_usync_parse(self->usync, reply) < 0) {
        cm_log_warn("could not parse device list", "session=%s user=%s",
                    wa_client_name(self), f->user);
    }
    if (outcome == WA_IQ_RESULT && f->stage == 1 &&
        wa_keys_bundles(reply, s_on_bundle, self) < 0) {
        cm_log_warn("could not parse prekey bundles", "session=%s user=%s",
                    wa_client_name(self), f->user);
    }
    if (outcome != WA_IQ_RESULT) {
        cm_log_warn("device identity: could not fetch the account",
                    "session=%s user=%s what=%s outcome=%d",
                    wa_client_name(self), f->user,
                    f->stage == 0 ? "devices" : "primary", (int)outcome);
    }
    if (f->stage == 1 || s_fetch_next(self, f->user, 1) != 0) {
        s_replay(self, f->user);
    }
    free(f->user);
    free(f);
    wa_client_rearm(self);
}

//  Hold a copy of node until `user`'s account is fetched. Returns 0, or
//  -1 when it cannot wait (limits, nothing sent).
static int
s_hold(wa_client_t *self, const wa_node_t *node, const char *user)
{
    s_waiting_t *w = (s_waiting_t *)zhashx_lookup(self->vouch, user);
    if (!w) {
        if (zhashx_size(self->vouch) >= S_VOUCH_USERS_MAX) {
            return -1;
        }
        w = cm_alloc(sizeof *w);
        w->nodes = zlistx_new();
        zlistx_set_destructor(w->nodes, s_node_free);
        zhashx_insert(self->vouch, user, w);
        if (s_fetch_next(self, user, 0) != 0) {
            zhashx_delete(self->vouch, user);
            return -1;
        }
        cm_log_info("device identity: fetching the account to vouch for "
                    "a companion",
                    "session=%s user=%s id=%s", wa_client_name(self), user,
                    wa_node_attr_or(node, "id", ""));
    }
    if (zlistx_size(w->nodes) >= S_VOUCH_NODES_MAX) {
        return -1;
    }
    zlistx_add_end(w->nodes, wa_node_dup(node));
    return 0;
}

int
wa_devident_pkmsg_vouch(wa_client_t *self, const wa_node_t *node,
                        const char *sender)
{
    //  A user's stanzas are read in the order they came: while one of
    //  theirs is held, the ones after it wait behind it (a skmsg read
    //  before the pkmsg that carries its sender key fails)
    if (!self->vouch_replay && sender && zhashx_size(self->vouch)) {
        char *user = wa_client_user_of(sender);
        int rc = user && zhashx_lookup(self->vouch, user)
                     ? s_hold(self, node, user)
                     : -1;
        free(user);
        if (rc == 0) {
            return WA_DEVIDENT_HELD;
        }
    }
    const wa_node_t *di = wa_node_child(node, "device-identity");
    wa_jid_t *jid = di && sender ? wa_jid_new_from(sender) : NULL;
    int device = jid ? wa_jid_device(jid) : 0;
    wa_jid_destroy(&jid);
    if (!di || device == 0) {
        return WA_DEVIDENT_OK; //  the primary, or no identity
    }
    uint8_t account[32];
    bool known = s_account_key(self, sender, account) == 0;
    if (!self->vouch_replay &&
        (!known || !wa_usync_devices(self->usync, sender, NULL))) {
        char *user = wa_client_user_of(sender);
        int rc = user ? s_hold(self, node, user) : -1;
        free(user);
        if (rc == 0) {
            return WA_DEVIDENT_HELD;
        }
    }
    if (!known) {
        cm_log_warn("device identity refused",
                    "session=%s sender=%s id=%s reason=\"the account key "
                    "could not be fetched\"",
                    wa_client_name(self), sender,
                    wa_node_attr_or(node, "id", ""));
        return WA_DEVIDENT_REFUSED;
    }
    return wa_devident_pkmsg_ok(self, node, sender) ? WA_DEVIDENT_OK
                                                    : WA_DEVIDENT_REFUSED;
}

static void
s_digest_free(void **item_p)
{
    free(*item_p);
    *item_p = NULL;
}

static void
s_start(wa_client_t *self)
{
    self->idents = zhashx_new();
    zhashx_set_destructor(self->idents, s_digest_free);
    self->vouch = zhashx_new();
    zhashx_set_destructor(self->vouch, s_waiting_free);
}

//  The connection is gone: held pkmsgs were never confirmed, so the
//  server delivers them again
static void
s_drop(wa_client_t *self)
{
    zhashx_purge(self->vouch);
}

static void
s_forget(wa_client_t *self)
{
    zhashx_purge(self->idents);
    zhashx_purge(self->vouch);
}

static void
s_stop(wa_client_t *self)
{
    zhashx_destroy(&self->idents);
    zhashx_destroy(&self->vouch);
}

const wa_client_cap_t wa_devident_cap = {.name = "devident",
                                         .start = s_start,
                                         .stop = s_stop,
                                         .drop = s_drop,
                                         .forget = s_forget};

//  ---------------------------------------------------------------------
//  Self test

void
wa_devident_test(bool verbose)
{
    printf(" * wa_devident: ");
    (void)verbose;
    //  A list signed by the account key holds; another key's, a flipped
    //  bit or junk do not
    uint8_t priv[32], pub[32], other[32], other_pub[32];
    assert(wa_x25519_keypair(priv, pub) == 0);
    assert(wa_x25519_keypair(other, other_pub) == 0);
    Wa__Adv__KeyIndexList list = WA__ADV__KEY_INDEX_LIST__INIT;
    uint32_t idx[] = {1, 3};
    list.has_raw_id = 1;
    list.raw_id = 7;
    list.n_valid_indexes = 2;
    list.valid_indexes = idx;
    size_t dlen = wa__adv__key_index_list__get_packed_size(&list);
    uint8_t *msg = cm_alloc(dlen + 2);
    memcpy(msg, s_prefix_list, 2);
    wa__adv__key_index_list__pack(&list, msg + 2);
    uint8_t sig[64];
    assert(wa_xeddsa_sign(priv, msg, dlen + 2, sig) == 0);
    Wa__Adv__SignedKeyIndexList sl = WA__ADV__SIGNED_KEY_INDEX_LIST__INIT;
    sl.has_details = 1;
    sl.details.data = msg + 2;
    sl.details.len = dlen;
    sl.has_account_signature = 1;
    sl.account_signature.data = sig;
    sl.account_signature.len = 64;
    size_t slen = wa__adv__signed_key_index_list__get_packed_size(&sl);
    uint8_t *kil = cm_alloc(slen);
    wa__adv__signed_key_index_list__pack(&sl, kil);
    uint32_t *valid = NULL;
    size_t n = 0;
    assert(wa_devident_check_list(kil, slen, pub, &valid, &n) == 0);
    assert(n == 2 && valid[0] == 1 && valid[1] == 3);
    free(valid);
    assert(wa_devident_check_list(kil, slen, other_pub, &valid, &n) == -1 &&
           !valid && n == 0);
    kil[slen - 1] ^= 1;
    assert(wa_devident_check_list(kil, slen, pub, &valid, &n) == -1);
    assert(wa_devident_check_list((const uint8_t *)"junk", 4, pub, &valid,
                                  &n) == -1);
    free(kil);
    free(msg);

    //  Devices of a user whose primary's identity is known: only the
    //  signed key indexes; the primary always
    wa_client_kit_t *kit = wa_client_kit_new("15550000001");
    wa_client_t *c = kit->client;
    msg = cm_alloc(dlen + 2);
    memcpy(msg, s_prefix_list, 2);
    wa__adv__key_index_list__pack(&list, msg + 2);
    sl.details.data = msg + 2;
    kil = cm_alloc(slen);
    wa__adv__signed_key_index_list__pack(&sl, kil);
    char *b64 = NULL;
    (void)b64;
    wa_node_t *reply = wa_node_new_from_text(
        "<iq type=\"result\"><usync><list><user jid=\"15550000002@s.whatsapp."
        "net\"><devices><device-list><device id=\"0\"/><device id=\"1\" "
        "key-index=\"1\"/><device id=\"2\" key-index=\"2\"/><device "
        "id=\"3\" key-index=\"3\"/></device-list><key-index-list ts=\"1\"/>"
        "</devices></user></list></usync></iq>",
        NULL);
    assert(reply);
    wa_node_t *kn =
        wa_node_find(reply, "usync/list/user/devices/key-index-list");
    wa_node_set_bytes(kn, kil, slen);
    assert(wa_usync_parse(c->usync, reply) == 1);
    //  No primary identity yet: not taken on trust (the primary is)
    assert(!wa_devident_covered(c, "15550000002:1@s.whatsapp.net"));
    assert(wa_devident_covered(c, "15550000002@s.whatsapp.net"));
    uint8_t djb[33] = {0x05};
    memcpy(djb + 1, pub, 32);
    assert(wa_sigstore_put(c->store, "identity", "15550000002.0", djb, 33) ==
           0);
    assert(wa_devident_covered(c, "15550000002@s.whatsapp.net"));
    assert(wa_devident_covered(c, "15550000002:1@s.whatsapp.net"));
    assert(!wa_devident_covered(c, "15550000002:2@s.whatsapp.net"));
    assert(wa_devident_covered(c, "15550000002:3@s.whatsapp.net"));
    //  Our own devices: checked against our account key from the
    //  credentials, before any session with our primary
    Wa__Adv__SignedDeviceIdentity own = WA__ADV__SIGNED_DEVICE_IDENTITY__INIT;
    own.has_account_signature_key = 1;
    own.account_signature_key.data = pub;
    own.account_signature_key.len = 32;
    free(c->account);
    c->account_len = wa__adv__signed_device_identity__get_packed_size(&own);
    c->account = cm_alloc(c->account_len);
    wa__adv__signed_device_identity__pack(&own, c->account);
    wa_node_t *mine = wa_node_dup(reply);
    wa_node_set_attr(wa_node_find(mine, "usync/list/user"), "jid",
                     "15550000001@s.whatsapp.net");
    assert(wa_usync_parse(c->usync, mine) == 1);
    assert(!wa_sigstore_get(c->store, "identity", "15550000001.0", NULL));
    assert(wa_devident_covered(c, "15550000001:1@s.whatsapp.net"));
    assert(!wa_devident_covered(c, "15550000001:2@s.whatsapp.net"));
    wa_node_destroy(&mine);
    //  A list the account did not sign: the primary only
    kil[slen - 1] ^= 1;
    wa_node_set_bytes(kn, kil, slen);
    assert(wa_usync_parse(c->usync, reply) == 1);
    assert(!wa_devident_covered(c, "15550000002:1@s.whatsapp.net"));
    assert(wa_devident_covered(c, "15550000002@s.whatsapp.net"));
    wa_node_destroy(&reply);
    free(kil);
    free(msg);

    //  pkmsg device identities: a stanza without one, or from the
    //  primary, passes; junk is refused
    wa_node_t *m = wa_node_new_from_text(
        "<message id=\"m1\"><enc type=\"pkmsg\">junk</enc></message>", NULL);
    assert(wa_devident_pkmsg_ok(c, m, "15550000002:1@s.whatsapp.net"));
    wa_node_set_bytes(wa_node_add(m, "device-identity"), "x", 1);
    assert(wa_devident_pkmsg_ok(c, m, "15550000002@s.whatsapp.net"));
    assert(!wa_devident_pkmsg_ok(c, m, "15550000002:1@s.whatsapp.net"));
    wa_node_destroy(&m);

    //  A companion's device identity: both signatures are checked once
    //  per sender and identity; the same bytes again are looked up; other
    //  bytes, another identity key or a known account key are checked
    uint8_t acc_priv[32], acc_pub[32], id_priv[32], id_pub[32], secret[32];
    assert(wa_x25519_keypair(acc_priv, acc_pub) == 0);
    assert(wa_x25519_keypair(id_priv, id_pub) == 0);
    wa_random(secret, sizeof secret);
    uint8_t *container = NULL;
    size_t container_len = 0;
    assert(wa_pair_adv_issue(acc_priv, id_pub, secret, 9, 1700000000, 1, false,
                             &container, &container_len) == 0);
    wa_pair_status_t pst;
    wa_pair_adv_t *adv =
        wa_pair_adv_accept(container, container_len, secret, id_priv, &pst);
    assert(adv && pst == WA_PAIR_OK);
    size_t idl = 0;
    const uint8_t *ident = wa_pair_adv_identity(adv, &idl);
    const char *from = "15550000002:1@s.whatsapp.net";
    size_t checks = c->ident_checks;
    assert(s_identity_ok(c, from, ident, idl, id_pub, NULL));
    assert(c->ident_checks == checks + 1);
    for (int i = 0; i < 3; i++) {
        assert(s_identity_ok(c, from, ident, idl, id_pub, NULL));
    }
    assert(c->ident_checks == checks + 1);
    //  Flipped bits are checked, refused, and do not evict what held
    uint8_t *bad = cm_alloc(idl);
    memcpy(bad, ident, idl);
    bad[idl - 1] ^= 1;
    assert(!s_identity_ok(c, from, bad, idl, id_pub, NULL));
    assert(!s_identity_ok(c, from, bad, idl, id_pub, NULL));
    assert(c->ident_checks == checks + 3);
    assert(s_identity_ok(c, from, ident, idl, id_pub, NULL));
    assert(c->ident_checks == checks + 3);
    //  Another identity key inside the pkmsg: refused
    assert(!s_identity_ok(c, from, ident, idl, acc_pub, NULL));
    //  The account key becomes known: checked against it once more
    assert(s_identity_ok(c, from, ident, idl, id_pub, acc_pub));
    assert(c->ident_checks == checks + 5);
    assert(s_identity_ok(c, from, ident, idl, id_pub, acc_pub));
    assert(c->ident_checks == checks + 5);
    //  Another account's key: refused, though the bytes proved before
    assert(!s_identity_ok(c, from, ident, idl, id_pub, id_pub));
    //  Another sender with the same bytes is checked for itself
    assert(s_identity_ok(c, "15550000002:2@s.whatsapp.net", ident, idl, id_pub,
                         acc_pub));
    assert(c->ident_checks == checks + 7);
    //  Forgetting the account forgets what was proven
    wa_devident_cap.forget(c);
    assert(s_identity_ok(c, from, ident, idl, id_pub, acc_pub));
    assert(c->ident_checks == checks + 8);
    free(bad);
    free(container);
    wa_pair_adv_destroy(&adv);
    wa_client_kit_destroy(&kit);
    printf("OK\n");
}
