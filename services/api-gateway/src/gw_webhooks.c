/*  gw_webhooks - webhook delivery log, replay, the pull feed and Wawp's
    webhook settings

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

//  A store call with the request's remaining time. Caller owns reply.
static cm_msg_t *
s_store(gw_req_t *req, cm_msg_t **msg_p)
{
    return gw_req_call(req, GW_DEST_STORE, msg_p, 0);
}

static bool
s_ok(cm_msg_t *reply)
{
    return cm_msg_status(reply) == 200 || cm_msg_status(reply) == 201;
}

//  The {session} path parameter of an existing session, or NULL after a
//  response (400 bad name, 404 unknown, 5xx).
static const char *
s_session(gw_req_t *req)
{
    const char *name = gw_req_param(req, "session");
    if (!gw_sessions_name_valid(name)) {
        gw_req_fail_invalid(req, "session must match ^[A-Za-z0-9_-]{1,64}$");
        return NULL;
    }
    cm_msg_t *msg = cm_msg_new("session.get");
    cm_msg_set_str(msg, "name", name);
    cm_msg_t *reply = s_store(req, &msg);
    int st = cm_msg_status(reply);
    if (st == 404) {
        gw_req_fail(req, 404, NULL, "Session not found");
        name = NULL;
    } else if (!s_ok(reply)) {
        gw_req_fail_bus(req, reply, "store-service");
        name = NULL;
    }
    cm_msg_destroy(&reply);
    return name;
}

void
gw_webhooks_events(gw_req_t *req)
{
    int64_t after = 0;
    int64_t limit = 0;
    if (gw_req_query_int(req, "after", 0, INT64_MAX, 0, &after, NULL) ||
        gw_req_query_int(req, "limit", 1, GW_WEBHOOKS_EVENTS_MAX,
                         GW_WEBHOOKS_EVENTS_DEFAULT, &limit, NULL)) {
        return;
    }
    const char *name = s_session(req);
    if (!name) {
        return;
    }
    cm_msg_t *msg = cm_msg_new("event.list");
    cm_msg_set_str(msg, "session", name);
    cm_msg_set_int(msg, "after", after);
    cm_msg_set_int(msg, "limit", limit);
    cm_msg_t *reply = s_store(req, &msg);
    if (!s_ok(reply)) {
        gw_req_fail_bus(req, reply, "store-service");
        cm_msg_destroy(&reply);
        return;
    }
    json_t *events = json_object_get(cm_msg_body(reply), "events");
    json_t *body = json_object();
    json_object_set_new(body, "events",
                        json_is_array(events) ? json_incref(events)
                                              : json_array());
    json_object_set_new(body, "next",
                        json_integer(cm_msg_int(reply, "next", after)));
    cm_msg_destroy(&reply);
    gw_req_reply(req, 200, &body);
}

void
gw_webhooks_list(gw_req_t *req)
{
    const char *status = gw_req_query(req, "status");
    const char *event = gw_req_query(req, "event");
    if (status && !cm_streq(status, "pending") && !cm_streq(status, "dead") &&
        !cm_streq(status, "delivered")) {
        gw_req_fail_invalid(req, "status must be pending, delivered or dead");
        return;
    }
    if (event && !cm_webhook_event_known(event)) {
        gw_req_fail_invalid(req, "event must be a known event name");
        return;
    }
    int64_t since = 0, until = 0, before = 0, limit = 0;
    bool has_since = false, has_until = false, has_before = false;
    if (gw_req_query_int(req, "since", 0, INT64_MAX, 0, &since, &has_since) ||
        gw_req_query_int(req, "until", 0, INT64_MAX, 0, &until, &has_until) ||
        gw_req_query_int(req, "before", 1, INT64_MAX, 0, &before,
                         &has_before) ||
        gw_req_query_int(req, "limit", 1, GW_WEBHOOKS_LIST_MAX,
                         GW_WEBHOOKS_LIST_DEFAULT, &limit, NULL)) {
        return;
    }
    const char *name = s_session(req);
    if (!name) {
        return;
    }
    cm_msg_t *msg = cm_msg_new("delivery.list");
    cm_msg_set_str(msg, "session", name);
    if (status) {
        cm_msg_set_str(msg, "status", status);
    }
    if (event) {
        cm_msg_set_str(msg, "event", event);
    }
    if (has_since) {
        cm_msg_set_int(msg, "since", since);
    }
    if (has_until) {
        cm_msg_set_int(msg, "until", until);
    }
    if (has_before) {
        cm_msg_set_int(msg, "before", before);
    }
    cm_msg_set_int(msg, "limit", limit);
    cm_msg_t *reply = s_store(req, &msg);
    if (!s_ok(reply)) {
        gw_req_fail_bus(req, reply, "store-service");
        cm_msg_destroy(&reply);
        return;
    }
    json_t *rb = cm_msg_body(reply);
    json_t *list = json_object_get(rb, "deliveries");
    json_t *next = json_object_get(rb, "next");
    json_t *body = json_object();
    json_object_set_new(body, "deliveries",
                        json_is_array(list) ? json_incref(list) : json_array());
    json_object_set_new(
        body, "next", json_is_integer(next) ? json_incref(next) : json_null());
    cm_msg_destroy(&reply);
    gw_req_reply(req, 200, &body);
}

//  The {id} path parameter as a positive integer, or -1 after a 400.
static int64_t
s_delivery_id(gw_req_t *req)
{
    const char *v = gw_req_param(req, "id");
    char *end = NULL;
    errno = 0;
    long long n = v ? strtoll(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || n < 1 || !isdigit((unsigned char)*v)) {
        gw_req_fail_invalid(req, "id must be a positive integer");
        return -1;
    }
    return n;
}

void
gw_webhooks_get(gw_req_t *req)
{
    int64_t id = s_delivery_id(req);
    const char *name = id > 0 ? s_session(req) : NULL;
    if (!name) {
        return;
    }
    cm_msg_t *msg = cm_msg_new("delivery.get");
    cm_msg_set_int(msg, "id", id);
    cm_msg_set_str(msg, "session", name);
    cm_msg_t *reply = s_store(req, &msg);
    if (cm_msg_status(reply) == 404) {
        gw_req_fail(req, 404, NULL, "Delivery not found");
    } else if (!s_ok(reply)) {
        gw_req_fail_bus(req, reply, "store-service");
    } else {
        json_t *d = json_object_get(cm_msg_body(reply), "delivery");
        json_t *body = json_is_object(d) ? json_incref(d) : json_object();
        gw_req_reply(req, 200, &body);
    }
    cm_msg_destroy(&reply);
}

//  delivery.replay of `id` (0: all dead ones) and the reply.
static void
s_replay(gw_req_t *req, int64_t id)
{
    const char *name = s_session(req);
    if (!name) {
        return;
    }
    cm_msg_t *msg = cm_msg_new("delivery.replay");
    cm_msg_set_str(msg, "session", name);
    if (id > 0) {
        cm_msg_set_int(msg, "id", id);
    }
    cm_msg_t *reply = s_store(req, &msg);
    int st = cm_msg_status(reply);
    if (st == 404) {
        gw_req_fail(req, 404, NULL, "Delivery not found");
    } else if (st == 409) {
        gw_req_fail(req, 409, NULL,
                    "Delivery is pending; it will be sent anyway");
    } else if (!s_ok(reply)) {
        gw_req_fail_bus(req, reply, "store-service");
    } else {
        json_t *body = json_pack("{s:I}", "replayed",
                                 (json_int_t)cm_msg_int(reply, "replayed", 0));
        gw_req_reply(req, 201, &body);
    }
    cm_msg_destroy(&reply);
}

void
gw_webhooks_replay(gw_req_t *req)
{
    int64_t id = s_delivery_id(req);
    if (id > 0) {
        s_replay(req, id);
    }
}

void
gw_webhooks_replay_dead(gw_req_t *req)
{
    s_replay(req, 0);
}

//  ---------------------------------------------------------------------
//  Wawp /v2/session/webhook

//  session.get of `name`; the session object or NULL after a response.
static json_t *
s_get_session(gw_req_t *req, const char *name)
{
    cm_msg_t *msg = cm_msg_new("session.get");
    cm_msg_set_str(msg, "name", name);
    cm_msg_t *reply = s_store(req, &msg);
    json_t *session = NULL;
    if (cm_msg_status(reply) == 404) {
        gw_req_fail(req, 404, "invalid_instance", "Instance not found");
    } else if (!s_ok(reply)) {
        gw_req_fail_bus(req, reply, "store-service");
    } else {
        session = json_object_get(cm_msg_body(reply), "session");
        session = json_is_object(session) ? json_incref(session) : NULL;
        if (!session) {
            gw_req_fail(req, 502, NULL, "store-service sent no session object");
        }
    }
    cm_msg_destroy(&reply);
    return session;
}

//  The Wawp view of a webhooks array: each with is_active (default true).
//  Caller owns return value.
static json_t *
s_wawp_view(json_t *webhooks)
{
    json_t *out = json_array();
    size_t i;
    json_t *h;
    json_array_foreach(webhooks, i, h)
    {
        if (!json_is_object(h)) {
            continue;
        }
        json_t *copy = json_deep_copy(h);
        json_t *active = json_object_get(copy, "is_active");
        json_object_set_new(copy, "is_active",
                            json_boolean(!active || json_is_true(active) ||
                                         (json_is_integer(active) &&
                                          json_integer_value(active))));
        json_array_append_new(out, copy);
    }
    return out;
}

//  What the server accepts, shown next to the webhooks.
static json_t *
s_system_config(void)
{
    json_t *events = json_array();
    for (size_t i = 0; i < cm_webhook_event_count(); i++) {
        json_array_append_new(events, json_string(cm_webhook_event_at(i)));
    }
    return json_pack("{s:o, s:i, s:{s:s, s:i, s:i}, s:s}", "events", events,
                     "maxWebhooks", CM_WEBHOOK_HOOKS_MAX, "retries", "policy",
                     CM_WEBHOOK_DEFAULT_POLICY, "delaySeconds",
                     CM_WEBHOOK_DEFAULT_DELAY, "attempts",
                     CM_WEBHOOK_DEFAULT_ATTEMPTS, "signature",
                     "X-Webhook-Hmac: hex HMAC-SHA512 of the body");
}

void
gw_webhooks_wawp_get(gw_req_t *req)
{
    char *name = gw_sessions_wawp_instance(req);
    if (!name) {
        return;
    }
    json_t *session = s_get_session(req, name);
    free(name);
    if (!session) {
        return;
    }
    json_t *webhooks =
        json_object_get(json_object_get(session, "config"), "webhooks");
    json_t *body = json_pack("{s:o, s:o}", "webhooks", s_wawp_view(webhooks),
                             "systemConfig", s_system_config());
    json_decref(session);
    gw_req_reply(req, 200, &body);
}

//  Wawp input for one webhook: is_active may come as "true"/"1" strings
//  from forms; events as a comma list. Returns a new object.
static json_t *
s_wawp_hook(json_t *h)
{
    json_t *copy = json_is_object(h) ? json_deep_copy(h) : json_incref(h);
    if (!json_is_object(copy)) {
        return copy;
    }
    const char *active = json_string_value(json_object_get(copy, "is_active"));
    if (active) {
        bool on = cm_streq(active, "true") || cm_streq(active, "1");
        bool off = cm_streq(active, "false") || cm_streq(active, "0");
        if (on || off) {
            json_object_set_new(copy, "is_active", json_boolean(on));
        }
    }
    const char *events = json_string_value(json_object_get(copy, "events"));
    if (events) {
        json_t *list = json_array();
        char *text = cm_strdup(events);
        char *save = NULL;
        for (char *e = strtok_r(text, ", ", &save); e;
             e = strtok_r(NULL, ", ", &save)) {
            json_array_append_new(list, json_string(e));
        }
        free(text);
        json_object_set_new(copy, "events", list);
    }
    return copy;
}

void
gw_webhooks_wawp_set(gw_req_t *req)
{
    char *name = gw_sessions_wawp_instance(req);
    if (!name) {
        return;
    }
    json_t *given = gw_req_input(req, "webhooks");
    json_t *parsed = NULL;
    if (json_is_string(given)) {
        //  Query and form values carry JSON text.
        parsed = json_loads(json_string_value(given), 0, NULL);
        given = parsed;
    }
    if (!json_is_array(given)) {
        gw_req_fail(req, 400, "bad_request",
                    "webhooks must be an array of {url, events, is_active}");
        json_decref(parsed);
        free(name);
        return;
    }
    json_t *list = json_array();
    size_t i;
    json_t *h;
    json_array_foreach(given, i, h)
    {
        json_array_append_new(list, s_wawp_hook(h));
    }
    json_decref(parsed);
    char *err = NULL;
    if (cm_webhook_validate_list(list, "webhooks", &err)) {
        gw_req_fail(req, 400, "bad_request", "%s", err);
        free(err);
        json_decref(list);
        free(name);
        return;
    }
    json_t *session = s_get_session(req, name);
    if (!session) {
        json_decref(list);
        free(name);
        return;
    }
    json_t *config = json_object_get(session, "config");
    config = json_is_object(config) ? json_deep_copy(config) : json_object();
    json_object_set(config, "webhooks", list);
    json_decref(session);
    cm_msg_t *msg = cm_msg_new("session.update");
    cm_msg_set_str(msg, "name", name);
    cm_msg_set(msg, "config", config);
    free(name);
    cm_msg_t *reply = s_store(req, &msg);
    if (cm_msg_status(reply) == 404) {
        gw_req_fail(req, 404, "invalid_instance", "Instance not found");
    } else if (!s_ok(reply)) {
        gw_req_fail_bus(req, reply, "store-service");
    } else {
        json_t *body = json_pack("{s:o, s:o}", "webhooks", s_wawp_view(list),
                                 "systemConfig", s_system_config());
        gw_req_reply(req, 200, &body);
    }
    cm_msg_destroy(&reply);
    json_decref(list);
}

json_t *
gw_webhooks_schemas(void)
{
    const char *text =
        "{\"EventPage\":{\"type\":\"object\",\"properties\":{\"events\":"
        "{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/schemas/"
        "WebhookEnvelope\"}},\"next\":{\"type\":\"integer\",\"description\":"
        "\"Pass as after to get the events that follow\"}}},"
        "\"WebhookEnvelope\":{\"type\":\"object\",\"properties\":{\"id\":"
        "{\"type\":\"string\",\"example\":\"evt_01hv3k2c5m7q8r9s0t1v2w3x4y\"},"
        "\"timestamp\":{\"type\":\"integer\"},\"event\":{\"$ref\":"
        "\"#/components/schemas/WebhookEvent\"},\"session\":{\"type\":"
        "\"string\"},\"metadata\":{\"type\":\"object\"},\"me\":{\"type\":"
        "\"object\",\"nullable\":true},\"payload\":{\"type\":\"object\"},"
        "\"engine\":{\"type\":\"string\"},\"environment\":{\"type\":"
        "\"object\"}}},"
        "\"Delivery\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
        "\"integer\"},\"event_id\":{\"type\":\"string\"},\"event\":{\"type\":"
        "\"string\"},\"session\":{\"type\":\"string\"},\"seq\":{\"type\":"
        "\"integer\"},\"url\":{\"type\":\"string\"},\"source\":{\"type\":"
        "\"string\",\"enum\":[\"session\",\"global\"]},\"status\":{\"type\":"
        "\"string\",\"enum\":[\"pending\",\"delivered\",\"dead\"]},"
        "\"attempts\":{\"type\":\"integer\"},\"next_attempt_at\":{\"type\":"
        "\"integer\"},\"last_status\":{\"type\":\"integer\",\"nullable\":"
        "true},\"last_error\":{\"type\":\"string\",\"nullable\":true},"
        "\"replays\":{\"type\":\"integer\"},\"created_at\":{\"type\":"
        "\"integer\"},\"updated_at\":{\"type\":\"integer\"},\"delivered_at\":"
        "{\"type\":\"integer\",\"nullable\":true}}},"
        "\"DeliveryAttempt\":{\"type\":\"object\",\"properties\":{\"at\":"
        "{\"type\":\"integer\"},\"http_status\":{\"type\":\"integer\","
        "\"nullable\":true},\"latency_ms\":{\"type\":\"integer\"},\"error\":"
        "{\"type\":\"string\",\"nullable\":true},\"request_id\":{\"type\":"
        "\"string\"},\"dispatcher\":{\"type\":\"string\"}}},"
        "\"DeliveryWithLog\":{\"allOf\":[{\"$ref\":\"#/components/schemas/"
        "Delivery\"},{\"type\":\"object\",\"properties\":{\"log\":{\"type\":"
        "\"array\",\"items\":{\"$ref\":\"#/components/schemas/"
        "DeliveryAttempt\"}}}}]},"
        "\"DeliveryPage\":{\"type\":\"object\",\"properties\":{\"deliveries\":"
        "{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/schemas/"
        "Delivery\"}},\"next\":{\"type\":\"integer\",\"nullable\":true,"
        "\"description\":\"Pass as before for the next page\"}}},"
        "\"ReplayResult\":{\"type\":\"object\",\"properties\":{\"replayed\":"
        "{\"type\":\"integer\"}}},"
        "\"WawpWebhook\":{\"type\":\"object\",\"required\":[\"url\","
        "\"events\"],\"properties\":{\"url\":{\"type\":\"string\"},"
        "\"events\":{\"type\":\"array\",\"items\":{\"$ref\":"
        "\"#/components/schemas/WebhookEvent\"}},\"is_active\":{\"type\":"
        "\"boolean\",\"default\":true}}},"
        "\"WawpWebhookRequest\":{\"type\":\"object\",\"required\":"
        "[\"webhooks\"],\"properties\":{\"instance_id\":{\"type\":"
        "\"string\"},\"access_token\":{\"type\":\"string\"},\"webhooks\":"
        "{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/schemas/"
        "WawpWebhook\"}}}},"
        "\"WawpWebhooks\":{\"type\":\"object\",\"properties\":{\"webhooks\":"
        "{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/schemas/"
        "WawpWebhook\"}},\"systemConfig\":{\"type\":\"object\"}}}}";
    json_error_t err;
    json_t *schemas = json_loads(text, 0, &err);
    //  A static string of ours: a parse failure is a bug.
    assert(schemas);
    return schemas;
}

void
gw_webhooks_test(bool verbose)
{
    printf(" * gw_webhooks: ");
    json_t *schemas = gw_webhooks_schemas();
    assert(json_object_get(schemas, "DeliveryWithLog"));
    assert(json_object_get(schemas, "WawpWebhooks"));
    json_decref(schemas);

    //  Wawp input: form strings become booleans and lists
    json_t *h = json_loads("{\"url\":\"http://a\",\"events\":\"message, "
                           "session.status\",\"is_active\":\"0\"}",
                           0, NULL);
    json_t *w = s_wawp_hook(h);
    assert(json_is_false(json_object_get(w, "is_active")));
    assert(json_array_size(json_object_get(w, "events")) == 2);
    char *err = NULL;
    assert(cm_webhook_validate(w, "webhooks[0]", &err) == 0);
    json_t *list = json_pack("[O]", w);
    json_t *view = s_wawp_view(list);
    assert(
        json_is_false(json_object_get(json_array_get(view, 0), "is_active")));
    json_decref(view);
    json_decref(list);
    json_decref(w);
    json_decref(h);
    list =
        json_loads("[{\"url\":\"http://a\",\"events\":[\"*\"]}, 5]", 0, NULL);
    view = s_wawp_view(list);
    assert(json_array_size(view) == 1);
    assert(json_is_true(json_object_get(json_array_get(view, 0), "is_active")));
    json_decref(view);
    json_decref(list);

    printf("OK\n");
}
