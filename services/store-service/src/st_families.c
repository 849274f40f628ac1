/*  st_families - the list of message families store-service serves

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

typedef struct {
    const char *name;          //  family module name
    int (*fn)(st_router_t *r); //  its register function
} s_family_t;

#define ST_FAMILIES_ROW(f) {#f, st_##f##_register},
static const s_family_t s_families[] = {
    ST_FAMILIES(ST_FAMILIES_ROW){NULL, NULL}};
#undef ST_FAMILIES_ROW

int
st_families_register(st_router_t *router)
{
    for (const s_family_t *f = s_families; f->name; f++) {
        if (f->fn(router) != 0) {
            cm_log_error("could not register message family", "family=%s",
                         f->name);
            return -1;
        }
    }
    return 0;
}

void
st_families_test(bool verbose)
{
    printf(" * st_families: ");
    cm_log_init(NULL, "error");
    st_router_t *r = st_router_new(NULL, "test");
    assert(st_families_register(r) == 0);
    const char *types[] = {
        "session.create", "session.get",        "session.list",
        "session.update", "session.delete",     "session.set_status",
        "lease.claim",    "lease.renew",        "lease.release",
        "device.get",     "device.put",         "device.clear",
        "event.append",   "event.append_batch", "event.list",
        "signal.load",    "signal.put",         "chat.list",
        "message.list",   "lid.put",            "lid.list",
        "lid.count",      "lid.get",            "health.ping",
        NULL};
    for (int i = 0; types[i]; i++) {
        assert(st_router_has(r, types[i]));
    }
    //  every database handler answers 503 without a database
    for (int i = 0; types[i]; i++) {
        if (cm_streq(types[i], "health.ping")) {
            continue;
        }
        assert(st_router_status(r, types[i], NULL) == 503);
    }
    st_router_destroy(&r);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
