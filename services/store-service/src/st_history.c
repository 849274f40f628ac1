/*  st_history - what history sync brings: chats, messages, contacts

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

//  Longest id or name kept from a history row.
#define S_FIELD_MAX 512

static const char *
s_str(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v && *v && strlen(v) <= S_FIELD_MAX ? v : NULL;
}

//  The array field `key` (absent: empty), or NULL when it is no array or
//  longer than ST_HISTORY_ROWS_MAX.
static json_t *
s_rows(cm_msg_t *request, const char *key)
{
    json_t *v = json_object_get(cm_msg_body(request), key);
    if (!v) {
        return json_array();
    }
    if (!json_is_array(v) || json_array_size(v) > ST_HISTORY_ROWS_MAX) {
        return NULL;
    }
    return json_incref(v);
}

//  Chat rows for st_history_chats: well-formed ones only.
static json_t *
s_chat_rows(json_t *chats)
{
    json_t *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(chats, i, c)
    {
        const char *id = s_str(c, "id");
        if (!id) {
            continue;
        }
        json_t *row = json_pack("{s:s}", "id", id);
        json_object_set_new(row, "name",
                            s_str(c, "name") ? json_string(s_str(c, "name"))
                                             : json_null());
        const char *ints[][2] = {
            {"ts", "ts"}, {"mutedUntil", "muted_until"}, {"unread", "unread"}};
        for (size_t k = 0; k < sizeof ints / sizeof *ints; k++) {
            json_t *v = json_object_get(c, ints[k][0]);
            json_object_set(row, ints[k][1],
                            json_is_integer(v) ? v : json_null());
        }
        const char *flags[] = {"archived", "pinned"};
        for (size_t k = 0; k < 2; k++) {
            json_t *v = json_object_get(c, flags[k]);
            json_object_set(row, flags[k],
                            json_is_boolean(v) ? v : json_null());
        }
        json_array_append_new(out, row);
    }
    return out;
}

static json_t *
s_contact_rows(json_t *contacts)
{
    json_t *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(contacts, i, c)
    {
        const char *id = s_str(c, "id");
        if (id) {
            json_array_append_new(out,
                                  json_pack("{s:s, s:s?}", "id", id,
                                            "push_name", s_str(c, "pushName")));
        }
    }
    return out;
}

//  Run stmt with the session and a JSON array. 0 or -1 (database).
static int
s_exec(st_db_t *db, const char *stmt, const char *session, json_t *rows)
{
    if (json_array_size(rows) == 0) {
        return 0;
    }
    char *text = cm_json_dumps(rows, NULL);
    if (!text) {
        cm_log_warn("skipped history rows that are not valid text",
                    "session=\"%s\"", session);
        return 0;
    }
    const char *p[] = {session, text};
    PGresult *res = st_db_exec(db, stmt, 2, p);
    free(text);
    if (!res) {
        return -1;
    }
    PQclear(res);
    return 0;
}

static cm_msg_t *
s_put(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    st_router_lease_t lease;
    if (st_router_lease(request, "name", true, &lease, &reply)) {
        return reply;
    }
    json_t *chats = s_rows(request, "chats");
    json_t *messages = s_rows(request, "messages");
    json_t *contacts = s_rows(request, "contacts");
    if (!chats || !messages || !contacts) {
        json_decref(chats);
        json_decref(messages);
        json_decref(contacts);
        return cm_msg_new_reply(request, 400,
                                "chats, messages and contacts must be "
                                "arrays of at most 1000 objects");
    }
    json_t *chat_rows = s_chat_rows(chats);
    json_t *contact_rows = s_contact_rows(contacts);
    json_t *events = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        //  A star is kept beside the payload (messages.starred), so an
        //  unstar later is one column
        json_t *data = json_object_get(m, "_data");
        bool starred = json_is_true(json_object_get(data, "starred"));
        json_object_del(data, "starred");
        json_array_append_new(events, json_pack("{s:s, s:O, s:b}", "event",
                                                ST_MESSAGES_HISTORY, "payload",
                                                m, "starred", starred));
    }
    size_t n_chats = json_array_size(chats),
           n_messages = json_array_size(messages),
           n_contacts = json_array_size(contacts);
    json_decref(chats);
    json_decref(messages);
    json_decref(contacts);
    reply = st_devices_begin(self, request, &lease);
    if (!reply) {
        //  Chats first: a message's row then finds its chat named
        st_db_t *db = st_router_db(self);
        if (s_exec(db, "st_history_chats", lease.name, chat_rows) ||
            s_exec(db, "st_history_flags", lease.name, chat_rows) ||
            st_messages_record_batch(self, lease.name, events) ||
            s_exec(db, "st_history_contacts", lease.name, contact_rows) ||
            st_db_commit(db)) {
            reply = st_router_db_fail(self, request);
        } else {
            reply = cm_msg_new_reply(request, 200, NULL);
            cm_msg_set_int(reply, "chats", (int64_t)n_chats);
            cm_msg_set_int(reply, "messages", (int64_t)n_messages);
            cm_msg_set_int(reply, "contacts", (int64_t)n_contacts);
        }
    }
    json_decref(chat_rows);
    json_decref(contact_rows);
    json_decref(events);
    return reply;
}

static cm_msg_t *
s_contact_list(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    PGresult *res =
        st_router_by_name(self, request, "st_history_contact_list", &reply);
    if (!res) {
        return reply;
    }
    json_t *out = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *c = json_pack("{s:s}", "id", st_db_text(res, i, 0));
        const char *keys[] = {"name", "pushName", "shortName"};
        for (int k = 0; k < 3; k++) {
            json_object_set_new(c, keys[k],
                                PQgetisnull(res, i, k + 1)
                                    ? json_null()
                                    : json_string(st_db_text(res, i, k + 1)));
        }
        json_array_append_new(out, c);
    }
    PQclear(res);
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "contacts", out);
    return reply;
}

int
st_history_register(st_router_t *r)
{
    //  One row per chat, in key order: new chats, a missing name, a
    //  later time; then the flags a row carries (absent: kept)
#define S_ROWS                                                                 \
    "FROM json_to_recordset($2::json) AS c(id text, name text, ts bigint, "    \
    "archived boolean, pinned boolean, muted_until bigint, unread integer) "
    st_router_prepare(
        r, "st_history_chats",
        "INSERT INTO chats (session, jid, name, last_ts) SELECT DISTINCT ON "
        "(c.id) $1, c.id, c.name, c.ts " S_ROWS "ORDER BY c.id "
        "ON CONFLICT (session, jid) DO UPDATE SET "
        "name = COALESCE(chats.name, EXCLUDED.name), "
        "last_ts = GREATEST(chats.last_ts, EXCLUDED.last_ts), "
        "updated_at = now()");
    st_router_prepare(
        r, "st_history_flags",
        //  A flag app state set wins over the history's snapshot
        "UPDATE chats SET archived = CASE WHEN chats.appstate_flags & 1 <> 0 "
        "THEN chats.archived ELSE COALESCE(x.archived, chats.archived) END, "
        "pinned = CASE WHEN chats.appstate_flags & 2 <> 0 THEN chats.pinned "
        "ELSE COALESCE(x.pinned, chats.pinned) END, muted_until = CASE WHEN "
        "chats.appstate_flags & 4 <> 0 OR x.muted_until IS NULL THEN "
        "chats.muted_until ELSE NULLIF(x.muted_until, 0) END, unread = CASE "
        "WHEN chats.appstate_flags & 8 <> 0 THEN chats.unread ELSE "
        "COALESCE(x.unread, chats.unread) END "
        "FROM (SELECT DISTINCT ON (c.id) c.* " S_ROWS
        "WHERE c.archived IS NOT NULL OR c.pinned IS NOT NULL OR "
        "c.muted_until IS NOT NULL OR c.unread IS NOT NULL ORDER BY c.id) x "
        "WHERE chats.session = $1 AND chats.jid = x.id");
#undef S_ROWS
    st_router_prepare(
        r, "st_history_contacts",
        "INSERT INTO contacts (session, jid, push_name) SELECT DISTINCT ON "
        "(c.id) $1, c.id, c.push_name FROM json_to_recordset($2::json) AS "
        "c(id text, push_name text) ORDER BY c.id "
        "ON CONFLICT (session, jid) DO UPDATE SET push_name = "
        "COALESCE(EXCLUDED.push_name, contacts.push_name), updated_at = "
        "now()");
    st_router_prepare(r, "st_history_contact_list",
                      "SELECT jid, name, push_name, short_name FROM contacts "
                      "WHERE session = $1 ORDER BY jid LIMIT 10000");
    st_router_add(r, "history.put", 1, s_put, ST_ROUTER_DB);
    st_router_add(r, "contact.list", 1, s_contact_list, ST_ROUTER_DB);
    return 0;
}

void
st_history_test(bool verbose)
{
    printf(" * st_history: ");
    (void)verbose;
    cm_log_init(NULL, "error");
    st_router_t *r = st_router_new(NULL, "test");
    assert(st_history_register(r) == 0);
    assert(st_router_has(r, "history.put"));
    assert(st_router_has(r, "contact.list"));
    assert(st_router_status(r, "contact.list", "{\"name\":\"s\"}") == 503);
    st_router_destroy(&r);
    //  Rows: malformed entries dropped, fields renamed for the SQL
    json_t *in = json_loads(
        "[{\"id\":\"1@c.us\",\"name\":\"A\",\"ts\":5,\"archived\":true,"
        "\"mutedUntil\":-1,\"unread\":3},{\"name\":\"no id\"},{\"id\":\"\"}]",
        0, NULL);
    json_t *rows = s_chat_rows(in);
    assert(json_array_size(rows) == 1);
    json_t *row = json_array_get(rows, 0);
    assert(json_is_true(json_object_get(row, "archived")));
    assert(json_is_null(json_object_get(row, "pinned")));
    assert(json_integer_value(json_object_get(row, "muted_until")) == -1);
    assert(json_integer_value(json_object_get(row, "unread")) == 3);
    json_decref(rows);
    json_decref(in);
    in = json_loads("[{\"id\":\"1@c.us\",\"pushName\":\"P\"},{\"id\":2}]", 0,
                    NULL);
    rows = s_contact_rows(in);
    assert(json_array_size(rows) == 1);
    assert(cm_streq(json_string_value(
                        json_object_get(json_array_get(rows, 0), "push_name")),
                    "P"));
    json_decref(rows);
    json_decref(in);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
