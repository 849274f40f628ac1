/*  cm_msg - the versioned bus envelope

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "cm_classes.h"
#include <pthread.h>
#include <stdatomic.h>

struct _cm_msg_t {
    char type[CM_MSG_MAX_TYPE + 1];    //  family.verb
    int v;                             //  envelope/type version
    int mv;                            //  minor version, 0 = none
    char id[CM_MSG_MAX_ID + 1];        //  request id
    char *corr;                        //  id this replies to, or NULL
    int64_t ts;                        //  creation time, epoch ms
    int64_t deadline;                  //  absolute deadline, 0 = none
    char *trace;                       //  optional trace id
    int st;                            //  reply status, 0 on requests
    char *reason;                      //  reply reason, or NULL
    char *error;                       //  body decode error, or NULL
    json_t *body;                      //  body object (NULL while raw)
    zframe_t *raw;                     //  body frame as received, decoded
                                       //  on first use (a message passed
                                       //  on untouched is never decoded)
    zlist_t *blobs;                    //  zframe_t * blobs, owned
    zframe_t *routing;                 //  ROUTER routing id, owned
    char summary[160];                 //  scratch for cm_msg_summary
};

//  Request ids: a random per-process prefix and a counter.
static pthread_once_t s_id_once = PTHREAD_ONCE_INIT;
static char s_id_prefix[17];
static atomic_uint_fast64_t s_id_counter;

static void
s_id_init(void)
{
    uint8_t r[8];
    cm_random(r, sizeof r);
    cm_hex(r, sizeof r, s_id_prefix);
}

//  Minor version written: CM_MSG_MINOR or WHARF_BUS_MINOR, read once.
static pthread_once_t s_minor_once = PTHREAD_ONCE_INIT;
static int s_minor;

static void
s_minor_init(void)
{
    s_minor =
        (int)cm_env_long("WHARF_BUS_MINOR", CM_MSG_MINOR, 0, CM_MSG_MAX_MINOR);
}

static void
s_new_id(char *out)
{
    pthread_once(&s_id_once, s_id_init);
    uint64_t n = atomic_fetch_add(&s_id_counter, 1);
    snprintf(out, CM_MSG_MAX_ID + 1, "%.12s%08" PRIx64, s_id_prefix, n);
}

cm_msg_t *
cm_msg_new(const char *type)
{
    assert(type && strlen(type) <= CM_MSG_MAX_TYPE);
    cm_msg_t *self = cm_alloc(sizeof *self);
    snprintf(self->type, sizeof self->type, "%s", type);
    self->v = CM_MSG_VERSION;
    pthread_once(&s_minor_once, s_minor_init);
    self->mv = s_minor;
    s_new_id(self->id);
    self->ts = cm_now_ms();
    self->body = json_object();
    return self;
}

cm_msg_t *
cm_msg_new_reply(const cm_msg_t *request, int st, const char *reason)
{
    assert(request);
    cm_msg_t *self = cm_msg_new(request->type);
    self->corr = cm_strdup(request->id);
    self->st = st;
    self->reason = cm_strdup(reason);
    if (request->routing) {
        self->routing = zframe_dup(request->routing);
    }
    if (request->trace) {
        self->trace = cm_strdup(request->trace);
    }
    return self;
}

void
cm_msg_destroy(cm_msg_t **self_p)
{
    assert(self_p);
    cm_msg_t *self = *self_p;
    if (!self) {
        return;
    }
    free(self->corr);
    free(self->trace);
    free(self->reason);
    free(self->error);
    json_decref(self->body);
    zframe_destroy(&self->raw);
    if (self->blobs) {
        zframe_t *f;
        while ((f = (zframe_t *) zlist_pop(self->blobs))) {
            zframe_destroy(&f);
        }
        zlist_destroy(&self->blobs);
    }
    zframe_destroy(&self->routing);
    free(self);
    *self_p = NULL;
}

const char *
cm_msg_type(const cm_msg_t *self)
{
    return self->type;
}

int
cm_msg_version(const cm_msg_t *self)
{
    return self->v;
}

void
cm_msg_set_version(cm_msg_t *self, int v)
{
    self->v = v;
}

int
cm_msg_minor(const cm_msg_t *self)
{
    return self->mv;
}

void
cm_msg_set_minor(cm_msg_t *self, int mv)
{
    assert(mv >= 0 && mv <= CM_MSG_MAX_MINOR);
    self->mv = mv;
}

const char *
cm_msg_id(const cm_msg_t *self)
{
    return self->id;
}

const char *
cm_msg_corr(const cm_msg_t *self)
{
    return self->corr;
}

int64_t
cm_msg_ts(const cm_msg_t *self)
{
    return self->ts;
}

int64_t
cm_msg_deadline(const cm_msg_t *self)
{
    return self->deadline;
}

void
cm_msg_set_deadline(cm_msg_t *self, int64_t epoch_ms)
{
    self->deadline = epoch_ms;
}

bool
cm_msg_expired(const cm_msg_t *self)
{
    return self->deadline > 0 && cm_now_ms() > self->deadline;
}

const char *
cm_msg_trace(const cm_msg_t *self)
{
    return self->trace;
}

void
cm_msg_set_trace(cm_msg_t *self, const char *trace)
{
    free(self->trace);
    self->trace = cm_strdup(trace);
}

int
cm_msg_status(const cm_msg_t *self)
{
    return self->st;
}

const char *
cm_msg_reason(const cm_msg_t *self)
{
    return self->reason;
}

bool
cm_msg_is_reply(const cm_msg_t *self)
{
    return self->corr != NULL;
}

static json_t *s_unpack_frame(zframe_t *frame, const char **err);

//  The body, decoded now if it is still the received frame.
static json_t *
s_body(cm_msg_t *self)
{
    if (self->raw) {
        const char *err = NULL;
        self->body = s_unpack_frame(self->raw, &err);
        if (!self->body) {
            self->body = json_object();
            self->error = cm_sprintf("malformed body: %s", err);
        }
        zframe_destroy(&self->raw);
    }
    return self->body;
}

const char *
cm_msg_error(const cm_msg_t *self)
{
    //  Decoding the body is what finds the error: a cache, not a change.
    s_body((cm_msg_t *) self);
    return self->error;
}

json_t *
cm_msg_body(cm_msg_t *self)
{
    return s_body(self);
}

void
cm_msg_set_body(cm_msg_t *self, json_t **body_p)
{
    assert(body_p && json_is_object(*body_p));
    zframe_destroy(&self->raw);
    json_decref(self->body);
    self->body = *body_p;
    *body_p = NULL;
}

const char *
cm_msg_str(cm_msg_t *self, const char *key)
{
    return json_string_value(json_object_get(s_body(self), key));
}

int64_t
cm_msg_int(cm_msg_t *self, const char *key, int64_t dflt)
{
    json_t *v = json_object_get(s_body(self), key);
    return json_is_integer(v) ? (int64_t) json_integer_value(v) : dflt;
}

bool
cm_msg_bool(cm_msg_t *self, const char *key, bool dflt)
{
    json_t *v = json_object_get(s_body(self), key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

void
cm_msg_set_str(cm_msg_t *self, const char *key, const char *value)
{
    json_object_set_new(s_body(self), key,
                        value ? json_string(value) : json_null());
}

void
cm_msg_set_int(cm_msg_t *self, const char *key, int64_t value)
{
    json_object_set_new(s_body(self), key, json_integer(value));
}

void
cm_msg_set_bool(cm_msg_t *self, const char *key, bool value)
{
    json_object_set_new(s_body(self), key, json_boolean(value));
}

void
cm_msg_set(cm_msg_t *self, const char *key, json_t *value)
{
    json_object_set_new(s_body(self), key, value ? value : json_null());
}

void
cm_msg_add_blob(cm_msg_t *self, const void *data, size_t len)
{
    zframe_t *f = zframe_new(data, len);
    cm_msg_add_frame(self, &f);
}

void
cm_msg_add_frame(cm_msg_t *self, zframe_t **frame_p)
{
    assert(frame_p && *frame_p);
    if (!self->blobs) {
        self->blobs = zlist_new();
    }
    zlist_append(self->blobs, *frame_p);
    *frame_p = NULL;
}

size_t
cm_msg_blob_count(const cm_msg_t *self)
{
    return self->blobs ? zlist_size(self->blobs) : 0;
}

zframe_t *
cm_msg_blob(const cm_msg_t *self, size_t i)
{
    if (!self->blobs || i >= zlist_size(self->blobs)) {
        return NULL;
    }
    zframe_t *f = (zframe_t *) zlist_first(self->blobs);
    while (i-- > 0) {
        f = (zframe_t *) zlist_next(self->blobs);
    }
    return f;
}

zframe_t *
cm_msg_take_blob(cm_msg_t *self, size_t i)
{
    zframe_t *f = cm_msg_blob(self, i);
    if (f) {
        zlist_remove(self->blobs, f);
    }
    return f;
}

zframe_t *
cm_msg_routing(const cm_msg_t *self)
{
    return self->routing;
}

void
cm_msg_set_routing(cm_msg_t *self, zframe_t **routing_p)
{
    zframe_destroy(&self->routing);
    self->routing = *routing_p;
    *routing_p = NULL;
}

//  --------------------------------------------------------------------
//  JSON -> msgpack

static void
s_pack(msgpack_packer *pk, json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *item;
        msgpack_pack_map(pk, json_object_size(v));
        json_object_foreach(v, key, item)
        {
            size_t klen = strlen(key);
            msgpack_pack_str(pk, klen);
            msgpack_pack_str_body(pk, key, klen);
            s_pack(pk, item);
        }
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *item;
        msgpack_pack_array(pk, json_array_size(v));
        json_array_foreach(v, i, item)
        {
            s_pack(pk, item);
        }
        break;
    }
    case JSON_STRING: {
        size_t len = json_string_length(v);
        msgpack_pack_str(pk, len);
        msgpack_pack_str_body(pk, json_string_value(v), len);
        break;
    }
    case JSON_INTEGER:
        msgpack_pack_int64(pk, (int64_t) json_integer_value(v));
        break;
    case JSON_REAL:
        msgpack_pack_double(pk, json_real_value(v));
        break;
    case JSON_TRUE:
        msgpack_pack_true(pk);
        break;
    case JSON_FALSE:
        msgpack_pack_false(pk);
        break;
    case JSON_NULL:
        msgpack_pack_nil(pk);
        break;
    }
}

//  Packing buffer: starts on the stack, moves to the heap when a frame
//  outgrows it (msgpack's sbuffer would malloc 8 KiB for every frame).
#define S_PACK_STACK 1024

typedef struct {
    char *data;                  //  stack or heap
    size_t size;                 //  bytes written
    size_t cap;                  //  bytes available
    char stack[S_PACK_STACK];    //  first bytes
} s_packbuf_t;

static int
s_packbuf_write(void *data, const char *buf, size_t len)
{
    s_packbuf_t *b = (s_packbuf_t *) data;
    if (b->cap - b->size < len) {
        size_t cap = b->cap * 2;
        while (cap - b->size < len) {
            cap *= 2;
        }
        char *heap = (char *) malloc(cap);
        assert(heap);
        memcpy(heap, b->data, b->size);
        if (b->data != b->stack) {
            free(b->data);
        }
        b->data = heap;
        b->cap = cap;
    }
    memcpy(b->data + b->size, buf, len);
    b->size += len;
    return 0;
}

static void
s_packbuf_init(s_packbuf_t *b, msgpack_packer *pk)
{
    b->data = b->stack;
    b->size = 0;
    b->cap = sizeof b->stack;
    msgpack_packer_init(pk, b, s_packbuf_write);
}

//  The packed bytes as a frame; frees the buffer.
static zframe_t *
s_packbuf_frame(s_packbuf_t *b)
{
    zframe_t *f = zframe_new(b->data, b->size);
    if (b->data != b->stack) {
        free(b->data);
    }
    b->data = NULL;
    return f;
}

static zframe_t *
s_pack_frame(json_t *v)
{
    s_packbuf_t buf;
    msgpack_packer pk;
    s_packbuf_init(&buf, &pk);
    s_pack(&pk, v);
    return s_packbuf_frame(&buf);
}

//  Pack a string (key or value).
static void
s_pack_cstr(msgpack_packer *pk, const char *text)
{
    size_t len = strlen(text);
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, text, len);
}

//  --------------------------------------------------------------------
//  msgpack -> JSON, bounded: every declared count is checked against the
//  bytes left and nesting is limited to CM_MSG_MAX_DEPTH.

typedef struct {
    const uint8_t *p;    //  read position
    const uint8_t *end;  //  end of input
    const char *err;     //  first error, or NULL
} s_reader_t;

static bool
s_need(s_reader_t *r, size_t n)
{
    if ((size_t) (r->end - r->p) < n) {
        r->err = "truncated msgpack";
        return false;
    }
    return true;
}

static uint64_t
s_be(s_reader_t *r, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = v << 8 | r->p[i];
    }
    r->p += n;
    return v;
}

static json_t *s_unpack(s_reader_t *r, int depth);

static json_t *
s_unpack_str(s_reader_t *r, size_t len)
{
    if (!s_need(r, len)) {
        return NULL;
    }
    json_t *s = json_stringn((const char *) r->p, len);
    if (!s) {
        r->err = "string is not valid UTF-8";
        return NULL;
    }
    r->p += len;
    return s;
}

static json_t *
s_unpack_array(s_reader_t *r, size_t n, int depth)
{
    if ((size_t) (r->end - r->p) < n) {
        r->err = "array count exceeds input";
        return NULL;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *item = s_unpack(r, depth + 1);
        if (!item) {
            json_decref(a);
            return NULL;
        }
        json_array_append_new(a, item);
    }
    return a;
}

//  Read a map key (a msgpack string) in place: *key_p points into the
//  input, *len_p is its length. Returns 0 or -1 with r->err set.
static int
s_map_key(s_reader_t *r, int depth, const char **key_p, size_t *len_p)
{
    if (depth > CM_MSG_MAX_DEPTH) {
        r->err = "msgpack nested too deeply";
        return -1;
    }
    if (!s_need(r, 1)) {
        return -1;
    }
    uint8_t b = *r->p;
    size_t len = 0;
    if ((b & 0xe0) == 0xa0) {
        r->p++;
        len = b & 0x1f;
    }
    else if (b >= 0xd9 && b <= 0xdb) {
        size_t n = (size_t) 1 << (b - 0xd9);
        r->p++;
        if (!s_need(r, n)) {
            return -1;
        }
        len = (size_t) s_be(r, n);
    }
    else {
        //  Not a string: decode it as before for the same errors.
        json_t *other = s_unpack(r, depth);
        if (other) {
            json_decref(other);
            r->err = "map key is not a string";
        }
        return -1;
    }
    if (!s_need(r, len)) {
        return -1;
    }
    *key_p = (const char *) r->p;
    *len_p = len;
    r->p += len;
    return 0;
}

static json_t *
s_unpack_map(s_reader_t *r, size_t n, int depth)
{
    if ((size_t) (r->end - r->p) / 2 < n) {
        r->err = "map count exceeds input";
        return NULL;
    }
    json_t *m = json_object();
    for (size_t i = 0; i < n; i++) {
        //  The key is read in place (no string object for it).
        const char *key = NULL;
        size_t klen = 0;
        if (s_map_key(r, depth + 1, &key, &klen) != 0) {
            json_decref(m);
            return NULL;
        }
        json_t *val = s_unpack(r, depth + 1);
        if (!val) {
            json_decref(m);
            return NULL;
        }
        //  keys with embedded NULs cannot be object keys
        if (memchr(key, 0, klen)) {
            json_decref(val);
            json_decref(m);
            r->err = "map key contains NUL";
            return NULL;
        }
        //  checks the key is UTF-8; takes val either way
        if (json_object_setn_new(m, key, klen, val) != 0) {
            json_decref(m);
            r->err = "string is not valid UTF-8";
            return NULL;
        }
    }
    return m;
}

static json_t *
s_unpack(s_reader_t *r, int depth)
{
    if (depth > CM_MSG_MAX_DEPTH) {
        r->err = "msgpack nested too deeply";
        return NULL;
    }
    if (!s_need(r, 1)) {
        return NULL;
    }
    uint8_t b = *r->p++;
    if (b <= 0x7f) {
        return json_integer(b);
    }
    if (b >= 0xe0) {
        return json_integer((int8_t) b);
    }
    if ((b & 0xf0) == 0x80) {
        return s_unpack_map(r, b & 0x0f, depth);
    }
    if ((b & 0xf0) == 0x90) {
        return s_unpack_array(r, b & 0x0f, depth);
    }
    if ((b & 0xe0) == 0xa0) {
        return s_unpack_str(r, b & 0x1f);
    }
    switch (b) {
    case 0xc0:
        return json_null();
    case 0xc2:
        return json_false();
    case 0xc3:
        return json_true();
    case 0xca: {
        if (!s_need(r, 4)) {
            return NULL;
        }
        uint32_t u = (uint32_t) s_be(r, 4);
        float f;
        memcpy(&f, &u, 4);
        return json_real(f);
    }
    case 0xcb: {
        if (!s_need(r, 8)) {
            return NULL;
        }
        uint64_t u = s_be(r, 8);
        double d;
        memcpy(&d, &u, 8);
        return json_real(d);
    }
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf: {
        size_t n = (size_t) 1 << (b - 0xcc);
        if (!s_need(r, n)) {
            return NULL;
        }
        uint64_t u = s_be(r, n);
        if (u > INT64_MAX) {
            r->err = "integer out of range";
            return NULL;
        }
        return json_integer((json_int_t) u);
    }
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
        size_t n = (size_t) 1 << (b - 0xd0);
        if (!s_need(r, n)) {
            return NULL;
        }
        uint64_t u = s_be(r, n);
        int64_t i;
        if (n == 1) {
            i = (int8_t) u;
        }
        else if (n == 2) {
            i = (int16_t) u;
        }
        else if (n == 4) {
            i = (int32_t) u;
        }
        else {
            memcpy(&i, &u, 8);
        }
        return json_integer(i);
    }
    case 0xd9:
    case 0xda:
    case 0xdb: {
        size_t n = (size_t) 1 << (b - 0xd9);
        if (!s_need(r, n)) {
            return NULL;
        }
        return s_unpack_str(r, (size_t) s_be(r, n));
    }
    case 0xdc:
    case 0xdd: {
        size_t n = b == 0xdc ? 2 : 4;
        if (!s_need(r, n)) {
            return NULL;
        }
        return s_unpack_array(r, (size_t) s_be(r, n), depth);
    }
    case 0xde:
    case 0xdf: {
        size_t n = b == 0xde ? 2 : 4;
        if (!s_need(r, n)) {
            return NULL;
        }
        return s_unpack_map(r, (size_t) s_be(r, n), depth);
    }
    default:
        r->err = "unsupported msgpack type (bin and ext go in blob frames)";
        return NULL;
    }
}

//  Decode a whole frame as one msgpack map. Returns NULL and sets *err.
static json_t *
s_unpack_frame(zframe_t *frame, const char **err)
{
    s_reader_t r = {zframe_data(frame), zframe_data(frame) + zframe_size(frame),
                    NULL};
    json_t *v = s_unpack(&r, 0);
    if (v && r.p != r.end) {
        json_decref(v);
        v = NULL;
        r.err = "trailing bytes after msgpack map";
    }
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
        r.err = "not a msgpack map";
    }
    *err = r.err;
    return v;
}

//  Encode to frames. With `take` the body frame and the blobs move into
//  the frames instead of being copied (the message is destroyed next).
static zmsg_t *
s_encode(cm_msg_t *self, bool take)
{
    zmsg_t *zmsg = zmsg_new();
    if (self->routing) {
        zmsg_append(zmsg, (zframe_t *[]){zframe_dup(self->routing)});
    }
    zmsg_addstr(zmsg, self->type);
    //  The header map, packed directly: keys in this order, integers as
    //  int64, the same bytes a JSON object of them would pack to.
    s_packbuf_t buf;
    msgpack_packer pk;
    s_packbuf_init(&buf, &pk);
    size_t fields = 3 + (self->mv != 0) + (self->corr != NULL) +
                    (self->deadline != 0) + (self->trace != NULL) +
                    (self->st != 0) + (self->reason != NULL);
    msgpack_pack_map(&pk, fields);
    s_pack_cstr(&pk, "v");
    msgpack_pack_int64(&pk, self->v);
    if (self->mv) {
        s_pack_cstr(&pk, "mv");
        msgpack_pack_int64(&pk, self->mv);
    }
    s_pack_cstr(&pk, "id");
    s_pack_cstr(&pk, self->id);
    s_pack_cstr(&pk, "ts_ms");
    msgpack_pack_int64(&pk, self->ts);
    if (self->corr) {
        s_pack_cstr(&pk, "corr");
        s_pack_cstr(&pk, self->corr);
    }
    if (self->deadline) {
        s_pack_cstr(&pk, "deadline_ms");
        msgpack_pack_int64(&pk, self->deadline);
    }
    if (self->trace) {
        s_pack_cstr(&pk, "trace");
        s_pack_cstr(&pk, self->trace);
    }
    if (self->st) {
        s_pack_cstr(&pk, "st");
        msgpack_pack_int64(&pk, self->st);
    }
    if (self->reason) {
        s_pack_cstr(&pk, "reason");
        s_pack_cstr(&pk, self->reason);
    }
    zframe_t *f = s_packbuf_frame(&buf);
    zmsg_append(zmsg, &f);
    //  A body nobody looked at goes out as it came in.
    if (self->raw && take) {
        f = self->raw;
        self->raw = NULL;
    } else {
        f = self->raw ? zframe_dup(self->raw) : s_pack_frame(self->body);
    }
    zmsg_append(zmsg, &f);
    if (self->blobs && take) {
        //  File bytes are not copied on their way out
        zframe_t *b;
        while ((b = (zframe_t *) zlist_pop(self->blobs))) {
            zmsg_append(zmsg, &b);
        }
    } else if (self->blobs) {
        for (zframe_t *b = (zframe_t *) zlist_first(self->blobs); b;
             b = (zframe_t *) zlist_next(self->blobs)) {
            zmsg_append(zmsg, (zframe_t *[]){zframe_dup(b)});
        }
    }
    return zmsg;
}

zmsg_t *
cm_msg_encode(const cm_msg_t *self)
{
    return s_encode((cm_msg_t *) self, false);
}

static bool
s_printable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e) {
            return false;
        }
    }
    return len > 0;
}

static const char *
s_hdr_str(json_t *hdr, const char *key, size_t max)
{
    json_t *v = json_object_get(hdr, key);
    if (!json_is_string(v) || json_string_length(v) > max) {
        return NULL;
    }
    return json_string_value(v);
}

cm_msg_t *
cm_msg_decode(zmsg_t **zmsg_p, bool routed)
{
    assert(zmsg_p);
    zmsg_t *zmsg = *zmsg_p;
    *zmsg_p = NULL;
    if (!zmsg) {
        return NULL;
    }
    cm_msg_t *self = NULL;
    json_t *hdr = NULL;
    const char *why = NULL;
    zframe_t *routing = routed ? zmsg_pop(zmsg) : NULL;
    zframe_t *type = NULL;
    zframe_t *hframe = NULL;

    if (zmsg_size(zmsg) < 3) {
        why = "too few frames";
        goto cleanup;
    }
    if (zmsg_size(zmsg) > 3 + CM_MSG_MAX_BLOBS) {
        why = "too many blob frames";
        goto cleanup;
    }
    type = zmsg_pop(zmsg);
    if (zframe_size(type) > CM_MSG_MAX_TYPE
        || !s_printable((char *) zframe_data(type), zframe_size(type))) {
        why = "bad type frame";
        goto cleanup;
    }
    hframe = zmsg_pop(zmsg);
    hdr = s_unpack_frame(hframe, &why);
    if (!hdr) {
        goto cleanup;
    }
    json_t *v = json_object_get(hdr, "v");
    const char *id = s_hdr_str(hdr, "id", CM_MSG_MAX_ID);
    if (!json_is_integer(v) || json_integer_value(v) < 1
        || json_integer_value(v) > 255 || !id) {
        why = "header lacks a valid v or id";
        goto cleanup;
    }
    self = cm_alloc(sizeof *self);
    memcpy(self->type, zframe_data(type), zframe_size(type));
    self->v = (int) json_integer_value(v);
    json_t *mv = json_object_get(hdr, "mv");
    self->mv = json_is_integer(mv) && json_integer_value(mv) >= 0 &&
                       json_integer_value(mv) <= CM_MSG_MAX_MINOR
                   ? (int)json_integer_value(mv)
                   : 0;
    snprintf(self->id, sizeof self->id, "%s", id);
    self->corr = cm_strdup(s_hdr_str(hdr, "corr", CM_MSG_MAX_ID));
    self->trace = cm_strdup(s_hdr_str(hdr, "trace", CM_MSG_MAX_ID));
    self->reason = cm_strdup(s_hdr_str(hdr, "reason", 1024));
    json_t *n = json_object_get(hdr, "ts_ms");
    self->ts = json_is_integer(n) ? json_integer_value(n) : 0;
    n = json_object_get(hdr, "deadline_ms");
    self->deadline = json_is_integer(n) ? json_integer_value(n) : 0;
    n = json_object_get(hdr, "st");
    self->st = json_is_integer(n) && json_integer_value(n) >= 100
                       && json_integer_value(n) <= 599
                   ? (int) json_integer_value(n)
                   : 0;
    self->routing = routing;
    routing = NULL;

    //  The body is decoded when first used (s_body).
    self->raw = zmsg_pop(zmsg);
    zframe_t *blob;
    while ((blob = zmsg_pop(zmsg))) {
        cm_msg_add_frame(self, &blob);
    }
cleanup:
    if (!self) {
        cm_log_warn("dropped malformed bus message", "reason=\"%s\"",
                    why ? why : "unrecognized");
    }
    json_decref(hdr);
    zframe_destroy(&routing);
    zframe_destroy(&type);
    zframe_destroy(&hframe);
    zmsg_destroy(&zmsg);
    return self;
}

int
cm_msg_send(cm_msg_t **self_p, zsock_t *sock)
{
    assert(self_p);
    if (!*self_p) {
        return -1;
    }
    zmsg_t *zmsg = s_encode(*self_p, true);
    cm_msg_destroy(self_p);
    int rc = zmsg_send(&zmsg, sock);
    zmsg_destroy(&zmsg);
    return rc;
}

cm_msg_t *
cm_msg_recv(zsock_t *sock, bool routed)
{
    zmsg_t *zmsg = zmsg_recv(sock);
    if (!zmsg) {
        return NULL;
    }
    return cm_msg_decode(&zmsg, routed);
}

void
cm_msg_sock_defaults(zsock_t *sock)
{
    zsock_set_sndhwm(sock, 10000);
    zsock_set_rcvhwm(sock, 10000);
    zsock_set_linger(sock, 500);
    zsock_set_maxmsgsize(sock, CM_MSG_MAX_SIZE);
}

const char *
cm_msg_summary(cm_msg_t *self)
{
    snprintf(self->summary, sizeof self->summary,
             "type=%s v=%d id=%s%s%s st=%d", self->type, self->v, self->id,
             self->corr ? " corr=" : "", self->corr ? self->corr : "",
             self->st);
    return self->summary;
}

//  Selftest: the frames of an envelope from raw header and body bytes.
static zmsg_t *
s_test_frames(const char *type, const char *hdr, size_t hlen, const char *body,
              size_t blen)
{
    zmsg_t *zmsg = zmsg_new();
    zmsg_addstr(zmsg, type);
    zmsg_addmem(zmsg, hdr, hlen);
    zmsg_addmem(zmsg, body, blen);
    return zmsg;
}

//  Envelopes frozen as bytes (proto/PROTOCOL.md, "Compatibility"). OLD is
//  what a build before the minor version wrote: {v:1, id:"old-1",
//  ts_ms:1700000000000} and body {name:"default"}. NEW is a newer minor
//  of the same major: {v:1, mv:2, id:"new-1", ts_ms:1700000000000,
//  prio:"high"} (an added header field) and body {name:"default",
//  since:42} (an added body field).
#define CM_MSG_TEST_OLD_HDR                                                    \
    "\x83\xa1\x76\x01\xa2\x69\x64\xa5\x6f\x6c\x64\x2d\x31\xa5\x74\x73\x5f\x6d" \
    "\x73\xcf\x00\x00\x01\x8b\xcf\xe5\x68\x00"
#define CM_MSG_TEST_OLD_BODY                                                   \
    "\x81\xa4\x6e\x61\x6d\x65\xa7\x64\x65\x66\x61\x75\x6c\x74"
#define CM_MSG_TEST_NEW_HDR                                                    \
    "\x85\xa1\x76\x01\xa2\x6d\x76\x02\xa2\x69\x64\xa5\x6e\x65\x77\x2d\x31\xa5" \
    "\x74\x73\x5f\x6d\x73\xcf\x00\x00\x01\x8b\xcf\xe5\x68\x00\xa4\x70\x72\x69" \
    "\x6f\xa4\x68\x69\x67\x68"
#define CM_MSG_TEST_NEW_BODY                                                   \
    "\x82\xa4\x6e\x61\x6d\x65\xa7\x64\x65\x66\x61\x75\x6c\x74\xa5\x73\x69\x6e" \
    "\x63\x65\x2a"

static void
s_test_compat(void)
{
    //  new -> old: a newer minor with an added header and body field is
    //  read as the old fields; the additions are ignored, not refused
    zmsg_t *zmsg = s_test_frames("session.get", CM_MSG_TEST_NEW_HDR, 42,
                                 CM_MSG_TEST_NEW_BODY, 21);
    cm_msg_t *msg = cm_msg_decode(&zmsg, false);
    assert(msg && !cm_msg_error(msg));
    assert(cm_msg_version(msg) == 1 && cm_msg_minor(msg) == 2);
    assert(cm_streq(cm_msg_id(msg), "new-1"));
    assert(cm_msg_ts(msg) == 1700000000000LL);
    assert(cm_streq(cm_msg_str(msg, "name"), "default"));
    //  a reply to it is written in this build's version, corr kept
    cm_msg_t *reply = cm_msg_new_reply(msg, 200, NULL);
    assert(cm_msg_version(reply) == CM_MSG_VERSION);
    assert(cm_msg_minor(reply) == s_minor);
    assert(cm_streq(cm_msg_corr(reply), "new-1"));
    cm_msg_destroy(&reply);
    //  passed on untouched, the added body field survives the hop
    zmsg = cm_msg_encode(msg);
    zmsg_first(zmsg);
    zmsg_next(zmsg);
    assert(zframe_size(zmsg_next(zmsg)) == 21);
    zmsg_destroy(&zmsg);
    assert(cm_msg_int(msg, "since", 0) == 42);
    cm_msg_destroy(&msg);

    //  old -> new: no mv reads as minor 0; an added field a newer reader
    //  looks for is absent and takes its default
    zmsg = s_test_frames("session.get", CM_MSG_TEST_OLD_HDR, 28,
                         CM_MSG_TEST_OLD_BODY, 14);
    msg = cm_msg_decode(&zmsg, false);
    assert(msg && !cm_msg_error(msg));
    assert(cm_msg_version(msg) == 1 && cm_msg_minor(msg) == 0);
    assert(cm_streq(cm_msg_id(msg), "old-1"));
    assert(cm_streq(cm_msg_str(msg, "name"), "default"));
    assert(cm_msg_int(msg, "since", -1) == -1);
    //  minor 0 is written exactly as an old build wrote it (no mv key)
    cm_msg_set_minor(msg, 0);
    zmsg = cm_msg_encode(msg);
    zmsg_first(zmsg);
    zframe_t *hdr = zmsg_next(zmsg);
    assert(zframe_size(hdr) == 28);
    assert(memcmp(zframe_data(hdr), CM_MSG_TEST_OLD_HDR, 28) == 0);
    zmsg_destroy(&zmsg);
    //  minor 2 adds {mv:2} right after v, and reads back
    cm_msg_set_minor(msg, 2);
    zmsg = cm_msg_encode(msg);
    zmsg_first(zmsg);
    hdr = zmsg_next(zmsg);
    assert(zframe_size(hdr) == 32);
    assert(memcmp(zframe_data(hdr), "\x84\xa1\x76\x01\xa2\x6d\x76\x02", 8) ==
           0);
    cm_msg_t *back = cm_msg_decode(&zmsg, false);
    assert(back && cm_msg_minor(back) == 2 && cm_msg_version(back) == 1);
    cm_msg_destroy(&back);
    cm_msg_destroy(&msg);

    //  a minor that is not an integer 0..65535 reads as 0, not an error
    const char *odd[] = {"\x84\xa1\x76\x01\xa2\x6d\x76\xa1\x78",
                         "\x84\xa1\x76\x01\xa2\x6d\x76\xff",
                         "\x84\xa1\x76\x01\xa2\x6d\x76\xce\x00\x01\x00\x00"};
    const size_t odd_len[] = {9, 8, 12};
    for (size_t i = 0; i < 3; i++) {
        char h[64];
        memcpy(h, odd[i], odd_len[i]);
        memcpy(h + odd_len[i], CM_MSG_TEST_OLD_HDR + 4, 28 - 4);
        zmsg = s_test_frames("session.get", h, odd_len[i] + 24,
                             CM_MSG_TEST_OLD_BODY, 14);
        msg = cm_msg_decode(&zmsg, false);
        assert(msg && cm_msg_minor(msg) == 0 && cm_msg_version(msg) == 1);
        assert(cm_streq(cm_msg_id(msg), "old-1"));
        cm_msg_destroy(&msg);
    }
}

void
cm_msg_test(bool verbose)
{
    printf(" * cm_msg: ");
    //  Round trip through frames
    cm_msg_t *req = cm_msg_new("session.get");
    cm_msg_set_str(req, "name", "default");
    cm_msg_set_int(req, "n", -5000000000LL);
    cm_msg_set_bool(req, "all", true);
    cm_msg_set(req, "list", json_pack("[i,f,s,n,{s:b}]", 1, 2.5, "x", "k", 0));
    cm_msg_set_deadline(req, cm_now_ms() + 1000);
    cm_msg_add_blob(req, "\x00\x01\x02", 3);
    zmsg_t *zmsg = cm_msg_encode(req);
    assert(zmsg_size(zmsg) == 4);
    cm_msg_t *copy = cm_msg_decode(&zmsg, false);
    assert(!zmsg);
    assert(copy && !cm_msg_error(copy));
    assert(cm_streq(cm_msg_type(copy), "session.get"));
    assert(cm_streq(cm_msg_id(copy), cm_msg_id(req)));
    assert(cm_msg_version(copy) == CM_MSG_VERSION);
    assert(cm_msg_deadline(copy) == cm_msg_deadline(req));
    assert(!cm_msg_expired(copy));
    assert(cm_streq(cm_msg_str(copy, "name"), "default"));
    assert(cm_msg_int(copy, "n", 0) == -5000000000LL);
    assert(cm_msg_bool(copy, "all", false));
    assert(json_equal(cm_msg_body(copy), cm_msg_body(req)));
    assert(cm_msg_blob_count(copy) == 1);
    assert(zframe_size(cm_msg_blob(copy, 0)) == 3);
    assert(cm_msg_blob(copy, 1) == NULL);
    //  Unknown field types are read defensively
    assert(cm_msg_str(copy, "n") == NULL);
    assert(cm_msg_int(copy, "name", 9) == 9);
    //  A blob taken out is handed over; the others move down
    cm_msg_add_blob(copy, "abcd", 4);
    zframe_t *taken = cm_msg_take_blob(copy, 0);
    assert(taken && zframe_size(taken) == 3);
    zframe_destroy(&taken);
    assert(cm_msg_blob_count(copy) == 1);
    assert(zframe_size(cm_msg_blob(copy, 0)) == 4);
    assert(cm_msg_take_blob(copy, 1) == NULL);
    //  Sending moves the body and the blobs (same bytes arrive)
    {
        zsock_t *out = zsock_new_pair("@inproc://cm_msg_test_send");
        zsock_t *in = zsock_new_pair(">inproc://cm_msg_test_send");
        assert(out && in);
        zmsg = cm_msg_encode(copy);
        cm_msg_t *sent = cm_msg_decode(&zmsg, false); //  body still raw
        assert(cm_msg_send(&sent, out) == 0 && !sent);
        cm_msg_t *got = cm_msg_recv(in, false);
        assert(got && cm_msg_blob_count(got) == 1);
        assert(memcmp(zframe_data(cm_msg_blob(got, 0)), "abcd", 4) == 0);
        assert(json_equal(cm_msg_body(got), cm_msg_body(copy)));
        cm_msg_destroy(&got);
        zsock_destroy(&in);
        zsock_destroy(&out);
    }

    //  Replies carry corr, status and routing
    zframe_t *rid = zframe_new("peer", 4);
    cm_msg_set_routing(copy, &rid);
    cm_msg_t *reply = cm_msg_new_reply(copy, 404, "session not found");
    zmsg = cm_msg_encode(reply);
    assert(zmsg_size(zmsg) == 4);
    cm_msg_t *r2 = cm_msg_decode(&zmsg, true);
    assert(r2 && cm_msg_is_reply(r2));
    assert(cm_streq(cm_msg_corr(r2), cm_msg_id(req)));
    assert(cm_msg_status(r2) == 404);
    assert(cm_streq(cm_msg_reason(r2), "session not found"));
    assert(zframe_streq(cm_msg_routing(r2), "peer"));
    cm_msg_destroy(&r2);
    cm_msg_destroy(&reply);
    cm_msg_destroy(&copy);

    //  Malformed input: dropped or flagged, never a crash
    cm_log_init(NULL, "error");
    zmsg = zmsg_new();
    zmsg_addstr(zmsg, "only-one");
    assert(cm_msg_decode(&zmsg, false) == NULL);
    zmsg = zmsg_new();
    zmsg_addstr(zmsg, "bad type");
    zmsg_addstr(zmsg, "x");
    zmsg_addstr(zmsg, "y");
    assert(cm_msg_decode(&zmsg, false) == NULL);
    //  header ok, body garbage -> flagged
    zmsg = cm_msg_encode(req);
    zframe_t *last = zmsg_last(zmsg);
    zmsg_remove(zmsg, last);
    zframe_destroy(&last);
    last = zmsg_last(zmsg);
    zmsg_remove(zmsg, last);
    zframe_destroy(&last);
    zmsg_addmem(zmsg, "\xdf\xff\xff\xff\xff", 5); //  map32 with 4G entries
    cm_msg_t *bad = cm_msg_decode(&zmsg, false);
    assert(bad && cm_msg_error(bad));
    cm_msg_destroy(&bad);

    //  A body passed on untouched keeps its bytes (even a malformed one);
    //  touched, it is decoded and packed again
    zmsg = cm_msg_encode(req);
    zmsg_first(zmsg);
    zmsg_next(zmsg);
    zframe_t *sent_body = zframe_dup(zmsg_next(zmsg));
    cm_msg_t *hop = cm_msg_decode(&zmsg, false);
    zmsg = cm_msg_encode(hop);
    zmsg_first(zmsg);
    zmsg_next(zmsg);
    assert(zframe_eq(zmsg_next(zmsg), sent_body));
    zmsg_destroy(&zmsg);
    cm_msg_set_str(hop, "extra", "x");
    assert(json_object_size(cm_msg_body(hop)) ==
           json_object_size(cm_msg_body(req)) + 1);
    zmsg = cm_msg_encode(hop);
    cm_msg_t *hop2 = cm_msg_decode(&zmsg, false);
    assert(cm_streq(cm_msg_str(hop2, "extra"), "x"));
    assert(cm_streq(cm_msg_str(hop2, "name"), "default"));
    cm_msg_destroy(&hop2);
    cm_msg_destroy(&hop);
    zframe_destroy(&sent_body);
    zmsg = cm_msg_encode(req);
    last = zmsg_last(zmsg);
    zmsg_remove(zmsg, last);
    zframe_destroy(&last);
    last = zmsg_last(zmsg);
    zmsg_remove(zmsg, last);
    zframe_destroy(&last);
    zmsg_addmem(zmsg, "\x81\x01\x01", 3);
    hop = cm_msg_decode(&zmsg, false);
    zmsg = cm_msg_encode(hop);
    assert(zframe_size(zmsg_last(zmsg)) == 3);
    zmsg_destroy(&zmsg);
    assert(cm_msg_error(hop));
    cm_msg_destroy(&hop);

    //  The header packs to the bytes of a JSON object of its fields
    cm_msg_t *full = cm_msg_new_reply(req, 502, "upstream");
    cm_msg_set_deadline(full, 1234567890123LL);
    cm_msg_set_trace(full, "t1");
    zmsg = cm_msg_encode(full);
    json_t *hdr = json_pack("{s:i, s:s, s:I, s:s, s:I, s:s, s:i, s:s}", "v",
                            CM_MSG_VERSION, "id", cm_msg_id(full), "ts_ms",
                            (json_int_t) cm_msg_ts(full), "corr",
                            cm_msg_id(req), "deadline_ms",
                            (json_int_t) 1234567890123LL, "trace", "t1",
                            "st", 502, "reason", "upstream");
    zframe_t *want = s_pack_frame(hdr);
    zmsg_first(zmsg);
    assert(zframe_eq(zmsg_next(zmsg), want));
    zframe_destroy(&want);
    json_decref(hdr);
    zmsg_destroy(&zmsg);
    cm_msg_destroy(&full);

    //  Bodies beyond the packing buffer's first KiB, str8/16 keys
    cm_msg_t *big = cm_msg_new("test.big");
    char *long_key = (char *) cm_alloc(300);
    memset(long_key, 'k', 299);
    char *text = (char *) cm_alloc(70000);
    memset(text, 'x', 69999);
    cm_msg_set_str(big, long_key, "v");
    cm_msg_set_str(big, "text", text);
    cm_msg_set_str(big, "k\xc3\xa9", "utf8 key");
    zmsg = cm_msg_encode(big);
    cm_msg_t *big2 = cm_msg_decode(&zmsg, false);
    assert(big2 && !cm_msg_error(big2));
    assert(json_equal(cm_msg_body(big2), cm_msg_body(big)));
    cm_msg_destroy(&big2);
    cm_msg_destroy(&big);
    free(text);
    free(long_key);

    //  Bad map keys flag the body: not a string, NUL, not UTF-8
    const char *bad_bodies[] = {"\x81\x01\x01", "\x81\xa2k\x00\x01",
                                "\x81\xa2\xff\xfe\x01", "\x81\xa5k"};
    const size_t bad_lens[] = {3, 5, 5, 3};
    for (size_t i = 0; i < 4; i++) {
        zmsg = cm_msg_encode(req);
        last = zmsg_last(zmsg);
        zmsg_remove(zmsg, last);
        zframe_destroy(&last);
        last = zmsg_last(zmsg);
        zmsg_remove(zmsg, last);
        zframe_destroy(&last);
        zmsg_addmem(zmsg, bad_bodies[i], bad_lens[i]);
        bad = cm_msg_decode(&zmsg, false);
        assert(bad && cm_msg_error(bad));
        assert(json_object_size(cm_msg_body(bad)) == 0);
        cm_msg_destroy(&bad);
    }
    //  deep nesting is refused
    uint8_t deep[200];
    for (int i = 0; i < 199; i++) {
        deep[i] = 0x91;
    }
    deep[199] = 0xc0;
    zframe_t *df = zframe_new(deep, sizeof deep);
    const char *err = NULL;
    assert(s_unpack_frame(df, &err) == NULL && err);
    zframe_destroy(&df);
    //  fuzz the decoder with random mutations of a valid message
    for (int round = 0; round < 2000; round++) {
        zmsg = cm_msg_encode(req);
        zframe_t *fr = zmsg_first(zmsg);
        for (int k = round % 3; k > 0; k--) {
            fr = zmsg_next(zmsg);
        }
        uint8_t rnd[4];
        cm_random(rnd, sizeof rnd);
        if (zframe_size(fr) > 0) {
            zframe_data(fr)[rnd[0] % zframe_size(fr)] ^= (uint8_t) (rnd[1] | 1);
        }
        cm_msg_t *m = cm_msg_decode(&zmsg, false);
        cm_msg_destroy(&m);
    }
    s_test_compat();
    cm_log_init(NULL, "info");
    cm_msg_destroy(&req);
    printf("OK\n");
}
