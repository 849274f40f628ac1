/*  sw_wajournal - Signal record changes waiting to be written to the
    store

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"

//  One pending change.
typedef struct {
    char *kind;    //  record kind
    char *key;     //  record key
    uint8_t *data; //  new record, or NULL for a deletion
    size_t len;    //  its length
} s_change_t;

struct _sw_wajournal_t {
    zhashx_t *changes; //  "kind\x1fkey" -> s_change_t
    size_t bytes;      //  record bytes pending
};

static void
s_change_destroy(void **item_p)
{
    s_change_t *c = (s_change_t *)*item_p;
    if (c) {
        free(c->kind);
        free(c->key);
        free(c->data);
        free(c);
        *item_p = NULL;
    }
}

sw_wajournal_t *
sw_wajournal_new(void)
{
    sw_wajournal_t *self = cm_alloc(sizeof *self);
    self->changes = zhashx_new();
    zhashx_set_destructor(self->changes, s_change_destroy);
    return self;
}

void
sw_wajournal_destroy(sw_wajournal_t **self_p)
{
    assert(self_p);
    sw_wajournal_t *self = *self_p;
    if (self) {
        zhashx_destroy(&self->changes);
        free(self);
        *self_p = NULL;
    }
}

static char *
s_hash_key(const char *kind, const char *key)
{
    return cm_sprintf("%s\x1f%s", kind, key);
}

void
sw_wajournal_put(sw_wajournal_t *self, const char *kind, const char *key,
                 const uint8_t *data, size_t len)
{
    assert(kind && key);
    char *hk = s_hash_key(kind, key);
    s_change_t *old = (s_change_t *)zhashx_lookup(self->changes, hk);
    if (old) {
        self->bytes -= old->len;
        zhashx_delete(self->changes, hk);
    }
    s_change_t *c = cm_alloc(sizeof *c);
    c->kind = cm_strdup(kind);
    c->key = cm_strdup(key);
    if (data) {
        c->data = cm_alloc(len ? len : 1);
        memcpy(c->data, data, len);
        c->len = len;
        self->bytes += len;
    }
    zhashx_insert(self->changes, hk, c);
    free(hk);
}

size_t
sw_wajournal_size(sw_wajournal_t *self)
{
    return zhashx_size(self->changes);
}

size_t
sw_wajournal_bytes(sw_wajournal_t *self)
{
    return self->bytes;
}

json_t *
sw_wajournal_take(sw_wajournal_t *self, size_t max)
{
    if (max == 0 || max > SW_WAJOURNAL_BATCH_MAX) {
        max = SW_WAJOURNAL_BATCH_MAX;
    }
    if (zhashx_size(self->changes) == 0) {
        return NULL;
    }
    json_t *rows = json_array();
    zlistx_t *keys = zhashx_keys(self->changes);
    for (const char *hk = (const char *)zlistx_first(keys);
         hk && json_array_size(rows) < max;
         hk = (const char *)zlistx_next(keys)) {
        s_change_t *c = (s_change_t *)zhashx_lookup(self->changes, hk);
        json_t *row = json_pack("{s:s, s:s}", "kind", c->kind, "key", c->key);
        if (c->data) {
            char *b64 = cm_base64_encode(c->data, c->len);
            json_object_set_new(row, "data", json_string(b64));
            free(b64);
        } else {
            json_object_set_new(row, "data", json_null());
        }
        json_array_append_new(rows, row);
        self->bytes -= c->len;
        zhashx_delete(self->changes, hk);
    }
    zlistx_destroy(&keys);
    return rows;
}

void
sw_wajournal_restore(sw_wajournal_t *self, json_t *rows)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *kind = json_string_value(json_object_get(row, "kind"));
        const char *key = json_string_value(json_object_get(row, "key"));
        if (!kind || !key) {
            continue;
        }
        char *hk = s_hash_key(kind, key);
        bool newer = zhashx_lookup(self->changes, hk) != NULL;
        free(hk);
        if (newer) {
            continue;
        }
        const char *b64 = json_string_value(json_object_get(row, "data"));
        if (!b64) {
            sw_wajournal_put(self, kind, key, NULL, 0);
            continue;
        }
        uint8_t *data = NULL;
        size_t len = 0;
        if (!*b64) {
            sw_wajournal_put(self, kind, key, (const uint8_t *)"", 0);
        } else if (cm_base64_decode(b64, SIZE_MAX, &data, &len) == 0) {
            sw_wajournal_put(self, kind, key, data, len);
            free(data);
        }
    }
}

void
sw_wajournal_clear(sw_wajournal_t *self)
{
    zhashx_purge(self->changes);
    self->bytes = 0;
}

//  --------------------------------------------------------------------

//  The row for (kind, key) in rows, or NULL.
static json_t *
s_row(json_t *rows, const char *kind, const char *key)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (cm_streq(json_string_value(json_object_get(row, "kind")), kind) &&
            cm_streq(json_string_value(json_object_get(row, "key")), key)) {
            return row;
        }
    }
    return NULL;
}

void
sw_wajournal_test(bool verbose)
{
    printf(" * sw_wajournal: ");
    sw_wajournal_t *j = sw_wajournal_new();
    assert(sw_wajournal_take(j, 0) == NULL);
    //  Coalescing: the last change of a key wins
    sw_wajournal_put(j, "session", "1555.0", (const uint8_t *)"aaa", 3);
    sw_wajournal_put(j, "session", "1555.0", (const uint8_t *)"bbbb", 4);
    sw_wajournal_put(j, "prekey", "7", (const uint8_t *)"p", 1);
    sw_wajournal_put(j, "prekey", "7", NULL, 0);
    sw_wajournal_put(j, "identity", "1555.0", (const uint8_t *)"", 0);
    assert(sw_wajournal_size(j) == 3);
    assert(sw_wajournal_bytes(j) == 4);
    json_t *rows = sw_wajournal_take(j, 0);
    assert(json_array_size(rows) == 3);
    assert(sw_wajournal_size(j) == 0 && sw_wajournal_bytes(j) == 0);
    json_t *r = s_row(rows, "session", "1555.0");
    assert(cm_streq(json_string_value(json_object_get(r, "data")), "YmJiYg=="));
    r = s_row(rows, "prekey", "7");
    assert(r && json_is_null(json_object_get(r, "data")));
    r = s_row(rows, "identity", "1555.0");
    assert(r && cm_streq(json_string_value(json_object_get(r, "data")), ""));

    //  Restore after a failed write keeps newer changes
    sw_wajournal_put(j, "session", "1555.0", (const uint8_t *)"cc", 2);
    sw_wajournal_restore(j, rows);
    json_decref(rows);
    assert(sw_wajournal_size(j) == 3);
    rows = sw_wajournal_take(j, 0);
    r = s_row(rows, "session", "1555.0");
    assert(cm_streq(json_string_value(json_object_get(r, "data")), "Y2M="));
    r = s_row(rows, "prekey", "7");
    assert(r && json_is_null(json_object_get(r, "data")));
    json_decref(rows);

    //  Batches are bounded
    for (int i = 0; i < 10; i++) {
        char key[8];
        snprintf(key, sizeof key, "%d", i);
        sw_wajournal_put(j, "prekey", key, (const uint8_t *)"x", 1);
    }
    rows = sw_wajournal_take(j, 4);
    assert(json_array_size(rows) == 4 && sw_wajournal_size(j) == 6);
    json_decref(rows);
    sw_wajournal_clear(j);
    assert(sw_wajournal_size(j) == 0 && sw_wajournal_bytes(j) == 0);
    sw_wajournal_destroy(&j);
    sw_wajournal_destroy(&j);
    printf("OK\n");
}
