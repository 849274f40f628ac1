/*  st_devices - the `device` message family: WhatsApp device credentials

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

static cm_msg_t *
s_get(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    PGresult *res = st_router_by_name(self, request, "st_device_get", &reply);
    if (!res) {
        return reply;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return cm_msg_new_reply(request, 404, "session not found");
    }
    json_t *creds = st_db_json(res, 0, 0);
    PQclear(res);
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "creds", creds ? creds : json_null());
    return reply;
}

cm_msg_t *
st_devices_begin(st_router_t *self, cm_msg_t *request,
                 const st_router_lease_t *lease)
{
    st_db_t *db = st_router_db(self);
    if (st_db_begin(db)) {
        return st_router_db_fail(self, request);
    }
    const char *params[] = {lease->name};
    PGresult *res = st_db_exec(db, "st_device_lock", 1, params);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    bool found = PQntuples(res) > 0;
    PQclear(res);
    if (!found) {
        st_db_rollback(db);
        return cm_msg_new_reply(request, 404, "session not found");
    }
    return st_leases_fence(self, request, lease);
}

static cm_msg_t *
s_put(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    st_router_lease_t lease;
    if (st_router_lease(request, "name", true, &lease, &reply)) {
        return reply;
    }
    json_t *creds = st_router_obj(request, "creds", true, &reply);
    if (!creds) {
        return reply;
    }
    reply = st_devices_begin(self, request, &lease);
    if (reply) {
        return reply;
    }
    st_db_t *db = st_router_db(self);
    char *text = json_dumps(creds, JSON_COMPACT);
    const char *params[] = {lease.name, text};
    PGresult *res = st_db_exec(db, "st_device_put", 2, params);
    free(text);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    PQclear(res);
    if (st_db_commit(db)) {
        return st_router_db_fail(self, request);
    }
    return cm_msg_new_reply(request, 200, NULL);
}

static cm_msg_t *
s_clear(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    st_router_lease_t lease;
    if (st_router_lease(request, "name", false, &lease, &reply)) {
        return reply;
    }
    reply = st_devices_begin(self, request, &lease);
    if (reply) {
        return reply;
    }
    st_db_t *db = st_router_db(self);
    const char *params[] = {lease.name};
    PGresult *res = st_db_exec(db, "st_device_clear", 1, params);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    bool cleared = PQntuples(res) > 0;
    PQclear(res);
    if (st_db_commit(db)) {
        return st_router_db_fail(self, request);
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_bool(reply, "cleared", cleared);
    return reply;
}

int
st_devices_register(st_router_t *r)
{
    st_router_prepare(r, "st_device_get",
                      "SELECT d.creds FROM sessions s LEFT JOIN device_creds "
                      "d ON d.session = s.name WHERE s.name = $1");
    st_router_prepare(r, "st_device_lock",
                      "SELECT 1 FROM sessions WHERE name = $1 FOR SHARE");
    st_router_prepare(r, "st_device_put",
                      "INSERT INTO device_creds (session, creds) "
                      "VALUES ($1, $2::jsonb) ON CONFLICT (session) DO UPDATE "
                      "SET creds = EXCLUDED.creds, updated_at = now()");
    st_router_prepare(r, "st_device_clear",
                      "WITH keys AS (DELETE FROM signal_keys "
                      "WHERE session = $1) "
                      "DELETE FROM device_creds WHERE session = $1 "
                      "RETURNING session");
    st_router_add(r, "device.get", 1, s_get, ST_ROUTER_DB);
    st_router_add(r, "device.put", 1, s_put, ST_ROUTER_DB);
    st_router_add(r, "device.clear", 1, s_clear, ST_ROUTER_DB);
    return 0;
}

void
st_devices_test(bool verbose)
{
    printf(" * st_devices: ");
    //  Without a database every handler answers 503 and nothing crashes
    cm_log_init(NULL, "error");
    st_router_t *r = st_router_new(NULL, "test");
    assert(st_devices_register(r) == 0);
    const char *types[] = {"device.get", "device.put", "device.clear", NULL};
    for (int i = 0; types[i]; i++) {
        assert(st_router_status(r, types[i], "{\"name\":\"x\"}") == 503);
    }
    st_router_destroy(&r);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
