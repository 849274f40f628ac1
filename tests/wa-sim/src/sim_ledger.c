/*  sim_ledger - which Signal message counters each sender used, so tests
    can prove no message key was ever used for two ciphertexts

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_ledger.h"

struct _sim_ledger_t {
    zhashx_t *keys;     //  "sender|recipient|ratchet hex|counter" -> digest
    size_t ciphertexts; //  recorded
    size_t reused;      //  reuses seen
    size_t untracked;   //  not recorded: the ledger was full
    json_t *reuses;     //  the first SIM_LEDGER_LIST reuses
};

sim_ledger_t *
sim_ledger_new(void)
{
    sim_ledger_t *self = (sim_ledger_t *)cm_alloc(sizeof(sim_ledger_t));
    self->keys = zhashx_new();
    self->reuses = json_array();
    return self;
}

void
sim_ledger_destroy(sim_ledger_t **self_p)
{
    assert(self_p);
    sim_ledger_t *self = *self_p;
    if (self) {
        zhashx_destroy(&self->keys);
        json_decref(self->reuses);
        free(self);
        *self_p = NULL;
    }
}

//  Read a protobuf varint at *p (< end). Returns 0 or -1.
static int
s_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

//  Find field `want` of a protobuf message: a varint (into *num) or
//  bytes (into *data/*len). Returns 0 or -1.
static int
s_field(const uint8_t *p, const uint8_t *end, uint64_t want, uint64_t *num,
        const uint8_t **data, size_t *len)
{
    while (p < end) {
        uint64_t tag = 0;
        if (s_varint(&p, end, &tag) != 0) {
            return -1;
        }
        uint64_t field = tag >> 3;
        uint64_t wire = tag & 7;
        uint64_t v = 0;
        if (wire == 0) {
            if (s_varint(&p, end, &v) != 0) {
                return -1;
            }
            if (field == want && num) {
                *num = v;
                return 0;
            }
        } else if (wire == 2) {
            if (s_varint(&p, end, &v) != 0 || v > (uint64_t)(end - p)) {
                return -1;
            }
            if (field == want && data) {
                *data = p;
                *len = (size_t)v;
                return 0;
            }
            p += v;
        } else {
            return -1;
        }
    }
    return -1;
}

//  FNV-1a, 64 bits: enough to tell two ciphertexts apart in a test.
static uint64_t
s_digest(const uint8_t *data, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ data[i]) * 0x100000001b3ULL;
    }
    return h ? h : 1;
}

int
sim_ledger_record(sim_ledger_t *self, const char *sender, const char *recipient,
                  const char *type, const uint8_t *data, size_t len)
{
    if (!sender || !recipient || !data || len < 1 + 8) {
        return 0;
    }
    const uint8_t *msg = data;
    size_t msg_len = len;
    if (cm_streq(type, "pkmsg")) {
        //  The whisper message sits in field 4, with its version and MAC
        if (s_field(data + 1, data + len, 4, NULL, &msg, &msg_len) != 0 ||
            msg_len < 1 + 8) {
            return 0;
        }
    } else if (!cm_streq(type, "msg")) {
        return 0;
    }
    //  Version byte, protobuf (ratchet key 1, counter 2), 8-byte MAC
    const uint8_t *pb = msg + 1;
    const uint8_t *pb_end = msg + msg_len - 8;
    const uint8_t *ratchet = NULL;
    size_t ratchet_len = 0;
    uint64_t counter = 0;
    if (s_field(pb, pb_end, 1, NULL, &ratchet, &ratchet_len) != 0 ||
        ratchet_len > 64 || s_field(pb, pb_end, 2, &counter, NULL, NULL) != 0) {
        return 0;
    }
    char hex[129];
    for (size_t i = 0; i < ratchet_len; i++) {
        snprintf(hex + 2 * i, 3, "%02x", ratchet[i]);
    }
    hex[2 * ratchet_len] = 0;
    char *key =
        cm_sprintf("%s|%s|%s|%" PRIu64, sender, recipient, hex, counter);
    uint64_t digest = s_digest(msg, msg_len);
    self->ciphertexts++;
    int reused = 0;
    void *seen = zhashx_lookup(self->keys, key);
    if (seen) {
        if ((uint64_t)(uintptr_t)seen != digest) {
            reused = 1;
            self->reused++;
            cm_log_warn("signal counter reused",
                        "sender=%s recipient=%s "
                        "counter=%" PRIu64,
                        sender, recipient, counter);
            if (json_array_size(self->reuses) < SIM_LEDGER_LIST) {
                json_array_append_new(
                    self->reuses,
                    json_pack("{s:s, s:s, s:I}", "sender", sender, "recipient",
                              recipient, "counter", (json_int_t)counter));
            }
        }
    } else if (zhashx_size(self->keys) < SIM_LEDGER_MAX) {
        zhashx_insert(self->keys, key, (void *)(uintptr_t)digest);
    } else {
        self->untracked++;
    }
    free(key);
    return reused;
}

size_t
sim_ledger_reused(sim_ledger_t *self)
{
    return self->reused;
}

json_t *
sim_ledger_to_json(sim_ledger_t *self)
{
    return json_pack("{s:I, s:I, s:I, s:O}", "ciphertexts",
                     (json_int_t)self->ciphertexts, "reused",
                     (json_int_t)self->reused, "untracked",
                     (json_int_t)self->untracked, "reuses", self->reuses);
}

void
sim_ledger_clear(sim_ledger_t *self)
{
    zhashx_purge(self->keys);
    json_array_clear(self->reuses);
    self->ciphertexts = 0;
    self->reused = 0;
    self->untracked = 0;
}

//  --------------------------------------------------------------------
//  Self test

//  A whisper message: version, {1: ratchet, 2: counter, 4: body}, MAC.
static size_t
t_whisper(uint8_t *out, uint8_t ratchet, uint8_t counter, uint8_t body)
{
    size_t n = 0;
    out[n++] = 0x33;
    out[n++] = 0x0a; //  field 1, bytes
    out[n++] = 2;
    out[n++] = 0x05;
    out[n++] = ratchet;
    out[n++] = 0x10; //  field 2, varint
    out[n++] = counter;
    out[n++] = 0x22; //  field 4, bytes
    out[n++] = 1;
    out[n++] = body;
    memset(out + n, 0xab, 8);
    return n + 8;
}

void
sim_ledger_test(bool verbose)
{
    printf(" * sim_ledger: ");
    cm_log_init(NULL, verbose ? "debug" : "error");
    sim_ledger_t *l = sim_ledger_new();
    uint8_t m[64];
    size_t n = t_whisper(m, 1, 5, 0x41);
    assert(sim_ledger_record(l, "a:1", "b:0", "msg", m, n) == 0);
    //  The same bytes again: a resend, not a reuse
    assert(sim_ledger_record(l, "a:1", "b:0", "msg", m, n) == 0);
    //  Another counter, another recipient, another ratchet: fine
    n = t_whisper(m, 1, 6, 0x42);
    assert(sim_ledger_record(l, "a:1", "b:0", "msg", m, n) == 0);
    n = t_whisper(m, 1, 5, 0x42);
    assert(sim_ledger_record(l, "a:1", "b:7", "msg", m, n) == 0);
    n = t_whisper(m, 2, 5, 0x42);
    assert(sim_ledger_record(l, "a:1", "b:0", "msg", m, n) == 0);
    //  Counter 5 of ratchet 1 again with other bytes: a reuse
    n = t_whisper(m, 1, 5, 0x43);
    assert(sim_ledger_record(l, "a:1", "b:0", "msg", m, n) == 1);
    //  Inside a pkmsg (field 4 of the outer message)
    uint8_t pk[80];
    size_t k = 0;
    pk[k++] = 0x33;
    pk[k++] = 0x08; //  field 1, varint
    pk[k++] = 9;
    n = t_whisper(m, 1, 5, 0x44);
    pk[k++] = 0x22;
    pk[k++] = (uint8_t)n;
    memcpy(pk + k, m, n);
    k += n;
    assert(sim_ledger_record(l, "a:1", "b:0", "pkmsg", pk, k) == 1);
    //  Garbage and other kinds are ignored
    assert(sim_ledger_record(l, "a:1", "b:0", "msg", pk, 3) == 0);
    assert(sim_ledger_record(l, "a:1", "b:0", "skmsg", m, n) == 0);
    uint8_t junk[16];
    memset(junk, 0xff, sizeof junk);
    assert(sim_ledger_record(l, "a:1", "b:0", "msg", junk, sizeof junk) == 0);
    assert(sim_ledger_reused(l) == 2);
    json_t *j = sim_ledger_to_json(l);
    assert(json_integer_value(json_object_get(j, "ciphertexts")) == 7);
    assert(json_integer_value(json_object_get(j, "reused")) == 2);
    json_t *r0 = json_array_get(json_object_get(j, "reuses"), 0);
    assert(cm_streq(json_string_value(json_object_get(r0, "sender")), "a:1"));
    assert(json_integer_value(json_object_get(r0, "counter")) == 5);
    json_decref(j);
    sim_ledger_clear(l);
    assert(sim_ledger_reused(l) == 0);
    sim_ledger_destroy(&l);
    sim_ledger_destroy(&l);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
