/*  wa_keys - prekey stanzas: upload, count, bundle fetch, retry key bundles

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_crypto.h"
#include "wa/wa_keys.h"
#include "wa/wa_signal.h"

#define S_PREKEY_ID_MAX 0xFFFFFF

void
wa_keys_put_u32(uint32_t value, uint8_t out[4])
{
    out[0] = (uint8_t)(value >> 24);
    out[1] = (uint8_t)(value >> 16);
    out[2] = (uint8_t)(value >> 8);
    out[3] = (uint8_t)value;
}

static void
s_put_u24(uint32_t value, uint8_t out[3])
{
    out[0] = (uint8_t)(value >> 16);
    out[1] = (uint8_t)(value >> 8);
    out[2] = (uint8_t)value;
}

static wa_node_t *
s_iq(const char *type)
{
    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "xmlns", "encrypt");
    wa_node_set_attr(iq, "type", type);
    wa_node_set_attr(iq, "to", "@s.whatsapp.net");
    return iq;
}

static void
s_add_bytes(wa_node_t *parent, const char *tag, const void *data, size_t len)
{
    wa_node_set_bytes(wa_node_add(parent, tag), data, len);
}

wa_node_t *
wa_keys_key_node(const char *tag, uint32_t id, const uint8_t pub[32],
                 const uint8_t *sig)
{
    wa_node_t *node = wa_node_new(tag);
    uint8_t id3[3];
    s_put_u24(id, id3);
    s_add_bytes(node, "id", id3, 3);
    s_add_bytes(node, "value", pub, 32);
    if (sig) {
        s_add_bytes(node, "signature", sig, 64);
    }
    return node;
}

//  Append <type>05</type><identity>pub</identity>.
static int
s_add_identity(wa_sigstore_t *store, wa_node_t *parent, uint32_t *reg_id)
{
    uint8_t priv[32];
    uint8_t pub[32];
    if (wa_sigstore_identity(store, priv, pub, reg_id) != 0) {
        return -1;
    }
    wa_crypto_wipe(priv, sizeof priv);
    uint8_t type = WA_DJB_TYPE;
    s_add_bytes(parent, "type", &type, 1);
    s_add_bytes(parent, "identity", pub, 32);
    return 0;
}

//  Append the signed prekey as <skey>.
static int
s_add_skey(wa_sigstore_t *store, wa_node_t *parent, uint32_t skey_id)
{
    uint8_t pub[32];
    uint8_t sig[64];
    if (wa_sigstore_signed_prekey(store, skey_id, pub, sig) != 0) {
        return -1;
    }
    wa_node_t *skey = wa_keys_key_node("skey", skey_id, pub, sig);
    wa_node_append(parent, &skey);
    return 0;
}

wa_node_t *
wa_keys_upload(wa_sigstore_t *store, uint32_t skey_id, uint32_t first,
               unsigned count)
{
    if (count == 0 || count > WA_KEYS_MAX_UPLOAD) {
        return NULL;
    }
    wa_node_t *iq = s_iq("set");
    wa_node_t *reg = wa_node_add(iq, "registration");
    uint32_t reg_id = 0;
    if (s_add_identity(store, iq, &reg_id) != 0) {
        wa_node_destroy(&iq);
        return NULL;
    }
    uint8_t reg4[4];
    wa_keys_put_u32(reg_id, reg4);
    wa_node_set_bytes(reg, reg4, 4);
    wa_node_t *list = wa_node_add(iq, "list");
    uint32_t id = first;
    for (unsigned i = 0; i < count; i++) {
        if (id == 0 || id > S_PREKEY_ID_MAX) {
            id = 1;
        }
        uint8_t pub[32];
        if (wa_sigstore_prekey(store, id, pub) != 0) {
            wa_node_destroy(&iq);
            return NULL;
        }
        wa_node_t *key = wa_keys_key_node("key", id, pub, NULL);
        wa_node_append(list, &key);
        id++;
    }
    if (s_add_skey(store, iq, skey_id) != 0) {
        wa_node_destroy(&iq);
    }
    return iq;
}

wa_node_t *
wa_keys_count_query(void)
{
    wa_node_t *iq = s_iq("get");
    wa_node_add(iq, "count");
    return iq;
}

int
wa_keys_count(const wa_node_t *reply)
{
    const wa_node_t *count = reply ? wa_node_child(reply, "count") : NULL;
    int64_t value = -1;
    if (!count || wa_node_attr_int(count, "value", &value) != 0 || value < 0 ||
        value > S_PREKEY_ID_MAX) {
        return -1;
    }
    return (int)value;
}

wa_node_t *
wa_keys_fetch(const char *const *devices, size_t count)
{
    if (count == 0) {
        return NULL;
    }
    wa_node_t *iq = s_iq("get");
    wa_node_t *key = wa_node_add(iq, "key");
    for (size_t i = 0; i < count; i++) {
        wa_node_t *user = wa_node_add(key, "user");
        wa_node_set_attr(user, "jid", devices[i]);
        wa_node_set_attr(user, "reason", "identity");
    }
    return iq;
}

//  Bytes of child `tag` when exactly `len` long (or 33 with 0x05 for
//  keys when `key` is set), copied into out. 0 or -1.
static int
s_child_bytes(const wa_node_t *node, const char *tag, uint8_t *out, size_t len,
              bool key)
{
    const wa_node_t *child = wa_node_child(node, tag);
    size_t n = 0;
    const uint8_t *data = child ? wa_node_bytes(child, &n) : NULL;
    if (!data) {
        return -1;
    }
    if (key) {
        return wa_signal_djb_decode(data, n, out);
    }
    if (n != len) {
        return -1;
    }
    memcpy(out, data, len);
    return 0;
}

//  Big-endian unsigned integer of `len` bytes in child `tag`. 0 or -1.
static int
s_child_uint(const wa_node_t *node, const char *tag, size_t len,
             uint32_t *value)
{
    uint8_t buf[4];
    if (len > 4 || s_child_bytes(node, tag, buf, len, false) != 0) {
        return -1;
    }
    uint32_t v = 0;
    for (size_t i = 0; i < len; i++) {
        v = v << 8 | buf[i];
    }
    *value = v;
    return 0;
}

int
wa_keys_parse_bundle(const wa_node_t *node, const wa_node_t *registration,
                     wa_bundle_t *bundle)
{
    if (!node || !bundle) {
        return -1;
    }
    memset(bundle, 0, sizeof *bundle);
    const wa_node_t *keys = wa_node_child(node, "keys");
    const wa_node_t *src = keys ? keys : node;
    //  Registration: in the node, in the <keys>, or given separately
    uint32_t reg = 0;
    if (s_child_uint(node, "registration", 4, &reg) != 0 &&
        s_child_uint(src, "registration", 4, &reg) != 0) {
        if (!registration) {
            return -1;
        }
        size_t n = 0;
        const uint8_t *data = wa_node_bytes(registration, &n);
        if (!data || n != 4) {
            return -1;
        }
        reg = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
              (uint32_t)data[2] << 8 | data[3];
    }
    bundle->registration_id = reg;
    uint8_t type = 0;
    if (s_child_bytes(src, "type", &type, 1, false) == 0 &&
        type != WA_DJB_TYPE) {
        return -1;
    }
    if (s_child_bytes(src, "identity", bundle->identity, 32, true) != 0) {
        return -1;
    }
    const wa_node_t *key = wa_node_child(src, "key");
    if (key) {
        if (s_child_uint(key, "id", 3, &bundle->prekey_id) != 0 ||
            s_child_bytes(key, "value", bundle->prekey, 32, true) != 0) {
            return -1;
        }
        bundle->has_prekey = true;
    }
    const wa_node_t *skey = wa_node_child(src, "skey");
    if (!skey || s_child_uint(skey, "id", 3, &bundle->skey_id) != 0 ||
        s_child_bytes(skey, "value", bundle->skey, 32, true) != 0 ||
        s_child_bytes(skey, "signature", bundle->skey_sig, 64, false) != 0) {
        return -1;
    }
    return 0;
}

int
wa_keys_bundles(const wa_node_t *reply, wa_keys_bundle_fn *fn, void *arg)
{
    if (!reply || !wa_node_is(reply, "iq") ||
        !wa_node_attr_eq(reply, "type", "result")) {
        return -1;
    }
    const wa_node_t *list = wa_node_child(reply, "list");
    if (!list) {
        return -1;
    }
    int seen = 0;
    const wa_node_t *user = NULL;
    while ((user = wa_node_child_next(list, "user", user))) {
        const char *jid = wa_node_attr(user, "jid");
        if (!jid) {
            continue;
        }
        seen++;
        wa_bundle_t bundle;
        if (wa_node_child(user, "error") ||
            wa_keys_parse_bundle(user, NULL, &bundle) != 0) {
            fn(arg, jid, NULL);
        } else {
            fn(arg, jid, &bundle);
        }
    }
    return seen;
}

wa_node_t *
wa_keys_retry_keys(wa_sigstore_t *store, uint32_t prekey_id, uint32_t skey_id,
                   const uint8_t *identity, size_t identity_len)
{
    wa_node_t *keys = wa_node_new("keys");
    uint32_t reg_id = 0;
    uint8_t pub[32];
    if (s_add_identity(store, keys, &reg_id) != 0 ||
        wa_sigstore_prekey(store, prekey_id, pub) != 0) {
        wa_node_destroy(&keys);
        return NULL;
    }
    wa_node_t *key = wa_keys_key_node("key", prekey_id, pub, NULL);
    wa_node_append(keys, &key);
    if (s_add_skey(store, keys, skey_id) != 0) {
        wa_node_destroy(&keys);
        return NULL;
    }
    if (identity && identity_len) {
        s_add_bytes(keys, "device-identity", identity, identity_len);
    }
    return keys;
}

//  --------------------------------------------------------------------
//  Self test

typedef struct {
    int good;          //  bundles seen
    int bad;           //  errors seen
    wa_bundle_t last;  //  last good bundle
    char last_jid[64]; //  its jid
} s_walk_t;

static void
s_walk_fn(void *arg, const char *jid, const wa_bundle_t *bundle)
{
    s_walk_t *w = (s_walk_t *)arg;
    if (bundle) {
        w->good++;
        w->last = *bundle;
        snprintf(w->last_jid, sizeof w->last_jid, "%s", jid);
    } else {
        w->bad++;
    }
}

//  Server side in miniature: turn an upload into a fetch result for jid,
//  handing out the upload's first prekey (or none).
static wa_node_t *
s_serve(const wa_node_t *upload, const char *jid, bool with_prekey, bool wrap)
{
    wa_node_t *reply = wa_node_new("iq");
    wa_node_set_attr(reply, "type", "result");
    wa_node_set_attr(reply, "id", "1");
    wa_node_t *list = wa_node_add(reply, "list");
    wa_node_t *user = wa_node_add(list, "user");
    wa_node_set_attr(user, "jid", jid);
    wa_node_t *reg = wa_node_dup(wa_node_child(upload, "registration"));
    wa_node_append(user, &reg);
    wa_node_t *dst = wrap ? wa_node_add(user, "keys") : user;
    wa_node_t *type = wa_node_dup(wa_node_child(upload, "type"));
    wa_node_t *identity = wa_node_dup(wa_node_child(upload, "identity"));
    wa_node_append(dst, &type);
    wa_node_append(dst, &identity);
    if (with_prekey) {
        wa_node_t *key = wa_node_dup(wa_node_find(upload, "list/key"));
        wa_node_append(dst, &key);
    }
    wa_node_t *skey = wa_node_dup(wa_node_child(upload, "skey"));
    wa_node_append(dst, &skey);
    //  An entry with an error and one without a jid
    wa_node_t *failed = wa_node_add(list, "user");
    wa_node_set_attr(failed, "jid", "15550000000@s.whatsapp.net");
    wa_node_set_attr(wa_node_add(failed, "error"), "code", "404");
    wa_node_add(list, "user");
    return reply;
}

void
wa_keys_test(bool verbose)
{
    printf(" * wa_keys: ");
    (void)verbose;
    wa_signal_t *signal = wa_signal_new();
    wa_sigstore_t *alice = wa_sigstore_new(signal);
    wa_sigstore_t *bob = wa_sigstore_new(signal);
    assert(alice && bob);

    //  No identity yet: nothing to upload
    assert(wa_keys_upload(alice, 1, 1, 5) == NULL);
    assert(wa_sigstore_generate_identity(alice) == 0);
    assert(wa_sigstore_generate_identity(bob) == 0);
    uint8_t skey_pub[32];
    uint8_t skey_sig[64];
    assert(wa_sigstore_generate_signed_prekey(alice, 1, skey_pub, skey_sig) ==
           0);
    assert(wa_sigstore_generate_signed_prekey(bob, 1, NULL, NULL) == 0);
    assert(wa_sigstore_generate_prekeys(alice, 1, 5) == 0);
    assert(wa_keys_upload(alice, 1, 1, 0) == NULL);
    assert(wa_keys_upload(alice, 1, 1, 6) == NULL); //  key 6 missing
    assert(wa_keys_upload(alice, 2, 1, 5) == NULL); //  no skey 2

    //  Upload layout
    wa_node_t *up = wa_keys_upload(alice, 1, 1, 5);
    assert(up);
    assert(wa_node_attr_eq(up, "xmlns", "encrypt"));
    assert(wa_node_attr_eq(up, "type", "set"));
    size_t n = 0;
    const uint8_t *b = wa_node_bytes(wa_node_child(up, "registration"), &n);
    uint8_t priv[32];
    uint8_t pub[32];
    uint32_t reg_id = 0;
    assert(wa_sigstore_identity(alice, priv, pub, &reg_id) == 0);
    uint8_t reg4[4];
    wa_keys_put_u32(reg_id, reg4);
    assert(b && n == 4 && memcmp(b, reg4, 4) == 0);
    b = wa_node_bytes(wa_node_child(up, "type"), &n);
    assert(b && n == 1 && b[0] == 5);
    b = wa_node_bytes(wa_node_child(up, "identity"), &n);
    assert(b && n == 32 && memcmp(b, pub, 32) == 0);
    assert(wa_node_child_count(wa_node_child(up, "list")) == 5);
    const wa_node_t *k5 = wa_node_child_at(wa_node_child(up, "list"), 4);
    b = wa_node_bytes(wa_node_child(k5, "id"), &n);
    assert(b && n == 3 && b[0] == 0 && b[1] == 0 && b[2] == 5);
    uint8_t djb[33];
    wa_signal_djb_encode(skey_pub, djb);
    b = wa_node_bytes(wa_node_find(up, "skey/signature"), &n);
    assert(b && n == 64);
    assert(wa_xeddsa_verify(pub, djb, 33, b, 64) == 0);

    //  Count query and result
    wa_node_t *cq = wa_keys_count_query();
    assert(wa_node_child(cq, "count") && wa_node_attr_eq(cq, "type", "get"));
    wa_node_destroy(&cq);
    wa_node_t *cr = wa_node_new_from_text(
        "<iq type=\"result\" id=\"1\"><count value=\"17\"/></iq>", NULL);
    assert(wa_keys_count(cr) == 17);
    wa_node_destroy(&cr);
    cr = wa_node_new_from_text(
        "<iq type=\"result\" id=\"1\"><count value=\"-3\"/></iq>", NULL);
    assert(wa_keys_count(cr) == -1);
    wa_node_destroy(&cr);
    assert(wa_keys_count(NULL) == -1);

    //  Fetch query
    const char *devs[] = {"15551234567:3@s.whatsapp.net",
                          "15551234567@s.whatsapp.net"};
    assert(wa_keys_fetch(devs, 0) == NULL);
    wa_node_t *fq = wa_keys_fetch(devs, 2);
    const wa_node_t *fu = wa_node_find(fq, "key/user");
    assert(fu && wa_node_attr_eq(fu, "jid", devs[0]) &&
           wa_node_attr_eq(fu, "reason", "identity"));
    assert(wa_node_child_count(wa_node_child(fq, "key")) == 2);
    wa_node_destroy(&fq);

    //  A fetch result becomes bundles bob can start a session from
    for (int variant = 0; variant < 3; variant++) {
        wa_node_t *res = s_serve(up, "15551234567:3@s.whatsapp.net",
                                 variant != 1, variant == 2);
        s_walk_t walk = {0};
        assert(wa_keys_bundles(res, s_walk_fn, &walk) == 2);
        assert(walk.good == 1 && walk.bad == 1);
        assert(strcmp(walk.last_jid, "15551234567:3@s.whatsapp.net") == 0);
        assert(walk.last.registration_id == reg_id);
        assert(memcmp(walk.last.identity, pub, 32) == 0);
        assert(walk.last.has_prekey == (variant != 1));
        assert(walk.last.prekey_id == (variant != 1 ? 1u : 0u));
        assert(walk.last.skey_id == 1);
        assert(wa_e2e_process_bundle(bob, "15551234567", 3 + variant,
                                     &walk.last) == 0);
        wa_node_destroy(&res);
    }
    wa_node_t *notres = wa_node_new_from_text("<iq type=\"result\"/>", NULL);
    assert(wa_keys_bundles(notres, s_walk_fn, NULL) == -1);
    wa_node_destroy(&notres);

    //  Bundles with bad parts are refused
    wa_bundle_t bundle;
    wa_node_t *bad = wa_node_new_from_text(
        "<user><registration>0x00000001</registration><type>0x05</type>"
        "<identity>0x0102</identity></user>",
        NULL);
    assert(wa_keys_parse_bundle(bad, NULL, &bundle) == -1);
    wa_node_destroy(&bad);
    assert(wa_keys_parse_bundle(NULL, NULL, &bundle) == -1);

    //  Retry keys: fresh prekey, skey, device identity; registration
    //  given separately as retry receipts do
    assert(wa_sigstore_generate_prekeys(alice, 9, 1) == 0);
    assert(wa_keys_retry_keys(alice, 77, 1, NULL, 0) == NULL);
    uint8_t ident[10] = {1, 2, 3};
    wa_node_t *keys = wa_keys_retry_keys(alice, 9, 1, ident, sizeof ident);
    assert(keys && wa_node_is(keys, "keys"));
    b = wa_node_bytes(wa_node_child(keys, "device-identity"), &n);
    assert(b && n == sizeof ident);
    wa_node_t *reg = wa_node_new("registration");
    wa_node_set_bytes(reg, reg4, 4);
    assert(wa_keys_parse_bundle(keys, NULL, &bundle) == -1);
    assert(wa_keys_parse_bundle(keys, reg, &bundle) == 0);
    assert(bundle.registration_id == reg_id && bundle.prekey_id == 9);
    assert(wa_e2e_process_bundle(bob, "15551234567", 9, &bundle) == 0);
    wa_node_destroy(&reg);
    wa_node_destroy(&keys);
    wa_node_destroy(&up);
    wa_sigstore_destroy(&alice);
    wa_sigstore_destroy(&bob);
    wa_signal_destroy(&signal);
    printf("OK\n");
}
