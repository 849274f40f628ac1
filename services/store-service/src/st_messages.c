/*  st_messages - messages and chats kept from the events that carry them

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "st_classes.h"

//  Longest id, JID or type a row takes; longer ones are not kept.
#define S_FIELD_MAX 512

static const char *
s_str(json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v && *v && strlen(v) <= S_FIELD_MAX ? v : NULL;
}

int
st_messages_row(json_t *payload, st_messages_row_t *row)
{
    memset(row, 0, sizeof *row);
    if (!json_is_object(payload)) {
        return -1;
    }
    json_t *data = json_object_get(payload, "_data");
    json_t *key = json_object_get(data, "key");
    row->id = s_str(payload, "id");
    row->from_me = json_is_true(json_object_get(payload, "fromMe"));
    //  The chat is the other side: `from` for what we received, `to` for
    //  what we sent; the key's remoteJid says it directly when present
    row->chat = s_str(key, "remoteJid");
    if (!row->chat) {
        row->chat = s_str(payload, row->from_me ? "to" : "from");
    }
    json_t *ts = json_object_get(payload, "timestamp");
    if (!row->id || !row->chat || !json_is_integer(ts) ||
        json_integer_value(ts) < 0) {
        return -1;
    }
    row->ts = json_integer_value(ts);
    row->sender = s_str(payload, "participant");
    if (!row->sender) {
        row->sender = s_str(payload, "from");
    }
    row->type = s_str(data, "type");
    if (!row->type) {
        row->type = json_is_true(json_object_get(payload, "hasMedia")) ? "media"
                                                                       : "chat";
    }
    row->body = json_string_value(json_object_get(payload, "body"));
    json_t *ack = json_object_get(payload, "ack");
    row->ack = json_is_integer(ack) ? (int)json_integer_value(ack) : 0;
    return 0;
}

//  Add the row of a `message`/`message.any` payload to `rows` and its
//  chat to `chats`; a payload no row can be made of is skipped (the event
//  still counts). `unread`: what others sent is unread (live messages);
//  history comes read unless its chat says otherwise.
static void
s_add_message(json_t *payload, json_t *rows, json_t *chats, json_t *seen,
              bool unread, bool starred)
{
    st_messages_row_t row;
    if (st_messages_row(payload, &row) != 0 || json_object_get(seen, row.id)) {
        return; //  `message` and `message.any` of one message: one row
    }
    //  What others sent is unread until we read it (st_unread)
    json_t *r = json_pack(
        "{s:s, s:s, s:b, s:s?, s:I, s:s, s:s?, s:O, s:i, s:b}", "id", row.id,
        "chat", row.chat, "from_me", row.from_me, "sender", row.sender, "ts",
        (json_int_t)row.ts, "type", row.type, "body", row.body, "payload",
        payload, "ack", row.ack, "unread", unread && !row.from_me);
    if (r && starred) {
        json_object_set_new(r, "starred", json_true());
    }
    if (r) {
        json_object_set(seen, row.id, r); //  the batch's row of this id
        json_array_append_new(rows, r);
        json_array_append_new(chats, json_pack("{s:s, s:I}", "jid", row.chat,
                                               "ts", (json_int_t)row.ts));
    } else {
        json_object_set_new(seen, row.id, json_true());
    }
}

//  Add what a `message.ack` payload says to `acks`.
static void
s_add_ack(json_t *payload, json_t *acks)
{
    const char *id = s_str(payload, "id");
    json_t *ack = json_object_get(payload, "ack");
    if (!id || !json_is_integer(ack)) {
        return;
    }
    const char *name = json_string_value(json_object_get(payload, "ackName"));
    json_array_append_new(acks,
                          json_pack("{s:s, s:O, s:s}", "id", id, "ack", ack,
                                    "name", name ? name : "UNKNOWN"));
}

//  Run `stmt` with the session and one or two JSON arrays. Returns 0 or
//  -1 on a database error.
static int
s_exec_rows(st_db_t *db, const char *stmt, const char *session, json_t *rows,
            json_t *more)
{
    char *text = cm_json_dumps(rows, NULL);
    char *text2 = more ? cm_json_dumps(more, NULL) : NULL;
    if (!text || (more && !text2)) {
        //  not valid UTF-8: the rows are not kept, the events still are
        cm_log_warn("skipped message rows that are not valid text",
                    "session=\"%s\"", session);
        free(text);
        free(text2);
        return 0;
    }
    const char *p[] = {session, text, text2};
    PGresult *res = st_db_exec(db, stmt, more ? 3 : 2, p);
    free(text);
    free(text2);
    if (!res) {
        return -1;
    }
    PQclear(res);
    return 0;
}

//  Collect the rows, chats and acks `events` carry into the given arrays;
//  `seen` maps each message id to its row.
static void
s_collect(json_t *events, json_t *rows, json_t *chats, json_t *acks,
          json_t *seen)
{
    size_t i;
    json_t *item;
    json_array_foreach(events, i, item)
    {
        const char *event = json_string_value(json_object_get(item, "event"));
        json_t *payload = json_object_get(item, "payload");
        //  `message` is the subset of `message.any` sent by others: both
        //  name the same row, the first one writes it
        if (cm_streq(event, "message.any") || cm_streq(event, "message")) {
            s_add_message(payload, rows, chats, seen, true, false);
        } else if (cm_streq(event, ST_MESSAGES_HISTORY)) {
            s_add_message(payload, rows, chats, seen, false,
                          json_is_true(json_object_get(item, "starred")));
        } else if (cm_streq(event, "message.ack")) {
            s_add_ack(payload, acks);
        }
    }
}

int
st_messages_record_batch(st_router_t *r, const char *session, json_t *events)
{
    json_t *rows = json_array();
    json_t *chats = json_array();
    json_t *acks = json_array();
    json_t *seen = json_object();
    s_collect(events, rows, chats, acks, seen);
    //  New rows (and their chats) first, so an ack in the same batch finds
    //  its message
    st_db_t *db = st_router_db(r);
    int rc = 0;
    if (json_array_size(rows) > 0) {
        rc = s_exec_rows(db, "st_messages_put", session, rows, chats);
    }
    if (rc == 0 && json_array_size(acks) > 0) {
        rc = s_exec_rows(db, "st_messages_ack", session, acks, NULL);
    }
    json_decref(rows);
    json_decref(chats);
    json_decref(acks);
    json_decref(seen);
    return rc;
}

//  The text of `rows` for a statement, or "[]" (with a warning) when it
//  is not valid UTF-8: those rows are not kept, the events still are.
static char *
s_rows_text(json_t *rows, const char *session)
{
    char *text = cm_json_dumps(rows, NULL);
    if (!text) {
        cm_log_warn("skipped message rows that are not valid text",
                    "session=\"%s\"", session);
        text = cm_strdup("[]");
    }
    return text;
}

//  Set "k": k on every object of `list`.
static void
s_tag(json_t *list, json_int_t k)
{
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        json_object_set_new(item, "k", json_integer(k));
    }
}

void
st_messages_batch_texts(const char *session, json_t *events,
                        st_messages_texts_t *texts)
{
    st_messages_batch_texts_k(session, events, -1, texts);
}

void
st_messages_batch_texts_k(const char *session, json_t *events, json_int_t k,
                          st_messages_texts_t *texts)
{
    json_t *rows = json_array();
    json_t *chats = json_array();
    json_t *acks = json_array();
    json_t *seen = json_object();
    s_collect(events, rows, chats, acks, seen);
    if (k >= 0) {
        s_tag(rows, k);
        s_tag(chats, k);
        s_tag(acks, k);
    }
    //  A statement does not see the rows it inserts: an ack of a message
    //  new in this batch goes into its row as the ack statement would
    //  set it (the highest ack, READ or more reads it). The acks stay in
    //  the list for rows that existed before.
    size_t i;
    json_t *ack;
    json_array_foreach(acks, i, ack)
    {
        json_t *row = json_object_get(
            seen, json_string_value(json_object_get(ack, "id")));
        json_int_t value = json_integer_value(json_object_get(ack, "ack"));
        if (!json_is_object(row) ||
            value <= json_integer_value(json_object_get(row, "ack"))) {
            continue;
        }
        json_object_set_new(row, "ack", json_integer(value));
        json_object_set(row, "ack_name", json_object_get(ack, "name"));
        if (value >= 3) {
            json_object_set_new(row, "unread", json_false());
        }
    }
    texts->rows = cm_json_dumps(rows, NULL);
    texts->chats = cm_json_dumps(chats, NULL);
    if (!texts->rows || !texts->chats) {
        //  as s_exec_rows: neither the rows nor their chats are kept
        free(texts->rows);
        free(texts->chats);
        texts->rows = s_rows_text(NULL, session);
        texts->chats = cm_strdup("[]");
    }
    texts->acks = s_rows_text(acks, session);
    json_decref(rows);
    json_decref(chats);
    json_decref(acks);
    json_decref(seen);
}

void
st_messages_texts_free(st_messages_texts_t *texts)
{
    free(texts->rows);
    free(texts->chats);
    free(texts->acks);
    memset(texts, 0, sizeof *texts);
}

int
st_messages_record(st_router_t *r, const char *session, const char *event,
                   json_t *payload)
{
    json_t *one = json_pack("[{s:s, s:O}]", "event", event, "payload", payload);
    int rc = st_messages_record_batch(r, session, one);
    json_decref(one);
    return rc;
}

//  Read the paging fields shared by both lists. Returns 0 or -1.
static int
s_page(cm_msg_t *request, char limit_s[24], char offset_s[24],
       cm_msg_t **reply_p)
{
    int64_t limit = 0, offset = 0;
    if (st_router_int(request, "limit", 1, ST_MESSAGES_LIST_MAX, false,
                      ST_MESSAGES_LIST_DEFAULT, &limit, reply_p) ||
        st_router_int(request, "offset", 0, 1000000, false, 0, &offset,
                      reply_p)) {
        return -1;
    }
    snprintf(limit_s, 24, "%" PRId64, limit);
    snprintf(offset_s, 24, "%" PRId64, offset);
    return 0;
}

static cm_msg_t *
s_chat_list(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    char limit_s[24], offset_s[24];
    const char *name =
        st_router_str(request, "session", ST_ROUTER_NAME_MAX, &reply);
    if (!name || s_page(request, limit_s, offset_s, &reply)) {
        return reply;
    }
    //  sortBy / sortOrder from a fixed list (the SQL is chosen, not built
    //  from the request)
    static const char *const sorts[] = {"conversationTimestamp", "id", "name",
                                        NULL};
    static const char *const stmts[][2] = {
        {"st_chat_list_ts_desc", "st_chat_list_ts_asc"},
        {"st_chat_list_id_desc", "st_chat_list_id_asc"},
        {"st_chat_list_name_desc", "st_chat_list_name_asc"}};
    const char *sort_by = st_router_opt_str(request, "sortBy", 32, &reply);
    const char *order =
        reply ? NULL : st_router_opt_str(request, "sortOrder", 8, &reply);
    if (reply) {
        return reply;
    }
    int which = sort_by ? -1 : 0;
    for (int i = 0; sort_by && sorts[i]; i++) {
        if (cm_streq(sort_by, sorts[i])) {
            which = i;
        }
    }
    bool asc = order && strcasecmp(order, "asc") == 0;
    if (which < 0 || (order && !asc && strcasecmp(order, "desc") != 0)) {
        return cm_msg_new_reply(request, 400,
                                "sortBy must be conversationTimestamp, id or "
                                "name; sortOrder asc or desc");
    }
    //  ids: chat ids without , { } " \\ or spaces, as a text[] literal
    json_t *ids = json_object_get(cm_msg_body(request), "ids");
    char *ids_lit = NULL;
    if (ids && !json_is_null(ids)) {
        if (!json_is_array(ids) || json_array_size(ids) > 1000) {
            return cm_msg_new_reply(request, 400,
                                    "ids must be an array of chat ids");
        }
        zchunk_t *lit = zchunk_new("{", 1);
        size_t i;
        json_t *id;
        json_array_foreach(ids, i, id)
        {
            const char *v = json_string_value(id);
            if (!v || !*v || strlen(v) > 256 || strpbrk(v, ",{}\"\\ ")) {
                zchunk_destroy(&lit);
                return cm_msg_new_reply(request, 400,
                                        "ids must be an array of chat ids");
            }
            if (i) {
                zchunk_extend(lit, ",", 1);
            }
            zchunk_extend(lit, v, strlen(v));
        }
        zchunk_extend(lit, "}", 2);
        ids_lit = cm_strdup((const char *)zchunk_data(lit));
        zchunk_destroy(&lit);
    }
    const char *p[] = {name, limit_s, offset_s, ids_lit};
    PGresult *res =
        st_db_exec(st_router_db(self), stmts[which][asc ? 1 : 0], 4, p);
    free(ids_lit);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    json_t *chats = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *chat = json_object();
        json_object_set_new(chat, "id", json_string(st_db_text(res, i, 0)));
        const char *title =
            PQgetisnull(res, i, 1) ? NULL : st_db_text(res, i, 1);
        json_object_set_new(chat, "name",
                            title ? json_string(title) : json_null());
        json_object_set_new(chat, "conversationTimestamp",
                            json_integer(st_db_int(res, i, 2)));
        json_object_set_new(chat, "archived",
                            json_boolean(cm_streq(st_db_text(res, i, 3), "t")));
        json_object_set_new(chat, "pinned",
                            json_boolean(cm_streq(st_db_text(res, i, 4), "t")));
        json_object_set_new(chat, "unreadCount",
                            json_integer(st_db_int(res, i, 5)));
        int64_t muted = PQgetisnull(res, i, 6) ? 0 : st_db_int(res, i, 6);
        bool is_muted = muted == -1 || muted > (int64_t)time(NULL);
        json_object_set_new(chat, "isMuted", json_boolean(is_muted));
        json_object_set_new(chat, "muteExpiration",
                            json_integer(is_muted ? muted : 0));
        json_object_set_new(chat, "picture",
                            PQgetisnull(res, i, 8)
                                ? json_null()
                                : json_string(st_db_text(res, i, 8)));
        json_t *last = PQgetisnull(res, i, 7)
                           ? NULL
                           : json_loads(st_db_text(res, i, 7), 0, NULL);
        json_object_set_new(chat, "lastMessage", last ? last : json_null());
        json_array_append_new(chats, chat);
    }
    PQclear(res);
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "chats", chats);
    return reply;
}

static cm_msg_t *
s_message_list(st_router_t *self, cm_msg_t *request)
{
    cm_msg_t *reply = NULL;
    char limit_s[24], offset_s[24];
    const char *name =
        st_router_str(request, "session", ST_ROUTER_NAME_MAX, &reply);
    const char *chat =
        name ? st_router_str(request, "chat", S_FIELD_MAX, &reply) : NULL;
    if (!chat || s_page(request, limit_s, offset_s, &reply)) {
        return reply;
    }
    //  fromMe: absent = both, true/false = only those
    json_t *from_me = json_object_get(cm_msg_body(request), "fromMe");
    if (from_me && !json_is_boolean(from_me) && !json_is_null(from_me)) {
        return cm_msg_new_reply(request, 400,
                                "field 'fromMe' must be a boolean");
    }
    const char *fm =
        json_is_boolean(from_me) ? (json_is_true(from_me) ? "t" : "f") : NULL;
    //  Optional filters: timestamps (seconds) and an ack level; sortOrder
    //  picks one of two statements
    char gte_s[24], lte_s[24], ack_s[24];
    const char *filters[3] = {NULL, NULL, NULL};
    static const char *const keys[3] = {"tsGte", "tsLte", "ack"};
    static const int64_t mins[3] = {0, 0, -1},
                         maxs[3] = {INT64_MAX, INT64_MAX, 4};
    char *bufs[3] = {gte_s, lte_s, ack_s};
    for (int i = 0; i < 3; i++) {
        json_t *v = json_object_get(cm_msg_body(request), keys[i]);
        if (!v || json_is_null(v)) {
            continue;
        }
        int64_t n = 0;
        if (st_router_int(request, keys[i], mins[i], maxs[i], true, 0, &n,
                          &reply)) {
            return reply;
        }
        snprintf(bufs[i], 24, "%" PRId64, n);
        filters[i] = bufs[i];
    }
    const char *order = st_router_opt_str(request, "sortOrder", 8, &reply);
    if (reply) {
        return reply;
    }
    bool asc = order && strcasecmp(order, "asc") == 0;
    if (order && !asc && strcasecmp(order, "desc") != 0) {
        return cm_msg_new_reply(request, 400, "sortOrder must be asc or desc");
    }
    const char *p[] = {name, chat,       limit_s,    offset_s,
                       fm,   filters[0], filters[1], filters[2]};
    PGresult *res =
        st_db_exec(st_router_db(self),
                   asc ? "st_message_list_asc" : "st_message_list", 8, p);
    if (!res) {
        return st_router_db_fail(self, request);
    }
    json_t *messages = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *m = st_db_json(res, i, 0);
        if (m) {
            json_array_append_new(messages, m);
        }
    }
    PQclear(res);
    reply = cm_msg_new_reply(request, 200, NULL);
    cm_msg_set(reply, "messages", messages);
    return reply;
}

int
st_messages_register(st_router_t *r)
{
    //  A message is written once (its first event), with its chat; $2
    //  is [row...], $3 [{jid, ts}...]. Chats are updated once each, in
    //  key order.
    st_router_prepare(
        r, "st_messages_put",
        "WITH m AS (INSERT INTO messages (session, id, chat, from_me, "
        "sender, ts, type, body, payload, ack, unread, starred) SELECT $1, "
        "x.id, x.chat, x.from_me, x.sender, x.ts, x.type, x.body, "
        "x.payload, x.ack, COALESCE(x.unread, false), "
        "COALESCE(x.starred, false) "
        "FROM json_to_recordset($2::json) AS x(id text, chat text, "
        "from_me boolean, sender text, ts bigint, type text, body text, "
        "payload json, ack integer, unread boolean, starred boolean) "
        "ON CONFLICT (session, id) DO NOTHING) "
        "INSERT INTO chats (session, jid, last_ts) "
        "SELECT $1, c.jid, max(c.ts) FROM json_to_recordset($3::json) "
        "AS c(jid text, ts bigint) GROUP BY c.jid ORDER BY c.jid "
        "ON CONFLICT (session, jid) DO UPDATE SET last_ts = "
        "GREATEST(chats.last_ts, EXCLUDED.last_ts), updated_at = now()");
    //  The highest ack of each message in $2, never lowering one already
    //  recorded (merged into the payload when read); READ or more from
    //  our own device reads a message we received
    st_router_prepare(
        r, "st_messages_ack",
        "UPDATE messages m SET ack = a.ack, ack_name = a.name, "
        "unread = m.unread AND a.ack < 3 "
        "FROM (SELECT DISTINCT ON (x.id) x.id, x.ack, x.name "
        "FROM json_to_recordset($2::json) AS x(id text, ack integer, "
        "name text) ORDER BY x.id, x.ack DESC) a "
        "WHERE m.session = $1 AND m.id = ANY (ARRAY(SELECT y.id FROM "
        "json_to_recordset($2::json) AS y(id text))) AND m.id = a.id "
        "AND m.ack < a.ack");
//  A message row as the API shows it: the payload with the recorded ack
//  and, when starred, _data.starred merged in (p: the table alias).
#define S_MSG_JSON(p)                                                          \
    "CASE WHEN " p "ack_name IS NULL AND NOT " p "starred THEN " p "payload "  \
    "ELSE (" p "payload::jsonb || CASE WHEN " p "ack_name IS NULL THEN "       \
    "'{}'::jsonb ELSE jsonb_build_object('ack', " p "ack, 'ackName', " p       \
    "ack_name) END || CASE WHEN " p "starred THEN jsonb_build_object("         \
    "'_data', COALESCE(" p "payload::jsonb -> '_data', '{}'::jsonb) || "       \
    "'{\"starred\": true}'::jsonb) ELSE '{}'::jsonb END)::json END"
//  With the app-state flags, the newest message and the picture the
//  engine learnt (sql/0120); $4: only these ids
//  (a text[] literal) or NULL
#define S_CHATS                                                                \
    "SELECT jid, name, COALESCE(last_ts, 0), archived, pinned, unread, "       \
    "muted_until, (SELECT " S_MSG_JSON(                                        \
        "m.") " FROM messages m WHERE "                                        \
              "m.session = c.session AND m.chat = c.jid ORDER BY m.ts DESC, "  \
              "m.created_at DESC LIMIT 1), (SELECT p.url FROM pictures p "     \
              "WHERE p.session = c.session AND p.jid = c.jid) "                \
              "FROM chats c WHERE session = $1 AND ($4::text[] IS NULL OR "    \
              "jid = ANY($4::text[])) ORDER BY "
#define S_PAGE " LIMIT $2 OFFSET $3"
    st_router_prepare(r, "st_chat_list_ts_desc",
                      S_CHATS "last_ts DESC NULLS LAST, jid" S_PAGE);
    st_router_prepare(r, "st_chat_list_ts_asc",
                      S_CHATS "last_ts ASC NULLS FIRST, jid" S_PAGE);
    st_router_prepare(r, "st_chat_list_id_desc", S_CHATS "jid DESC" S_PAGE);
    st_router_prepare(r, "st_chat_list_id_asc", S_CHATS "jid ASC" S_PAGE);
    st_router_prepare(r, "st_chat_list_name_desc",
                      S_CHATS "name DESC NULLS LAST, jid" S_PAGE);
    st_router_prepare(r, "st_chat_list_name_asc",
                      S_CHATS "name ASC NULLS LAST, jid" S_PAGE);
#undef S_CHATS
#undef S_PAGE
    //  $5 fromMe, $6/$7 ts bounds, $8 ack; each NULL when not asked
#define S_MSG_LIST(order)                                                      \
    "SELECT " S_MSG_JSON(                                                      \
        "") " FROM messages WHERE session = $1 AND "                           \
            "chat = $2 AND ($5::boolean IS NULL OR from_me = $5) "             \
            "AND ($6::bigint IS NULL OR ts >= $6) "                            \
            "AND ($7::bigint IS NULL OR ts <= $7) "                            \
            "AND ($8::integer IS NULL OR ack = $8) "                           \
            "ORDER BY ts " order ", created_at " order " LIMIT $3 OFFSET $4"
    st_router_prepare(r, "st_message_list", S_MSG_LIST("DESC"));
    st_router_prepare(r, "st_message_list_asc", S_MSG_LIST("ASC"));
#undef S_MSG_LIST
#undef S_MSG_JSON
    st_router_add(r, "chat.list", 1, s_chat_list, ST_ROUTER_DB);
    st_router_add(r, "message.list", 1, s_message_list, ST_ROUTER_DB);
    return 0;
}

//  --------------------------------------------------------------------

void
st_messages_test(bool verbose)
{
    printf(" * st_messages: ");
    st_messages_row_t row;
    //  received 1:1 text
    json_t *p = json_loads(
        "{\"id\":\"false_1555@c.us_3EB0AA\",\"timestamp\":1700000000,"
        "\"from\":\"1555@c.us\",\"fromMe\":false,\"to\":\"1444@c.us\","
        "\"participant\":null,\"body\":\"hi\",\"hasMedia\":false,\"ack\":2,"
        "\"_data\":{\"key\":{\"remoteJid\":\"1555@c.us\",\"fromMe\":false,"
        "\"id\":\"3EB0AA\"},\"type\":\"chat\"}}",
        0, NULL);
    assert(p);
    assert(st_messages_row(p, &row) == 0);
    assert(cm_streq(row.id, "false_1555@c.us_3EB0AA"));
    assert(cm_streq(row.chat, "1555@c.us"));
    assert(cm_streq(row.sender, "1555@c.us"));
    assert(!row.from_me && row.ts == 1700000000 && row.ack == 2);
    assert(cm_streq(row.type, "chat") && cm_streq(row.body, "hi"));
    json_decref(p);

    //  our own send to a group, without _data: the chat is `to`
    p = json_loads("{\"id\":\"true_120@g.us_3EB0BB_1444@c.us\","
                   "\"timestamp\":5,\"from\":\"1444@c.us\",\"fromMe\":true,"
                   "\"to\":\"120@g.us\",\"participant\":\"1444@c.us\","
                   "\"hasMedia\":true}",
                   0, NULL);
    assert(st_messages_row(p, &row) == 0);
    assert(cm_streq(row.chat, "120@g.us") && row.from_me);
    assert(cm_streq(row.sender, "1444@c.us"));
    assert(cm_streq(row.type, "media") && !row.body && row.ack == 0);
    json_decref(p);

    //  what a row cannot be made of
    const char *bad[] = {
        "[]",
        "{\"timestamp\":5,\"from\":\"1@c.us\"}",
        "{\"id\":\"x\",\"from\":\"1@c.us\"}",
        "{\"id\":\"x\",\"timestamp\":-1,\"from\":\"1@c.us\"}",
        "{\"id\":\"x\",\"timestamp\":\"5\",\"from\":\"1@c.us\"}",
        "{\"id\":\"x\",\"timestamp\":5,\"fromMe\":true,\"from\":\"1@c.us\"}",
        "{\"id\":\"\",\"timestamp\":5,\"from\":\"1@c.us\"}",
        NULL};
    for (int i = 0; bad[i]; i++) {
        p = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        assert(p);
        assert(st_messages_row(p, &row) == -1);
        json_decref(p);
    }
    //  an over-long id is not kept
    char *long_id = cm_alloc(S_FIELD_MAX + 2);
    memset(long_id, 'a', S_FIELD_MAX + 1);
    p = json_pack("{s:s, s:i, s:s}", "id", long_id, "timestamp", 5, "from",
                  "1@c.us");
    assert(st_messages_row(p, &row) == -1);
    json_decref(p);
    free(long_id);
    printf("OK\n");
}
