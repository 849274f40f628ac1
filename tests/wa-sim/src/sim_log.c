/*  sim_log - the stanza log: metadata of every stanza in and out

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"

struct _sim_log_t {
    json_t **ring; //  entries, ring[seq % size]
    size_t size;   //  capacity
    int64_t first; //  seq of the oldest entry kept
    int64_t last;  //  seq of the newest entry (0 = none yet)
};

sim_log_t *
sim_log_new(size_t size)
{
    sim_log_t *self = (sim_log_t *)cm_alloc(sizeof(sim_log_t));
    self->size = size ? size : SIM_LOG_SIZE;
    self->ring = (json_t **)cm_alloc(self->size * sizeof(json_t *));
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
    int64_t seq = ++self->last;
    json_t **slot = &self->ring[seq % (int64_t)self->size];
    if (*slot) {
        json_decref(*slot);
        self->first++;
    }
    json_object_set_new(*entry_p, "seq", json_integer(seq));
    json_object_set_new(*entry_p, "ts", json_integer(cm_now_ms()));
    *slot = *entry_p;
    *entry_p = NULL;
    return seq;
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
        json_t *entry = self->ring[seq % (int64_t)self->size];
        if (!entry) {
            continue;
        }
        if (conn &&
            json_integer_value(json_object_get(entry, "conn")) != conn) {
            continue;
        }
        if (jid) {
            const char *j = json_string_value(json_object_get(entry, "jid"));
            if (!j || strncmp(j, jid, jid_len) != 0) {
                continue;
            }
        }
        json_array_append(out, entry);
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
        json_decref(self->ring[i]);
        self->ring[i] = NULL;
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
    sim_log_destroy(&log);
    assert(!log);
    printf("OK\n");
}
