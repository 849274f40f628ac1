/*  st_unread - the received messages we have not read yet

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

//  Longest chat id or message id taken.
#define S_FIELD_MAX 512

//  The ids of a result's first column as a JSON array.
static json_t *
s_ids(PGresult *res)
{
    json_t *ids = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_array_append_new(ids, json_string(st_db_text(res, i, 0)));
    }
    return ids;
}

static cm_msg_t *
s_unread(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    int64_t limit = 0, since = 0;
    const char *name =
        st_router_str(request, "session", ST_ROUTER_NAME_MAX, &reply);
    const char *chat =
        name ? st_router_str(request, "chat", S_FIELD_MAX, &reply) : NULL;
    if (!chat ||
        st_router_int(request, "limit", 1, ST_UNREAD_MAX, false, ST_UNREAD_MAX,
                      &limit, &reply) ||
        st_router_int(request, "since", 0, INT64_C(1) << 40, false, 0, &since,
                      &reply)) {
        return reply;
    }
    char limit_s[24], since_s[24];
    snprintf(limit_s, sizeof limit_s, "%" PRId64, limit);
    snprintf(since_s, sizeof since_s, "%" PRId64, since);
    const char *p[] = {name, chat, since_s, limit_s};
    PGresult *res = st_db_exec(st_router_db(self), "st_unread_list", 4, p);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "ids", s_ids(res));
    PQclear(res);
    return reply;
}

static cm_msg_t *
s_mark_read(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *name =
        st_router_str(request, "session", ST_ROUTER_NAME_MAX, &reply);
    const char *chat =
        name ? st_router_str(request, "chat", S_FIELD_MAX, &reply) : NULL;
    if (!chat) {
        return reply;
    }
    json_t *ids = json_object_get(cm_msg_body(request), "ids");
    bool ok = json_is_array(ids) && json_array_size(ids) <= ST_UNREAD_MAX;
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        ok = ok && json_is_string(v) && json_string_length(v) > 0 &&
             json_string_length(v) <= S_FIELD_MAX;
    }
    if (!ok) {
        return cm_msg_new_reply(request, 400,
                                "field 'ids' must be an array of at most 1000 "
                                "message ids");
    }
    char *text = cm_json_dumps(ids, NULL);
    if (!text) {
        return cm_msg_new_reply(request, 400, "field 'ids' must be text");
    }
    const char *p[] = {name, chat, text};
    PGresult *res = st_db_exec(st_router_db(self), "st_unread_mark", 3, p);
    free(text);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "ids", s_ids(res));
    PQclear(res);
    return reply;
}

int
st_unread_register(st_router_t *r)
{
    //  Both go through the partial index messages_unread
    st_router_prepare(r, "st_unread_list",
                      "SELECT id FROM messages WHERE session = $1 AND "
                      "chat = $2 AND unread AND ts >= $3::bigint "
                      "ORDER BY ts DESC, created_at DESC LIMIT $4::int");
    st_router_prepare(r, "st_unread_mark",
                      "UPDATE messages SET unread = false "
                      "WHERE session = $1 AND chat = $2 AND unread AND id IN "
                      "(SELECT json_array_elements_text($3::json)) "
                      "RETURNING id");
    st_router_add(r, "message.unread", 1, s_unread, ST_ROUTER_DB);
    st_router_add(r, "message.mark_read", 1, s_mark_read, ST_ROUTER_DB);
    return 0;
}

//  --------------------------------------------------------------------

void
st_unread_test(bool verbose)
{
    printf(" * st_unread: ");
    (void)verbose;
    cm_log_init(NULL, "error");
    st_router_t *r = st_router_new(NULL, "test");
    assert(st_unread_register(r) == 0);
    assert(st_router_has(r, "message.unread"));
    assert(st_router_has(r, "message.mark_read"));
    //  Without a database: 503
    assert(st_router_status(r, "message.unread", NULL) == 503);
    assert(st_router_status(r, "message.mark_read", NULL) == 503);
    st_router_destroy(&r);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
