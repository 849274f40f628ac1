/*  sim_log - the stanza log: metadata of every stanza in and out

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"

const char *const SIM_LOG_ATTRS[SIM_LOG_ATTR_COUNT] = {"id",
                                                       "type",
                                                       "to",
                                                       "from",
                                                       "xmlns",
                                                       "class",
                                                       "participant",
                                                       "recipient",
                                                       "phash",
                                                       "addressing_mode",
                                                       "peer_recipient_pn",
                                                       "sender_lid",
                                                       "sender_pn"};

//  A stanza entry in one allocation: the struct, then its strings.
typedef struct {
    sim_log_stanza_t stanza; //  pointers into text
    int64_t seq;             //  sequence number
    int64_t ts;              //  epoch ms when added
    char text[];             //  the strings, NUL-terminated
} s_stanza_t;

//  A ring slot: a JSON entry or a stanza entry (or empty).
typedef struct {
    json_t *json;       //  owned, or NULL
    s_stanza_t *stanza; //  owned, or NULL
} s_slot_t;

struct _sim_log_t {
    s_slot_t *ring; //  entries, ring[seq % size]
    size_t size;    //  capacity
    int64_t first;  //  seq of the oldest entry kept
    int64_t last;   //  seq of the newest entry (0 = none yet)
};

static void
s_slot_clear(s_slot_t *slot)
{
    json_decref(slot->json);
    slot->json = NULL;
    free(slot->stanza);
    slot->stanza = NULL;
}

//  The slot for a new sequence number, emptied.
static s_slot_t *
s_next_slot(sim_log_t *self, int64_t *seq_p)
{
    int64_t seq = ++self->last;
    s_slot_t *slot = &self->ring[seq % (int64_t)self->size];
    if (slot->json || slot->stanza) {
        s_slot_clear(slot);
        self->first++;
    }
    *seq_p = seq;
    return slot;
}

sim_log_t *
sim_log_new(size_t size)
{
    sim_log_t *self = (sim_log_t *)cm_alloc(sizeof(sim_log_t));
    self->size = size ? size : SIM_LOG_SIZE;
    self->ring = (s_slot_t *)cm_alloc(self->size * sizeof(s_slot_t));
    self->first = 1;
    return self;
}

void
sim_log_destroy(sim_log_t **self_p)
{
    assert(self_p);
    sim_log_t *self = *self_p;
    if (self) {
        sim_log_clear(self);
        free(self->ring);
        free(self);
        *self_p = NULL;
    }
}

int64_t
sim_log_add(sim_log_t *self, json_t **entry_p)
{
    assert(self);
    assert(entry_p && json_is_object(*entry_p));
    int64_t seq = 0;
    s_slot_t *slot = s_next_slot(self, &seq);
    json_object_set_new(*entry_p, "seq", json_integer(seq));
    json_object_set_new(*entry_p, "ts", json_integer(cm_now_ms()));
    slot->json = *entry_p;
    *entry_p = NULL;
    return seq;
}

//  Copy text (NULL stays NULL) to *at and advance it.
static const char *
s_keep(char **at, const char *text)
{
    if (!text) {
        return NULL;
    }
    size_t len = strlen(text) + 1;
    memcpy(*at, text, len);
    const char *kept = *at;
    *at += len;
    return kept;
}

int64_t
sim_log_add_stanza(sim_log_t *self, const sim_log_stanza_t *stanza)
{
    assert(self && stanza && stanza->dir && stanza->tag);
    const char *jid = stanza->jid ? stanza->jid : "";
    size_t bytes = strlen(stanza->dir) + strlen(jid) + strlen(stanza->tag) + 3;
    for (int i = 0; i < SIM_LOG_ATTR_COUNT; i++) {
        bytes += stanza->attrs[i] ? strlen(stanza->attrs[i]) + 1 : 0;
    }
    bytes += stanza->child ? strlen(stanza->child) + 1 : 0;
    s_stanza_t *e = (s_stanza_t *)cm_alloc(sizeof(s_stanza_t) + bytes);
    char *at = e->text;
    e->stanza.dir = s_keep(&at, stanza->dir);
    e->stanza.conn = stanza->conn;
    e->stanza.jid = s_keep(&at, jid);
    e->stanza.tag = s_keep(&at, stanza->tag);
    e->stanza.size = stanza->size;
    for (int i = 0; i < SIM_LOG_ATTR_COUNT; i++) {
        e->stanza.attrs[i] = s_keep(&at, stanza->attrs[i]);
    }
    e->stanza.child = s_keep(&at, stanza->child);
    assert(at == e->text + bytes);
    int64_t seq = 0;
    s_slot_t *slot = s_next_slot(self, &seq);
    e->seq = seq;
    e->ts = cm_now_ms();
    slot->stanza = e;
    return seq;
}

//  The JSON object of a stanza entry, as sim_log_add would hold it.
static json_t *
s_stanza_json(const s_stanza_t *e)
{
    const sim_log_stanza_t *st = &e->stanza;
    json_t *obj = json_object();
    json_object_set_new(obj, "dir", json_string(st->dir));
    json_object_set_new(obj, "conn", json_integer(st->conn));
    json_object_set_new(obj, "jid", json_string(st->jid));
    json_object_set_new(obj, "tag", json_string(st->tag));
    json_object_set_new(obj, "size", json_integer(st->size));
    for (int i = 0; i < SIM_LOG_ATTR_COUNT; i++) {
        if (st->attrs[i]) {
            json_object_set_new(obj, SIM_LOG_ATTRS[i],
                                json_string(st->attrs[i]));
        }
    }
    if (st->child) {
        json_object_set_new(obj, "child", json_string(st->child));
    }
    json_object_set_new(obj, "seq", json_integer(e->seq));
    json_object_set_new(obj, "ts", json_integer(e->ts));
    return obj;
}

json_t *
sim_log_query(sim_log_t *self, int64_t since, size_t limit, int64_t conn,
              const char *jid)
{
    assert(self);
    json_t *out = json_array();
    int64_t seq = since + 1 > self->first ? since + 1 : self->first;
    size_t jid_len = jid ? strlen(jid) : 0;
    for (; seq <= self->last && json_array_size(out) < limit; seq++) {
        s_slot_t *slot = &self->ring[seq % (int64_t)self->size];
        json_t *entry = slot->json;
        const s_stanza_t *e = slot->stanza;
        if (!entry && !e) {
            continue;
        }
        int64_t c = e ? e->stanza.conn
                      : json_integer_value(json_object_get(entry, "conn"));
        if (conn && c != conn) {
            continue;
        }
        if (jid) {
            const char *j =
                e ? e->stanza.jid
                  : json_string_value(json_object_get(entry, "jid"));
            if (!j || strncmp(j, jid, jid_len) != 0) {
                continue;
            }
        }
        if (e) {
            json_array_append_new(out, s_stanza_json(e));
        } else {
            json_array_append(out, entry);
        }
    }
    return out;
}

int64_t
sim_log_last(sim_log_t *self)
{
    assert(self);
    return self->last;
}

void
sim_log_clear(sim_log_t *self)
{
    assert(self);
    for (size_t i = 0; i < self->size; i++) {
        s_slot_clear(&self->ring[i]);
    }
    self->first = self->last + 1;
}

void
sim_log_test(bool verbose)
{
    printf(" * sim_log: ");
    sim_log_t *log = sim_log_new(4);
    for (int i = 0; i < 6; i++) {
        json_t *e = json_pack("{s:s, s:i, s:s}", "tag", "iq", "conn", i % 2 + 1,
                              "jid", i % 2 ? "1555:1@s.whatsapp.net" : "1666");
        assert(sim_log_add(log, &e) == i + 1);
        assert(e == NULL);
    }
    assert(sim_log_last(log) == 6);
    json_t *all = sim_log_query(log, 0, 100, 0, NULL);
    assert(json_array_size(all) == 4); //  two overwritten
    assert(json_integer_value(json_object_get(json_array_get(all, 0), "seq")) ==
           3);
    assert(json_object_get(json_array_get(all, 0), "ts"));
    json_decref(all);
    json_t *page = sim_log_query(log, 4, 1, 0, NULL);
    assert(json_array_size(page) == 1);
    assert(json_integer_value(
               json_object_get(json_array_get(page, 0), "seq")) == 5);
    json_decref(page);
    json_t *c2 = sim_log_query(log, 0, 100, 2, NULL);
    assert(json_array_size(c2) == 2);
    json_decref(c2);
    json_t *j = sim_log_query(log, 0, 100, 0, "1555");
    assert(json_array_size(j) == 2);
    json_decref(j);
    sim_log_clear(log);
    json_t *none = sim_log_query(log, 0, 100, 0, NULL);
    assert(json_array_size(none) == 0);
    json_decref(none);
    json_t *e = json_pack("{s:s}", "tag", "ack");
    assert(sim_log_add(log, &e) == 7);

    //  Stanza entries read back as the JSON object they stand for, mixed
    //  with JSON entries in the ring, and overwrite like them
    sim_log_stanza_t st = {
        "in",      5,   "1555:1@s.whatsapp.net",
        "message", 321, {"M1", "text", NULL, "1666@s.whatsapp.net"},
        "enc"};
    assert(sim_log_add_stanza(log, &st) == 8);
    st.dir = "out";
    st.jid = NULL;
    st.child = NULL;
    st.attrs[0] = NULL;
    assert(sim_log_add_stanza(log, &st) == 9);
    json_t *got = sim_log_query(log, 7, 10, 5, NULL);
    assert(json_array_size(got) == 2);
    json_t *want =
        json_pack("{s:s, s:i, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:i}", "dir",
                  "in", "conn", 5, "jid", "1555:1@s.whatsapp.net", "tag",
                  "message", "size", 321, "id", "M1", "type", "text", "from",
                  "1666@s.whatsapp.net", "child", "enc", "seq", 8);
    json_t *first = json_array_get(got, 0);
    assert(json_object_get(first, "ts"));
    json_object_del(first, "ts");
    assert(json_equal(first, want));
    json_decref(want);
    json_t *second = json_array_get(got, 1);
    assert(cm_streq(json_string_value(json_object_get(second, "jid")), ""));
    assert(!json_object_get(second, "id") && !json_object_get(second, "child"));
    assert(
        cm_streq(json_string_value(json_object_get(second, "type")), "text"));
    json_decref(got);
    got = sim_log_query(log, 0, 10, 0, "1555");
    assert(json_array_size(got) == 1);
    json_decref(got);
    for (int i = 0; i < 4; i++) {
        assert(sim_log_add_stanza(log, &st) == 10 + i);
    }
    got = sim_log_query(log, 0, 10, 0, NULL);
    assert(json_array_size(got) == 4);
    json_decref(got);
    sim_log_destroy(&log);
    assert(!log);
    printf("OK\n");
}
