/*  st_appstate - app state: chat flags, labels, contact names

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

//  A string field of a change (NULL when absent or too long).
static const char *
s_str(const json_t *o, const char *key, size_t max)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v && strlen(v) <= max ? v : NULL;
}

//  An optional boolean as a parameter ("t"/"f"/NULL).
static const char *
s_bool(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_boolean(v) ? (json_is_true(v) ? "t" : "f") : NULL;
}

//  Run one change. Returns 0, 1 when it was malformed (skipped), -1 on a
//  database error.
static int
s_change(st_db_t *db, const char *session, const json_t *c)
{
    const char *kind = s_str(c, "kind", 32);
    const char *chat = s_str(c, "chat", 256);
    PGresult *res = NULL;
    if (cm_streq(kind, "chat") && chat) {
        char muted[24], unread[24];
        json_t *m = json_object_get(c, "mutedUntil");
        json_t *u = json_object_get(c, "unread");
        if (json_is_integer(m)) {
            snprintf(muted, sizeof muted, "%" JSON_INTEGER_FORMAT,
                     json_integer_value(m));
        }
        if (json_is_integer(u)) {
            snprintf(unread, sizeof unread, "%" JSON_INTEGER_FORMAT,
                     json_integer_value(u));
        }
        const char *p[] = {session,
                           chat,
                           s_bool(c, "archived"),
                           s_bool(c, "pinned"),
                           json_is_integer(m) ? muted : NULL,
                           json_is_integer(u) ? unread : NULL};
        res = st_db_exec(db, "st_appstate_chat", 6, p);
    } else if (cm_streq(kind, "chat_clear") && chat) {
        const char *p[] = {session, chat};
        res = st_db_exec(db, "st_appstate_clear", 2, p);
    } else if (cm_streq(kind, "chat_delete") && chat) {
        const char *p[] = {session, chat};
        res = st_db_exec(db, "st_appstate_clear", 2, p);
        if (res) {
            PQclear(res);
            res = st_db_exec(db, "st_appstate_chat_delete", 2, p);
        }
    } else if (cm_streq(kind, "message_delete") && chat &&
               s_str(c, "id", 256)) {
        char *wid = cm_sprintf(
            "%s_%s_%s",
            json_is_true(json_object_get(c, "fromMe")) ? "true" : "false", chat,
            s_str(c, "id", 256));
        const char *p[] = {session, chat, wid};
        res = st_db_exec(db, "st_appstate_message_delete", 3, p);
        free(wid);
    } else if (cm_streq(kind, "star") && chat && s_str(c, "id", 256)) {
        char *wid = cm_sprintf(
            "%s_%s_%s",
            json_is_true(json_object_get(c, "fromMe")) ? "true" : "false", chat,
            s_str(c, "id", 256));
        const char *p[] = {session, chat, wid,
                           json_is_true(json_object_get(c, "starred")) ? "t"
                                                                       : "f"};
        res = st_db_exec(db, "st_appstate_star", 4, p);
        free(wid);
    } else if (cm_streq(kind, "contact") && s_str(c, "jid", 256)) {
        const char *p[] = {session, s_str(c, "jid", 256), s_str(c, "name", 256),
                           s_str(c, "shortName", 256)};
        res = st_db_exec(db, "st_appstate_contact", 4, p);
    } else if (cm_streq(kind, "label") && s_str(c, "id", 32)) {
        const char *id = s_str(c, "id", 32);
        if (json_is_true(json_object_get(c, "deleted"))) {
            const char *p[] = {session, id};
            res = st_db_exec(db, "st_appstate_label_delete", 2, p);
        } else {
            char color[24];
            snprintf(color, sizeof color, "%" JSON_INTEGER_FORMAT,
                     json_integer_value(json_object_get(c, "color")));
            const char *name = s_str(c, "name", 256);
            const char *p[] = {session, id, name ? name : "", color,
                               s_str(c, "colorHex", 16)};
            res = st_db_exec(db, "st_appstate_label", 5, p);
        }
    } else if (cm_streq(kind, "label_chat") && chat &&
               s_str(c, "labelId", 32)) {
        const char *p[] = {session, s_str(c, "labelId", 32), chat};
        res = st_db_exec(db,
                         json_is_true(json_object_get(c, "labeled"))
                             ? "st_appstate_label_chat_add"
                             : "st_appstate_label_chat_del",
                         3, p);
    } else if (cm_streq(kind, "picture") && chat) {
        //  url null: none, or hidden
        const char *p[] = {session, chat, s_str(c, "url", 4096)};
        res = st_db_exec(db, "st_appstate_picture", 3, p);
    } else {
        return 1;
    }
    if (!res) {
        return -1;
    }
    PQclear(res);
    return 0;
}

static cm_msg_t *
s_apply(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    st_router_lease_t lease;
    if (st_router_lease(request, "name", true, &lease, &reply)) {
        return reply;
    }
    json_t *changes = json_object_get(cm_msg_body(request), "changes");
    if (!json_is_array(changes) ||
        json_array_size(changes) > ST_APPSTATE_CHANGES_MAX) {
        return cm_msg_new_reply(request, 400,
                                "changes must be an array of at most 256 "
                                "objects");
    }
    reply = st_devices_begin(self, request, &lease);
    if (reply) {
        return reply;
    }
    st_db_t *db = st_router_db(self);
    size_t i;
    json_t *c;
    int applied = 0;
    json_array_foreach(changes, i, c)
    {
        int rc = s_change(db, lease.name, c);
        if (rc < 0) {
            return st_router_db_fail(self, request);
        }
        if (rc > 0) {
            cm_log_warn("app-state change skipped: malformed", "session=%s",
                        lease.name);
        } else {
            applied++;
        }
    }
    if (st_db_commit(db)) {
        return st_router_db_fail(self, request);
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set_int(reply, "applied", applied);
    return reply;
}

//  Labels from a result (id, name, color, color_hex).
static json_t *
s_labels(PGresult *res)
{
    json_t *out = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *l = json_pack("{s:s, s:s, s:I}", "id", st_db_text(res, i, 0),
                              "name", st_db_text(res, i, 1), "color",
                              (json_int_t)st_db_int(res, i, 2));
        json_object_set_new(l, "colorHex",
                            PQgetisnull(res, i, 3)
                                ? json_null()
                                : json_string(st_db_text(res, i, 3)));
        json_array_append_new(out, l);
    }
    return out;
}

//  Run stmt with (name, the string field `key`) and answer with rows.
static cm_msg_t *
s_read(st_router_t *self, cm_msg_t *request, const char *key, const char *stmt,
       const char *out_key, bool labels)
{
    cm_msg_t *reply = NULL;
    const char *name = st_router_str(request, "name", 64, &reply);
    const char *arg =
        reply || !key ? NULL : st_router_str(request, key, 256, &reply);
    if (reply) {
        return reply;
    }
    const char *p[] = {name, arg};
    PGresult *res = st_db_exec(st_router_db(self), stmt, key ? 2 : 1, p);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    json_t *rows = NULL;
    if (labels) {
        rows = s_labels(res);
    } else {
        rows = json_array();
        for (int i = 0; i < PQntuples(res); i++) {
            json_array_append_new(rows, json_string(st_db_text(res, i, 0)));
        }
    }
    PQclear(res);
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, out_key, rows);
    return reply;
}

static cm_msg_t *
s_label_list(st_router_t *self, cm_msg_t *request)
{
    return s_read(self, request, NULL, "st_appstate_labels", "labels", true);
}

static cm_msg_t *
s_label_chats(st_router_t *self, cm_msg_t *request)
{
    return s_read(self, request, "labelId", "st_appstate_label_chats", "chats",
                  false);
}

static cm_msg_t *
s_chat_labels(st_router_t *self, cm_msg_t *request)
{
    return s_read(self, request, "chat", "st_appstate_chat_labels", "labels",
                  true);
}

//  One label; a placeholder (an association seen before its label) is
//  not one yet.
static cm_msg_t *
s_label_get(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *name = st_router_str(request, "name", 64, &reply);
    const char *id =
        reply ? NULL : st_router_str(request, "labelId", 32, &reply);
    if (reply) {
        return reply;
    }
    const char *p[] = {name, id};
    PGresult *res =
        st_db_exec(st_router_db(self), "st_appstate_label_get", 2, p);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    json_t *labels = s_labels(res);
    PQclear(res);
    if (json_array_size(labels) == 0) {
        json_decref(labels);
        return cm_msg_new_reply(request, 404, "label not found");
    }
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "label", json_incref(json_array_get(labels, 0)));
    json_decref(labels);
    return reply;
}

static cm_msg_t *
s_chat_get(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    const char *name = st_router_str(request, "name", 64, &reply);
    const char *chat =
        reply ? NULL : st_router_str(request, "chat", 256, &reply);
    if (reply) {
        return reply;
    }
    const char *p[] = {name, chat};
    PGresult *res =
        st_db_exec(st_router_db(self), "st_appstate_chat_get", 2, p);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        return cm_msg_new_reply(request, 404, "chat not found");
    }
    json_t *chat_o = json_pack("{s:s, s:b, s:b}", "id", st_db_text(res, 0, 0),
                               "archived", cm_streq(st_db_text(res, 0, 1), "t"),
                               "pinned", cm_streq(st_db_text(res, 0, 2), "t"));
    PQclear(res);
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "chat", chat_o);
    return reply;
}

int
st_appstate_register(st_router_t *r)
{
//  The flags a change sets, as bits of chats.appstate_flags (sql/0095)
#define S_FLAGS                                                                \
    "(CASE WHEN $3::bool IS NULL THEN 0 ELSE 1 END | CASE WHEN $4::bool IS "   \
    "NULL THEN 0 ELSE 2 END | CASE WHEN $5::bigint IS NULL THEN 0 ELSE 4 END " \
    "| CASE WHEN $6::int IS NULL THEN 0 ELSE 8 END)::smallint"
    st_router_prepare(
        r, "st_appstate_chat",
        "INSERT INTO chats (session, jid, archived, pinned, muted_until, "
        "unread, appstate_flags) VALUES ($1, $2, COALESCE($3::bool, false), "
        "COALESCE($4::bool, false), NULLIF($5::bigint, 0), "
        "COALESCE($6::int, 0), " S_FLAGS ") ON CONFLICT (session, jid) DO "
        "UPDATE SET appstate_flags = chats.appstate_flags | " S_FLAGS ", "
        "archived = COALESCE($3::bool, chats.archived), "
        "pinned = COALESCE($4::bool, chats.pinned), "
        "muted_until = CASE WHEN $5::bigint IS NULL THEN chats.muted_until "
        "ELSE NULLIF($5::bigint, 0) END, "
        "unread = COALESCE($6::int, chats.unread), updated_at = now()");
#undef S_FLAGS
    st_router_prepare(r, "st_appstate_clear",
                      "DELETE FROM messages WHERE session = $1 AND chat = $2");
    st_router_prepare(r, "st_appstate_chat_delete",
                      "WITH l AS (DELETE FROM label_chats WHERE session = $1 "
                      "AND chat = $2) DELETE FROM chats WHERE session = $1 "
                      "AND jid = $2");
    st_router_prepare(r, "st_appstate_message_delete",
                      "DELETE FROM messages WHERE session = $1 AND chat = $2 "
                      "AND (id = $3 OR id LIKE replace(replace($3, '\\', "
                      "'\\\\'), '_', '\\_') || '\\_%')");
    st_router_prepare(r, "st_appstate_star",
                      "UPDATE messages SET starred = $4::boolean WHERE "
                      "session = $1 AND chat = $2 AND (id = $3 OR id LIKE "
                      "replace(replace($3, '\\', '\\\\'), '_', '\\_') || "
                      "'\\_%') AND starred <> $4::boolean");
    st_router_prepare(r, "st_appstate_contact",
                      "INSERT INTO contacts (session, jid, name, short_name) "
                      "VALUES ($1, $2, $3, $4) ON CONFLICT (session, jid) DO "
                      "UPDATE SET name = EXCLUDED.name, short_name = "
                      "EXCLUDED.short_name, updated_at = now()");
    st_router_prepare(r, "st_appstate_label",
                      "INSERT INTO labels (session, id, name, color, "
                      "color_hex) VALUES ($1, $2, $3, $4::int, $5) ON "
                      "CONFLICT (session, id) DO UPDATE SET name = "
                      "EXCLUDED.name, color = EXCLUDED.color, color_hex = "
                      "EXCLUDED.color_hex");
    st_router_prepare(r, "st_appstate_label_delete",
                      "DELETE FROM labels WHERE session = $1 AND id = $2");
    //  An association may come before its label: a placeholder row
    st_router_prepare(r, "st_appstate_label_chat_add",
                      "WITH l AS (INSERT INTO labels (session, id, name) "
                      "VALUES ($1, $2, '') ON CONFLICT DO NOTHING) "
                      "INSERT INTO label_chats (session, label_id, chat) "
                      "SELECT $1, $2, $3 ON CONFLICT DO NOTHING");
    st_router_prepare(r, "st_appstate_label_chat_del",
                      "DELETE FROM label_chats WHERE session = $1 AND "
                      "label_id = $2 AND chat = $3");
    st_router_prepare(r, "st_appstate_picture",
                      "INSERT INTO pictures (session, jid, url) VALUES ($1, "
                      "$2, $3) ON CONFLICT (session, jid) DO UPDATE SET url = "
                      "EXCLUDED.url, updated_at = now()");
#define S_LABEL_COLS "l.id, l.name, COALESCE(l.color, 0), l.color_hex"
    st_router_prepare(r, "st_appstate_labels",
                      "SELECT " S_LABEL_COLS " FROM labels l WHERE "
                      "l.session = $1 ORDER BY length(l.id), l.id");
    st_router_prepare(r, "st_appstate_label_get",
                      "SELECT " S_LABEL_COLS " FROM labels l WHERE "
                      "l.session = $1 AND l.id = $2 AND l.color IS NOT NULL");
    st_router_prepare(r, "st_appstate_chat_labels",
                      "SELECT " S_LABEL_COLS " FROM labels l JOIN label_chats "
                      "c ON c.session = l.session AND c.label_id = l.id "
                      "WHERE l.session = $1 AND c.chat = $2 "
                      "ORDER BY length(l.id), l.id");
    st_router_prepare(r, "st_appstate_label_chats",
                      "SELECT chat FROM label_chats WHERE session = $1 AND "
                      "label_id = $2 ORDER BY chat");
    st_router_prepare(r, "st_appstate_chat_get",
                      "SELECT jid, CASE WHEN archived THEN 't' ELSE 'f' END, "
                      "CASE WHEN pinned THEN 't' ELSE 'f' END FROM chats "
                      "WHERE session = $1 AND jid = $2");
    st_router_add(r, "appstate.apply", 1, s_apply, ST_ROUTER_DB);
    st_router_add(r, "label.list", 1, s_label_list, ST_ROUTER_DB);
    st_router_add(r, "label.chats", 1, s_label_chats, ST_ROUTER_DB);
    st_router_add(r, "label.get", 1, s_label_get, ST_ROUTER_DB);
    st_router_add(r, "chat.labels", 1, s_chat_labels, ST_ROUTER_DB);
    st_router_add(r, "chat.get", 1, s_chat_get, ST_ROUTER_DB);
    return 0;
}

void
st_appstate_test(bool verbose)
{
    printf(" * st_appstate: ");
    (void)verbose;
    cm_log_init(NULL, "error");
    st_router_t *r = st_router_new(NULL, "test");
    assert(st_appstate_register(r) == 0);
    const char *types[] = {
        "appstate.apply", "label.list", "label.chats", "label.get",
        "chat.labels",    "chat.get",   NULL};
    for (int i = 0; types[i]; i++) {
        assert(st_router_has(r, types[i]));
    }
    //  Without a database every handler answers 503
    for (int i = 0; types[i]; i++) {
        assert(st_router_status(r, types[i], "{\"name\":\"s\"}") == 503);
    }
    st_router_destroy(&r);
    json_t *c = json_pack("{s:b}", "x", true);
    assert(cm_streq(s_bool(c, "x"), "t"));
    assert(!s_bool(c, "y"));
    assert(!s_str(c, "x", 8));
    json_decref(c);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
