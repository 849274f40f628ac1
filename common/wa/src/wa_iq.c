/*  wa_iq - IQ request ids and the table of requests waiting for a reply

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The table is a small array searched linearly: a session has a handful
    of requests in flight at a time.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cm/cm.h"
#include "wa/wa_iq.h"

typedef struct {
    char id[WA_IQ_ID_MAX]; //  request id
    int64_t deadline;      //  owner clock, ms
    wa_iq_fn *fn;          //  waiter
    void *arg;             //  its argument
} s_waiter_t;

struct _wa_iq_t {
    s_waiter_t *waiters; //  pending waiters
    size_t count;        //  used slots
    size_t size;         //  allocated slots
    unsigned r1;         //  random id prefix
    unsigned r2;         //  random id prefix
    uint64_t counter;    //  id counter
};

wa_iq_t *
wa_iq_new(void)
{
    wa_iq_t *self = cm_alloc(sizeof *self);
    uint8_t r[4];
    cm_random(r, sizeof r);
    self->r1 = (unsigned)r[0] << 8 | r[1];
    self->r2 = (unsigned)r[2] << 8 | r[3];
    return self;
}

void
wa_iq_destroy(wa_iq_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wa_iq_t *self = *self_p;
    wa_iq_cancel_all(self);
    free(self->waiters);
    free(self);
    *self_p = NULL;
}

void
wa_iq_next_id(wa_iq_t *self, char id[WA_IQ_ID_MAX])
{
    snprintf(id, WA_IQ_ID_MAX, "%u.%u-%llu", self->r1, self->r2,
             (unsigned long long)++self->counter);
}

static ssize_t
s_find(wa_iq_t *self, const char *id)
{
    for (size_t i = 0; i < self->count; i++) {
        if (strcmp(self->waiters[i].id, id) == 0) {
            return (ssize_t)i;
        }
    }
    return -1;
}

int
wa_iq_add(wa_iq_t *self, const char *id, int64_t deadline, wa_iq_fn *fn,
          void *arg)
{
    assert(fn);
    if (!id || strlen(id) >= WA_IQ_ID_MAX || s_find(self, id) >= 0) {
        return -1;
    }
    if (self->count == self->size) {
        self->size = self->size ? self->size * 2 : 8;
        self->waiters = realloc(self->waiters, self->size * sizeof(s_waiter_t));
        assert(self->waiters);
    }
    s_waiter_t *w = &self->waiters[self->count++];
    snprintf(w->id, sizeof w->id, "%s", id);
    w->deadline = deadline;
    w->fn = fn;
    w->arg = arg;
    return 0;
}

//  Remove waiter i, keeping the order of the others (earlier requests
//  expire first).
static s_waiter_t
s_take(wa_iq_t *self, size_t i)
{
    s_waiter_t w = self->waiters[i];
    memmove(&self->waiters[i], &self->waiters[i + 1],
            (self->count - i - 1) * sizeof(s_waiter_t));
    self->count--;
    return w;
}

bool
wa_iq_dispatch(wa_iq_t *self, const wa_node_t *node)
{
    if (!node || !wa_node_is(node, "iq")) {
        return false;
    }
    const char *type = wa_node_attr(node, "type");
    const char *id = wa_node_attr(node, "id");
    if (!id || !type) {
        return false;
    }
    wa_iq_outcome_t outcome;
    if (strcmp(type, "result") == 0) {
        outcome = WA_IQ_RESULT;
    } else if (strcmp(type, "error") == 0) {
        outcome = WA_IQ_ERROR;
    } else {
        return false;
    }
    ssize_t i = s_find(self, id);
    if (i < 0) {
        return false;
    }
    s_waiter_t w = s_take(self, (size_t)i);
    w.fn(w.arg, node, outcome);
    return true;
}

size_t
wa_iq_expire(wa_iq_t *self, int64_t now)
{
    size_t n = 0;
    //  Restart the scan after each call: the waiter may change the table.
    for (bool again = true; again;) {
        again = false;
        for (size_t i = 0; i < self->count; i++) {
            if (self->waiters[i].deadline <= now) {
                s_waiter_t w = s_take(self, i);
                w.fn(w.arg, NULL, WA_IQ_TIMEOUT);
                n++;
                again = true;
                break;
            }
        }
    }
    return n;
}

int64_t
wa_iq_next_deadline(wa_iq_t *self)
{
    int64_t best = -1;
    for (size_t i = 0; i < self->count; i++) {
        if (best < 0 || self->waiters[i].deadline < best) {
            best = self->waiters[i].deadline;
        }
    }
    return best;
}

void
wa_iq_cancel_all(wa_iq_t *self)
{
    //  Waiters added by a cancelled waiter are cancelled too.
    while (self->count) {
        s_waiter_t w = s_take(self, 0);
        w.fn(w.arg, NULL, WA_IQ_CANCELLED);
    }
}

size_t
wa_iq_pending(wa_iq_t *self)
{
    return self->count;
}

int
wa_iq_error_code(const wa_node_t *reply)
{
    const wa_node_t *error = reply ? wa_node_child(reply, "error") : NULL;
    int64_t code = -1;
    if (!error || wa_node_attr_int(error, "code", &code) != 0 || code < 0 ||
        code > 99999) {
        return -1;
    }
    return (int)code;
}

const char *
wa_iq_error_text(const wa_node_t *reply)
{
    const wa_node_t *error = reply ? wa_node_child(reply, "error") : NULL;
    return error ? wa_node_attr_or(error, "text", "") : "";
}

//  --------------------------------------------------------------------
//  Self test

typedef struct {
    int calls;               //  times called
    wa_iq_outcome_t outcome; //  last outcome
    char reply_tag[16];      //  last reply's child tag, or ""
    wa_iq_t *table;          //  for the re-entrant case
    int64_t deadline;        //  deadline of the request it adds
} s_probe_t;

static void
s_probe_fn(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    s_probe_t *p = (s_probe_t *)arg;
    p->calls++;
    p->outcome = outcome;
    const wa_node_t *child = reply ? wa_node_child(reply, NULL) : NULL;
    snprintf(p->reply_tag, sizeof p->reply_tag, "%s",
             child ? wa_node_tag(child) : "");
}

//  A waiter that registers a follow-up request while it is called.
static void
s_chain_fn(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    s_probe_t *p = (s_probe_t *)arg;
    s_probe_fn(arg, reply, outcome);
    if (p->table && p->calls == 1) {
        char id[WA_IQ_ID_MAX];
        wa_iq_next_id(p->table, id);
        assert(wa_iq_add(p->table, id, p->deadline, s_chain_fn, p) == 0);
    }
}

static wa_node_t *
s_reply(const char *id, const char *type, const char *child)
{
    wa_node_t *n = wa_node_new("iq");
    wa_node_set_attr(n, "id", id);
    wa_node_set_attr(n, "type", type);
    wa_node_set_attr(n, "from", "@s.whatsapp.net");
    if (child) {
        wa_node_add(n, child);
    }
    return n;
}

void
wa_iq_test(bool verbose)
{
    printf(" * wa_iq: ");
    (void)verbose;
    wa_iq_t *iq = wa_iq_new();
    assert(wa_iq_pending(iq) == 0);
    assert(wa_iq_next_deadline(iq) == -1);

    //  Ids are unique and well-formed
    char a[WA_IQ_ID_MAX];
    char b[WA_IQ_ID_MAX];
    wa_iq_next_id(iq, a);
    wa_iq_next_id(iq, b);
    assert(strcmp(a, b) != 0);
    assert(strchr(a, '.') && strchr(a, '-'));
    assert(strlen(a) < WA_IQ_ID_MAX);

    //  Result reaches its waiter once; duplicates are refused
    s_probe_t pa = {0};
    s_probe_t pb = {0};
    assert(wa_iq_add(iq, a, 1000, s_probe_fn, &pa) == 0);
    assert(wa_iq_add(iq, a, 1000, s_probe_fn, &pa) == -1);
    assert(wa_iq_add(iq, b, 500, s_probe_fn, &pb) == 0);
    assert(wa_iq_pending(iq) == 2);
    assert(wa_iq_next_deadline(iq) == 500);
    wa_node_t *r = s_reply(a, "result", "count");
    assert(wa_iq_dispatch(iq, r));
    assert(pa.calls == 1 && pa.outcome == WA_IQ_RESULT);
    assert(strcmp(pa.reply_tag, "count") == 0);
    assert(!wa_iq_dispatch(iq, r)); //  second reply: nobody waits
    assert(pa.calls == 1);
    wa_node_destroy(&r);
    assert(wa_iq_pending(iq) == 1);

    //  Not ours: other tags, get/set iqs, unknown ids, missing attrs
    wa_node_t *other = s_reply(b, "get", NULL);
    assert(!wa_iq_dispatch(iq, other));
    wa_node_destroy(&other);
    other = wa_node_new("ack");
    wa_node_set_attr(other, "id", b);
    assert(!wa_iq_dispatch(iq, other));
    wa_node_destroy(&other);
    other = wa_node_new("iq");
    assert(!wa_iq_dispatch(iq, other));
    assert(!wa_iq_dispatch(iq, NULL));
    wa_node_destroy(&other);
    assert(pb.calls == 0);

    //  Error replies carry the code and text
    r = s_reply(b, "error", NULL);
    wa_node_t *err = wa_node_add(r, "error");
    wa_node_set_attr(err, "code", "404");
    wa_node_set_attr(err, "text", "item-not-found");
    assert(wa_iq_error_code(r) == 404);
    assert(strcmp(wa_iq_error_text(r), "item-not-found") == 0);
    assert(wa_iq_dispatch(iq, r));
    assert(pb.calls == 1 && pb.outcome == WA_IQ_ERROR);
    wa_node_destroy(&r);
    r = s_reply(b, "error", NULL);
    assert(wa_iq_error_code(r) == -1);
    assert(strcmp(wa_iq_error_text(r), "") == 0);
    err = wa_node_add(r, "error");
    wa_node_set_attr(err, "code", "x");
    assert(wa_iq_error_code(r) == -1);
    wa_node_destroy(&r);

    //  Timeouts fire at the deadline, not before
    s_probe_t pc = {0};
    s_probe_t pd = {0};
    wa_iq_next_id(iq, a);
    wa_iq_next_id(iq, b);
    assert(wa_iq_add(iq, a, 100, s_probe_fn, &pc) == 0);
    assert(wa_iq_add(iq, b, 200, s_probe_fn, &pd) == 0);
    assert(wa_iq_expire(iq, 99) == 0);
    assert(wa_iq_expire(iq, 100) == 1);
    assert(pc.calls == 1 && pc.outcome == WA_IQ_TIMEOUT);
    assert(pd.calls == 0);
    assert(wa_iq_next_deadline(iq) == 200);

    //  A waiter may add a request while it is called
    s_probe_t pe = {.table = iq, .deadline = 300};
    char c[WA_IQ_ID_MAX];
    wa_iq_next_id(iq, c);
    assert(wa_iq_add(iq, c, 150, s_chain_fn, &pe) == 0);
    assert(wa_iq_expire(iq, 250) == 2); //  c then b; the chained one later
    assert(pe.calls == 1 && pd.calls == 1);
    assert(wa_iq_pending(iq) == 1);
    assert(wa_iq_next_deadline(iq) == 300);

    //  Cancel and destroy call the rest with CANCELLED
    wa_iq_cancel_all(iq);
    assert(pe.calls == 2 && pe.outcome == WA_IQ_CANCELLED);
    assert(wa_iq_pending(iq) == 0);
    s_probe_t pf = {0};
    wa_iq_next_id(iq, a);
    assert(wa_iq_add(iq, a, 1, s_probe_fn, &pf) == 0);
    wa_iq_destroy(&iq);
    assert(iq == NULL);
    assert(pf.calls == 1 && pf.outcome == WA_IQ_CANCELLED);
    wa_iq_destroy(&iq);
    printf("OK\n");
}
